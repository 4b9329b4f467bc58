"""The chat sample (editor.samples.apps.chat) in the web process: loading it creates the bucket, the
WebSocket API wired route by route to its three functions, the role allowing exactly what they do,
and nothing the second time; a failure midway leaves nothing; resources link to the studio pages;
the room page connects to the person's own stage or offers to load the sample."""

from __future__ import annotations

from unittest import mock

from editor.errors import ApiError
from editor.models import Bucket, Function, HttpApi, Role
from editor.samples.apps import MODULES, app_named, chat
from editor.services import http_apis
from editor.services.accounts import account_id, function_arn
from tests.web.base import WebTestCase

NAMES = {"chat-connect", "chat-disconnect", "chat-sendmessage", "flowbench-chat", "flowbench-chat-role"}


class ChatSampleTests(WebTestCase):
    def test_the_chat_is_one_of_the_sample_apps(self):
        self.assertIn("chat", MODULES)
        app = app_named("chat")
        self.assertEqual((app.id, app.template), ("chat", "samples/chat.html"))

    def test_load_creates_the_api_functions_role_and_bucket_once(self):
        bucket = f"chat-rooms-{account_id(self.alice)}"
        self.assertEqual(set(chat.load(self.alice)), NAMES | {bucket})
        self.assertEqual(chat.load(self.alice), [])
        self.assertEqual(app_named("chat").load(self.alice), [])   # as the Samples page loads it
        self.assertEqual(HttpApi.objects.filter(owner=self.alice, name="flowbench-chat").count(), 1)
        self.assertTrue(Bucket.objects.filter(owner=self.alice, name=bucket).exists())
        self.assertFalse(HttpApi.objects.filter(owner=self.bob).exists())

    def test_each_route_calls_its_own_deployed_function_as_the_chat_role(self):
        chat.load(self.alice)
        api = chat.chat_api(self.alice)
        self.assertEqual((api.protocol_type, api.route_selection_expression), ("WEBSOCKET", "$request.body.action"))
        stage = api.stages.get()
        self.assertEqual((stage.name, stage.auto_deploy), ("production", True))
        wired = {}
        for route in api.routes.all():
            function, version, _alias = http_apis.route_function(api, route)
            wired[route.route_key] = function.name
            self.assertEqual(version, function.deployed)
            self.assertEqual(api.integrations.get(integration_id=route.target.split("/")[1]).integration_uri,
                             function_arn(self.alice, function.name))
        self.assertEqual(wired, {"$connect": "chat-connect", "$disconnect": "chat-disconnect",
                                 "sendmessage": "chat-sendmessage"})
        for name in wired.values():
            function = Function.objects.get(owner=self.alice, name=name)
            self.assertEqual(function.role.name, "flowbench-chat-role")
            self.assertEqual(function.env, {"CHAT_BUCKET": f"chat-rooms-{account_id(self.alice)}"})
            self.assertIn("rooms.py", function.files)
            self.assertEqual(function.runtime, "python")
        self.assertIn("post_to_connection", Function.objects.get(owner=self.alice, name="chat-sendmessage")
                      .files["sendmessage.py"])

    def test_the_role_allows_the_room_objects_and_the_apis_connections_only(self):
        chat.load(self.alice)
        role = Role.objects.get(owner=self.alice, name="flowbench-chat-role")
        api = chat.chat_api(self.alice)
        self.assertEqual(role.trusted, ["lambda"])
        account, bucket = account_id(self.alice), f"chat-rooms-{account_id(self.alice)}"
        self.assertEqual(role.policy["Statement"], [
            {"Sid": "RoomObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             "Resource": [f"arn:aws:s3:::{bucket}/rooms/*", f"arn:aws:s3:::{bucket}/connections/*"]},
            {"Sid": "PostToTheRoom", "Effect": "Allow", "Action": "execute-api:ManageConnections",
             "Resource": f"arn:aws:execute-api:us-east-1:{account}:{api.api_id}/production/*"}])

    def test_a_load_that_fails_midway_leaves_nothing(self):
        with mock.patch("editor.services.http_apis.create_stage",
                        side_effect=ApiError("BadRequest", "the stage failed", field="StageName")):
            with self.assertRaises(ApiError):
                chat.load(self.alice)
        self.assertFalse(HttpApi.objects.filter(owner=self.alice).exists())
        self.assertFalse(Function.objects.filter(owner=self.alice, name__startswith="chat-").exists())
        self.assertFalse(Role.objects.filter(owner=self.alice, name="flowbench-chat-role").exists())
        self.assertFalse(Bucket.objects.filter(owner=self.alice).exists())
        self.assertEqual(len(chat.load(self.alice)), 6)

    def test_load_leaves_what_the_person_already_has(self):
        self.make_function(name="chat-connect")
        created = chat.load(self.alice)
        self.assertNotIn("chat-connect", created)
        self.assertEqual(Function.objects.get(owner=self.alice, name="chat-connect").handler,
                         "lambda_function.lambda_handler")

    def test_resources_link_each_thing_to_its_page(self):
        self.assertEqual(chat.resources(self.alice), [])
        chat.load(self.alice)
        found = chat.resources(self.alice)
        api = chat.chat_api(self.alice)
        bucket = f"chat-rooms-{account_id(self.alice)}"
        self.assertEqual(found, [
            {"kind": "WebSocket API", "name": f"flowbench-chat ({api.api_id})",
             "href": f"/websocket-apis/#{api.api_id}"},
            {"kind": "Function", "name": "chat-connect", "href": "/functions/chat-connect/"},
            {"kind": "Function", "name": "chat-disconnect", "href": "/functions/chat-disconnect/"},
            {"kind": "Function", "name": "chat-sendmessage", "href": "/functions/chat-sendmessage/"},
            {"kind": "Role", "name": "flowbench-chat-role", "href": "/roles/flowbench-chat-role/"},
            {"kind": "Bucket", "name": bucket, "href": f"/buckets/{bucket}/"}])
        for resource in found:
            self.assertEqual(self.client.get(resource["href"].split("#")[0]).status_code, 200, resource)
        self.assertEqual(chat.resources(self.bob), [])

    def test_the_room_page_connects_to_the_persons_own_stage(self):
        chat.load(self.alice)
        api = chat.chat_api(self.alice)
        page = self.client.get("/samples/chat/room/")
        self.assertEqual(page.status_code, 200)
        url = chat.stage_url(self.alice)
        self.assertRegex(url, rf"^ws://[^/]+/ws-api/{api.api_id}/production$")
        self.assertContains(page, f'data-url="{url}"')
        self.assertContains(page, 'id="chat-send"')
        self.assertNotContains(page, 'id="chat-load"')
        other = self.bob_client.get("/samples/chat/room/")
        self.assertContains(other, 'id="chat-load"')
        self.assertContains(other, 'data-load="/api/samples/chat/load"')
        self.assertNotContains(other, api.api_id)

    def test_the_room_page_needs_a_signed_in_person(self):
        self.client.logout()
        page = self.client.get("/samples/chat/room/")
        self.assertEqual(page.status_code, 302)
        self.assertIn("/login/", page["Location"])

    def test_the_explanation_fragment_renders_with_and_without_the_sample(self):
        from django.template.loader import render_to_string

        app = app_named("chat")
        empty = render_to_string(app.template, {"app": app, "resources": app.resources(self.alice), "user": self.alice})
        self.assertIn("Load the sample", empty)
        chat.load(self.alice)
        loaded = render_to_string(app.template, {"app": app, "resources": app.resources(self.alice),
                                                 "user": self.alice})
        self.assertIn('href="/samples/chat/room/"', loaded)
        self.assertIn('href="/functions/chat-sendmessage/"', loaded)
        self.assertIn("채팅", loaded)
