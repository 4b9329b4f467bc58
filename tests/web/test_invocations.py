"""Test and Invoke run the deployed version in the real runner and record every invocation."""

import json

from editor.models import Function, Invocation
from editor.services.accounts import function_arn
from tests.web.base import WebTestCase

FAILING = "def lambda_handler(event, context):\n    print('about to fail')\n    raise ValueError('bad drill')\n"
ECHO = "def lambda_handler(event, context):\n    print('got', event)\n    return {'echo': event}\n"


class TestButtonTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.function = self.make_function(name="echo")
        self.call("PUT", "/api/functions/echo/code", {"files": {"lambda_function.py": ECHO}})

    def test_a_new_function_can_be_tested_at_once(self):
        self.make_function(name="fresh")
        data = self.call("POST", "/api/functions/fresh/test", {"event": {}}).data
        self.assertEqual((data["status"], data["response"]["statusCode"]), ("succeeded", 200))

    def test_testing_with_nothing_deployed_is_a_conflict(self):
        Function.objects.create(owner=self.alice, name="older", runtime="python", handler="a.b", files={"a.py": ""})
        self.assertApiError(self.call("POST", "/api/functions/older/test", {"event": {}}), 409, "NotDeployed")
        self.assertEqual(Invocation.objects.count(), 0)

    def test_a_test_runs_the_deployed_code_and_records_the_invocation(self):
        self.call("POST", "/api/functions/echo/deploy")
        event = self.call("POST", "/api/functions/echo/test-events", {"name": "one", "body": {"n": 1}}).data
        response = self.call("POST", "/api/functions/echo/test", {"test_event_id": event["id"]})
        self.assertEqual(response.status_code, 200, response.content)
        data = response.data
        self.assertEqual(data["status"], "succeeded")
        self.assertEqual(data["response"], {"echo": {"n": 1}})
        self.assertIsNone(data["error"])
        self.assertIn("got {'n': 1}", data["logs"])
        self.assertIn("REPORT RequestId: " + data["request_id"], data["logs"])
        self.assertGreater(data["duration_ms"], 0)
        self.assertGreaterEqual(data["billed_ms"], 1)
        self.assertEqual(data["memory_mb"], 128)
        self.assertEqual(data["source"], "test")
        row = self.call("GET", "/api/functions").data["functions"][0]
        self.assertEqual(row["last_invocation"]["status"], "succeeded")

    def test_undeployed_edits_do_not_run(self):
        self.call("POST", "/api/functions/echo/deploy")
        self.call("PUT", "/api/functions/echo/code", {"files": {"lambda_function.py": FAILING}})
        data = self.call("POST", "/api/functions/echo/test", {"event": {"k": 2}}).data
        self.assertEqual(data["response"], {"echo": {"k": 2}})

    def test_a_function_error_is_a_failed_result_with_type_message_and_trace(self):
        self.call("PUT", "/api/functions/echo/code", {"files": {"lambda_function.py": FAILING}})
        self.call("POST", "/api/functions/echo/deploy")
        data = self.call("POST", "/api/functions/echo/test", {"event": {}}).data
        self.assertEqual(data["status"], "failed")
        self.assertEqual(data["error"]["errorType"], "ValueError")
        self.assertEqual(data["error"]["errorMessage"], "bad drill")
        self.assertTrue(data["error"]["stackTrace"])
        self.assertIn("about to fail", data["logs"])

    def test_bad_test_requests_are_refused(self):
        self.call("POST", "/api/functions/echo/deploy")
        cases = [
            ({}, 400, "Required", "test_event_id"),
            ({"test_event_id": 999}, 404, "ResourceNotFound", "test_event_id"),
            ({"test_event_id": "x"}, 404, "ResourceNotFound", "test_event_id"),
            ({"event": {}, "invocation_id": "not-a-uuid"}, 400, "InvalidInvocationId", "invocation_id"),
            ({"event": {}, "invocation_id": 5}, 400, "InvalidType", "invocation_id"),
        ]
        for body, status, code, field in cases:
            self.assertApiError(self.call("POST", "/api/functions/echo/test", body), status, code, field)
        self.assertEqual(Invocation.objects.count(), 0)

    def test_an_invocation_id_cannot_be_reused(self):
        self.call("POST", "/api/functions/echo/deploy")
        body = {"event": {}, "invocation_id": "7d1b8a52-2f7e-4b8e-9a51-0c7f1d2e3a4b"}
        self.assertEqual(self.call("POST", "/api/functions/echo/test", body).status_code, 200)
        self.assertApiError(self.call("POST", "/api/functions/echo/test", body), 409, "ResourceConflict")

    def test_invocations_are_listed_and_read_back(self):
        self.call("POST", "/api/functions/echo/deploy")
        done = self.call("POST", "/api/functions/echo/test", {"event": {"a": 1}}).data
        listed = self.call("GET", "/api/functions/echo/invocations").data["invocations"]
        self.assertEqual([i["id"] for i in listed], [done["id"]])
        one = self.call("GET", f"/api/functions/echo/invocations/{done['id']}").data
        self.assertEqual(one["response"], {"echo": {"a": 1}})
        self.assertApiError(self.call("GET", "/api/functions/echo/invocations/nope"), 404)


class InvokeApiTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.function = self.make_function(name="echo")
        self.call("PUT", "/api/functions/echo/code", {"files": {"lambda_function.py": ECHO}})
        self.call("POST", "/api/functions/echo/deploy")

    def test_invoke_returns_the_payload_as_lambda_does(self):
        response = self.call("POST", "/api/functions/echo/invocations", {"player": "민준"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.data, {"echo": {"player": "민준"}})
        self.assertNotIn("X-Amz-Function-Error", response)
        self.assertEqual(response["X-Amz-Executed-Version"], "$LATEST")
        self.assertEqual(Invocation.objects.get().source, "api")

    def test_any_json_value_is_an_event(self):
        self.assertEqual(self.call("POST", "/api/functions/echo/invocations", [1, 2]).data, {"echo": [1, 2]})
        self.assertEqual(self.call("POST", "/api/functions/echo/invocations", raw=b"").data, {"echo": None})

    def test_a_function_error_sets_the_header(self):
        self.call("PUT", "/api/functions/echo/code", {"files": {"lambda_function.py": FAILING}})
        self.call("POST", "/api/functions/echo/deploy")
        response = self.call("POST", "/api/functions/echo/invocations", {})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["X-Amz-Function-Error"], "Unhandled")
        self.assertEqual(response.data["errorType"], "ValueError")

    def test_a_published_version_is_invoked_by_qualifier(self):
        self.call("POST", "/api/functions/echo/versions", {})
        self.call("PUT", "/api/functions/echo/code", {"files": {"lambda_function.py": FAILING}})
        self.call("POST", "/api/functions/echo/deploy")
        response = self.call("POST", "/api/functions/echo/invocations?Qualifier=1", {"v": 1})
        self.assertEqual(response.data, {"echo": {"v": 1}})
        self.assertEqual(response["X-Amz-Executed-Version"], "1")
        self.assertApiError(self.call("POST", "/api/functions/echo/invocations?Qualifier=7", {}), 404)

    def test_a_payload_over_6_mb_is_413_and_nothing_runs(self):
        raw = json.dumps({"blob": "x" * (6 * 1024 * 1024)}).encode()
        self.assertApiError(self.call("POST", "/api/functions/echo/invocations", raw=raw), 413, "RequestTooLarge")
        huge = b'"' + b"x" * (8 * 1024 * 1024) + b'"'
        self.assertApiError(self.call("POST", "/api/functions/echo/invocations", raw=huge), 413, "RequestTooLarge")
        self.assertEqual(Invocation.objects.count(), 0)

    def test_invalid_json_is_400_and_nothing_runs(self):
        response = self.call("POST", "/api/functions/echo/invocations", raw=b'{"a": ')
        self.assertApiError(response, 400, "InvalidJson")
        self.assertIn("line 1", response.data["error"]["message"])
        self.assertEqual(Invocation.objects.count(), 0)


class ThrottleTests(WebTestCase):
    def test_reserved_concurrency_zero_throttles_with_429(self):
        self.make_function(name="echo")
        self.call("PUT", "/api/functions/echo/configuration", {"reserved_concurrency": 0})
        self.call("POST", "/api/functions/echo/deploy")
        response = self.call("POST", "/api/functions/echo/invocations", {})
        self.assertApiError(response, 429, "TooManyRequestsException")


class JobTests(WebTestCase):
    def test_the_invoke_job_runs_a_pending_invocation_of_the_deployed_version(self):
        from editor.jobs import invoke_function_job

        function = self.make_function(name="echo", deploy=True)
        pending = Invocation.objects.create(function=function, version=function.deployed,
                                            version_label="$LATEST", source="api", memory_mb=128,
                                            request={"k": 1})
        invoke_function_job.delay(str(pending.id))
        pending.refresh_from_db()
        self.assertEqual((pending.status, pending.source), ("succeeded", "api"))
        self.assertEqual(pending.response["statusCode"], 200)
        # A job for an invocation already finished (a duplicate delivery) runs nothing again.
        finished_at = pending.finished_at
        invoke_function_job.delay(str(pending.id))
        pending.refresh_from_db()
        self.assertEqual(pending.finished_at, finished_at)


PY_CONTEXT = (
    "import os\n"
    "def lambda_handler(event, context):\n"
    "    return {'name': context.function_name, 'arn': context.invoked_function_arn,\n"
    "            'group': context.log_group_name, 'env': os.environ['AWS_LAMBDA_FUNCTION_NAME']}\n"
)
JS_CONTEXT = (
    "exports.handler = async (event, context) => ({\n"
    "  name: context.functionName, arn: context.invokedFunctionArn, group: context.logGroupName,\n"
    "  env: process.env.AWS_LAMBDA_FUNCTION_NAME,\n"
    "});\n"
)


class FunctionIdentityTests(WebTestCase):
    """Inside a handler the function is called by its own name, whoever owns it."""

    def check(self, runtime, files):
        self.make_function(name="sleeper", runtime=runtime)
        self.call("PUT", "/api/functions/sleeper/code", {"files": files})
        self.call("POST", "/api/functions/sleeper/deploy")
        arn = function_arn(self.alice, "sleeper")   # in Alice's own account
        tested = self.call("POST", "/api/functions/sleeper/test", {"event": {}}).data
        self.assertEqual(tested["response"], {"name": "sleeper", "env": "sleeper", "arn": arn,
                                              "group": "/aws/lambda/sleeper"})
        self.call("POST", "/api/functions/sleeper/versions", {})
        invoked = self.call("POST", "/api/functions/sleeper/invocations?Qualifier=1", {}).data
        self.assertEqual(invoked["arn"], arn + ":1")
        # Bob's function of the same name runs in its own workers, under the same name.
        self.make_function(self.bob, name="sleeper", runtime=runtime)
        self.call("PUT", "/api/functions/sleeper/code", {"files": files}, client=self.bob_client)
        self.call("POST", "/api/functions/sleeper/deploy", client=self.bob_client)
        bobs = self.call("POST", "/api/functions/sleeper/test", {"event": {}}, client=self.bob_client).data
        self.assertEqual(bobs["response"]["name"], "sleeper")
        self.assertEqual(bobs["response"]["arn"], function_arn(self.bob, "sleeper"))
        self.assertNotEqual(function_arn(self.bob, "sleeper"), arn)

    def test_a_python_function_sees_its_own_name_arn_and_log_group(self):
        self.check("python", {"lambda_function.py": PY_CONTEXT})

    def test_a_nodejs_function_sees_its_own_name_arn_and_log_group(self):
        self.check("nodejs", {"index.js": JS_CONTEXT})


def test_batches_keep_order_and_size_and_cut_an_overlong_line():
    from editor.services.invocations import _batches

    lines = ["a" * 10, "", "b" * 25, "c" * 3]
    batches = list(_batches(lines, 12))
    assert batches == [["a" * 10, ""], ["b" * 12], ["b" * 12], ["b", "ccc"]]
    assert all(sum(len(line) + 1 for line in batch) <= 12 + 1 for batch in batches)
    assert list(_batches([], 12)) == []
    assert [len(b) for b in _batches([""] * 100_000, 64 * 1024)] == [65536, 100_000 - 65536]
