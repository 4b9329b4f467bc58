"""Node.js functions behave as on AWS Lambda's Node.js runtime, on both backends."""

import pathlib
import re
import threading

import pytest

from runtime.functions import FunctionSpec
from tests.unit.functions.helpers import JS_GATE, Gate, node_function, unique

TEAM_PICKER = pathlib.Path(__file__).parent / "fixtures" / "team-picker" / "index.mjs"
CHARACTERS = {"Eren Yeager", "Mikasa Ackerman", "Armin Arlert", "Levi Ackerman", "Erwin Smith",
              "Hange Zoë", "Jean Kirstein", "Connie Springer", "Sasha Blouse", "Historia Reiss",
              "Reiner Braun", "Bertholdt Hoover", "Annie Leonhart"}


def team_picker() -> FunctionSpec:
    return FunctionSpec(name="team-picker", runtime="nodejs", handler="index.handler",
                        files={"index.mjs": TEAM_PICKER.read_text()}, env={"K": "V"},
                        timeout=3, memory=128)


def test_the_seeds_team_picker_draws_four_teams_of_three_and_leaves_one_out(runner):
    inv = runner.invoke(team_picker(), {})
    assert inv.error is None
    teams, excluded = inv.payload["teams"], inv.payload["excluded"]
    assert [t["team"] for t in teams] == [1, 2, 3, 4]
    assert all(len(t["members"]) == 3 for t in teams)
    drawn = [m for t in teams for m in t["members"]]
    assert len(set(drawn)) == 12 and set(drawn) | {excluded} == CHARACTERS
    assert f"INFO\tDrew 4 teams of 3; left out: {excluded}" in inv.logs


def test_the_team_picker_repeats_a_draw_for_the_same_seed(runner):
    first = runner.invoke(team_picker(), {"seed": 42}).payload
    assert runner.invoke(team_picker(), {"seed": 42}).payload == first
    assert runner.invoke(team_picker(), {"seed": 7}).payload != first


@pytest.mark.parametrize("files", [
    {"index.js": "exports.handler = async (event) => ({ style: 'commonjs', event });"},
    {"index.js": "module.exports = { handler: async (event) => ({ style: 'commonjs', event }) };"},
    {"index.mjs": "export const handler = async (event) => ({ style: 'esm', event });"},
    {"index.js": "export const handler = async (event) => ({ style: 'esm', event });",
     "package.json": '{"type": "module"}'},
    {"index.cjs": "exports.handler = async (event) => ({ style: 'commonjs', event });"},
], ids=["exports", "module.exports", "mjs", "type-module", "cjs"])
def test_commonjs_and_es_module_handlers_both_load(runner, files):
    spec = FunctionSpec(name=unique("modules"), runtime="nodejs20.x", handler="index.handler",
                        files=files)
    inv = runner.invoke(spec, [1])
    assert inv.error is None, inv.error
    assert inv.payload["event"] == [1]


@pytest.mark.parametrize("source", [
    "exports.handler = (event, context, callback) => { setTimeout(() => callback(null, event + 1), 1); };",
    "exports.handler = (event) => Promise.resolve(event + 1);",
    "exports.handler = async (event) => event + 1;",
    "exports.handler = (event, context) => { context.succeed(event + 1); };",
], ids=["callback", "promise", "async", "context.succeed"])
def test_async_promise_and_callback_handlers_all_answer(runner, source):
    assert runner.invoke(node_function(source, name=unique("styles")), 1).payload == 2


def test_code_can_span_several_files_and_directories(runner):
    spec = FunctionSpec(name=unique("multi"), runtime="nodejs", handler="src/app.main",
                        files={"src/app.js": "const { shout } = require('../lib/words');\n"
                                             "exports.main = async (e) => shout(e.word);\n",
                               "lib/words.js": "exports.shout = (w) => w.toUpperCase();\n"})
    assert runner.invoke(spec, {"word": "hi"}).payload == "HI"


def test_the_context_object_is_lambdas(runner):
    spec = node_function(
        "exports.handler = async (event, context) => ({\n"
        "  functionName: context.functionName, functionVersion: context.functionVersion,\n"
        "  invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,\n"
        "  awsRequestId: context.awsRequestId, logGroupName: context.logGroupName,\n"
        "  logStreamName: context.logStreamName, remaining: context.getRemainingTimeInMillis(),\n"
        "  env: process.env });\n", name=unique("ctx"), env={"K": "V"})
    inv = runner.invoke(spec, {})
    ctx = inv.payload
    assert ctx["functionName"] == spec.name and ctx["functionVersion"] == "$LATEST"
    assert ctx["invokedFunctionArn"].endswith(f":function:{spec.name}")
    assert ctx["memoryLimitInMB"] == "128"
    assert ctx["awsRequestId"] == inv.request_id
    assert ctx["logGroupName"] == f"/aws/lambda/{spec.name}"
    assert 0 < ctx["remaining"] <= 3000
    assert ctx["env"]["K"] == "V" and ctx["env"]["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert "HOME" not in ctx["env"]


def test_globals_survive_between_warm_invocations(runner):
    spec = node_function("let count = 0;\nexports.handler = async () => ++count;\n",
                         name=unique("warm"))
    assert [runner.invoke(spec, {}).payload for _ in range(3)] == [1, 2, 3]


def test_a_thrown_error_becomes_lambdas_error_object(runner):
    spec = node_function("exports.handler = async () => { throw new TypeError('boom'); };\n",
                         name=unique("throw"))
    inv = runner.invoke(spec, {})
    assert inv.error["errorType"] == "TypeError"
    assert inv.error["errorMessage"] == "boom"
    assert inv.error["stackTrace"][0] == "TypeError: boom"
    task_root = "/var/task" if runner.backend_name == "bubblewrap" else ""
    assert re.search(rf"at .*{task_root}.*index\.js:1:", inv.error["stackTrace"][1])
    assert "\tERROR\tInvoke Error \t" in inv.logs


@pytest.mark.parametrize("source, error_type, message", [
    ("class NotFound extends Error { constructor(m) { super(m); this.name = 'NotFound'; } }\n"
     "exports.handler = async () => { throw new NotFound('no such team'); };",
     "NotFound", "no such team"),
    ("exports.handler = async () => { throw 'plain text'; };", "string", "plain text"),
    ("exports.handler = (e, c, callback) => callback(new Error('via callback'));",
     "Error", "via callback"),
])
def test_custom_errors_strings_and_callback_errors_are_reported(runner, source, error_type,
                                                                message):
    error = runner.invoke(node_function(source, name=unique("errors")), {}).error
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


@pytest.mark.parametrize("files, handler, error_type, message", [
    ({"other.js": ""}, "index.handler", "Runtime.ImportModuleError",
     "Error: Cannot find module 'index'\nRequire stack:\n- /var/runtime/index.mjs"),
    ({"index.js": "exports.other = () => 1;"}, "index.handler", "Runtime.HandlerNotFound",
     "index.handler is undefined or not exported"),
    ({"index.js": "exports.handler = async () => {"}, "index.handler",
     "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected end of input"),
    ({"index.js": "require('left-pad');"}, "index.handler", "Runtime.ImportModuleError", None),
])
def test_a_handler_that_cannot_load_gives_the_runtimes_error(runner, files, handler,
                                                             error_type, message):
    spec = FunctionSpec(name=unique("broken"), runtime="nodejs", handler=handler, files=files)
    error = runner.invoke(spec, {}).error
    assert error["errorType"] == error_type
    if message:
        assert error["errorMessage"] == message
    else:
        assert "Cannot find module 'left-pad'" in error["errorMessage"]


def test_a_response_that_cannot_be_stringified_is_a_marshal_error(runner):
    spec = node_function("exports.handler = async () => ({ big: 10n });", name=unique("bigint"))
    error = runner.invoke(spec, {}).error
    assert error["errorType"] == "Runtime.MarshalError"
    assert "BigInt" in error["errorMessage"]


def test_a_response_over_6_mb_is_refused(runner):
    spec = node_function("exports.handler = async () => 'x'.repeat(7 << 20);", name=unique("big"))
    assert runner.invoke(spec, {}).error["errorType"] == "Function.ResponseSizeTooLarge"


def test_undefined_is_a_null_response(runner):
    assert runner.invoke(node_function("exports.handler = async () => {};",
                                       name=unique("undef")), {}).payload is None


def test_process_exit_is_a_runtime_exit_error(runner):
    spec = node_function("exports.handler = async () => process.exit(2);", name=unique("exit"))
    inv = runner.invoke(spec, {})
    assert inv.error["errorType"] == "Runtime.ExitError"
    assert inv.error["errorMessage"].endswith("Runtime exited with error: exit status 2")


def test_console_lines_carry_time_request_id_and_level(runner):
    spec = node_function("exports.handler = async () => { console.log('a %d', 1);\n"
                         "  console.error('b'); console.warn({ c: 1 }); return 0; };",
                         name=unique("console"))
    inv = runner.invoke(spec, {})
    lines = inv.logs.split("\n")
    start = lines.index(f"START RequestId: {inv.request_id} Version: $LATEST")
    lines = lines[start + 1:start + 4]
    for line, level, text in zip(lines, ("INFO", "ERROR", "WARN"), ("a 1", "b", "{ c: 1 }")):
        stamp, request_id, got_level, got_text = line.split("\t")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
        assert (request_id, got_level, got_text) == (inv.request_id, level, text)


def test_each_console_line_reaches_on_log_while_the_function_still_runs(runner):
    gate = Gate()
    spec = node_function(JS_GATE + "exports.handler = async (port) => {\n"
                                   "  console.log('first');\n"
                                   "  await waitAtGate(port);\n"
                                   "  console.log('second');\n"
                                   "  return 'done';\n"
                                   "};\n", name=unique("stream"))
    first_seen = threading.Event()
    result = {}

    def on_log(line):
        if line.endswith("\tINFO\tfirst"):
            first_seen.set()

    thread = threading.Thread(target=lambda: result.setdefault(
        "inv", runner.invoke(spec, gate.port, on_log=on_log)))
    thread.start()
    first_seen.wait()
    assert "inv" not in result  # the function cannot return before the gate opens
    gate.open()
    thread.join()
    gate.close()
    assert result["inv"].payload == "done"
    assert "\tINFO\tsecond\n" in result["inv"].logs


def test_an_uncaught_exception_fails_the_invocation_and_the_next_call_starts_fresh(runner):
    spec = node_function("exports.handler = (event) => new Promise(() => {\n"
                         "  if (event === 'throw') setTimeout(() => { throw new RangeError('late'); }, 1);\n"
                         "  else setTimeout(() => Promise.reject(new Error('nobody listens')), 1);\n"
                         "});\n"
                         "exports.fine = async () => 'fine';\n", name=unique("uncaught"))
    error = runner.invoke(spec, "throw").error
    assert (error["errorType"], error["errorMessage"]) == ("RangeError", "late")
    error = runner.invoke(spec, "reject").error
    assert error["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert error["errorMessage"] == "Error: nobody listens"
