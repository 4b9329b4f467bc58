"""The HTTP APIs page's JSON API: quick create to a function or a state machine (with a role API
Gateway may assume), add a route, list with routes, integrations, stages and deployments, delete;
bad input refused naming the member, with nothing half-made; another person's APIs out of reach."""

from __future__ import annotations

import json

from editor.models import ApiIntegration, ApiRoute, Function, HttpApi, StateMachine
from editor.services.accounts import account_id
from tests.web.base import WebTestCase

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
ALLOW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "states:StartExecution",
                                                 "Resource": "*"}]}


class HttpApisApiTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.make_function(name="hello", deploy=True)
        self.account = account_id(self.alice)
        self.call("POST", "/api/roles", {"name": "gateway", "trusted": ["apigateway"], "policy": ALLOW})
        self.call("POST", "/api/roles", {"name": "runner"})
        made = self.call("POST", "/api/state-machines", {"name": "flow", "type": "STANDARD", "role": "runner",
                                                         "definition": PASS})
        self.assertEqual(made.status_code, 201, made.content)
        self.function = f"arn:aws:lambda:us-east-1:{self.account}:function:hello"
        self.machine = f"arn:aws:states:us-east-1:{self.account}:stateMachine:flow"
        self.role = f"arn:aws:iam::{self.account}:role/gateway"

    def test_quick_create_add_a_state_machine_route_list_and_delete(self):
        created = self.call("POST", "/api/http-apis", {"Name": "shop", "Target": self.function,
                                                        "RouteKey": "GET /items/{id}"})
        self.assertEqual(created.status_code, 201, created.content)
        api = created.data
        self.assertEqual([(r["route_key"], r["integration"]["function"], r["integration"]["link"])
                          for r in api["routes"]], [("GET /items/{id}", "hello", "/functions/hello/")])
        [stage] = api["stages"]
        self.assertEqual((stage["name"], stage["auto_deploy"], stage["url"]), ("$default", True, api["endpoint"]))
        self.assertTrue(stage["deployment_id"])

        added = self.call("POST", f"/api/http-apis/{api['api_id']}/routes",
                          {"RouteKey": "POST /orders", "Target": self.machine, "CredentialsArn": self.role})
        self.assertEqual(added.status_code, 201, added.content)
        route = next(r for r in added.data["routes"] if r["route_key"] == "POST /orders")
        self.assertEqual((route["integration"]["subtype"], route["integration"]["machine"], route["integration"]["link"]),
                         ("StepFunctions-StartExecution", "flow", "/state-machines/flow/"))
        self.assertEqual(route["integration"]["request_parameters"],
                         {"StateMachineArn": self.machine, "Input": "$request.body"})
        self.assertNotEqual(added.data["stages"][0]["deployment_id"], stage["deployment_id"])   # auto-deployed

        listed = self.call("GET", "/api/http-apis").data
        self.assertEqual([a["api_id"] for a in listed["apis"]], [api["api_id"]])
        self.assertIn({"name": "flow", "arn": self.machine, "type": "STANDARD"}, listed["choices"]["machines"])
        self.assertEqual(self.call("GET", "/api/http-apis", client=self.bob_client).data["apis"], [])
        self.assertEqual(self.call("DELETE", f"/api/http-apis/{api['api_id']}", client=self.bob_client).status_code, 404)
        self.assertEqual(self.call("DELETE", f"/api/http-apis/{api['api_id']}").status_code, 204)
        self.assertFalse(HttpApi.objects.filter(api_id=api["api_id"]).exists())

    def test_bad_input_names_the_member_and_makes_nothing(self):
        cases = [
            ({"Name": "", "Target": self.function}, "Name"),
            ({"Name": "x", "Target": "arn:aws:lambda:us-east-1:000000000000:function:theirs"}, "Target"),
            ({"Name": "x"}, "Target"),
            ({"Name": "x", "Target": self.function, "RouteKey": "FETCH /x"}, "RouteKey"),
            ({"Name": "x", "Target": self.machine}, "CredentialsArn"),
            ({"Name": "x", "Target": self.machine, "CredentialsArn": f"arn:aws:iam::{self.account}:role/runner"},
             "CredentialsArn"),   # it does not trust API Gateway
        ]
        for body, field in cases:
            with self.subTest(field=field, body=body):
                self.assertApiError(self.call("POST", "/api/http-apis", body), 400, field=field)
        self.assertApiError(self.call("POST", "/api/http-apis", raw=b"{not json"), 400)
        self.call("POST", "/api/roles", {"name": "weak", "trusted": ["apigateway"], "policy": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "states:DescribeExecution",
                                                    "Resource": "*"}]}})
        refused = self.call("POST", "/api/http-apis", {"Name": "x", "Target": self.machine,
                                                       "CredentialsArn": f"arn:aws:iam::{self.account}:role/weak"})
        self.assertApiError(refused, 400, field="CredentialsArn")
        self.assertIn("states:StartExecution", refused.data["error"]["message"])
        self.assertEqual((HttpApi.objects.count(), ApiIntegration.objects.count(), ApiRoute.objects.count()), (0, 0, 0))

        api_id = self.call("POST", "/api/http-apis", {"Name": "shop", "Target": self.function}).data["api_id"]
        self.assertApiError(self.call("POST", f"/api/http-apis/{api_id}/routes",
                                      {"RouteKey": "$default", "Target": self.function}), 409, field="RouteKey")
        self.assertApiError(self.call("POST", f"/api/http-apis/{api_id}/routes",
                                      {"RouteKey": "GET /a", "Target": self.machine}), 400, field="CredentialsArn")
        self.assertEqual(self.call("POST", "/api/http-apis/zzzzzzzzzz/routes",
                                   {"RouteKey": "GET /a", "Target": self.function}).status_code, 404)
        self.assertEqual(ApiRoute.objects.filter(api__api_id=api_id).count(), 1)
        self.assertEqual(ApiIntegration.objects.filter(api__api_id=api_id).count(), 1)

    def test_a_stage_without_auto_deploy_is_deployed_from_the_page(self):
        from editor.services import http_apis

        api_id = self.call("POST", "/api/http-apis", {"Name": "shop", "Target": self.function}).data["api_id"]
        http_apis.create_stage(http_apis.get_api(self.alice, api_id), name="prod")
        before = self.call("GET", f"/api/http-apis/{api_id}").data
        self.assertIsNone(next(s for s in before["stages"] if s["name"] == "prod")["deployment_id"])
        deployed = self.call("POST", f"/api/http-apis/{api_id}/deployments", {"StageName": "prod"})
        self.assertEqual(deployed.status_code, 201, deployed.content)
        prod = next(s for s in deployed.data["stages"] if s["name"] == "prod")
        self.assertTrue(prod["deployment_id"] and prod["url"].endswith(f"/http-api/{api_id}/prod"))

        self.assertApiError(self.call("POST", f"/api/http-apis/{api_id}/deployments", {}), 400, field="StageName")
        self.assertApiError(self.call("POST", f"/api/http-apis/{api_id}/deployments", {"StageName": "$default"}),
                            400, field="StageName")   # AutoDeploy
        self.assertApiError(self.call("POST", f"/api/http-apis/{api_id}/deployments", {"StageName": "nope"}), 404)
        self.assertEqual(self.call("POST", f"/api/http-apis/{api_id}/deployments", {"StageName": "prod"},
                                   client=self.bob_client).status_code, 404)

    def test_a_route_whose_target_was_deleted_says_so(self):
        from editor.services import functions, machines

        api = self.call("POST", "/api/http-apis", {"Name": "shop", "Target": self.function}).data
        self.call("POST", f"/api/http-apis/{api['api_id']}/routes",
                  {"RouteKey": "POST /orders", "Target": self.machine, "CredentialsArn": self.role})
        functions.delete_function(Function.objects.get(owner=self.alice, name="hello"))
        machines.delete_machine(StateMachine.objects.get(owner=self.alice, name="flow"))
        shown = self.call("GET", f"/api/http-apis/{api['api_id']}").data
        gone = {r["route_key"]: r["integration"] for r in shown["routes"]}
        self.assertIn("The function hello does not exist", gone["$default"]["missing"])
        self.assertIn("The state machine flow does not exist", gone["POST /orders"]["missing"])
        self.assertEqual([gone["$default"]["link"], gone["POST /orders"]["link"]], [None, None])
        self.make_function(name="hello")   # a function of that name again: the route calls it
        shown = self.call("GET", f"/api/http-apis/{api['api_id']}").data
        again = next(r["integration"] for r in shown["routes"] if r["route_key"] == "$default")
        self.assertEqual((again["missing"], again["link"]), (None, "/functions/hello/"))
