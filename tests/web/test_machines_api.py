"""The state machines API: templates, drafts that may be invalid, validation as you type,
versions, and Alice's machines hidden from Bob."""

import json

from editor.models import StateMachine, StateMachineVersion
from tests.web.base import WebTestCase


class MachinesApiTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.call("POST", "/api/roles", {"name": "runner"})

    def create(self, name="flow", **extra):
        return self.call("POST", "/api/state-machines", {"name": name, "type": "STANDARD", "role": "runner", **extra})

    def test_every_template_creates_a_valid_machine(self):
        templates = self.call("GET", "/api/state-machine-templates").data["templates"]
        ids = [t["id"] for t in templates]
        self.assertEqual(ids, ["blank", "hello-world", "choice", "parallel", "map", "retry-and-catch", "seed"])
        for template in ids:
            response = self.create(f"m-{template}", template=template)
            self.assertEqual(response.status_code, 201, response.content)
            self.assertTrue(response.data["draft_valid"], (template, response.data["diagnostics"]))

    def test_the_seed_template_is_the_seeds_definition(self):
        definition = json.loads(self.create(template="seed").data["definition"])
        self.assertEqual(definition["StartAt"], "훈련")
        self.assertEqual(definition["States"]["훈련"]["Choices"][0]["Variable"], "$.TraningType")
        # The seed names the documentation's account: the sample names the owner's own.
        account = self.alice.aws_account.account_id
        self.assertNotEqual(account, "123456789012")
        self.assertEqual(definition["States"]["공격 훈련"]["Resource"],
                         f"arn:aws:lambda:us-east-1:{account}:function:attack-training")

    def test_a_draft_may_be_invalid_but_cannot_be_published(self):
        self.create()
        saved = self.call("PUT", "/api/state-machines/flow", {"definition": '{"StartAt": "X", '})
        self.assertEqual(saved.status_code, 200)
        self.assertFalse(saved.data["draft_valid"])
        self.assertEqual(saved.data["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION")
        refused = self.call("POST", "/api/state-machines/flow/versions")
        self.assertEqual(refused.status_code, 400)
        self.assertEqual(refused.data["error"]["code"], "InvalidDefinition")
        self.assertTrue(refused.data["diagnostics"])
        asl = {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Nowhere"}}}
        self.call("PUT", "/api/state-machines/flow", {"definition": json.dumps(asl)})
        refused = self.call("POST", "/api/state-machines/flow/versions")
        self.assertEqual(refused.status_code, 400)
        self.assertIn("/States/X/Next", [d["location"] for d in refused.data["diagnostics"]])
        self.assertFalse(StateMachineVersion.objects.exists())

    def test_versions_are_numbered_and_immutable(self):
        self.create(template="choice")
        first = self.call("POST", "/api/state-machines/flow/versions")
        self.assertEqual((first.status_code, first.data["number"]), (201, 1))
        again = self.call("POST", "/api/state-machines/flow/versions")
        self.assertEqual(again.data["number"], 1)  # nothing changed
        self.call("PUT", "/api/state-machines/flow", {"definition": json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})})
        self.assertEqual(self.call("POST", "/api/state-machines/flow/versions").data["number"], 2)
        one = self.call("GET", "/api/state-machines/flow/versions/1").data
        self.assertEqual(one["definition"]["StartAt"], "Which size?")
        self.assertIn("digraph", one["dot"])
        # Each version draws its own graph (drawn once per process, then kept by version).
        two = self.call("GET", "/api/state-machines/flow/versions/2").data
        self.assertIn("Which size?", one["dot"])
        self.assertNotIn("Which size?", two["dot"])
        self.assertEqual(self.call("GET", "/api/state-machines/flow/versions/1").data["dot"], one["dot"])
        detail = self.call("GET", "/api/state-machines/flow").data
        self.assertEqual([v["number"] for v in detail["versions"]], [2, 1])
        self.assertEqual(self.call("GET", "/api/state-machines").data["state_machines"][0]["latest_version"], 2)
        self.assertApiError(self.call("GET", "/api/state-machines/flow/versions/9"), 404)
        self.assertApiError(self.call("GET", "/api/state-machines/flow/versions/x"), 404)

    def test_validate_as_you_type_returns_diagnostics_and_the_graph(self):
        good = self.call("POST", "/api/state-machines/validate",
                         {"definition": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})})
        self.assertEqual(good.data["diagnostics"], [])
        self.assertIn("digraph", good.data["dot"])
        not_json = self.call("POST", "/api/state-machines/validate", {"definition": "{"})
        self.assertIsNone(not_json.data["dot"])
        self.assertEqual(not_json.data["diagnostics"][0]["severity"], "ERROR")
        bad = self.call("POST", "/api/state-machines/validate", {"definition": '{"StartAt": "Z", "States": {}}'})
        self.assertTrue(bad.data["diagnostics"])
        self.assertIsNotNone(bad.data["dot"])
        self.assertApiError(self.call("POST", "/api/state-machines/validate", {}), 400, "Required", "definition")
        self.assertApiError(self.call("POST", "/api/state-machines/validate", {"definition": "{}", "type": "X"}),
                            400, "InvalidType", "type")

    def test_bad_machines_are_refused_with_their_field(self):
        self.create()
        self.call("POST", "/api/roles", {"name": "lambda-only", "trusted": ["lambda"]})
        cases = [
            ({"name": "has space", "type": "STANDARD", "role": "runner"}, 400, "InvalidName", "name"),
            ({"name": "x" * 81, "type": "STANDARD", "role": "runner"}, 400, "InvalidName", "name"),
            ({"name": "flow", "type": "STANDARD", "role": "runner"}, 409, "ResourceConflict", "name"),
            ({"name": "ok", "type": "FAST", "role": "runner"}, 400, "InvalidType", "type"),
            ({"name": "ok", "type": "STANDARD", "role": "nobody"}, 400, "RoleNotFound", "role"),
            ({"name": "ok", "type": "STANDARD", "role": "lambda-only"}, 400, "RoleNotTrusted", "role"),
            ({"name": "ok", "type": "STANDARD", "role": 5}, 400, "InvalidType", "role"),
            ({"name": "ok", "type": "STANDARD", "role": "runner", "template": "nope"}, 400, "InvalidTemplate",
             "template"),
        ]
        for body, status, code, field in cases:
            self.assertApiError(self.call("POST", "/api/state-machines", body), status, code, field)
        self.assertApiError(self.call("PUT", "/api/state-machines/flow", {"definition": 5}), 400, "InvalidType",
                            "definition")
        self.assertApiError(self.call("PUT", "/api/state-machines/flow", {"what": 5}), 400, "UnknownField", "what")
        self.assertApiError(self.call("GET", "/api/state-machines/nope"), 404)
        self.assertEqual(StateMachine.objects.count(), 1)

    def test_a_missing_role_says_what_to_do(self):
        # Bob has no role yet: he is told to create one, not "You have no role called ."
        for role in (None, ""):
            body = {"name": "flow", "type": "STANDARD", **({} if role is None else {"role": role})}
            refused = self.call("POST", "/api/state-machines", body, client=self.bob_client)
            self.assertApiError(refused, 400, "RoleRequired", "role")
            self.assertTrue(refused.data["error"]["message"].startswith("Create a role first"))
        self.call("POST", "/api/roles", {"name": "runner"}, client=self.bob_client)
        refused = self.call("POST", "/api/state-machines", {"name": "flow", "role": ""}, client=self.bob_client)
        self.assertEqual(refused.data["error"]["message"], "Choose a role.")
        self.assertFalse(StateMachine.objects.filter(owner=self.bob).exists())

    def test_a_machine_is_deleted(self):
        self.create()
        self.assertEqual(self.call("DELETE", "/api/state-machines/flow").status_code, 204)
        self.assertApiError(self.call("GET", "/api/state-machines/flow"), 404)

    def test_bob_cannot_see_or_touch_alices_machines(self):
        self.create(template="choice")
        self.call("POST", "/api/state-machines/flow/versions")
        bob = self.bob_client
        self.assertEqual(self.call("GET", "/api/state-machines", client=bob).data["state_machines"], [])
        for method, path in [("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/versions"),
                             ("GET", "/versions/1"), ("GET", "/executions"), ("POST", "/executions"),
                             ("GET", "/recent-inputs")]:
            self.assertApiError(self.call(method, f"/api/state-machines/flow{path}", {}, client=bob), 404)
        # Bob cannot bind his machine to Alice's role either.
        refused = self.call("POST", "/api/state-machines", {"name": "b", "type": "STANDARD", "role": "runner"},
                            client=bob)
        self.assertApiError(refused, 400, "RoleNotFound", "role")
