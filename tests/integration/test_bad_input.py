"""Bad input sent while 100 executions of the mix run: each is refused with a clear error (never a
500, never a half-written record) and the load running meanwhile still ends exactly as it must."""

from __future__ import annotations

import json

import pytest

from tests.integration import workload
from tests.integration.cluster import WebSocketClosed, assert_api_error

BACKGROUND = 100
HISTORY_LIMIT = 25_000


@pytest.fixture(scope="module")
def load(cluster, mix):
    """The executions running while this module's tests send bad input."""
    return workload.start_mix(mix, BACKGROUND, threads=8)


def execution_count(cluster) -> int:
    return cluster.sql("SELECT count(*) FROM editor_execution")[0][0]


# -- definitions ------------------------------------------------------------------------------

def test_a_request_body_that_is_not_json_is_refused(load, admin):
    response = admin.post("/api/state-machines", content=b'{"name": "x", "definition": ')
    assert_api_error(response, 400, "InvalidJson")
    assert "line 1" in response.json()["error"]["message"]


def test_a_definition_that_is_not_json_cannot_be_published_and_says_where(load, admin):
    name = workload.new_machine(admin, '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}')
    response = admin.post(f"/api/state-machines/{name}/versions")
    body = assert_api_error(response, 400, "InvalidDefinition", "definition")
    assert [d["code"] for d in body["diagnostics"]] == ["INVALID_JSON_DESCRIPTION"], body
    # Where, as AWS's parser says it: the message ends with the location "[Source: ...; line: 1,
    # column: 63]" (the end of the text, where the object should have closed).
    assert body["diagnostics"][0]["location"].endswith("; line: 1, column: 63]"), body
    assert body["diagnostics"][0]["message"].endswith(body["diagnostics"][0]["location"]), body
    assert admin.ok("GET", f"/api/state-machines/{name}/versions")["versions"] == []


@pytest.mark.parametrize("definition, pointer", [
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}, "/States/A/Next"),
    ({"StartAt": "A", "States": {"A": {"Type": "Task", "End": True}}}, "/States/A"),
    ({"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": -1, "End": True}}}, "/States/A"),
    ({"States": {"A": {"Type": "Pass", "End": True}}}, "/"),
], ids=["unknown-next", "task-without-resource", "negative-wait", "no-start-at"])
def test_an_invalid_asl_definition_is_refused_with_the_json_pointer_of_its_mistake(load, admin, definition,
                                                                                    pointer):
    name = workload.new_machine(admin, definition)
    response = admin.post(f"/api/state-machines/{name}/versions")
    body = assert_api_error(response, 400, "InvalidDefinition", "definition")
    assert pointer in [d["location"] for d in body["diagnostics"] if d["severity"] == "ERROR"], body
    assert admin.ok("GET", f"/api/state-machines/{name}/versions")["versions"] == []


# -- inputs -----------------------------------------------------------------------------------

def test_an_input_over_256_kib_is_refused_and_nothing_is_started(load, cluster, admin):
    before = execution_count(cluster)
    over = {"blob": "x" * (256 * 1024)}
    response = admin.post(f"/api/state-machines/{workload.SEED_MACHINE}/executions", {"input": over})
    assert_api_error(response, 400, "InputTooLarge", "input")
    response = admin.post(f"/api/state-machines/{workload.SEED_MACHINE}/executions", {"input": json.dumps(over)})
    assert_api_error(response, 400, "InputTooLarge", "input")
    assert execution_count(cluster) == before


@pytest.mark.parametrize("form", ["json-value", "json-text"])
def test_an_input_nested_100000_levels_deep_is_refused_not_a_server_error(load, cluster, admin, form):
    depth = 100_000
    nested = "[" * depth + "]" * depth
    before = execution_count(cluster)
    if form == "json-value":
        body = ('{"input": ' + nested + "}").encode()
    else:
        body = json.dumps({"input": nested}).encode()
    response = admin.post(f"/api/state-machines/{workload.SEED_MACHINE}/executions", content=body)
    assert_api_error(response, 400)
    assert execution_count(cluster) == before


def test_a_definition_nested_100000_levels_deep_is_refused_not_a_server_error(load, admin):
    depth = 100_000
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": ' + "[" * depth + "]" * depth + \
        ', "End": true}}}'
    name = workload.new_machine(admin, text)
    response = admin.post(f"/api/state-machines/{name}/versions")
    assert_api_error(response, 400, "InvalidDefinition", "definition")


# -- an execution too long for its history ----------------------------------------------------

def test_an_execution_whose_history_would_pass_25000_events_fails_with_states_runtime(load, cluster, admin):
    # 4 events a round (Pass entered/exited, Choice entered/exited): 6,500 rounds would make 26,000+.
    rounds = 6_500
    machine = workload.published_machine(admin, {
        "StartAt": "Count",
        "States": {
            "Count": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Again?"},
            "Again?": {"Type": "Choice", "Default": "Done",
                       "Choices": [{"Variable": "$.i", "NumericLessThan": rounds, "Next": "Count"}]},
            "Done": {"Type": "Succeed"},
        },
    })
    execution = workload.run_to_end(cluster, admin, machine, {"i": 0}, timeout=240)
    events = admin.ok("GET", f"/api/executions/{execution['id']}/events")["events"]
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime"), (
        f"{execution['status']} {execution['error']} after {len(events)} events")
    assert len(events) <= HISTORY_LIMIT, len(events)
    assert workload.history_problems(events, terminal="ExecutionFailed") == []
    assert str(HISTORY_LIMIT) in (execution["cause"] or "").replace(",", ""), execution["cause"]


# -- the execution stream ---------------------------------------------------------------------

MALFORMED = [
    ("text", "this is not JSON", "InvalidMessage", None),
    ("json", [1, 2, 3], "InvalidMessage", None),
    ("json", "subscribe", "InvalidMessage", None),
    ("json", {"type": "unsubscribe"}, "UnknownType", "type"),
    ("json", {"after": 0}, "UnknownType", "type"),
    ("json", {"type": "subscribe", "after": -1}, "InvalidType", "after"),
    ("json", {"type": "subscribe", "after": "5"}, "InvalidType", "after"),
    ("json", {"type": "subscribe", "after": 1.5}, "InvalidType", "after"),
    ("json", {"type": "subscribe", "after": True}, "InvalidType", "after"),
    ("json", {"type": "subscribe", "after": 0, "since": 3}, "UnknownField", "since"),
]


def send(socket, form: str, message) -> None:
    if form == "text":
        socket.send_text(message)
    elif form == "bytes":
        socket.send_bytes(message)
    else:
        socket.send_json(message)


def subscribe_and_read_history(socket) -> tuple[list[dict], dict]:
    """Subscribes from the start; returns the caught-up events and the execution status message."""
    socket.send_json({"type": "subscribe", "after": 0})
    events = []
    while True:
        message = socket.receive_json(timeout=30)
        if message["type"] == "execution":
            return events, message["execution"]
        assert message["type"] == "events", message
        events += message["events"]


def test_malformed_websocket_messages_get_an_error_and_the_socket_stays_usable(load, admin):
    execution = load[0]
    with admin.websocket(f"/ws/executions/{execution.id}/") as socket:
        for form, message, code, field in MALFORMED:
            send(socket, form, message)
            try:
                answer = socket.receive_json(timeout=30)
            except WebSocketClosed as closed:
                pytest.fail(f"the server closed the socket (code {closed.code}) on {message!r}")
            assert answer == {"type": "error", "error": {"code": code, "message": answer["error"]["message"],
                                                          "field": field}}, (message, answer)
            assert answer["error"]["message"], answer
        events, status = subscribe_and_read_history(socket)
    assert events and [e["id"] for e in events] == list(range(1, len(events) + 1)), [e["id"] for e in events][:20]
    assert status["status"] in ("RUNNING", "SUCCEEDED"), status


@pytest.mark.parametrize("form, message", [("bytes", b"\x00\x01not text"), ("text", "")],
                         ids=["binary-frame", "empty-text"])
def test_a_frame_with_no_json_text_gets_an_error_and_the_socket_stays_usable(load, admin, form, message):
    execution = load[1]
    with admin.websocket(f"/ws/executions/{execution.id}/") as socket:
        send(socket, form, message)
        try:
            answer = socket.receive_json(timeout=30)
        except WebSocketClosed as closed:
            pytest.fail(f"the server closed the socket (code {closed.code}) on a {form} frame {message!r}")
        assert answer["type"] == "error" and answer["error"]["code"] == "InvalidMessage", answer
        events, _ = subscribe_and_read_history(socket)
    assert events and events[0]["type"] == "ExecutionStarted", events[:1]


# -- hostile functions ------------------------------------------------------------------------

HOSTILE = {
    "fork-bomb": ("import os\n"
                  "def lambda_handler(event, context):\n"
                  "    while True:\n"
                  "        try:\n"
                  "            os.fork()\n"
                  "        except OSError:\n"
                  "            pass\n",
                  # Memory enough for its 256 processes: the process limit holds it until it times out.
                  {"timeout": 1, "memory": 2048}, "Sandbox.Timedout", "Task timed out after 1.00 seconds"),
    "memory-hog": ("def lambda_handler(event, context):\n"
                   "    chunks = []\n"
                   "    while True:\n"
                   "        chunks.append(b'x' * (1 << 20))\n",
                   {"timeout": 60, "memory": 128}, "Runtime.OutOfMemory", "signal: killed"),
    "infinite-loop": ("def lambda_handler(event, context):\n"
                      "    while True:\n"
                      "        pass\n",
                      {"timeout": 1}, "Sandbox.Timedout", "Task timed out after 1.00 seconds"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_function_fails_its_execution_with_its_clear_error(load, cluster, admin, kind):
    code, configuration, error, cause = HOSTILE[kind]
    name = f"hostile-{kind}"
    admin.ok("POST", "/api/functions", {"name": name, "runtime": "python"}, status=201)
    admin.ok("PUT", f"/api/functions/{name}/code", {"files": {"lambda_function.py": code}})
    admin.ok("PUT", f"/api/functions/{name}/configuration", configuration)
    admin.ok("POST", f"/api/functions/{name}/deploy")
    machine = workload.published_machine(admin, {"StartAt": "Hostile", "States": {"Hostile": {
        "Type": "Task", "Resource": workload.function_arn_prefix(admin) + name, "End": True}}})
    execution = workload.run_to_end(cluster, admin, machine, {"kind": kind}, timeout=120)
    assert (execution["status"], execution["error"]) == ("FAILED", error), execution
    assert cause in execution["cause"], execution["cause"]
    events = admin.ok("GET", f"/api/executions/{execution['id']}/events")["events"]
    assert workload.history_problems(events, terminal="ExecutionFailed") == []
    assert workload.task_attempts(events) == 1
    invocations = admin.ok("GET", f"/api/executions/{execution['id']}/invocations")["invocations"]
    assert [(i["status"], i["error"]["errorType"]) for i in invocations] == [("failed", error)], invocations


# -- and meanwhile ----------------------------------------------------------------------------

def test_the_load_running_meanwhile_ends_exactly_as_it_must(load, cluster, admin):
    workload.wait_for_end(cluster, [r.id for r in load], 240, f"the {BACKGROUND} executions of the background load")
    problems = workload.check_runs(cluster, admin, load)
    assert not problems, workload.problems_summary(problems, len(load))
