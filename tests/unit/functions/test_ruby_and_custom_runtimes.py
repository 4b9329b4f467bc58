"""Ruby functions and custom runtimes (a `bootstrap` served the Lambda Runtime API) behave as on
AWS Lambda, on both sandbox backends."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

import pytest

from runtime.functions import FunctionSpec, resolve_runtime
from tests.unit.functions.helpers import unique

RUBY_CONTEXT = '''
require 'json'

$loaded = 0
$loaded += 1

def handler(event:, context:)
  puts "event: #{JSON.generate(event)}"
  $stderr.puts 'to stderr'
  {
    'event' => event, 'loaded' => $loaded,
    'function_name' => context.function_name, 'version' => context.function_version,
    'request_id' => context.aws_request_id, 'arn' => context.invoked_function_arn,
    'memory' => context.memory_limit_in_mb, 'log_group' => context.log_group_name,
    'remaining' => context.get_remaining_time_in_millis, 'ruby' => RUBY_VERSION,
  }
end
'''

# A custom runtime in bash alone: it speaks HTTP/1.0 to the Runtime API over /dev/tcp.
SHELL_BOOTSTRAP = r'''#!/bin/bash
set -euo pipefail
LC_ALL=C
HOST=${AWS_LAMBDA_RUNTIME_API%:*}; PORT=${AWS_LAMBDA_RUNTIME_API#*:}
echo "bootstrap starting for $_HANDLER"
call() {   # call METHOD PATH [BODY [ERROR-TYPE]]: prints the response headers, then the body
  exec 3<>/dev/tcp/$HOST/$PORT
  local extra=""
  [ -n "${4:-}" ] && extra="Lambda-Runtime-Function-Error-Type: $4"$'\r\n'
  printf '%s %s HTTP/1.0\r\nContent-Length: %d\r\n%s\r\n%s' "$1" "$2" "${#3}" "$extra" "${3:-}" >&3
  cat <&3
  exec 3<&-
}
while true; do
  RESPONSE=$(call GET /2018-06-01/runtime/invocation/next "")
  HEADERS=${RESPONSE%%$'\r\n\r\n'*}
  EVENT=${RESPONSE#*$'\r\n\r\n'}
  ID=$(printf '%s\n' "$HEADERS" | tr -d '\r' | sed -n 's/^Lambda-Runtime-Aws-Request-Id: //p')
  ARN=$(printf '%s\n' "$HEADERS" | tr -d '\r' | sed -n 's/^Lambda-Runtime-Invoked-Function-Arn: //p')
  TRACE=$(printf '%s\n' "$HEADERS" | tr -d '\r' | sed -n 's/^Lambda-Runtime-Trace-Id: //p')
  echo "handling $ID"
  if [ "$EVENT" = '"fail"' ]; then
    call POST /2018-06-01/runtime/invocation/$ID/error '{"errorMessage":"asked to fail","errorType":"ShellError"}' ShellError >/dev/null
  elif [ "$EVENT" = '"exit"' ]; then
    exit 3
  else
    call POST /2018-06-01/runtime/invocation/$ID/response "{\"event\":$EVENT,\"id\":\"$ID\",\"arn\":\"$ARN\",\"traced\":\"${TRACE:0:5}\"}" >/dev/null
  fi
done
'''


def ruby_function(source: str, **config) -> FunctionSpec:
    config.setdefault("handler", "function.handler")
    files = config.pop("files", {})
    return FunctionSpec(name=config.pop("name", unique("rb")), runtime="ruby3.3",
                        files={"function.rb": source, **files}, **config)


def custom(files: dict, runtime: str = "provided.al2023", **config) -> FunctionSpec:
    config.setdefault("handler", "function.handler")
    return FunctionSpec(name=config.pop("name", unique("custom")), runtime=runtime, files=files,
                        **config)


def executable(text: str) -> dict:
    return {"text": text, "executable": True}


def test_ruby_ids_run_on_the_installed_ruby():
    runtime = resolve_runtime("ruby3.3")
    assert runtime.family == "ruby" and runtime.id.startswith("ruby3.")
    assert resolve_runtime("provided.al2").id == "provided.al2"
    assert resolve_runtime("provided").id == "provided.al2023"


def test_a_ruby_handler_gets_the_event_and_its_context_and_stays_warm(runner):
    spec = ruby_function(RUBY_CONTEXT, memory=256, timeout=30)
    first = runner.invoke(spec, {"a": [1, "two"]})
    assert first.error is None, first.logs
    payload = first.payload
    assert payload["event"] == {"a": [1, "two"]}
    assert payload["function_name"] == spec.name and payload["version"] == "$LATEST"
    assert payload["request_id"] == first.request_id
    assert payload["arn"].endswith(f":function:{spec.name}")
    assert payload["memory"] == "256" and payload["log_group"] == f"/aws/lambda/{spec.name}"
    assert 0 < payload["remaining"] <= 30000
    assert first.runtime == resolve_runtime("ruby").id
    assert 'event: {"a":[1,"two"]}' in first.logs and "to stderr" in first.logs
    assert f"START RequestId: {first.request_id}" in first.logs
    assert f"REPORT RequestId: {first.request_id}" in first.logs and "Init Duration" in first.logs
    second = runner.invoke(spec, None)
    assert second.error is None and second.payload["event"] is None
    assert second.payload["loaded"] == 1 and "Init Duration" not in second.logs


def test_a_ruby_error_has_aws_s_shape_and_log_line(runner):
    spec = ruby_function("def handler(event:, context:)\n  raise ArgumentError, 'bad input'\nend\n")
    inv = runner.invoke(spec, {})
    assert inv.error["errorType"] == "Function<ArgumentError>"
    assert inv.error["errorMessage"] == "bad input"
    assert any("function.rb:2" in line for line in inv.error["stackTrace"])
    assert "Error raised from handler method" in inv.logs
    assert runner.invoke(spec, {}).error["errorType"] == "Function<ArgumentError>"  # still warm


@pytest.mark.parametrize("source, handler, error_type, words", [
    ("def handler(event:, context:)\n  [1, 2\nend\n", "function.handler",
     "Runtime.UserCodeSyntaxError", "function.rb"),
    ("def other(event:, context:)\nend\n", "function.handler", "Runtime.HandlerNotFound",
     "handler"),
    ("raise 'no config'\n", "function.handler", "Init<RuntimeError>", "no config"),
    ("def handler(event:, context:)\nend\n", "nofile.handler", "Init<LoadError>", "nofile.rb"),
    ("def handler(event:, context:)\nend\n", "function", "Runtime.MalformedHandlerName",
     "function"),
], ids=["syntax", "missing-method", "raises-on-load", "missing-file", "malformed"])
def test_a_ruby_function_that_cannot_load_is_a_clear_init_error(runner, source, handler,
                                                                 error_type, words):
    inv = runner.invoke(ruby_function(source, handler=handler), {})
    assert inv.error["errorType"] == error_type, inv.logs
    assert words in inv.error["errorMessage"]


def test_a_ruby_class_method_handler_and_a_module_path(runner):
    source = ("module Shop\n  class Orders\n    def self.process(event:, context:)\n"
              "      { 'total' => event['items'].sum }\n    end\n  end\nend\n")
    inv = runner.invoke(ruby_function(source, handler="function.Shop::Orders.process"),
                        {"items": [1, 2, 3]})
    assert inv.error is None and inv.payload == {"total": 6}


def test_a_shell_bootstrap_serves_invocations_through_the_runtime_api(runner):
    spec = custom({"bootstrap": executable(SHELL_BOOTSTRAP)}, timeout=30)
    first = runner.invoke(spec, {"hello": "world"})
    assert first.error is None, first.logs
    assert first.payload == {"event": {"hello": "world"}, "id": first.request_id,
                             "arn": f"arn:aws:lambda:us-east-1:000000000000:function:{spec.name}",
                             "traced": "Root="}
    assert "bootstrap starting for function.handler" in first.logs
    assert "INIT_START Runtime Version: provided:al2023" in first.logs
    assert f"handling {first.request_id}" in first.logs
    second = runner.invoke(spec, [1, 2])
    assert second.payload["event"] == [1, 2] and "Init Duration" not in second.logs
    failed = runner.invoke(spec, "fail")
    assert failed.error == {"errorMessage": "asked to fail", "errorType": "ShellError"}
    exited = runner.invoke(spec, "exit")
    assert exited.error["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in exited.error["errorMessage"]
    assert runner.invoke(spec, {"again": True}).payload["event"] == {"again": True}


def test_the_runtime_api_reaches_the_bootstrap_with_the_network_off(runner):
    spec = custom({"bootstrap": executable(SHELL_BOOTSTRAP)}, network=False, timeout=30,
                  runtime="provided.al2")
    inv = runner.invoke(spec, 5)
    assert inv.error is None and inv.payload["event"] == 5, inv.logs


def test_a_bootstrap_can_report_an_init_error(runner):
    script = ("#!/bin/sh\nBODY='{\"errorMessage\":\"no database\",\"errorType\":\"ConfigError\"}'\n"
              "exec 3<>/dev/tcp/${AWS_LAMBDA_RUNTIME_API%:*}/${AWS_LAMBDA_RUNTIME_API#*:}\n"
              "printf 'POST /2018-06-01/runtime/init/error HTTP/1.0\\r\\nContent-Length: %d\\r\\n"
              "\\r\\n%s' ${#BODY} \"$BODY\" >&3\ncat <&3 >/dev/null\nsleep 60\n")
    inv = runner.invoke(custom({"bootstrap": executable(script.replace("/bin/sh", "/bin/bash"))},
                               timeout=30), {})
    assert inv.error == {"errorMessage": "no database", "errorType": "ConfigError"}, inv.logs


@pytest.mark.parametrize("files, error_type, words", [
    ({"function.sh": "echo hi\n"}, "Runtime.InvalidEntrypoint",
     "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"),
    ({"bootstrap": "#!/bin/sh\necho not executable\n"}, "Runtime.ExitError",
     "fork/exec /var/task/bootstrap: permission denied"),
    ({"bootstrap": executable("#!/bin/sh\necho leaving at once\nexit 2\n")}, "Runtime.ExitError",
     "Runtime exited with error: exit status 2"),
    ({"bootstrap": executable("#!/bin/sh\nexit 0\n")}, "Runtime.ExitError",
     "Runtime exited without providing a reason"),
], ids=["missing", "not-executable", "exits-at-once", "exits-cleanly"])
def test_a_bad_bootstrap_is_a_clear_error(runner, files, error_type, words):
    inv = runner.invoke(custom(files, timeout=30), {})
    assert inv.error["errorType"] == error_type, inv.logs
    assert words in inv.error["errorMessage"]


GO_PROGRAM = '''package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		res, err := http.Get(api + "next")
		if err != nil {
			fmt.Println("next:", err)
			os.Exit(1)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		id := res.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var event map[string]any
		if err := json.Unmarshal(body, &event); err != nil {
			msg, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "BadEvent"})
			http.Post(api+id+"/error", "application/json", bytes.NewReader(msg))
			continue
		}
		fmt.Printf("go handling %s\\n", id)
		out, _ := json.Marshal(map[string]any{"greeting": fmt.Sprintf("Hello, %v!", event["name"]),
			"deadline": res.Header.Get("Lambda-Runtime-Deadline-Ms") != ""})
		r, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(out))
		if err == nil {
			r.Body.Close()
		}
	}
}
'''


def build_go_bootstrap(tmp_path) -> bytes:
    """Builds GO_PROGRAM with the Debian Go toolchain (a static binary: net/http only)."""
    go = shutil.which("go")
    assert go, "the Go toolchain is needed: apt-get install golang-go (scripts/system-deps.sh)"
    (tmp_path / "main.go").write_text(GO_PROGRAM)
    (tmp_path / "go.mod").write_text("module bootstrap\n\ngo 1.19\n")
    env = dict(os.environ, CGO_ENABLED="0", GOCACHE=str(tmp_path / "cache"), GOFLAGS="-mod=mod",
               GOPATH=str(tmp_path / "gopath"), GOPROXY="off")
    subprocess.run([go, "build", "-o", "bootstrap", "."], cwd=tmp_path, env=env, check=True)
    return (tmp_path / "bootstrap").read_bytes()


@pytest.fixture(scope="module")
def go_bootstrap(tmp_path_factory) -> bytes:
    return build_go_bootstrap(tmp_path_factory.mktemp("go"))


def test_a_go_program_speaking_the_runtime_api_runs_warm(runner, go_bootstrap):
    spec = custom({"bootstrap": {"base64": base64.b64encode(go_bootstrap).decode(),
                                 "executable": True}}, timeout=30, network=False)
    first = runner.invoke(spec, {"name": "Ada"})
    assert first.error is None, first.logs
    assert first.payload == {"greeting": "Hello, Ada!", "deadline": True}
    assert f"go handling {first.request_id}" in first.logs
    second = runner.invoke(spec, "not an object")
    assert second.error["errorType"] == "BadEvent"
    third = runner.invoke(spec, {"name": "Grace"})
    assert third.payload["greeting"] == "Hello, Grace!" and "Init Duration" not in third.logs


HEADERS_BOOTSTRAP = '''#!/usr/bin/python3
import json, os, urllib.request
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(API + "next") as reply:
        headers = {k.lower(): v for k, v in reply.headers.items()}
        event = json.loads(reply.read())
    request_id = headers["lambda-runtime-aws-request-id"]
    if event == "plain-error":
        urllib.request.urlopen(urllib.request.Request(
            API + request_id + "/error", data=b"it broke", method="POST",
            headers={"Lambda-Runtime-Function-Error-Type": "Custom.Broken"})).read()
        continue
    body = json.dumps({k: v for k, v in headers.items() if k.startswith("lambda-runtime-")}).encode()
    urllib.request.urlopen(urllib.request.Request(API + request_id + "/response", data=body,
                                                  method="POST")).read()
'''


def test_the_runtime_api_sends_aws_s_headers_and_takes_an_error_type_header(runner):
    spec = custom({"bootstrap": executable(HEADERS_BOOTSTRAP)}, timeout=30)
    inv = runner.invoke(spec, {}, client_context={"custom": {"k": "v"}})
    assert inv.error is None, inv.logs
    headers = inv.payload
    assert headers["lambda-runtime-aws-request-id"] == inv.request_id
    assert headers["lambda-runtime-invoked-function-arn"].endswith(f":function:{spec.name}")
    assert int(headers["lambda-runtime-deadline-ms"]) > 0
    assert headers["lambda-runtime-trace-id"].startswith("Root=1-")
    assert json.loads(headers["lambda-runtime-client-context"]) == {"custom": {"k": "v"}}
    failed = runner.invoke(spec, "plain-error")
    assert failed.error == {"errorType": "Custom.Broken", "errorMessage": "it broke"}
