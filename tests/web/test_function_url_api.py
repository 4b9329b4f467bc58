"""The studio's Function URL API and the triggers list: create (a NONE URL opened to everyone by
its policy statement), read, change, delete; bad CORS refused naming its field with nothing
written; Bob neither sees nor touches Alice's; the event and response mapping of payload 2.0."""

import base64
import json
from datetime import datetime, timezone

from editor.aws.http import Request
from editor.models import FunctionPermission, FunctionUrl
from editor.services import function_permissions
from editor.triggers.http_events import BadResponse, Endpoint, http_answer, http_event, preflight
from tests.web.base import WebTestCase


class FunctionUrlApiTests(WebTestCase):
    def test_a_url_is_created_listed_as_a_trigger_changed_and_deleted(self):
        self.make_function(name="hello", deploy=True)
        self.assertEqual(self.call("GET", "/api/functions/hello/url").data, {"url": None})
        made = self.call("POST", "/api/functions/hello/url", {"auth_type": "NONE", "cors": {"AllowOrigins": ["*"]}})
        self.assertEqual(made.status_code, 201, made.data)
        url = made.data["url"]
        self.assertEqual((url["auth_type"], url["cors"], url["qualifier"], url["public"]),
                         ("NONE", {"AllowOrigins": ["*"]}, "$LATEST", True))
        self.assertTrue(url["url"].endswith(f"/lambda-url/{url['url_id']}/"))
        self.assertIn(f"{url['url_id']}.lambda-url.localhost", url["host_url"])
        statement = FunctionPermission.objects.get(function__name="hello").statement
        self.assertEqual((statement["Principal"], statement["Action"]), ("*", "lambda:InvokeFunctionUrl"))

        triggers = self.call("GET", "/api/functions/hello/triggers").data["triggers"]
        self.assertEqual([(t["kind"], t["label"], t["href"]) for t in triggers],
                         [("function-url", "$LATEST · NONE", url["url"])])

        changed = self.call("PUT", "/api/functions/hello/url", {"auth_type": "AWS_IAM", "cors": {}}).data["url"]
        self.assertEqual((changed["auth_type"], changed["cors"], changed["url"]), ("AWS_IAM", {}, url["url"]))
        self.assertEqual(self.call("DELETE", "/api/functions/hello/url").data, {"url": None})
        self.assertEqual(self.call("GET", "/api/functions/hello/triggers").data["triggers"], [])
        self.assertApiError(self.call("DELETE", "/api/functions/hello/url"), 404, "ResourceNotFound")

    def test_bad_input_is_refused_naming_its_field_and_nothing_is_written(self):
        self.make_function(name="hello", deploy=True)
        self.assertApiError(self.call("POST", "/api/functions/hello/url", {"auth_type": "OPEN"}), 400,
                            "InvalidParameterValue", "AuthType")
        self.assertApiError(self.call("POST", "/api/functions/hello/url",
                                      {"auth_type": "NONE", "cors": {"AllowMethods": ["FETCH"]}}),
                            400, "InvalidParameterValue", "Cors/AllowMethods")
        self.assertApiError(self.call("POST", "/api/functions/hello/url",
                                      {"auth_type": "NONE", "cors": {"MaxAge": -1}}), 400, field="Cors/MaxAge")
        self.assertApiError(self.call("POST", "/api/functions/hello/url?qualifier=nope", {"auth_type": "NONE"}),
                            404, "ResourceNotFound", "Qualifier")
        self.assertFalse(FunctionUrl.objects.exists() or FunctionPermission.objects.exists())
        self.call("POST", "/api/functions/hello/url", {"auth_type": "NONE"})
        self.assertApiError(self.call("POST", "/api/functions/hello/url", {"auth_type": "NONE"}), 409,
                            "ResourceConflict")
        self.assertEqual(FunctionUrl.objects.count(), 1)

    def test_bob_neither_sees_nor_touches_alices_url(self):
        self.make_function(name="hello", deploy=True)
        self.call("POST", "/api/functions/hello/url", {"auth_type": "NONE"})
        for method, body in (("GET", None), ("PUT", {"auth_type": "AWS_IAM"}), ("DELETE", None),
                             ("POST", {"auth_type": "NONE"})):
            self.assertApiError(self.call(method, "/api/functions/hello/url", body, client=self.bob_client), 404)
        self.assertApiError(self.call("GET", "/api/functions/hello/triggers", client=self.bob_client), 404)
        self.assertEqual(FunctionUrl.objects.get().auth_type, "NONE")

    def test_a_statement_for_aws_iam_urls_does_not_open_a_none_url(self):
        function = self.make_function(name="hello", deploy=True)
        function_permissions.add_permission(function, statement_id="iam", action="lambda:InvokeFunctionUrl",
                                            principal="*", url_auth_type="AWS_IAM")
        self.assertFalse(function_permissions.allows_public_url(function, ""))
        function_permissions.add_permission(function, statement_id="all", action="lambda:*", principal="*")
        self.assertTrue(function_permissions.allows_public_url(function, ""))


class PayloadFormatTests(WebTestCase):
    def endpoint(self, **extra):
        return Endpoint(account_id="123456789012", api_id="abc", domain_name="abc.lambda-url.localhost",
                        domain_prefix="abc", raw_path="/p", source_ip="10.0.0.1", **extra)

    def test_an_event_without_body_query_or_cookies_leaves_them_out(self):
        event = http_event(Request("GET", "/p", headers={"Host": "h"}), self.endpoint(), request_id="r",
                           now=datetime(2024, 3, 12, 19, 3, 58, 390000, tzinfo=timezone.utc))
        self.assertEqual(set(event), {"version", "routeKey", "rawPath", "rawQueryString", "headers",
                                      "requestContext", "isBase64Encoded"})
        self.assertEqual(event["requestContext"]["time"], "12/Mar/2024:19:03:58 +0000")
        self.assertEqual(event["requestContext"]["timeEpoch"], 1710270238390)

    def test_an_invalid_utf8_text_body_arrives_base64_encoded(self):
        request = Request("POST", "/p", headers={"Content-Type": "text/plain"}, body=b"\xff\xfe")
        event = http_event(request, self.endpoint(), request_id="r", now=datetime.now(timezone.utc))
        self.assertEqual((event["isBase64Encoded"], base64.b64decode(event["body"])), (True, b"\xff\xfe"))

    def test_results_map_to_responses_and_malformed_ones_are_refused(self):
        self.assertEqual(http_answer([1, 2]).body, b"[1, 2]")
        self.assertEqual(http_answer(None).body, b"null")
        self.assertEqual(http_answer("hi", bare_strings=True).body, b"hi")
        answer = http_answer({"statusCode": 204})
        self.assertEqual((answer.status, answer.body, answer.header("content-type")), (204, b"", "application/json"))
        self.assertEqual(http_answer({"statusCode": 200, "body": {"a": 1}}).body, json.dumps({"a": 1}).encode())
        for bad in ({"statusCode": 99}, {"statusCode": True}, {"statusCode": 200, "headers": []},
                    {"statusCode": 200, "cookies": "a=1"}, {"statusCode": 200, "headers": {"x": {"y": 1}}},
                    {"statusCode": 200, "body": "!!", "isBase64Encoded": True}):
            with self.assertRaises(BadResponse):
                http_answer(bad)

    def test_a_preflight_is_answered_only_for_urls_with_cors(self):
        request = Request("OPTIONS", "/", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
        self.assertIsNone(preflight({}, request))
        answer = preflight({"AllowOrigins": ["*"]}, request)
        self.assertEqual(answer.header("access-control-allow-origin"), "*")
        with_credentials = preflight({"AllowOrigins": ["*"], "AllowCredentials": True}, request)
        self.assertEqual(with_credentials.header("access-control-allow-origin"), "https://a.example")


class HttpApiTriggerTests(WebTestCase):
    def test_an_http_api_calling_the_function_is_one_of_its_triggers_and_not_of_others(self):
        from editor.services import http_apis
        from editor.services.accounts import function_arn

        self.make_function(name="hello", deploy=True)
        self.make_function(name="other", deploy=True)
        api = http_apis.create_api(self.alice, name="shop", target=function_arn(self.alice, "hello"),
                                   route_key="GET /items/{id}")
        triggers = self.call("GET", "/api/functions/hello/triggers").data["triggers"]
        self.assertEqual([(t["kind"], t["title"], t["label"]) for t in triggers],
                         [("http-api", "API Gateway: shop", "GET /items/{id}")])
        self.assertEqual(triggers[0]["href"], f"/http-apis/#{api.api_id}")
        self.assertTrue(triggers[0]["detail"].endswith(f"/http-api/{api.api_id}"))
        self.assertEqual(self.call("GET", "/api/functions/other/triggers").data["triggers"], [])
