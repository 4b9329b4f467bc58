"""The table of AWS services Flowbench speaks: adding a service is adding a row here and its
provider under editor/aws/providers/. A row names the service as the signature's credential
scope does (`signing_name`), botocore's model of it, its provider class (None: known, but no
operation of it is implemented yet, so each answers the protocol's unknown-operation error) and
the largest request body it takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from editor.aws.specs import ServiceSpec, service_spec

MB = 1024 * 1024


@dataclass(frozen=True)
class Service:
    signing_name: str
    model_name: str
    provider: type | None
    max_body: int = 1 * MB
    # A pattern of what may come before the operations' URIs and is not theirs (a stage name),
    # dropped once the signature is checked.
    base_path: str | None = None

    @cached_property
    def spec(self) -> ServiceSpec:
        return service_spec(self.model_name)


def _services() -> dict[str, Service]:
    from django.conf import settings

    from editor.aws.providers.apigatewaymanagementapi import ApiGatewayManagementProvider
    from editor.aws.providers.apigatewayv2 import ApiGatewayV2Provider
    from editor.aws.providers.iam import IamProvider
    from editor.aws.providers.lambda_ import LambdaProvider
    from editor.aws.providers.s3 import S3Provider
    from editor.aws.providers.scheduler import SchedulerProvider
    from editor.aws.providers.stepfunctions import StepFunctionsProvider
    from editor.aws.providers.sts import StsProvider

    rows = [
        Service("sts", "sts", StsProvider),
        Service("iam", "iam", IamProvider),
        # Lambda takes 6 MB payloads (Invoke) and a 50 MB zip, in base64, in CreateFunction (AWS's
        # limit for that request is 70,167,211 bytes); Step Functions speaks JSON 1.0.
        Service("lambda", "lambda", LambdaProvider, max_body=70_167_211),
        Service("states", "stepfunctions", StepFunctionsProvider, max_body=2 * MB),
        # API Gateway's v2 API (HTTP APIs) signs as `apigateway`.
        Service("apigateway", "apigatewayv2", ApiGatewayV2Provider),
        # EventBridge Scheduler: REST-JSON under /schedules and /schedule-groups (the studio's page
        # is /scheduler/, so the two never meet).
        Service("scheduler", "scheduler", SchedulerProvider),
        # S3 takes an object's bytes in one request (PutObject, UploadPart), up to the setting.
        Service("s3", "s3", S3Provider, max_body=settings.FLOWBENCH_OBJECT_MAX_REQUEST_BYTES),
        # WebSocket APIs' @connections, reached at https://{domainName}/{stage}/@connections/... as well.
        Service("execute-api", "apigatewaymanagementapi", ApiGatewayManagementProvider,
                base_path=r"/[^/]+(?=/@connections/)"),
    ]
    return {row.signing_name: row for row in rows}


class Registry:
    """The services by signing name, with the indexes routing needs, built on first use."""

    @cached_property
    def by_signing_name(self) -> dict[str, Service]:
        return _services()

    @cached_property
    def by_target_prefix(self) -> dict[str, Service]:
        return {s.spec.target_prefix: s for s in self.by_signing_name.values() if s.spec.target_prefix}

    @cached_property
    def rest_prefixes(self) -> dict[str, Service]:
        """The REST services by the first segment of their URIs ("2015-03-31" -> Lambda)."""
        # S3's paths start with a bucket's name, any name: it is found by its signature's scope.
        return {prefix: s for s in self.by_signing_name.values() if s.spec.protocol == "rest-json"
                for prefix in s.spec.path_prefixes}

    @cached_property
    def max_body(self) -> int:
        return max(s.max_body for s in self.by_signing_name.values())

    @cached_property
    def query_services(self) -> list[Service]:
        return [s for s in self.by_signing_name.values() if s.spec.protocol == "query"]


registry = Registry()
