"""The Lambda API's function URL operations (API version 2021-10-31: Create/Get/Update/Delete
FunctionUrlConfig, ListFunctionUrlConfigs) and the resource-based policy ones (AddPermission,
RemovePermission, GetPolicy), mixed into the Lambda provider.

They call editor.services.function_urls and editor.services.function_permissions; the addresses
a URL answers on are described there, how a request to one is answered in editor.triggers.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from editor.aws.errors import AwsError
from editor.aws.pagination import paginate_list
from editor.errors import ApiError
from editor.models import FunctionUrl
from editor.services import function_permissions as permissions
from editor.services import function_urls as urls


def url_time(moment: datetime) -> str:
    """Returns `moment` as Lambda writes a URL's times: 2024-01-01T00:00:00.000000Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FunctionUrlsMixin:
    """Function URL and permission operations of the Lambda provider (`_function`, `_arn` and
    `self.owner` come from it)."""

    def _url_config(self, url: FunctionUrl) -> dict:
        return {"FunctionUrl": urls.path_url(url.url_id),
                "FunctionArn": self._arn(url.function.name, url.qualifier or None),
                "AuthType": url.auth_type, "Cors": url.cors or None, "InvokeMode": url.invoke_mode,
                "CreationTime": url_time(url.created_at), "LastModifiedTime": url_time(url.updated_at)}

    def CreateFunctionUrlConfig(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:CreateFunctionUrlConfig", qualified=True)
        url = urls.create_url(function, auth_type=params.get("AuthType"), qualifier=qualifier,
                              cors=params.get("Cors"), invoke_mode=params.get("InvokeMode"))
        found = self._url_config(url)
        found.pop("LastModifiedTime")
        return found

    def GetFunctionUrlConfig(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:GetFunctionUrlConfig", qualified=True)
        return self._url_config(urls.get_url(function, qualifier))

    def UpdateFunctionUrlConfig(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:UpdateFunctionUrlConfig", qualified=True)
        url = urls.update_url(urls.get_url(function, qualifier), auth_type=params.get("AuthType"),
                              cors=params.get("Cors"), invoke_mode=params.get("InvokeMode"))
        return self._url_config(url)

    def DeleteFunctionUrlConfig(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:DeleteFunctionUrlConfig", qualified=True)
        urls.delete_url(urls.get_url(function, qualifier))
        return {}

    def ListFunctionUrlConfigs(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:ListFunctionUrlConfigs")
        invalid = AwsError("InvalidParameterValueException", "Invalid Marker: pass the NextMarker a listing returned.")
        page, marker = paginate_list(urls.list_urls(function), lambda u: u.qualifier or "\0",
                                     params.get("Marker"), params.get("MaxItems") or 50, invalid=invalid)
        return {"FunctionUrlConfigs": [self._url_config(u) for u in page], "NextMarker": marker}

    # -- the resource-based policy ------------------------------------------------------------

    def AddPermission(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:AddPermission", qualified=True)
        self._check_policy_revision(function, qualifier, params.get("RevisionId"))
        statement = permissions.add_permission(
            function, statement_id=params["StatementId"], action=params["Action"], principal=params["Principal"],
            qualifier=qualifier, source_arn=params.get("SourceArn"), source_account=params.get("SourceAccount"),
            url_auth_type=params.get("FunctionUrlAuthType"), via_url=params.get("InvokedViaFunctionUrl"))
        return {"Statement": json.dumps(statement)}

    def RemovePermission(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:RemovePermission", qualified=True)
        self._check_policy_revision(function, qualifier, params.get("RevisionId"))
        permissions.remove_permission(function, params["StatementId"], qualifier)
        return {}

    def GetPolicy(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:GetPolicy", qualified=True)
        policy = permissions.policy_of(function, qualifier)
        return {"Policy": json.dumps(policy), "RevisionId": permissions.policy_revision(policy)}

    @staticmethod
    def _check_policy_revision(function, qualifier, given: str | None) -> None:
        if given is None:
            return
        try:
            current = permissions.policy_revision(permissions.policy_of(function, qualifier))
        except ApiError:   # no policy yet
            current = None
        if given != current:
            raise AwsError("PreconditionFailedException", "The Revision Id provided does not match the latest "
                           "Revision Id. Call the GetPolicy API to retrieve the latest Revision Id", 412)
