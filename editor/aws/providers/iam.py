"""AWS Identity and Access Management: the studio's roles and their inline policies
(editor.services.roles is the one writer; the role pages show what this creates, and the reverse).

A role's AssumeRolePolicyDocument is its `trusted` services (states.amazonaws.com,
lambda.amazonaws.com); IAM returns policy documents URL-encoded, as here (boto3 and the CLI decode
them into objects).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from django.db import transaction

from editor.aws.errors import AwsError, refusal
from editor.aws.pagination import paginate
from editor.aws.providers.base import Provider
from editor.errors import ApiError
from editor.models import Role
from editor.services import roles
from editor.services.accounts import role_arn


def _document(value: dict) -> str:
    return quote(json.dumps(value, ensure_ascii=False), safe="")


def no_such_role(name: str) -> AwsError:
    return AwsError("NoSuchEntity", f"The role with name {name} cannot be found.", 404)


class IamProvider(Provider):
    API_ERRORS = {
        "ResourceConflict": ("EntityAlreadyExists", 409),
        "RoleInUse": ("DeleteConflict", 409),
        "InvalidPolicy": ("MalformedPolicyDocument", 400),
        "InvalidTrustPolicy": ("MalformedPolicyDocument", 400),
        "LimitExceeded": ("LimitExceeded", 409),
        "ResourceNotFound": ("NoSuchEntity", 404),
    }

    # -- helpers ------------------------------------------------------------------------------

    def _arn(self, name: str, path: str = "/") -> str:
        return role_arn(self.owner, name, path)

    def _role(self, name: str, action: str) -> Role:
        """Returns the caller's role `name` once `action` on it is authorized; else NoSuchEntity."""
        role = Role.objects.filter(owner=self.owner, name__iexact=name).first()   # IAM ignores case
        if role is None:
            raise no_such_role(name)
        self.authorize(action, self._arn(role.name, role.path))
        return role

    def _shape(self, role: Role, *, full: bool = True) -> dict:
        shape = {"Path": role.path, "RoleName": role.name, "RoleId": role.role_id,
                 "Arn": self._arn(role.name, role.path), "CreateDate": role.created_at,
                 "AssumeRolePolicyDocument": _document(roles.trust_policy(role.trusted)),
                 "Description": role.description or None, "MaxSessionDuration": role.max_session_duration}
        if full:
            shape["Tags"] = role.tags or None
        return shape

    @staticmethod
    def _page_size(params: dict) -> int:
        return params.get("MaxItems") or 100

    # -- roles --------------------------------------------------------------------------------

    def CreateRole(self, params: dict) -> dict:
        name = params["RoleName"]
        path = params.get("Path", "/")
        self.authorize("iam:CreateRole", self._arn(name, path))
        if "PermissionsBoundary" in params:
            raise refusal("validation", "Flowbench roles take no permissions boundary.")
        trusted = roles.trusted_from_document(params["AssumeRolePolicyDocument"])
        try:
            role = roles.create_role(self.owner, {
                "name": name, "description": params.get("Description", ""), "trusted": trusted, "policy": None,
                "path": path, "tags": params.get("Tags", []),
                "max_session_duration": params.get("MaxSessionDuration", 3600)})
        except ApiError as error:
            if error.code == "ResourceConflict":
                raise AwsError("EntityAlreadyExists", f"Role with name {name} already exists.", 409) from None
            raise
        return {"Role": self._shape(role)}

    def GetRole(self, params: dict) -> dict:
        return {"Role": self._shape(self._role(params["RoleName"], "iam:GetRole"))}

    def ListRoles(self, params: dict) -> dict:
        self.authorize("iam:ListRoles", self._arn("*"))
        found = Role.objects.filter(owner=self.owner, path__startswith=params.get("PathPrefix", "/"))
        page, marker = paginate(found, "name", params.get("Marker"), self._page_size(params),
                                invalid=refusal("validation", "Invalid Marker: pass the Marker a listing returned."))
        return {"Roles": [self._shape(r, full=False) for r in page], "IsTruncated": marker is not None,
                "Marker": marker}

    def DeleteRole(self, params: dict) -> dict:
        with transaction.atomic():
            role = self._role(params["RoleName"], "iam:DeleteRole")
            if role.inline_policies.exists():
                raise AwsError("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
            roles.delete_role(role)
        return {}

    def UpdateAssumeRolePolicy(self, params: dict) -> dict:
        role = self._role(params["RoleName"], "iam:UpdateAssumeRolePolicy")
        trusted = roles.trusted_from_document(params["PolicyDocument"], "PolicyDocument")
        try:
            roles.update_role(role, {"trusted": trusted})
        except ApiError as error:
            if error.code == "RoleInUse":
                raise AwsError("UnmodifiableEntity", error.message, 400) from None
            raise
        return {}

    # -- inline policies ----------------------------------------------------------------------

    def PutRolePolicy(self, params: dict) -> dict:
        role = self._role(params["RoleName"], "iam:PutRolePolicy")
        roles.put_role_policy(role, params["PolicyName"], params["PolicyDocument"])
        return {}

    def _policy(self, role: Role, name: str):
        found = role.inline_policies.filter(name=name).first()
        if found is None:
            raise AwsError("NoSuchEntity", f"The role policy with name {name} cannot be found.", 404)
        return found

    def GetRolePolicy(self, params: dict) -> dict:
        role = self._role(params["RoleName"], "iam:GetRolePolicy")
        policy = self._policy(role, params["PolicyName"])
        return {"RoleName": role.name, "PolicyName": policy.name, "PolicyDocument": _document(policy.document)}

    def ListRolePolicies(self, params: dict) -> dict:
        role = self._role(params["RoleName"], "iam:ListRolePolicies")
        page, marker = paginate(role.inline_policies.all(), "name", params.get("Marker"), self._page_size(params),
                                invalid=refusal("validation", "Invalid Marker: pass the Marker a listing returned."))
        return {"PolicyNames": [p.name for p in page], "IsTruncated": marker is not None, "Marker": marker}

    def DeleteRolePolicy(self, params: dict) -> dict:
        role = self._role(params["RoleName"], "iam:DeleteRolePolicy")
        self._policy(role, params["PolicyName"])
        roles.delete_role_policy(role, params["PolicyName"])
        return {}
