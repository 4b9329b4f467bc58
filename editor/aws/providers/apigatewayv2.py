"""API Gateway v2 (REST-JSON, signing name `apigateway`): HTTP and WebSocket APIs with their
routes (a WebSocket route's route response), Lambda proxy and AWS service (Step Functions)
integrations, stages and deployments. editor.services.http_apis is the writer; requests to an API's address
are answered in editor.triggers.http_apis.

Each action is authorized as IAM names API Gateway's: `apigateway:<HTTP method>` on
`arn:aws:apigateway:<region>::/apis/<id>[/routes/<id>|...]`.
"""

from __future__ import annotations

from editor.aws.pagination import paginate_list
from editor.aws.errors import AwsError
from editor.aws.providers.base import Provider
from editor.models import ApiDeployment, ApiIntegration, ApiRoute, ApiStage, HttpApi
from editor.services import http_apis, websocket_apis

_INVALID_TOKEN = AwsError("BadRequestException", "Invalid NextToken: pass the NextToken a listing returned.")


class ApiGatewayV2Provider(Provider):
    API_ERRORS = {
        "NotFound": ("NotFoundException", 404),
        "BadRequest": ("BadRequestException", 400),
        "Conflict": ("ConflictException", 409),
        "InvalidParameterValue": ("BadRequestException", 400),
    }

    def translate(self, error):
        """API Gateway answers every refusal of bad input as BadRequestException."""
        if error.code not in self.API_ERRORS:
            return AwsError("BadRequestException", error.message, 400)
        return super().translate(error)

    def _resource(self, path: str = "") -> str:
        return f"arn:aws:apigateway:{self.context.region}::/apis{path}"

    def _api(self, params: dict, method: str, suffix: str = "") -> HttpApi:
        api = http_apis.get_api(self.owner, params["ApiId"])
        self.authorize(f"apigateway:{method}", self._resource(f"/{api.api_id}{suffix}"))
        return api

    @staticmethod
    def _page(items: list, key, params: dict) -> tuple[list, str | None]:
        limit = params.get("MaxResults")
        limit = int(limit) if isinstance(limit, str) and limit.isdigit() and int(limit) > 0 else 100
        return paginate_list(items, key, params.get("NextToken"), limit, invalid=_INVALID_TOKEN)

    # -- shapes -------------------------------------------------------------------------------

    @staticmethod
    def _api_shape(api: HttpApi) -> dict:
        return {"ApiEndpoint": http_apis.api_endpoint(api), "ApiId": api.api_id, "Name": api.name,
                "ProtocolType": api.protocol_type, "RouteSelectionExpression": api.route_selection_expression,
                "ApiKeySelectionExpression": "$request.header.x-api-key", "CreatedDate": api.created_at,
                "Description": api.description or None, "CorsConfiguration": api.cors or None,
                "Version": api.version or None, "DisableExecuteApiEndpoint": api.disable_execute_api_endpoint,
                "Tags": api.tags or None}

    @staticmethod
    def _route_shape(route: ApiRoute) -> dict:
        return {"RouteId": route.route_id, "RouteKey": route.route_key, "Target": route.target or None,
                "AuthorizationType": route.authorization_type, "ApiKeyRequired": False,
                "ApiGatewayManaged": route.managed, "OperationName": route.operation_name or None,
                "RouteResponseSelectionExpression": route.route_response_selection_expression or None}

    @staticmethod
    def _route_response_shape(route: ApiRoute) -> dict:
        return {"RouteResponseId": route.route_response_id, "RouteResponseKey": "$default"}

    @staticmethod
    def _integration_shape(integration: ApiIntegration) -> dict:
        return {"IntegrationId": integration.integration_id, "IntegrationType": integration.integration_type,
                "IntegrationUri": integration.integration_uri or None, "IntegrationMethod": integration.integration_method,
                "PayloadFormatVersion": integration.payload_format_version, "ConnectionType": "INTERNET",
                "TimeoutInMillis": integration.timeout_ms, "ApiGatewayManaged": integration.managed,
                "Description": integration.description or None,
                "IntegrationSubtype": integration.integration_subtype or None,
                "CredentialsArn": integration.credentials_arn or None,
                "RequestParameters": integration.request_parameters or None}

    @staticmethod
    def _stage_shape(stage: ApiStage) -> dict:
        return {"StageName": stage.name, "AutoDeploy": stage.auto_deploy, "CreatedDate": stage.created_at,
                "LastUpdatedDate": stage.updated_at, "Description": stage.description or None,
                "StageVariables": stage.stage_variables or None, "ApiGatewayManaged": stage.managed,
                "DefaultRouteSettings": {"DetailedMetricsEnabled": False}, "RouteSettings": {},
                "DeploymentId": stage.deployment.deployment_id if stage.deployment else None}

    @staticmethod
    def _deployment_shape(deployment: ApiDeployment) -> dict:
        return {"DeploymentId": deployment.deployment_id, "AutoDeployed": deployment.auto_deployed,
                "CreatedDate": deployment.created_at, "DeploymentStatus": "DEPLOYED",
                "Description": deployment.description or None}

    # -- APIs ---------------------------------------------------------------------------------

    def CreateApi(self, params: dict) -> dict:
        self.authorize("apigateway:POST", self._resource())
        api = http_apis.create_api(
            self.owner, name=params["Name"], protocol_type=params["ProtocolType"],
            description=params.get("Description", ""), target=params.get("Target"), route_key=params.get("RouteKey"),
            cors=params.get("CorsConfiguration"), version=params.get("Version", ""),
            route_selection_expression=params.get("RouteSelectionExpression"),
            disable_execute_api_endpoint=params.get("DisableExecuteApiEndpoint", False), tags=params.get("Tags"))
        return self._api_shape(api)

    def GetApi(self, params: dict) -> dict:
        return self._api_shape(self._api(params, "GET"))

    def GetApis(self, params: dict) -> dict:
        self.authorize("apigateway:GET", self._resource())
        page, token = self._page(http_apis.list_apis(self.owner), lambda a: a.api_id, params)
        return {"Items": [self._api_shape(a) for a in page], "NextToken": token}

    def UpdateApi(self, params: dict) -> dict:
        self._refuse_quick_create(params)
        api = http_apis.update_api(self._api(params, "PATCH"), name=params.get("Name"),
                                   description=params.get("Description"), cors=params.get("CorsConfiguration"),
                                   version=params.get("Version"),
                                   disable_execute_api_endpoint=params.get("DisableExecuteApiEndpoint"),
                                   route_selection_expression=params.get("RouteSelectionExpression"))
        return self._api_shape(api)

    @staticmethod
    def _refuse_quick_create(params: dict) -> None:
        if params.get("Target") or params.get("RouteKey"):
            raise AwsError("BadRequestException", "Flowbench's UpdateApi changes the API itself: change its route and "
                           "integration with UpdateRoute and UpdateIntegration.")

    def DeleteApi(self, params: dict) -> dict:
        http_apis.delete_api(self._api(params, "DELETE"))
        return {}

    # -- routes -------------------------------------------------------------------------------

    def CreateRoute(self, params: dict) -> dict:
        api = self._api(params, "POST", "/routes")
        route = http_apis.create_route(api, route_key=params["RouteKey"], target=params.get("Target"),
                                       authorization_type=params.get("AuthorizationType"),
                                       operation_name=params.get("OperationName", ""),
                                       route_response_selection_expression=params.get(
                                           "RouteResponseSelectionExpression"))
        return self._route_shape(route)

    def GetRoute(self, params: dict) -> dict:
        api = self._api(params, "GET", f"/routes/{params['RouteId']}")
        return self._route_shape(http_apis.get_route(api, params["RouteId"]))

    def GetRoutes(self, params: dict) -> dict:
        api = self._api(params, "GET", "/routes")
        page, token = self._page(list(api.routes.order_by("route_id")), lambda r: r.route_id, params)
        return {"Items": [self._route_shape(r) for r in page], "NextToken": token}

    def UpdateRoute(self, params: dict) -> dict:
        api = self._api(params, "PATCH", f"/routes/{params['RouteId']}")
        if params.get("AuthorizationType") not in (None, "NONE"):
            raise AwsError("BadRequestException", "Flowbench's HTTP API routes take AuthorizationType NONE only.")
        route = http_apis.update_route(http_apis.get_route(api, params["RouteId"]), route_key=params.get("RouteKey"),
                                       target=params.get("Target"))
        return self._route_shape(route)

    def DeleteRoute(self, params: dict) -> dict:
        api = self._api(params, "DELETE", f"/routes/{params['RouteId']}")
        http_apis.delete_route(http_apis.get_route(api, params["RouteId"]))
        return {}

    # -- route responses (a WebSocket route's, which makes it two-way) -------------------------

    def CreateRouteResponse(self, params: dict) -> dict:
        api = self._api(params, "POST", f"/routes/{params['RouteId']}/routeresponses")
        route = websocket_apis.create_route_response(http_apis.get_route(api, params["RouteId"]),
                                                     params["RouteResponseKey"])
        return self._route_response_shape(route)

    def GetRouteResponse(self, params: dict) -> dict:
        api = self._api(params, "GET", f"/routes/{params['RouteId']}/routeresponses/{params['RouteResponseId']}")
        route = websocket_apis.get_route_response(http_apis.get_route(api, params["RouteId"]),
                                                  params["RouteResponseId"])
        return self._route_response_shape(route)

    def GetRouteResponses(self, params: dict) -> dict:
        api = self._api(params, "GET", f"/routes/{params['RouteId']}/routeresponses")
        route = http_apis.get_route(api, params["RouteId"])
        return {"Items": [self._route_response_shape(route)] if route.route_response_id else []}

    def DeleteRouteResponse(self, params: dict) -> dict:
        api = self._api(params, "DELETE", f"/routes/{params['RouteId']}/routeresponses/{params['RouteResponseId']}")
        route = websocket_apis.get_route_response(http_apis.get_route(api, params["RouteId"]),
                                                  params["RouteResponseId"])
        websocket_apis.delete_route_response(route)
        return {}

    # -- integrations -------------------------------------------------------------------------

    def CreateIntegration(self, params: dict) -> dict:
        api = self._api(params, "POST", "/integrations")
        integration = http_apis.create_integration(
            api, integration_type=params["IntegrationType"], integration_uri=params.get("IntegrationUri"),
            payload_format_version=params.get("PayloadFormatVersion"),
            integration_method=params.get("IntegrationMethod"), timeout_ms=params.get("TimeoutInMillis"),
            description=params.get("Description", ""), integration_subtype=params.get("IntegrationSubtype"),
            credentials_arn=params.get("CredentialsArn"), request_parameters=params.get("RequestParameters"))
        return self._integration_shape(integration)

    def GetIntegration(self, params: dict) -> dict:
        api = self._api(params, "GET", f"/integrations/{params['IntegrationId']}")
        return self._integration_shape(http_apis.get_integration(api, params["IntegrationId"]))

    def GetIntegrations(self, params: dict) -> dict:
        api = self._api(params, "GET", "/integrations")
        page, token = self._page(list(api.integrations.order_by("integration_id")), lambda i: i.integration_id,
                                 params)
        return {"Items": [self._integration_shape(i) for i in page], "NextToken": token}

    def UpdateIntegration(self, params: dict) -> dict:
        api = self._api(params, "PATCH", f"/integrations/{params['IntegrationId']}")
        if params.get("IntegrationType") not in (None, "AWS_PROXY"):
            raise AwsError("BadRequestException", "Flowbench's HTTP APIs integrate functions and AWS services "
                                                  "(AWS_PROXY).")
        integration = http_apis.update_integration(
            http_apis.get_integration(api, params["IntegrationId"]), integration_uri=params.get("IntegrationUri"),
            payload_format_version=params.get("PayloadFormatVersion"), timeout_ms=params.get("TimeoutInMillis"),
            description=params.get("Description"), integration_subtype=params.get("IntegrationSubtype"),
            credentials_arn=params.get("CredentialsArn"), request_parameters=params.get("RequestParameters"))
        return self._integration_shape(integration)

    def DeleteIntegration(self, params: dict) -> dict:
        api = self._api(params, "DELETE", f"/integrations/{params['IntegrationId']}")
        http_apis.delete_integration(http_apis.get_integration(api, params["IntegrationId"]))
        return {}

    # -- stages -------------------------------------------------------------------------------

    def CreateStage(self, params: dict) -> dict:
        api = self._api(params, "POST", "/stages")
        stage = http_apis.create_stage(api, name=params["StageName"], auto_deploy=params.get("AutoDeploy", False),
                                       description=params.get("Description", ""),
                                       stage_variables=params.get("StageVariables"),
                                       deployment_id=params.get("DeploymentId"))
        return self._stage_shape(stage)

    def GetStage(self, params: dict) -> dict:
        api = self._api(params, "GET", f"/stages/{params['StageName']}")
        return self._stage_shape(http_apis.get_stage(api, params["StageName"]))

    def GetStages(self, params: dict) -> dict:
        api = self._api(params, "GET", "/stages")
        page, token = self._page(list(api.stages.select_related("deployment").order_by("name")), lambda s: s.name,
                                 params)
        return {"Items": [self._stage_shape(s) for s in page], "NextToken": token}

    def UpdateStage(self, params: dict) -> dict:
        api = self._api(params, "PATCH", f"/stages/{params['StageName']}")
        stage = http_apis.update_stage(http_apis.get_stage(api, params["StageName"]),
                                       auto_deploy=params.get("AutoDeploy"), description=params.get("Description"),
                                       stage_variables=params.get("StageVariables"),
                                       deployment_id=params.get("DeploymentId"))
        return self._stage_shape(stage)

    def DeleteStage(self, params: dict) -> dict:
        api = self._api(params, "DELETE", f"/stages/{params['StageName']}")
        http_apis.delete_stage(http_apis.get_stage(api, params["StageName"]))
        return {}

    # -- deployments --------------------------------------------------------------------------

    def CreateDeployment(self, params: dict) -> dict:
        api = self._api(params, "POST", "/deployments")
        deployment = http_apis.create_deployment(api, description=params.get("Description", ""),
                                                 stage_name=params.get("StageName"))
        return self._deployment_shape(deployment)

    def GetDeployment(self, params: dict) -> dict:
        api = self._api(params, "GET", f"/deployments/{params['DeploymentId']}")
        return self._deployment_shape(http_apis.get_deployment(api, params["DeploymentId"]))

    def GetDeployments(self, params: dict) -> dict:
        api = self._api(params, "GET", "/deployments")
        page, token = self._page(list(api.deployments.order_by("deployment_id")), lambda d: d.deployment_id, params)
        return {"Items": [self._deployment_shape(d) for d in page], "NextToken": token}

    def UpdateDeployment(self, params: dict) -> dict:
        api = self._api(params, "PATCH", f"/deployments/{params['DeploymentId']}")
        deployment = http_apis.update_deployment(http_apis.get_deployment(api, params["DeploymentId"]),
                                                 description=params.get("Description"))
        return self._deployment_shape(deployment)

    def DeleteDeployment(self, params: dict) -> dict:
        api = self._api(params, "DELETE", f"/deployments/{params['DeploymentId']}")
        http_apis.delete_deployment(http_apis.get_deployment(api, params["DeploymentId"]))
        return {}
