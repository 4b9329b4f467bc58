"""The roles API: create, read, change, delete; policies checked; Alice's roles are not Bob's."""

from editor.models import Role, RolePolicy
from tests.web.base import WebTestCase

ALLOW_ONE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:InvokeFunction",
     "Resource": "arn:aws:lambda:us-east-1:123456789012:function:attack-training"}]}


class RolesApiTests(WebTestCase):
    def test_a_new_role_trusts_states_and_gets_the_default_policy(self):
        response = self.call("POST", "/api/roles", {"name": "runner", "description": "runs"})
        self.assertEqual(response.status_code, 201, response.content)
        default = self.call("GET", "/api/roles/default-policy").data["policy"]
        self.assertEqual(response.data["policies"][0]["name"], "flowbench-policy")
        self.assertEqual(response.data["policies"][0]["document"], default)
        self.assertEqual(response.data["policy"]["Statement"], default["Statement"])
        self.assertEqual(response.data["trusted"], ["states"])
        self.assertEqual(response.data["assume_role_policy"]["Statement"][0]["Principal"],
                         {"Service": "states.amazonaws.com"})
        account = self.alice.aws_account.account_id
        self.assertEqual(response.data["arn"], f"arn:aws:iam::{account}:role/runner")
        self.assertRegex(response.data["role_id"], r"^AROA[A-Z0-9]{17}$")
        self.assertEqual(response.data["machines"], [])
        listed = self.call("GET", "/api/roles").data["roles"]
        self.assertEqual([r["name"] for r in listed], ["runner"])

    def test_a_role_is_read_changed_and_deleted(self):
        self.call("POST", "/api/roles", {"name": "r.1@x", "trusted": ["states", "lambda"], "policy": ALLOW_ONE})
        self.assertEqual(self.call("GET", "/api/roles/r.1@x").data["policy"], ALLOW_ONE)
        changed = self.call("PUT", "/api/roles/r.1@x", {"description": "d", "trusted": ["lambda"]})
        self.assertEqual(changed.status_code, 200, changed.content)
        self.assertEqual((changed.data["description"], changed.data["trusted"]), ("d", ["lambda"]))
        self.assertApiError(self.call("PUT", "/api/roles/r.1@x", {"policy": ALLOW_ONE}), 400, "UnknownField", "policy")
        self.assertEqual(self.call("DELETE", "/api/roles/r.1@x").status_code, 204)
        self.assertFalse(Role.objects.exists())
        self.assertFalse(RolePolicy.objects.exists())

    def test_a_roles_named_inline_policies_are_put_read_and_deleted_and_all_of_them_decide(self):
        self.call("POST", "/api/roles", {"name": "r", "policy": ALLOW_ONE})
        deny = '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}'
        put = self.call("PUT", "/api/roles/r/policies/deny-all", {"document": deny})
        self.assertEqual(put.status_code, 200, put.content)
        self.assertEqual(put.data["document"]["Statement"][0]["Effect"], "Deny")
        role = self.call("GET", "/api/roles/r").data
        self.assertEqual([p["name"] for p in role["policies"]], ["deny-all", "flowbench-policy"])
        self.assertEqual({s["Effect"] for s in role["policy"]["Statement"]}, {"Allow", "Deny"})
        self.assertEqual(self.call("GET", "/api/roles/r/policies/deny-all").data["name"], "deny-all")
        self.assertApiError(self.call("PUT", "/api/roles/r/policies/bad name", {"document": deny}), 400,
                            "InvalidName", "name")
        self.assertApiError(self.call("PUT", "/api/roles/r/policies/x", {"document": "{"}), 400, "InvalidPolicy",
                            "document")
        self.assertApiError(self.call("PUT", "/api/roles/r/policies/x", {}), 400, "Required", "document")
        self.assertEqual(self.call("DELETE", "/api/roles/r/policies/deny-all").status_code, 204)
        self.assertApiError(self.call("GET", "/api/roles/r/policies/deny-all"), 404, "ResourceNotFound")
        self.assertApiError(self.call("GET", "/api/roles/r/policies/flowbench-policy", client=self.bob_client), 404)

    def test_role_names_are_unique_whatever_their_case_as_iams_are(self):
        self.call("POST", "/api/roles", {"name": "Runner"})
        self.assertApiError(self.call("POST", "/api/roles", {"name": "runner"}), 409, "ResourceConflict", "name")

    def test_bad_roles_are_refused_with_their_field(self):
        self.call("POST", "/api/roles", {"name": "taken"})
        cases = [
            ({"name": "bad name"}, 400, "InvalidName", "name"),
            ({"name": "x" * 65}, 400, "InvalidName", "name"),
            ({"name": "taken"}, 409, "ResourceConflict", "name"),
            ({"name": "ok", "trusted": ["ec2"]}, 400, "InvalidTrustedService", "trusted/0"),
            ({"name": "ok", "trusted": "states"}, 400, "InvalidType", "trusted"),
            ({"name": "ok", "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}}, 400,
             "InvalidPolicy", "policy/Statement/0/Action"),
            ({"name": "ok", "policy": "{"}, 400, "InvalidPolicy", "policy"),
            ({"name": "ok", "colour": "red"}, 400, "UnknownField", "colour"),
        ]
        for body, status, code, field in cases:
            self.assertApiError(self.call("POST", "/api/roles", body), status, code, field)
        self.assertApiError(self.call("POST", "/api/roles", raw=b"{nope"), 400, "InvalidJson")
        self.assertApiError(self.call("POST", "/api/roles", [1]), 400, "InvalidType")
        self.assertEqual(Role.objects.count(), 1)

    def test_a_role_in_use_cannot_be_deleted(self):
        self.call("POST", "/api/roles", {"name": "used"})
        self.call("POST", "/api/state-machines", {"name": "m", "type": "STANDARD", "role": "used"})
        self.assertApiError(self.call("DELETE", "/api/roles/used"), 409, "RoleInUse")
        self.assertEqual(self.call("GET", "/api/roles/used").data["machines"], ["m"])

    def test_policies_are_validated_as_you_type(self):
        ok = self.call("POST", "/api/policies/validate", {"policy": ALLOW_ONE})
        self.assertEqual(ok.data, {"diagnostics": []})
        bad = self.call("POST", "/api/policies/validate", {"policy": '{"Version": "2012-10-17", "Statement": 1}'})
        self.assertEqual(bad.status_code, 200)
        self.assertEqual(bad.data["diagnostics"][0]["pointer"], "/Statement")
        self.assertApiError(self.call("POST", "/api/policies/validate", {}), 400, "Required", "policy")

    def test_bob_cannot_see_or_touch_alices_roles(self):
        self.call("POST", "/api/roles", {"name": "alices"})
        self.assertEqual(self.call("GET", "/api/roles", client=self.bob_client).data["roles"], [])
        for method in ("GET", "PUT", "DELETE"):
            self.assertApiError(self.call(method, "/api/roles/alices", {}, client=self.bob_client), 404)
        # Bob may have a role of the same name.
        self.assertEqual(self.call("POST", "/api/roles", {"name": "alices"}, client=self.bob_client).status_code, 201)
