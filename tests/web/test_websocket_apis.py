"""WebSocket APIs in the web process: the selection expression picks the route from the JSON body
(any depth; not JSON, no such property or an object there picks none), the page's JSON lists a
person's own APIs only with their connections, and a web process forgets the connections that a
dead process of its machine held (never its own or a live one's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from django.utils import timezone

from editor.errors import ApiError
from editor.models import WebSocketConnection
from editor.services import http_apis, websocket_apis
from editor.services.leases import process_id
from tests.web.base import WebTestCase


@pytest.mark.parametrize("expression, body, expected", [
    ("$request.body.action", '{"action": "sendmessage"}', "sendmessage"),
    ("$request.body.message.kind", '{"message": {"kind": "join"}}', "join"),
    ("$request.body.n", '{"n": 3}', "3"),
    ("$request.body.flag", '{"flag": true}', "true"),
    ("$request.body.action", '{"other": 1}', None),
    ("$request.body.action", '{"action": {"nested": 1}}', None),
    ("$request.body.action", "not json", None),
    ("$request.body.action", '["action"]', None),
    ("$request.body.action", b'{"action": "x"}', None),   # a binary frame selects $default
])
def test_the_selection_expression_picks_a_value_of_the_json_body(expression, body, expected):
    assert websocket_apis.select_route_key(expression, body) == expected


@pytest.mark.parametrize("expression", ["$request.header.x", "$request.body", "action", "$request.body.a b", 7])
def test_only_body_selection_expressions_are_taken(expression):
    with pytest.raises(ApiError) as refused:
        websocket_apis.check_selection_expression(expression)
    assert refused.value.field == "RouteSelectionExpression"


class WebSocketApiPageTests(WebTestCase):
    def _connection(self, api, server: str) -> WebSocketConnection:
        now = timezone.now()
        return WebSocketConnection.objects.create(connection_id=f"c{WebSocketConnection.objects.count()}",
                                                  api=api, stage="dev", server=server, connected_at=now,
                                                  last_active_at=now)

    def test_the_page_lists_ones_own_apis_with_their_connections(self):
        mine = http_apis.create_api(self.alice, name="mine", protocol_type="WEBSOCKET")
        http_apis.create_stage(mine, name="dev")
        http_apis.create_api(self.bob, name="theirs", protocol_type="WEBSOCKET")
        http_apis.create_api(self.alice, name="plain http", protocol_type="HTTP")
        self._connection(mine, process_id())
        listed = self.call("GET", "/api/websocket-apis").data["apis"]
        assert [a["name"] for a in listed] == ["mine"]
        assert listed[0]["stages"][0]["url"].endswith(f"/ws-api/{mine.api_id}/dev")
        assert [c["stage"] for c in listed[0]["connections"]] == ["dev"]
        assert [a["name"] for a in self.call("GET", "/api/websocket-apis", client=self.bob_client).data["apis"]] == [
            "theirs"]
        assert self.client_class().get("/api/websocket-apis").status_code in (302, 401, 403)

    def test_a_route_whose_function_was_deleted_says_so(self):
        from editor.services.accounts import function_arn
        from editor.services.functions import delete_function

        function = self.make_function(name="talker")
        api = http_apis.create_api(self.alice, name="chatty", protocol_type="WEBSOCKET")
        integration = http_apis.create_integration(api, integration_type="AWS_PROXY",
                                                   integration_uri=function_arn(self.alice, "talker"))
        http_apis.create_route(api, route_key="$connect", target=f"integrations/{integration.integration_id}")
        [route] = self.call("GET", "/api/websocket-apis").data["apis"][0]["routes"]
        assert (route["function"], route["missing"]) == ("talker", None)
        delete_function(function)
        [route] = self.call("GET", "/api/websocket-apis").data["apis"][0]["routes"]
        assert route["function"] == "talker" and "The function talker does not exist" in route["missing"]

    def test_a_web_process_forgets_the_connections_of_dead_processes_of_its_machine(self):
        api = http_apis.create_api(self.alice, name="mine", protocol_type="WEBSOCKET")
        ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(ended.stdout)
        host = socket.gethostname()
        dead = self._connection(api, f"{host}:{dead_pid}:0000")
        earlier_me = self._connection(api, f"{host}:{os.getpid()}:ffff")   # this pid, an earlier process
        alive = self._connection(api, f"{host}:{os.getppid()}:1111")
        elsewhere = self._connection(api, f"another-host:{dead_pid}:2222")
        me = self._connection(api, process_id())
        assert websocket_apis.drop_dead_connections() == 2
        left = set(WebSocketConnection.objects.values_list("pk", flat=True))
        assert left == {alive.pk, elsewhere.pk, me.pk} and dead.pk not in left and earlier_me.pk not in left
