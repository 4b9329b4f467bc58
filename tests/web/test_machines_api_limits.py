"""The state machines API with definitions no one should send: nested far beyond any parser's
depth, as text or as JSON. The answer is a 4xx or a diagnostic saying where, never a 500."""

import json

from tests.web.base import WebTestCase

DEPTH = 50_000


def nested_text(depth: int = DEPTH) -> str:
    """Returns a definition whose Parameters nest `depth` objects deep, as JSON text."""
    return ('{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Parameters": '
            + '{"a": ' * depth + "1" + "}" * depth + "}}}")


class DeepDefinitionTests(WebTestCase):
    def test_a_definition_text_nested_50000_deep_gets_a_diagnostic_saying_where(self):
        response = self.call("POST", "/api/state-machines/validate", {"definition": nested_text()})
        self.assertEqual(response.status_code, 200, response.content[:500])
        [diagnostic] = response.data["diagnostics"]
        self.assertEqual((diagnostic["severity"], diagnostic["code"]),
                         ("ERROR", "INVALID_JSON_DESCRIPTION"))
        self.assertIn("nesting depth", diagnostic["message"])
        self.assertRegex(diagnostic["location"], r"; line: 1, column: \d+\]$")
        self.assertIsNone(response.data["dot"])

    def test_a_definition_object_nested_50000_deep_is_refused_with_where(self):
        body = '{"definition": ' + nested_text() + "}"
        response = self.call("POST", "/api/state-machines/validate", raw=body.encode())
        self.assertApiError(response, 400, "InvalidJson")
        self.assertRegex(response.data["error"]["message"], r"line 1, column \d+")

    def test_a_saved_draft_nested_50000_deep_is_kept_as_invalid_and_cannot_be_published(self):
        self.call("POST", "/api/roles", {"name": "runner"})
        self.call("POST", "/api/state-machines", {"name": "deep", "type": "STANDARD", "role": "runner"})
        saved = self.call("PUT", "/api/state-machines/deep", {"definition": nested_text()})
        self.assertEqual(saved.status_code, 200, saved.content[:500])
        self.assertFalse(saved.data["draft_valid"])
        self.assertEqual(self.call("GET", "/api/state-machines/deep").status_code, 200)
        refused = self.call("POST", "/api/state-machines/deep/versions")
        self.assertEqual(refused.status_code, 400, refused.content[:500])

    def test_a_definition_nested_a_little_is_still_validated_and_drawn(self):
        text = nested_text(100)
        response = self.call("POST", "/api/state-machines/validate", {"definition": text})
        self.assertEqual(response.data["diagnostics"], [])
        self.assertIn("digraph", response.data["dot"])
        self.assertEqual(json.loads(text)["StartAt"], "P")
