"""HTTP requests as Lambda events and Lambda results as HTTP responses: API Gateway's payload
format 2.0, which function URLs and HTTP APIs share (and WebSocket APIs reuse for their events),
and format 1.0, which an HTTP API's integration may ask for.

    event = http_event(request, Endpoint(...), request_id=..., now=...)   -> the event a function gets
    answer = http_answer(payload)                                          -> Answer(status, headers, body)
    event = http_event_v1(request, Endpoint(...), ...) / answer = http_answer_v1(payload)   format 1.0
    answer = preflight(cors, request) / with_cors(answer, cors, request)   Lambda's CORS handling

Plain data in and out: no Django here. A request is editor.aws.http.Request (headers lowercased,
repeated ones comma-joined, cookies "; "-joined); an answer's headers are a list, so several
Set-Cookie lines stay apart.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from editor.aws.http import Request

__all__ = ["Endpoint", "Answer", "BadResponse", "http_event", "http_answer", "http_event_v1", "http_answer_v1",
           "preflight", "with_cors", "is_text_type", "message_answer", "host_name"]

# Content types whose bodies a function gets as text (anything else arrives base64-encoded).
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "application/yaml",
               "application/x-yaml", "application/graphql")
_TEXT_SUFFIXES = ("+json", "+xml", "+yaml")


@dataclass(frozen=True)
class Endpoint:
    """Where a request arrived and what it matched: the ids the event's requestContext names."""

    account_id: str
    api_id: str
    domain_name: str
    domain_prefix: str
    raw_path: str
    route_key: str = "$default"
    stage: str = "$default"
    path_parameters: dict | None = None
    stage_variables: dict | None = None
    authorizer: dict | None = None
    source_ip: str = ""
    protocol: str = "HTTP/1.1"


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class BadResponse(ValueError):
    """A function's result that is not a valid payload 2.0 response (its reason in the message)."""


def host_name(host: str) -> str:
    """Returns a Host header's name without its port ("[::1]:8000" -> "[::1]")."""
    if host.startswith("["):
        return host[:host.find("]") + 1] or host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_text_type(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(_TEXT_SUFFIXES)


def _body(request: Request) -> tuple[str | None, bool]:
    """Returns (body, isBase64Encoded): text for textual content types, base64 otherwise."""
    if not request.body:
        return None, False
    if is_text_type(request.headers.get("content-type", "")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def _query_parameters(raw_query: str) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        found[key] = f"{found[key]},{value}" if key in found else value
    return found or None


def http_event(request: Request, endpoint: Endpoint, *, request_id: str, now: datetime) -> dict:
    """Returns the payload format 2.0 event of `request` arriving at `endpoint` at `now`."""
    headers = {k: v for k, v in request.headers.items() if k != "cookie"}
    cookies = [c.strip() for c in request.headers.get("cookie", "").split(";") if c.strip()]
    body, encoded = _body(request)
    moment = now.astimezone(timezone.utc)
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": endpoint.route_key, "rawPath": endpoint.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query_parameters(request.raw_query)
    if query is not None:
        event["queryStringParameters"] = query
    context = {
        "accountId": endpoint.account_id, "apiId": endpoint.api_id, "domainName": endpoint.domain_name,
        "domainPrefix": endpoint.domain_prefix,
        "http": {"method": request.method, "path": endpoint.raw_path, "protocol": endpoint.protocol,
                 "sourceIp": endpoint.source_ip, "userAgent": request.headers.get("user-agent", "")},
        "requestId": request_id, "routeKey": endpoint.route_key, "stage": endpoint.stage,
        "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(moment.timestamp() * 1000),
    }
    if endpoint.authorizer is not None:
        context["authorizer"] = endpoint.authorizer
    event["requestContext"] = context
    if body is not None:
        event["body"] = body
    if endpoint.path_parameters:
        event["pathParameters"] = endpoint.path_parameters
    event["isBase64Encoded"] = encoded
    if endpoint.stage_variables:
        event["stageVariables"] = endpoint.stage_variables
    return event


_NO_IDENTITY = ("accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
                "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "user", "userArn")


def http_event_v1(request: Request, endpoint: Endpoint, *, request_id: str, now: datetime) -> dict:
    """Returns the payload format 1.0 event of `request` arriving at `endpoint` at `now`: API
    Gateway's REST-style event, every header and query parameter also listed with all its values
    (multiValueHeaders, multiValueQueryStringParameters), the single-valued ones holding the last."""
    lines = request.header_lines or [(k, v) for k, v in request.headers.items()]
    multi_headers: dict[str, list[str]] = {}
    for name, value in lines:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.raw_query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    body, encoded = _body(request)
    moment = now.astimezone(timezone.utc)
    resource = endpoint.route_key.split(" ", 1)[1] if " " in endpoint.route_key else endpoint.route_key
    identity: dict[str, Any] = {name: None for name in _NO_IDENTITY}
    identity.update(sourceIp=endpoint.source_ip, userAgent=request.headers.get("user-agent", ""))
    context = {
        "accountId": endpoint.account_id, "apiId": endpoint.api_id, "domainName": endpoint.domain_name,
        "domainPrefix": endpoint.domain_prefix, "extendedRequestId": request_id, "httpMethod": request.method,
        "identity": identity, "path": endpoint.raw_path, "protocol": endpoint.protocol, "requestId": request_id,
        "requestTime": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"), "requestTimeEpoch": int(moment.timestamp() * 1000),
        "resourceId": endpoint.route_key, "resourcePath": resource, "stage": endpoint.stage,
    }
    if endpoint.authorizer is not None:
        context["authorizer"] = endpoint.authorizer
    return {
        "version": "1.0", "resource": resource, "path": endpoint.raw_path, "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": context, "pathParameters": endpoint.path_parameters or None,
        "stageVariables": endpoint.stage_variables or None, "body": body, "isBase64Encoded": encoded,
    }


def http_answer_v1(payload: Any) -> Answer:
    """Returns the HTTP response a function's format 1.0 result stands for: an object with
    statusCode, headers, multiValueHeaders (their lines merged; a header in both keeps the
    multi-valued lines), body and isBase64Encoded. Anything else is a BadResponse, as API Gateway
    infers nothing from a 1.0 result."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        raise BadResponse("a payload format 1.0 result is an object with statusCode")
    multi = {} if payload.get("multiValueHeaders") is None else payload["multiValueHeaders"]
    if not isinstance(multi, dict) or not all(isinstance(v, list) for v in multi.values()):
        raise BadResponse("multiValueHeaders is not an object of lists")
    single = {} if payload.get("headers") is None else payload["headers"]
    if not isinstance(single, dict):
        raise BadResponse("headers is not an object")
    taken = {name.lower() for name in multi}
    answer = http_answer({**payload, "cookies": None, "multiValueHeaders": None,
                          "headers": {k: v for k, v in single.items() if k.lower() not in taken}})
    lines = [(str(name), _header_value(name, value)) for name, values in multi.items() for value in values]
    if any(name.lower() == "content-type" for name, _ in lines):
        answer.headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
    answer.headers += lines
    return answer


def _header_value(name: str, value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise BadResponse(f"the header {name} is not a text, number or boolean")


def http_answer(payload: Any, *, bare_strings: bool = False) -> Answer:
    """Returns the HTTP response a function's result stands for.

    A JSON object with a `statusCode` is a response (statusCode, headers, cookies, body,
    isBase64Encoded); any other result is a 200 application/json whose body is the result as JSON
    text (`bare_strings`: a string result is the body as it is, as HTTP APIs answer)."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        if bare_strings and isinstance(payload, str):
            text = payload
        else:
            text = json.dumps(payload, ensure_ascii=False)
        return Answer(200, [("Content-Type", "application/json")], text.encode("utf-8"))
    status = payload["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise BadResponse(f"statusCode {status!r} is not an HTTP status")
    headers = {} if payload.get("headers") is None else payload["headers"]
    cookies = [] if payload.get("cookies") is None else payload["cookies"]
    if not isinstance(headers, dict):
        raise BadResponse("headers is not an object")
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise BadResponse("cookies is not a list of texts")
    lines = [(str(name), _header_value(name, value)) for name, value in headers.items()]
    if not any(name.lower() == "content-type" for name, _ in lines):
        lines.insert(0, ("Content-Type", "application/json"))
    lines += [("Set-Cookie", cookie) for cookie in cookies]
    body = payload.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    elif payload.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadResponse("body is not base64 though isBase64Encoded is true") from None
    else:
        data = body.encode("utf-8")
    return Answer(status, lines, data)


def message_answer(status: int, message: str, *, error_type: str = "") -> Answer:
    """Returns an answer of the endpoint itself (not of the function): {"Message": ...}."""
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return Answer(status, headers, json.dumps({"Message": message}).encode())


def _allowed_origin(cors: dict, origin: str) -> str | None:
    """Returns the Access-Control-Allow-Origin value for `origin`, or None when it is not allowed."""
    origins = cors.get("AllowOrigins") or []
    if origin in origins:
        return origin
    if "*" in origins:
        return origin if cors.get("AllowCredentials") else "*"
    return None


def preflight(cors: dict, request: Request) -> Answer | None:
    """Returns the answer to a CORS preflight (OPTIONS with Origin and
    Access-Control-Request-Method) made from the URL's Cors, or None when it is not one or the
    URL has no Cors (then the function answers OPTIONS itself)."""
    origin = request.headers.get("origin")
    if not cors or request.method != "OPTIONS" or not origin or "access-control-request-method" not in request.headers:
        return None
    allowed = _allowed_origin(cors, origin)
    headers: list[tuple[str, str]] = [("Vary", "Origin")]
    if allowed is not None:
        headers.append(("Access-Control-Allow-Origin", allowed))
        if cors.get("AllowMethods"):
            headers.append(("Access-Control-Allow-Methods", ", ".join(cors["AllowMethods"])))
        if cors.get("AllowHeaders"):
            headers.append(("Access-Control-Allow-Headers", ", ".join(cors["AllowHeaders"])))
        if cors.get("MaxAge") is not None:
            headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
        if cors.get("AllowCredentials"):
            headers.append(("Access-Control-Allow-Credentials", "true"))
    return Answer(200, headers)


def with_cors(answer: Answer, cors: dict, request: Request) -> Answer:
    """Returns `answer` with the URL's CORS headers for the request's Origin (in place of any the
    function set), as Lambda adds them when the URL has Cors."""
    origin = request.headers.get("origin")
    if not cors or not origin:
        return answer
    answer.headers = [(k, v) for k, v in answer.headers if not k.lower().startswith("access-control-")]
    allowed = _allowed_origin(cors, origin)
    answer.headers.append(("Vary", "Origin"))
    if allowed is not None:
        answer.headers.append(("Access-Control-Allow-Origin", allowed))
        if cors.get("ExposeHeaders"):
            answer.headers.append(("Access-Control-Expose-Headers", ", ".join(cors["ExposeHeaders"])))
        if cors.get("AllowCredentials"):
            answer.headers.append(("Access-Control-Allow-Credentials", "true"))
    return answer
