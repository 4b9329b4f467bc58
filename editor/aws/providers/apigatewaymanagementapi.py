"""API Gateway's @connections management API (REST-JSON, signing name `execute-api`): send to a
WebSocket API's connected client, look at its connection, close it. editor.services.websocket_apis
does each; the client may be held by any web process (the channel layer carries the message).

Requests reach it at `/@connections/{connectionId}` on the studio's address, with or without a
stage before it (`/<stage>/@connections/...`, as a client whose endpoint is
`https://{domainName}/{stage}` sends them), also on an API's host form. A connection is the
caller's account's only: any other, or one that is closed, is GoneException (410). Each action is
authorized as `execute-api:ManageConnections` on
`arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/@connections/<connection-id>`.
"""

from __future__ import annotations

from editor.aws.errors import AwsError
from editor.aws.providers.base import Provider
from editor.services import websocket_apis
from editor.services.accounts import account_id


class ApiGatewayManagementProvider(Provider):
    API_ERRORS = {
        "Gone": ("GoneException", 410),
        "PayloadTooLarge": ("PayloadTooLargeException", 413),
    }

    def _connection(self, params: dict, method: str):
        connection = websocket_apis.find_connection(self.owner, params.get("ConnectionId"))
        resource = (f"arn:aws:execute-api:{self.context.region}:{account_id(self.owner)}:{connection.api.api_id}/"
                    f"{connection.stage}/{method}/@connections/{connection.connection_id}")
        try:
            self.authorize("execute-api:ManageConnections", resource)
        except AwsError as error:
            raise AwsError("ForbiddenException", error.message, 403) from None
        return connection

    def PostToConnection(self, params: dict) -> dict:
        connection = self._connection(params, "POST")
        websocket_apis.post_to_connection(self.owner, connection.connection_id, params.get("Data") or b"")
        return {}

    def GetConnection(self, params: dict) -> dict:
        connection = self._connection(params, "GET")
        return {"ConnectedAt": connection.connected_at, "LastActiveAt": connection.last_active_at,
                "Identity": {"SourceIp": connection.source_ip, "UserAgent": connection.user_agent}}

    def DeleteConnection(self, params: dict) -> dict:
        connection = self._connection(params, "DELETE")
        websocket_apis.delete_connection(self.owner, connection.connection_id)
        return {}
