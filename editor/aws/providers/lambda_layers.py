"""The Lambda API's layer operations (PublishLayerVersion, ListLayers, ListLayerVersions,
GetLayerVersion, GetLayerVersionByArn, DeleteLayerVersion), mixed into the Lambda provider.

Each calls editor.services.layers; `Content.Location` is a signed link that downloads the zip for
ten minutes, as GetFunction's `Code.Location` is.
"""

from __future__ import annotations

import base64
from datetime import datetime

from django.conf import settings
from django.urls import reverse

from editor.aws.errors import AwsError
from editor.aws.pagination import paginate_list
from editor.models import FunctionVersion, LayerVersion
from editor.services import layers

_INVALID_MARKER = AwsError("InvalidParameterValueException", "Invalid Marker: pass the NextMarker a listing returned.")


def aws_time(moment: datetime) -> str:
    """Returns `moment` as Lambda writes its dates: 2024-01-01T00:00:00.000+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")


class LayersMixin:
    """Layer operations of the Lambda provider (`self.owner`, `self.authorize` come from it)."""

    def _layer_name(self, given: str) -> str:
        """Returns the layer's name from a LayerName member (a name or an ARN of the caller's)."""
        return layers.layer_name(self.owner, given)

    def _layer_item(self, version: LayerVersion) -> dict:
        """Returns Lambda's LayerVersionsListItem of `version`."""
        return {"LayerVersionArn": layers.layer_arn(self.owner, version.layer.name, version.version),
                "Version": version.version, "Description": version.description,
                "CreatedDate": aws_time(version.created_at),
                "CompatibleRuntimes": version.compatible_runtimes or None,
                "CompatibleArchitectures": version.compatible_architectures or None,
                "LicenseInfo": version.license_info or None}

    def _layer_version(self, version: LayerVersion) -> dict:
        """Returns Lambda's GetLayerVersion / PublishLayerVersion answer for `version`."""
        location = settings.FLOWBENCH_BASE_URL + reverse("lambda-layer-content",
                                                         args=[layers.content_token(version)])
        return {**self._layer_item(version), "LayerArn": layers.layer_arn(self.owner, version.layer.name),
                "Content": {"Location": location, "CodeSize": version.code_size,
                            "CodeSha256": base64.b64encode(bytes.fromhex(version.code_sha256)).decode()}}

    def _layers_of(self, version: FunctionVersion) -> list[dict]:
        """Returns a function version's Layers member: each layer version's ARN and zip size."""
        sizes = {}
        for arn in version.layers:
            try:
                sizes[arn] = layers.layer_version_for_arn(self.owner, arn, deleted_too=True).code_size
            except Exception:   # a layer whose owner's account went: listed with no size
                sizes[arn] = 0
        return [{"Arn": arn, "CodeSize": sizes[arn]} for arn in version.layers]

    def PublishLayerVersion(self, params: dict) -> dict:
        name = params["LayerName"]
        self.authorize("lambda:PublishLayerVersion", layers.layer_arn(self.owner, self._layer_name(name)))
        content = params.get("Content") or {}
        if any(content.get(k) for k in ("S3Bucket", "S3Key", "S3ObjectVersion")) or "ZipFile" not in content:
            raise AwsError("InvalidParameterValueException",
                           "Flowbench takes a layer's content as a zip in Content.ZipFile only: not from S3.")
        version = layers.publish_layer_version(
            self.owner, name, content["ZipFile"], description=params.get("Description", ""),
            compatible_runtimes=params.get("CompatibleRuntimes"),
            compatible_architectures=params.get("CompatibleArchitectures"),
            license_info=params.get("LicenseInfo", ""))
        return self._layer_version(version)

    def ListLayers(self, params: dict) -> dict:
        self.authorize("lambda:ListLayers", "*")
        found = layers.list_layers(self.owner, params.get("CompatibleRuntime"), params.get("CompatibleArchitecture"))
        page, marker = paginate_list(found, lambda v: v.layer.name, params.get("Marker"),
                                     params.get("MaxItems") or 50, invalid=_INVALID_MARKER)
        return {"Layers": [{"LayerName": v.layer.name, "LayerArn": layers.layer_arn(self.owner, v.layer.name),
                            "LatestMatchingVersion": self._layer_item(v)} for v in page],
                "NextMarker": marker}

    def ListLayerVersions(self, params: dict) -> dict:
        name = params["LayerName"]
        self.authorize("lambda:ListLayerVersions", layers.layer_arn(self.owner, self._layer_name(name)))
        found = layers.list_layer_versions(self.owner, name, params.get("CompatibleRuntime"),
                                           params.get("CompatibleArchitecture"))
        page, marker = paginate_list(found, lambda v: f"{10**9 - v.version:010d}", params.get("Marker"),
                                     params.get("MaxItems") or 50, invalid=_INVALID_MARKER)
        return {"LayerVersions": [self._layer_item(v) for v in page], "NextMarker": marker}

    def GetLayerVersion(self, params: dict) -> dict:
        name, number = params["LayerName"], params["VersionNumber"]
        self.authorize("lambda:GetLayerVersion", layers.layer_arn(self.owner, self._layer_name(name), number))
        return self._layer_version(layers.get_layer_version(self.owner, name, number))

    def GetLayerVersionByArn(self, params: dict) -> dict:
        # Found first, in the caller's account only: another account's ARN is not found, never
        # refused (which would say it exists).
        version = layers.layer_version_for_arn(self.owner, params["Arn"])
        self.authorize("lambda:GetLayerVersion", layers.layer_arn(self.owner, version.layer.name, version.version))
        return self._layer_version(version)

    def DeleteLayerVersion(self, params: dict) -> dict:
        name, number = params["LayerName"], params["VersionNumber"]
        self.authorize("lambda:DeleteLayerVersion", layers.layer_arn(self.owner, self._layer_name(name), number))
        layers.delete_layer_version(self.owner, name, number)
        return {}
