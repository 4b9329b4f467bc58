"""A lone surrogate ("\\ud800" in JSON: valid JSON, not Unicode text) anywhere in a request body is
refused with 400 InvalidUnicode naming where it is; a function that returns one does not break
the Invoke API or the stored invocation."""

from __future__ import annotations

import json

from django.urls import URLPattern, reverse

from editor.models import AccessKey, Function, Role, RolePolicy, StateMachine, TestEvent
from editor.services.access_keys import create_access_key
from editor.services.accounts import region
from editor.services.buckets import create_bucket
from editor.urls import api_patterns
from tests.web.base import LiveWebTestCase

LONE = "\ud800"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                   "Resource": "*"}]}

# A valid body of every endpoint that takes one, by URL name and method (None: it reads no body).
BODIES = {
    # The body is a zip, not JSON: a JSON body is refused as a broken zip (a 400), never a 500.
    ("api-function-code-zip", "PUT"): None,
    ("api-functions", "POST"): {"name": "other", "runtime": "python", "starting_point": "hello-world",
                                "description": "a function"},
    ("api-function-code", "PUT"): {"files": {"lambda_function.py": "def lambda_handler(e, c):\n    return e\n"}},
    ("api-function-configuration", "PUT"): {"description": "d", "handler": "lambda_function.lambda_handler",
                                            "env": [{"key": "COLOUR", "value": "blue"}], "timeout": 3},
    ("api-function-deploy", "POST"): None,
    ("api-function-versions", "POST"): {"description": "first"},
    ("api-test-events", "POST"): {"name": "ev2", "body": {"key": "value", "list": ["a"]}},
    ("api-test-event", "PUT"): {"name": "ev1", "body": {"key": "value"}},
    ("api-function-test", "POST"): {"event": {"key": "value"}},
    ("api-function-invocations", "POST"): {"key": "value"},
    ("api-roles", "POST"): {"name": "other-role", "description": "a role", "policy": POLICY},
    ("api-role", "PUT"): {"description": "a role", "trusted": ["states"]},
    ("api-role-policy", "PUT"): {"document": POLICY},
    ("api-policy-validate", "POST"): {"policy": POLICY},
    ("api-machines", "POST"): {"name": "other-flow", "type": "STANDARD", "role": "runner", "definition": PASS,
                               "description": "a machine"},
    ("api-machine-validate", "POST"): {"definition": PASS, "type": "STANDARD"},
    ("api-machine", "PUT"): {"definition": PASS, "description": "a machine"},
    ("api-machine-versions", "POST"): None,
    ("api-machine-executions", "POST"): {"input": '{"a": "b"}', "name": "run-2"},
    ("api-execution-stop", "POST"): {"error": "Stopped", "cause": "by hand"},
    ("api-execution-redrive", "POST"): None,
    ("api-access-keys", "POST"): None,
    ("api-access-key", "PUT"): {"status": "Inactive"},
    ("api-machine-test-state", "POST"): {"state": "P", "input": '{"a": "b"}', "definition": PASS},
    ("api-task-success", "POST"): {"taskToken": "token", "output": '{"a": "b"}'},
    ("api-task-failure", "POST"): {"taskToken": "token", "error": "Broken", "cause": "by hand"},
    ("api-task-heartbeat", "POST"): {"taskToken": "token"},
    ("api-function-url", "POST"): {"auth_type": "NONE", "cors": {"AllowOrigins": ["https://example.com"],
                                                                 "AllowMethods": ["GET"], "MaxAge": 60}},
    ("api-function-url", "PUT"): {"auth_type": "AWS_IAM", "cors": {"AllowHeaders": ["x-team"]}},
    ("api-schedules", "POST"): {"Name": "tick", "ScheduleExpression": "rate(5 minutes)",
                                "ScheduleExpressionTimezone": "Asia/Seoul", "Description": "a schedule",
                                "FlexibleTimeWindow": {"Mode": "OFF"}, "GroupName": "default",
                                "Target": {"Arn": "arn:aws:lambda:us-east-1:1:function:hello",
                                           "RoleArn": "arn:aws:iam::1:role/runner", "Input": "{}"}},
    ("api-schedule", "PUT"): {"ScheduleExpression": "cron(0 9 ? * MON *)", "FlexibleTimeWindow": {"Mode": "OFF"},
                              "Target": {"Arn": "arn:aws:lambda:us-east-1:1:function:hello",
                                         "RoleArn": "arn:aws:iam::1:role/runner"}},
    ("api-schedule-state", "POST"): {"State": "DISABLED"},
    ("api-buckets", "POST"): {"name": "photos"},
    ("api-http-apis", "POST"): {"Name": "shop", "Target": "arn:aws:lambda:us-east-1:1:function:hello",
                                "RouteKey": "GET /items/{id}"},
    ("api-http-api-deployments", "POST"): {"StageName": "prod", "Description": "first"},
    ("api-http-api-routes", "POST"): {"RouteKey": "POST /orders", "Target": "arn:aws:states:us-east-1:1:stateMachine:flow",
                                      "CredentialsArn": "arn:aws:iam::1:role/runner"},
    # The body is the object's bytes, not JSON.
    ("api-bucket-object", "PUT"): None,
    # Loading a sample app reads no body.
    ("api-sample-load", "POST"): None,
    ("api-bucket-notifications", "PUT"): {"functions": [
        {"LambdaFunctionArn": "hello", "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}}], "state_machines": [
        {"StateMachineArn": "flow", "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}]},
}


def with_lone_surrogates(value, pointer=""):
    """Yields (JSON pointer, a copy of `value` with a lone surrogate there): in every string, in
    every key, and in place of every empty object or array's contents."""
    if isinstance(value, str):
        yield pointer, value + LONE
    elif isinstance(value, dict):
        if not value:
            yield f"{pointer}/x", {"x": LONE}
        for key, child in value.items():
            yield f"{pointer}/\ufffd{key}", {**{k: v for k, v in value.items() if k != key}, LONE + key: child}
            for where, changed in with_lone_surrogates(child, f"{pointer}/{key}"):
                yield where, {**value, key: changed}
    elif isinstance(value, list):
        for index, child in enumerate(value):
            for where, changed in with_lone_surrogates(child, f"{pointer}/{index}"):
                yield where, [*value[:index], changed, *value[index + 1:]]


class LoneSurrogateTests(LiveWebTestCase):
    def setUp(self):
        super().setUp()
        self.make_function(name="hello", deploy=True)
        self.call("POST", "/api/functions/hello/test-events", {"name": "ev1", "body": {}})
        self.execution = self.make_finished_execution()
        self.key, _secret = create_access_key(self.alice)
        create_bucket(self.alice, "hello", region())

    def path_of(self, pattern: URLPattern) -> str:
        kwargs = {"name": {"api-role": "runner", "api-role-policy": "runner", "api-machine": "flow", "api-machine-versions": "flow",
                           "api-machine-executions": "flow", "api-machine-recent-inputs": "flow",
                           "api-machine-version": "flow", "api-machine-test-state": "flow"}.get(pattern.name, "hello"),
                  "qualifier": "$LATEST", "number": "1", "group": "default", "key": "uploads/a.txt", "policy": "flowbench-policy", "key_id": self.key.access_key_id, "execution_id": self.execution, "api_id": "abcdefghij",
                  "invocation_id": "00000000-0000-0000-0000-000000000000",
                  "map_run_id": "00000000-0000-0000-0000-000000000000",
                  "event_id": str(TestEvent.objects.get(name="ev1").pk)}
        return reverse(pattern.name, kwargs={k: kwargs[k] for k in pattern.pattern.converters})

    def body_taking_endpoints(self):
        """Yields (url name, method, path) of every API endpoint that takes a JSON body, read from
        the URL table and each endpoint's Allow header (a new endpoint joins without being listed)."""
        for pattern in api_patterns:
            if not pattern.name:
                continue   # the catch-all 404
            path = self.path_of(pattern)
            allowed = self.call("OPTIONS", path)
            self.assertEqual(allowed.status_code, 405, path)
            for method in ("POST", "PUT"):
                if method in allowed["Allow"].split(", "):
                    yield pattern.name, method, path

    def test_every_endpoint_refuses_a_lone_surrogate_in_every_field_and_keeps_nothing(self):
        before = [list(model.objects.order_by("pk").values()) for model in (Function, Role, RolePolicy, StateMachine, TestEvent, AccessKey)]
        seen = set()
        for name, method, path in self.body_taking_endpoints():
            self.assertIn((name, method), BODIES, f"add a valid body of {method} {path} to BODIES")
            seen.add((name, method))
            if BODIES[name, method] is None:
                response = self.call(method, path, {"x": LONE})
                self.assertLess(response.status_code, 500, f"{method} {path}: {response.content[:300]}")
                continue
            cases = [*with_lone_surrogates(BODIES[name, method]), ("", LONE)]
            for pointer, body in cases:
                with self.subTest(endpoint=f"{method} {path}", pointer=pointer):
                    response = self.call(method, path, body)
                    self.assertApiError(response, 400, "InvalidUnicode", pointer)
                    self.assertIn(pointer or "the body", response.data["error"]["message"])
        self.assertEqual(seen, set(BODIES))
        after = [list(model.objects.order_by("pk").values()) for model in (Function, Role, RolePolicy, StateMachine, TestEvent, AccessKey)]
        self.assertEqual(after, before)

    def test_a_valid_surrogate_pair_is_text_like_any_other(self):
        response = self.call("POST", "/api/roles", {"name": "emoji", "description": "\U0001F600 축구"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.data["description"], "\U0001F600 축구")

    def test_a_lone_surrogate_escaped_inside_a_json_text_field_is_refused_with_its_field(self):
        response = self.call("POST", "/api/state-machines/flow/executions", {"input": '{"a": "\\ud800"}'})
        self.assertApiError(response, 400, "InvalidUnicode", "input")
        self.assertIn("input/a", response.data["error"]["message"])

    def test_a_definition_spelling_a_lone_surrogate_is_a_draft_that_cannot_be_published(self):
        definition = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "x\\udc00", "End": true}}}'
        saved = self.call("PUT", "/api/state-machines/flow", {"definition": definition})
        self.assertEqual(saved.status_code, 200, saved.content)
        self.assertFalse(saved.data["draft_valid"])
        self.assertIn(("INVALID_UNICODE", "/States/P/Result"),
                      [(d["code"], d["location"]) for d in saved.data["diagnostics"]])
        refused = self.call("POST", "/api/state-machines/flow/versions")
        self.assertEqual((refused.status_code, refused.data["error"]["code"]), (400, "InvalidDefinition"))


class LoneSurrogateResponseTests(LiveWebTestCase):
    def test_a_function_returning_a_lone_surrogate_answers_with_the_replacement_character(self):
        function = self.make_function(name="odd")
        self.call("PUT", "/api/functions/odd/code", {"files": {"lambda_function.py": (
            "def lambda_handler(event, context):\n    return {'text': 'a\\ud800b', '\\udfff': 1}\n")}})
        self.call("POST", "/api/functions/odd/deploy")
        invoked = self.call("POST", "/api/functions/odd/invocations", {})
        self.assertEqual(invoked.status_code, 200, invoked.content)
        self.assertEqual(invoked.data, {"text": "a\ufffdb", "\ufffd": 1})
        tested = self.call("POST", "/api/functions/odd/test", {"event": {}})
        self.assertEqual(tested.status_code, 200, tested.content)
        self.assertEqual(tested.data["response"], {"text": "a\ufffdb", "\ufffd": 1})
        stored = function.invocations.order_by("started_at")
        self.assertEqual([i.response for i in stored], [{"text": "a\ufffdb", "\ufffd": 1}] * 2)
        listed = self.call("GET", "/api/functions/odd/invocations")
        self.assertEqual(listed.status_code, 200)
