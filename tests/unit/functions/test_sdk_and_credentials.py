"""The runner's seams for the AWS SDK inside functions: an execution role's credentials, given to
each new worker in its environment, never in its logs, renewed (a new worker) before they would
expire mid-invocation; the relay that gives a worker whose network is off Flowbench's API and
nothing else (Python, Node.js, Ruby and a custom runtime's bootstrap alike); and the SDKs,
importable read-only after the function's own code."""

from __future__ import annotations

import http.server
import os
import threading
import time

import pytest

from runtime.functions import FunctionRunner
from runtime.functions.sdk import install_sdk

from .conftest import ISOLATING
from .helpers import node_function, python_function, unique

SHOW = ("import os\n\n\n"
        "def handler(event, context):\n"
        "    print('token', os.environ['AWS_SESSION_TOKEN'], 'secret', os.environ['AWS_SECRET_ACCESS_KEY'])\n"
        "    return {name: os.environ.get(name) for name in ('AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL', "
        "'AWS_DISABLE_HOST_PREFIX_INJECTION')}\n")


class Issuer:
    """Gives credentials valid for `seconds`, a new key id each time (counted)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.given = 0

    def __call__(self):
        self.given += 1
        return ({"AWS_ACCESS_KEY_ID": f"ASIATEST{self.given:08d}", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value",
                 "AWS_SESSION_TOKEN": "t0ken-value", "AWS_ENDPOINT_URL": "http://api.example",
                 "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}, time.time() + self.seconds)


def test_a_worker_gets_the_credentials_and_its_logs_never_show_the_secret_or_token(runner):
    issuer = Issuer(3600)
    spec = python_function(SHOW, name=unique("creds"), role="arn:aws:iam::1:role/r", credentials=issuer, network=True)
    first = runner.invoke(spec, {})
    second = runner.invoke(spec, {})
    assert first.payload == {"AWS_ACCESS_KEY_ID": "ASIATEST00000001", "AWS_ENDPOINT_URL": "http://api.example",
                             "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    assert second.payload == first.payload and issuer.given == 1   # warm: the same worker, the same session
    for inv in (first, second):
        assert "token **** secret ****" in inv.logs
        assert "s3cr3t-value" not in inv.logs and "t0ken-value" not in inv.logs


def test_a_worker_whose_credentials_would_expire_during_the_call_is_replaced(runner):
    issuer = Issuer(30)   # less than the timeout and its margin: every call needs fresh ones
    spec = python_function(SHOW, name=unique("expiring"), credentials=issuer, timeout=3, network=True)
    keys = [runner.invoke(spec, {}).payload["AWS_ACCESS_KEY_ID"] for _ in range(2)]
    assert keys == ["ASIATEST00000001", "ASIATEST00000002"]


def test_a_function_cannot_set_the_credentials_itself_but_may_set_its_endpoint(runner):
    spec = python_function(SHOW, name=unique("own"), env={"AWS_ACCESS_KEY_ID": "AKIAMINE",
                                                          "AWS_ENDPOINT_URL": "http://mine.example"},
                           credentials=Issuer(3600), network=False)
    found = runner.invoke(spec, {}).payload
    assert (found["AWS_ACCESS_KEY_ID"], found["AWS_ENDPOINT_URL"]) == ("ASIATEST00000001", "http://mine.example")


REACH = ("import os, urllib.request\n\n\n"
         "def handler(event, context):\n"
         "    found = {'endpoint': os.environ['AWS_ENDPOINT_URL']}\n"
         "    found['api'] = urllib.request.urlopen(os.environ['AWS_ENDPOINT_URL'] + '/ping', timeout=5).read().decode()\n"
         "    try:\n"
         "        urllib.request.urlopen(event['elsewhere'], timeout=3)\n"
         "        found['elsewhere'] = 'reached'\n"
         "    except OSError:\n"
         "        found['elsewhere'] = 'unreachable'\n"
         "    return found\n")


NODE_REACH = ("exports.handler = async (event) => {\n"
              "  const found = { endpoint: process.env.AWS_ENDPOINT_URL };\n"
              "  found.api = await (await fetch(found.endpoint + '/ping')).text();\n"
              "  try {\n"
              "    await fetch(event.elsewhere, { signal: AbortSignal.timeout(3000) });\n"
              "    found.elsewhere = 'reached';\n"
              "  } catch (err) {\n"
              "    found.elsewhere = 'unreachable';\n"
              "  }\n"
              "  return found;\n"
              "};\n")


RUBY_REACH = ("require 'net/http'\n\n"
              "def handler(event:, context:)\n"
              "  found = { 'endpoint' => ENV['AWS_ENDPOINT_URL'] }\n"
              "  found['api'] = Net::HTTP.get(URI(\"#{ENV['AWS_ENDPOINT_URL']}/ping\"))\n"
              "  begin\n"
              "    Net::HTTP.start(URI(event['elsewhere']).host, URI(event['elsewhere']).port, open_timeout: 3) {}\n"
              "    found['elsewhere'] = 'reached'\n"
              "  rescue StandardError\n"
              "    found['elsewhere'] = 'unreachable'\n"
              "  end\n"
              "  found\n"
              "end\n")

# A custom runtime's bootstrap (a Python script here): REACH's handler in a Runtime API loop.
BOOTSTRAP_REACH = ("#!/usr/bin/python3\n" + REACH +
                   "\n\nimport json\n"
                   "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/invocation/'\n"
                   "while True:\n"
                   "    got = urllib.request.urlopen(api + 'next')\n"
                   "    request_id = got.headers['Lambda-Runtime-Aws-Request-Id']\n"
                   "    body = json.dumps(handler(json.loads(got.read()), None)).encode()\n"
                   "    urllib.request.urlopen(urllib.request.Request(api + request_id + '/response', data=body))\n")


def reaching(language: str, **config):
    """Returns the spec of a function that calls the API's /ping and tries `elsewhere`."""
    from .test_ruby_and_custom_runtimes import custom, executable, ruby_function

    if language == "python":
        return python_function(REACH, **config)
    if language == "nodejs":
        return node_function(NODE_REACH, **config)
    if language == "ruby":
        return ruby_function(RUBY_REACH, **config)
    return custom({"bootstrap": executable(BOOTSTRAP_REACH)}, **config)


@pytest.fixture
def api():
    """A stand-in for Flowbench's API on the host: answers every GET with its path."""
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"api saw {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("language", ["python", "nodejs", "ruby", "custom"])
@pytest.mark.parametrize("backend", ISOLATING)
def test_a_worker_with_its_network_off_reaches_the_api_alone(api, backend, language):
    with FunctionRunner(backend=backend, api_url=api) as own:
        spec = reaching(language, name=unique("bridged"), network=False, memory=256,
                        credentials=lambda: ({"AWS_ENDPOINT_URL": api}, time.time() + 3600))
        found = own.invoke(spec, {"elsewhere": api + "/other"})
    assert found.error is None, found.logs
    assert found.payload["endpoint"].startswith("http://127.0.0.1:") and found.payload["endpoint"] != api
    assert found.payload["api"] == "api saw /ping"
    assert found.payload["elsewhere"] == "unreachable"


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def sdk_dirs():
    """The SDKs of the recipes, installed once into the checkout's cache (as `prepare` does)."""
    cache = os.path.join(ROOT, ".cache", "sdk")
    return {family: install_sdk(cache, family) for family in ("python", "nodejs")}


IMPORTS_BOTO3 = ("import os\n\n\n"
                 "def handler(event, context):\n"
                 "    import boto3\n"
                 "    try:\n"
                 "        open(os.path.join(os.path.dirname(boto3.__file__), 'planted.py'), 'w')\n"
                 "        written = 'written'\n"
                 "    except OSError:\n"
                 "        written = 'refused'\n"
                 "    return {'version': boto3.__version__, 'write': written,\n"
                 "            'client': type(boto3.client('stepfunctions', region_name='us-east-1')).__name__}\n")

REQUIRES_SDK = ("const { SFNClient } = require('@aws-sdk/client-sfn');\n"
                "const fs = require('fs');\n"
                "exports.handler = async () => {\n"
                "  let write = 'written';\n"
                "  try { fs.writeFileSync(require.resolve('@aws-sdk/client-sfn') + '.planted', 'x'); }\n"
                "  catch (err) { write = 'refused'; }\n"
                "  return { client: typeof SFNClient, write };\n"
                "};\n")


@pytest.mark.parametrize("backend", ISOLATING)
def test_workers_import_the_sdk_read_only_after_the_functions_own_code(sdk_dirs, backend):
    with FunctionRunner(backend=backend, sdk_dirs=sdk_dirs) as own:
        python = own.invoke(python_function(IMPORTS_BOTO3, name=unique("boto3"), network=True), {})
        packaged = own.invoke(python_function("import boto3\n\n\ndef handler(event, context):\n"
                                               "    return boto3.__version__\n", name=unique("own-boto3"),
                                               files={"boto3.py": "__version__ = 'packaged'\n"}), {})
        node = own.invoke(node_function(REQUIRES_SDK, name=unique("sdk-v3"), memory=256), {})
    assert python.error is None, python.logs
    assert python.payload == {"version": "1.44.5", "write": "refused", "client": "SFN"}
    assert packaged.payload == "packaged"
    assert node.error is None, node.logs
    assert node.payload == {"client": "function", "write": "refused"}
