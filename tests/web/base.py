"""The base of web tests: two users, Alice and Bob, each with a signed-in client and JSON helpers."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.test import Client, TestCase, TransactionTestCase

from editor import services


class TwoUsersMixin:
    def make_users(self):
        User = get_user_model()
        self.alice = User.objects.create_user("alice", password="alice-password-1")
        self.bob = User.objects.create_user("bob", password="bob-password-1")
        self.client = Client()
        self.client.force_login(self.alice)
        self.bob_client = Client()
        self.bob_client.force_login(self.bob)

    def call(self, method: str, path: str, body=None, *, client=None, raw: bytes | None = None, **extra):
        """Sends a JSON request and returns the response (with .data holding the decoded JSON)."""
        client = client or self.client
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response = client.generic(method, path, data, content_type="application/json", **extra)
        try:
            response.data = json.loads(response.content) if response.content else None
        except ValueError:
            response.data = None
        return response

    def assertApiError(self, response, status: int, code: str | None = None, field: str | None = None):
        self.assertEqual(response.status_code, status, response.content[:500])
        self.assertEqual(set(response.data), {"error"})
        self.assertEqual(set(response.data["error"]), {"code", "message", "field"})
        self.assertTrue(response.data["error"]["message"])
        if code is not None:
            self.assertEqual(response.data["error"]["code"], code)
        if field is not None:
            self.assertEqual(response.data["error"]["field"], field)

    def make_function(self, user=None, name="hello", runtime="python", deploy=False, **kwargs):
        function = services.create_function(user or self.alice, name=name, runtime=runtime, **kwargs)
        if deploy:
            services.deploy_function(function)
            function.refresh_from_db()
        return function


    def make_finished_execution(self) -> str:
        """Creates Alice's role "runner" and one-Pass machine "flow" (version 1), runs it to its
        end; returns the execution's id."""
        from editor.services.executor import get_executor

        definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        self.call("POST", "/api/roles", {"name": "runner"})
        self.call("POST", "/api/state-machines", {"name": "flow", "type": "STANDARD", "role": "runner",
                                                  "definition": definition})
        self.call("POST", "/api/state-machines/flow/versions")
        execution = self.call("POST", "/api/state-machines/flow/executions", {"input": "{}"}).data["id"]
        get_executor().wait(execution)
        return execution


class WebTestCase(TwoUsersMixin, TestCase):
    """A test case with Alice (self.client) and Bob (self.bob_client) signed in."""

    def setUp(self):
        super().setUp()
        self.make_users()


class LiveWebTestCase(TwoUsersMixin, TransactionTestCase):
    """Like WebTestCase, for tests whose work runs on other threads (real commits)."""

    def setUp(self):
        super().setUp()
        self.make_users()


async def assert_refused(communicator, code: int) -> None:
    """The socket is accepted, then closed at once with `code` (what the page reads to stop)."""
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": code}
