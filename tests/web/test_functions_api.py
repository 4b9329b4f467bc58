"""Functions through the API: create, list, code, configuration, deploy, publish; each refuses bad
input with a 4xx in the one error shape, writes nothing then, and never shows Bob Alice's things."""

from django.test import Client

from editor.models import Function, FunctionVersion, TestEvent
from tests.web.base import WebTestCase

ALICE_ONLY = [
    ("GET", "/api/functions/hello"),
    ("DELETE", "/api/functions/hello"),
    ("PUT", "/api/functions/hello/code"),
    ("PUT", "/api/functions/hello/configuration"),
    ("POST", "/api/functions/hello/deploy"),
    ("GET", "/api/functions/hello/versions"),
    ("POST", "/api/functions/hello/versions"),
    ("GET", "/api/functions/hello/versions/$LATEST"),
    ("GET", "/api/functions/hello/test-events"),
    ("POST", "/api/functions/hello/test-events"),
    ("PUT", "/api/functions/hello/test-events/1"),
    ("DELETE", "/api/functions/hello/test-events/1"),
    ("POST", "/api/functions/hello/test"),
    ("GET", "/api/functions/hello/invocations"),
    ("POST", "/api/functions/hello/invocations"),
    ("GET", "/api/functions/hello/invocations/00000000-0000-4000-8000-000000000000"),
    ("GET", "/api/functions/hello/metrics"),
]


class IsolationTests(WebTestCase):
    def test_bob_is_refused_every_endpoint_of_alices_function(self):
        function = self.make_function(name="hello", deploy=True)
        event = TestEvent.objects.create(function=function, name="e1", body={"a": 1})
        before = (Function.objects.count(), FunctionVersion.objects.count(), TestEvent.objects.count())
        for method, path in ALICE_ONLY:
            path = path.replace("test-events/1", f"test-events/{event.pk}")
            body = {"files": {"x.py": ""}, "name": "e2", "body": {}, "event": {}, "test_event_id": event.pk}
            response = self.call(method, path, body, client=self.bob_client)
            self.assertApiError(response, 404, "ResourceNotFound")
            self.assertNotIn("hello", response.content.decode().replace("/hello", ""))
        self.assertEqual(before, (Function.objects.count(), FunctionVersion.objects.count(),
                                  TestEvent.objects.count()))
        self.assertEqual(function.invocations.count(), 0)

    def test_the_list_shows_only_your_own_functions(self):
        self.make_function(name="hello")
        self.make_function(self.bob, name="bobs")
        names = [f["name"] for f in self.call("GET", "/api/functions").data["functions"]]
        self.assertEqual(names, ["hello"])
        bob_names = [f["name"] for f in self.call("GET", "/api/functions", client=self.bob_client).data["functions"]]
        self.assertEqual(bob_names, ["bobs"])

    def test_two_users_may_use_the_same_name(self):
        self.make_function(name="same")
        response = self.call("POST", "/api/functions", {"name": "same", "runtime": "python"}, client=self.bob_client)
        self.assertEqual(response.status_code, 201)


class CreateTests(WebTestCase):
    def test_it_creates_a_hello_world_function(self):
        response = self.call("POST", "/api/functions", {"name": "my_fn-1", "runtime": "python"})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.data["handler"], "lambda_function.lambda_handler")
        self.assertIn("lambda_function.py", response.data["files"])
        # Created is deployed, as Lambda's CreateFunction is: it can be tested at once.
        self.assertTrue(response.data["deployed"])
        self.assertFalse(response.data["undeployed_changes"])
        latest = self.call("GET", "/api/functions/my_fn-1/versions/$LATEST").data
        self.assertEqual(latest["files"], response.data["files"])

    def test_it_creates_a_function_from_a_sample(self):
        response = self.call("POST", "/api/functions", {"name": "picker", "runtime": "nodejs",
                                                        "starting_point": "team-picker"})
        self.assertEqual(response.status_code, 201)
        self.assertIn("Mikasa", response.data["files"]["index.js"])

    def test_the_list_shows_name_runtime_description_and_last_invocation(self):
        self.make_function(name="hello", description="says hello")
        row = self.call("GET", "/api/functions").data["functions"][0]
        self.assertEqual((row["name"], row["runtime"], row["description"], row["last_invocation"]),
                         ("hello", "python", "says hello", None))
        self.assertTrue(row["updated_at"])

    def test_runtimes_lists_only_installed_runtimes_with_starting_points(self):
        data = self.call("GET", "/api/runtimes").data
        ids = [r["id"] for r in data["runtimes"]]
        self.assertIn("python", ids)
        python = next(r for r in data["runtimes"] if r["id"] == "python")
        self.assertIn("attack-training", [p["id"] for p in python["starting_points"]])

    def test_bad_input_is_refused_with_its_field_and_nothing_is_written(self):
        cases = [
            ({"name": "", "runtime": "python"}, 400, "InvalidName", "name"),
            ({"name": "has space", "runtime": "python"}, 400, "InvalidName", "name"),
            ({"name": "x" * 65, "runtime": "python"}, 400, "InvalidName", "name"),
            ({"name": "ünïcode", "runtime": "python"}, 400, "InvalidName", "name"),
            ({"name": 12, "runtime": "python"}, 400, "InvalidName", "name"),
            ({"name": "ok", "runtime": "cobol"}, 400, "InvalidRuntime", "runtime"),
            ({"name": "ok", "runtime": ["python"]}, 400, "InvalidRuntime", "runtime"),
            ({"name": "ok", "runtime": "python", "starting_point": "team-picker"}, 400, "InvalidStartingPoint",
             "starting_point"),
            ({"name": "ok", "runtime": "python", "description": 5}, 400, "InvalidType", "description"),
        ]
        for body, status, code, field in cases:
            self.assertApiError(self.call("POST", "/api/functions", body), status, code, field)
        self.assertEqual(Function.objects.count(), 0)

    def test_a_duplicate_name_is_a_conflict(self):
        self.make_function(name="hello")
        self.assertApiError(self.call("POST", "/api/functions", {"name": "hello", "runtime": "python"}),
                            409, "ResourceConflict", "name")

    def test_invalid_json_and_wrong_body_types_are_400(self):
        self.assertApiError(self.call("POST", "/api/functions", raw=b"{not json"), 400, "InvalidJson")
        self.assertApiError(self.call("POST", "/api/functions", raw=b"\xff\xfe"), 400, "InvalidJson")
        self.assertApiError(self.call("POST", "/api/functions", ["a"]), 400, "InvalidType")
        self.assertEqual(Function.objects.count(), 0)

    def test_an_oversized_body_is_413(self):
        raw = b'{"name": "' + b"a" * (6 * 1024 * 1024 + 10) + b'"}'
        self.assertApiError(self.call("POST", "/api/functions", raw=raw), 413, "RequestTooLarge")
        self.assertEqual(Function.objects.count(), 0)

    def test_a_wrong_method_is_405_in_the_error_shape(self):
        response = self.call("PATCH", "/api/functions")
        self.assertApiError(response, 405, "MethodNotAllowed")
        self.assertEqual(response["Allow"], "GET, POST")

    def test_an_unknown_api_path_is_404_in_the_error_shape(self):
        self.assertApiError(self.call("GET", "/api/nothing-here"), 404, "ResourceNotFound")

    def test_the_browser_needs_a_csrf_token(self):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(self.alice)
        response = browser.post("/api/functions", '{"name": "x", "runtime": "python"}',
                                content_type="application/json")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"]["code"], "CsrfFailed")
        browser.get("/")
        token = browser.cookies["csrftoken"].value
        response = browser.post("/api/functions", '{"name": "x", "runtime": "python"}',
                                content_type="application/json", HTTP_X_CSRFTOKEN=token)
        self.assertEqual(response.status_code, 201)


class CodeAndConfigurationTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.function = self.make_function(name="hello", deploy=True)

    def test_saving_code_changes_the_draft_not_the_deployed_version(self):
        response = self.call("PUT", "/api/functions/hello/code",
                             {"files": {"lambda_function.py": "def lambda_handler(e, c):\n    return 2\n",
                                        "lib/util.py": "X = 1\n"}})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.data["undeployed_changes"])
        deployed = self.call("GET", "/api/functions/hello/versions/$LATEST").data
        self.assertNotIn("lib/util.py", deployed["files"])

    def test_bad_files_are_refused_with_their_field(self):
        cases = [
            ({"files": "x"}, "InvalidType", "files"),
            ({"files": {}}, "Required", "files"),
            ({"files": {"../evil.py": ""}}, "InvalidFileName", "files/../evil.py"),
            ({"files": {"/abs.py": ""}}, "InvalidFileName", "files//abs.py"),
            ({"files": {"a.py": 3}}, "InvalidType", "files/a.py"),
            ({}, "Required", "files"),
        ]
        for body, code, field in cases:
            self.assertApiError(self.call("PUT", "/api/functions/hello/code", body), 400, code, field)
        self.function.refresh_from_db()
        self.assertEqual(list(self.function.files), ["lambda_function.py"])

    def test_too_much_code_is_413(self):
        body = {"files": {"big.py": "#" * (3 * 1024 * 1024 + 1)}}
        self.assertApiError(self.call("PUT", "/api/functions/hello/code", body), 413, "CodeTooLarge")

    def test_configuration_is_validated_as_lambda_validates_it(self):
        cases = [
            ({"timeout": 0}, "OutOfRange", "timeout"),
            ({"timeout": 901}, "OutOfRange", "timeout"),
            ({"timeout": "3"}, "InvalidType", "timeout"),
            ({"timeout": True}, "InvalidType", "timeout"),
            ({"memory": 64}, "OutOfRange", "memory"),
            ({"handler": "nohandler"}, "InvalidHandler", "handler"),
            ({"env": [{"key": "1BAD", "value": "x"}]}, "InvalidEnvKey", "env/0/key"),
            ({"env": [{"key": "A", "value": "x"}]}, "InvalidEnvKey", "env/0/key"),
            ({"env": [{"key": "AWS_REGION", "value": "x"}]}, "ReservedEnvKey", "env/0/key"),
            ({"env": [{"key": "AB", "value": "1"}, {"key": "AB", "value": "2"}]}, "DuplicateEnvKey", "env/1/key"),
            ({"env": [{"key": "AB", "value": 1}]}, "InvalidType", "env/0/value"),
            ({"env": [{"key": "BIG", "value": "x" * 4096}]}, "EnvTooLarge", "env"),
            ({"env": "A=1"}, "InvalidType", "env"),
            ({"network": "yes"}, "InvalidType", "network"),
            ({"reserved_concurrency": -1}, "OutOfRange", "reserved_concurrency"),
            ({"colour": "red"}, "UnknownField", "colour"),
            ({"timeout": 10, "memory": 1}, "OutOfRange", "memory"),
        ]
        for body, code, field in cases:
            self.assertApiError(self.call("PUT", "/api/functions/hello/configuration", body), 400, code, field)
        self.function.refresh_from_db()
        self.assertEqual((self.function.timeout, self.function.memory, self.function.env), (3, 128, {}))

    def test_configuration_applies_at_once_and_undeployed_code_stays_undeployed(self):
        deployed_code = self.function.files
        self.call("PUT", "/api/functions/hello/code", {"files": {"lambda_function.py": "edited = 1\n"}})
        body = {"timeout": 10, "memory": 256, "env": [{"key": "GREETING", "value": "안녕"}], "network": True,
                "description": "greets", "reserved_concurrency": 5}
        response = self.call("PUT", "/api/functions/hello/configuration", body)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.data["configuration"]["env"], [{"key": "GREETING", "value": "안녕"}])
        latest = response.data["deployed_version"]
        self.assertEqual((latest["timeout"], latest["memory"], latest["env"], latest["network"], latest["description"]),
                         (10, 256, {"GREETING": "안녕"}, True, "greets"))
        self.assertEqual(self.call("GET", "/api/functions/hello/versions/$LATEST").data["files"], deployed_code)
        # The code edit is still the only undeployed change; Deploy takes it with the new settings.
        self.assertTrue(response.data["undeployed_changes"])
        deployed = self.call("POST", "/api/functions/hello/deploy").data
        latest = self.call("GET", "/api/functions/hello/versions/$LATEST").data
        self.assertEqual((latest["files"], latest["timeout"]), ({"lambda_function.py": "edited = 1\n"}, 10))
        self.assertFalse(deployed["function"]["undeployed_changes"])

    def test_a_test_right_after_saving_the_configuration_runs_with_it(self):
        code = "import os\ndef lambda_handler(event, context):\n    return os.environ.get('GREETING')\n"
        self.call("PUT", "/api/functions/hello/code", {"files": {"lambda_function.py": code}})
        self.call("POST", "/api/functions/hello/deploy")
        self.call("PUT", "/api/functions/hello/configuration", {"env": [{"key": "GREETING", "value": "안녕"}]})
        self.assertEqual(self.call("POST", "/api/functions/hello/test", {"event": {}}).data["response"], "안녕")

    def test_changing_only_reserved_concurrency_makes_no_new_version(self):
        versions = FunctionVersion.objects.count()
        self.call("PUT", "/api/functions/hello/configuration", {"reserved_concurrency": 3})
        self.assertEqual(FunctionVersion.objects.count(), versions)


class DeployAndVersionTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.function = self.make_function(name="hello")

    def test_deploy_stores_an_immutable_snapshot(self):
        first = self.call("POST", "/api/functions/hello/deploy").data["version"]
        self.call("PUT", "/api/functions/hello/code", {"files": {"lambda_function.py": "changed = 1\n"}})
        latest = self.call("GET", "/api/functions/hello/versions/$LATEST").data
        self.assertEqual(latest["code_sha256"], first["code_sha256"])
        self.assertNotEqual(latest["files"]["lambda_function.py"], "changed = 1\n")
        second = self.call("POST", "/api/functions/hello/deploy").data["version"]
        self.assertNotEqual(second["code_sha256"], first["code_sha256"])

    def test_deploying_without_changes_keeps_the_same_version(self):
        self.call("POST", "/api/functions/hello/deploy")
        self.call("POST", "/api/functions/hello/deploy")
        self.assertEqual(FunctionVersion.objects.count(), 1)

    def test_publish_needs_a_deployment(self):
        # A function stored before creating deployed it has nothing deployed.
        Function.objects.create(owner=self.alice, name="older", runtime="python", handler="a.b", files={"a.py": ""})
        self.assertApiError(self.call("POST", "/api/functions/older/versions", {}), 409, "NotDeployed")

    def test_publish_gives_numbered_versions_whose_code_can_be_read(self):
        self.call("POST", "/api/functions/hello/deploy")
        one = self.call("POST", "/api/functions/hello/versions", {"description": "first"})
        self.assertEqual((one.status_code, one.data["version"]), (201, "1"))
        self.assertApiError(self.call("POST", "/api/functions/hello/versions", {}), 409, "NothingToPublish")
        self.call("PUT", "/api/functions/hello/code", {"files": {"lambda_function.py": "v = 2\n"}})
        self.call("POST", "/api/functions/hello/deploy")
        two = self.call("POST", "/api/functions/hello/versions", {})
        self.assertEqual(two.data["version"], "2")
        listed = [v["version"] for v in self.call("GET", "/api/functions/hello/versions").data["versions"]]
        self.assertEqual(listed, ["$LATEST", "2", "1"])
        one_code = self.call("GET", "/api/functions/hello/versions/1").data["files"]["lambda_function.py"]
        self.assertIn("lambda_handler", one_code)
        self.assertApiError(self.call("GET", "/api/functions/hello/versions/9"), 404, "ResourceNotFound")
        self.assertApiError(self.call("GET", "/api/functions/hello/versions/abc"), 404, "ResourceNotFound")

    def test_delete_removes_the_function(self):
        self.assertEqual(self.call("DELETE", "/api/functions/hello").status_code, 204)
        self.assertApiError(self.call("GET", "/api/functions/hello"), 404)
