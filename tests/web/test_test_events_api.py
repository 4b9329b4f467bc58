"""Saved test events: create from JSON or a template, edit, rename, delete; bad input is refused."""

from editor.models import TestEvent
from tests.web.base import WebTestCase


class TestEventTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.function = self.make_function(name="hello")
        self.base = "/api/functions/hello/test-events"

    def test_create_list_update_and_delete(self):
        created = self.call("POST", self.base, {"name": "player", "body": {"TraningType": "공격수"}})
        self.assertEqual(created.status_code, 201)
        listed = self.call("GET", self.base).data
        self.assertEqual([e["name"] for e in listed["test_events"]], ["player"])
        self.assertEqual(set(listed["templates"]), {"hello-world", "s3-put", "apigateway-http"})
        updated = self.call("PUT", f"{self.base}/{created.data['id']}", {"name": "forward", "body": [1]})
        self.assertEqual((updated.data["name"], updated.data["body"]), ("forward", [1]))
        self.assertEqual(self.call("DELETE", f"{self.base}/{created.data['id']}").status_code, 204)
        self.assertEqual(TestEvent.objects.count(), 0)

    def test_a_template_fills_the_body(self):
        created = self.call("POST", self.base, {"name": "upload", "template": "s3-put"}).data
        self.assertEqual(created["body"]["Records"][0]["eventSource"], "aws:s3")
        api = self.call("POST", self.base, {"name": "chat", "template": "apigateway-http"}).data
        self.assertEqual(api["body"]["requestContext"]["http"]["method"], "POST")

    def test_bad_events_are_refused_with_their_field(self):
        cases = [
            ({"name": "", "body": {}}, 400, "InvalidName", "name"),
            ({"name": "x" * 26, "body": {}}, 400, "InvalidName", "name"),
            ({"name": "has space", "body": {}}, 400, "InvalidName", "name"),
            ({"name": "ok", "body": "{\"a\": 1}"}, 400, "InvalidType", "body"),
            ({"name": "ok", "template": "nope"}, 400, "InvalidTemplate", "template"),
        ]
        for body, status, code, field in cases:
            self.assertApiError(self.call("POST", self.base, body), status, code, field)
        self.assertApiError(self.call("POST", self.base, raw=b"{oops"), 400, "InvalidJson")
        self.assertEqual(TestEvent.objects.count(), 0)

    def test_an_oversized_event_is_413(self):
        body = {"name": "big", "body": {"blob": "x" * (6 * 1024 * 1024 + 1)}}
        self.assertApiError(self.call("POST", self.base, body), 413)
        self.assertEqual(TestEvent.objects.count(), 0)

    def test_names_are_unique_per_function(self):
        self.call("POST", self.base, {"name": "one", "body": {}})
        self.assertApiError(self.call("POST", self.base, {"name": "one", "body": {}}), 409, "ResourceConflict", "name")
        other = self.call("POST", self.base, {"name": "two", "body": {}}).data
        self.assertApiError(self.call("PUT", f"{self.base}/{other['id']}", {"name": "one"}), 409, "ResourceConflict")
        self.assertEqual(TestEvent.objects.get(pk=other["id"]).name, "two")

    def test_saving_one_event_never_replaces_another(self):
        one = self.call("POST", self.base, {"name": "one", "body": {"n": 1}}).data
        two = self.call("POST", self.base, {"name": "two", "body": {"n": 2}}).data
        taken = self.call("PUT", f"{self.base}/{two['id']}", {"name": "one", "body": {"n": 22}})
        self.assertApiError(taken, 409, "ResourceConflict", "name")
        self.assertIn("already exists", taken.data["error"]["message"])
        again = self.call("POST", self.base, {"name": "one", "body": {"n": 11}})
        self.assertApiError(again, 409, "ResourceConflict", "name")
        stored = {e.name: e.body for e in TestEvent.objects.all()}
        self.assertEqual(stored, {"one": {"n": 1}, "two": {"n": 2}})
        # A body-only PUT changes that event and keeps its name.
        updated = self.call("PUT", f"{self.base}/{one['id']}", {"body": {"n": 100}}).data
        self.assertEqual((updated["name"], updated["body"]), ("one", {"n": 100}))

    def test_unknown_fields_are_refused(self):
        one = self.call("POST", self.base, {"name": "one", "body": {}}).data
        self.assertApiError(self.call("PUT", f"{self.base}/{one['id']}", {"id": 9, "body": {}}), 400,
                            "UnknownField", "id")
        self.assertApiError(self.call("POST", self.base, {"name": "x", "body": {}, "overwrite": True}), 400,
                            "UnknownField", "overwrite")

    def test_bob_cannot_touch_alices_events_even_through_his_own_function(self):
        event = self.call("POST", self.base, {"name": "one", "body": {"secret": 1}}).data
        self.make_function(self.bob, name="bobs")
        for method in ["PUT", "DELETE"]:
            response = self.call(method, f"/api/functions/bobs/test-events/{event['id']}", {"name": "x"},
                                 client=self.bob_client)
            self.assertApiError(response, 404, "ResourceNotFound")
        self.assertEqual(TestEvent.objects.get(pk=event["id"]).body, {"secret": 1})
