"""Python functions behave as on AWS Lambda's Python runtime, on both backends."""

import os
import threading

import pytest

from runtime.functions import (FunctionSpec, InvalidRequestContentException,
                               RequestTooLargeException, TooManyRequestsException)
from tests.unit.functions.helpers import PY_GATE, PY_GATED_WORKER, Gate, python_function, unique

LAMBDA_VARIABLES = {
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER",
    "TZ", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "PATH", "LANG",
}


def test_the_default_handler_is_lambda_function_dot_lambda_handler(runner):
    spec = FunctionSpec(name=unique("default"), runtime="python", files={
        "lambda_function.py": "def lambda_handler(event, context):\n    return 'default'\n"})
    assert runner.invoke(spec, {}).payload == "default"


def test_code_can_span_several_files_and_directories(runner):
    spec = FunctionSpec(name=unique("multi"), runtime="python3.11", handler="app/main.run",
                        files={"app/__init__.py": "",
                               "app/main.py": "from lib.words import shout\n"
                                              "def run(event, context):\n"
                                              "    return shout(event['word'])\n",
                               "lib/__init__.py": "",
                               "lib/words.py": "def shout(word):\n    return word.upper()\n"})
    assert runner.invoke(spec, {"word": "hi"}).payload == "HI"


def test_the_context_object_is_lambdas(runner):
    spec = python_function(
        "def handler(event, context):\n"
        "    return {k: getattr(context, k) for k in ('function_name', 'function_version',\n"
        "            'invoked_function_arn', 'memory_limit_in_mb', 'aws_request_id',\n"
        "            'log_group_name', 'log_stream_name')} | {\n"
        "            'remaining': context.get_remaining_time_in_millis()}\n",
        name=unique("ctx"), memory=256, timeout=7)
    inv = runner.invoke(spec, {})
    ctx = inv.payload
    assert ctx["function_name"] == spec.name
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == (
        f"arn:aws:lambda:us-east-1:000000000000:function:{spec.name}")
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["aws_request_id"] == inv.request_id
    assert ctx["log_group_name"] == f"/aws/lambda/{spec.name}"
    assert "[$LATEST]" in ctx["log_stream_name"]
    assert 0 < ctx["remaining"] <= 7000


def test_the_environment_is_the_functions_plus_lambdas_and_nothing_else(runner):
    spec = python_function("import os\ndef handler(event, context):\n    return dict(os.environ)\n",
                           name=unique("env"), env={"GREETING": "hello", "AWS_REGION": "mars"})
    env = runner.invoke(spec, {}).payload
    assert env["GREETING"] == "hello"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"  # reserved: Lambda's
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["_HANDLER"] == "handler.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    expected_root = "/var/task" if runner.backend_name == "bubblewrap" else env["LAMBDA_TASK_ROOT"]
    assert env["LAMBDA_TASK_ROOT"] == expected_root
    extra = set(env) - LAMBDA_VARIABLES - {"GREETING", "PWD", "TMPDIR"}
    assert extra == set()


def test_globals_survive_between_warm_invocations_and_a_redeploy_starts_fresh(runner):
    source = "COUNT = 0\ndef handler(event, context):\n    global COUNT\n    COUNT += 1\n    return COUNT\n"
    name = unique("warm")
    spec = python_function(source, name=name)
    assert [runner.invoke(spec, {}).payload for _ in range(3)] == [1, 2, 3]
    redeployed = python_function(source + "# v2\n", name=name)
    assert redeployed.version_key != spec.version_key
    first = runner.invoke(redeployed, {})
    assert first.payload == 1 and first.init_ms is not None


def test_an_exception_becomes_lambdas_error_object(runner):
    spec = python_function("def handler(event, context):\n"
                           "    raise Exception(\"Some exception was raised.\")\n",
                           name=unique("raise"))
    inv = runner.invoke(spec, {})
    assert inv.payload is None
    root = "/var/task" if runner.backend_name == "bubblewrap" else os.path.dirname(
        inv.error["stackTrace"][0].split('"')[1])
    assert inv.error == {
        "errorMessage": "Some exception was raised.", "errorType": "Exception",
        "stackTrace": [f'  File "{root}/handler.py", line 2, in handler\n'
                       '    raise Exception("Some exception was raised.")\n']}
    assert "[ERROR] Exception: Some exception was raised." in inv.logs


def test_a_custom_exception_without_arguments_has_an_empty_message(runner):
    spec = python_function("class CustomException(Exception):\n"
                           "    pass\n"
                           "def handler(event, context):\n"
                           "    raise CustomException()\n", name=unique("custom"))
    error = runner.invoke(spec, {}).error
    assert (error["errorType"], error["errorMessage"]) == ("CustomException", "")


@pytest.mark.parametrize("files, handler, error_type, message", [
    ({"other.py": ""}, "handler.handler", "Runtime.ImportModuleError",
     "Unable to import module 'handler': No module named 'handler'"),
    ({"handler.py": "def other(e, c):\n    pass\n"}, "handler.handler",
     "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'handler'"),
    ({"handler.py": "def handler(e, c)\n    pass\n"}, "handler.handler",
     "Runtime.UserCodeSyntaxError", "Syntax error in module 'handler': expected ':' "
                                    "(handler.py, line 1)"),
    ({"handler.py": "import nothere\n"}, "handler.handler", "Runtime.ImportModuleError",
     "Unable to import module 'handler': No module named 'nothere'"),
    ({"handler.py": ""}, "handler", "Runtime.MalformedHandlerName",
     "Bad handler 'handler': not enough values to unpack (expected 2, got 1)"),
])
def test_a_handler_that_cannot_load_gives_the_runtimes_error(runner, files, handler,
                                                             error_type, message):
    spec = FunctionSpec(name=unique("broken"), runtime="python", handler=handler, files=files)
    inv = runner.invoke(spec, {})
    assert (inv.error["errorType"], inv.error["errorMessage"]) == (error_type, message)
    assert inv.init_ms is not None
    assert inv.logs.rstrip("\n").split("\n")[-1].startswith("REPORT RequestId:")


def test_an_exception_while_the_module_loads_is_reported_with_the_users_frames_only(runner):
    spec = python_function("def check():\n"
                           "    raise ValueError('bad config')\n"
                           "check()\n", name=unique("import-raise"))
    error = runner.invoke(spec, {}).error
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad config")
    assert [line.split(", ")[1:] for line in error["stackTrace"]] == [
        ["line 3", "in <module>\n    check()\n"],
        ["line 2", "in check\n    raise ValueError('bad config')\n"]]


def test_a_syntax_error_points_at_the_line(runner):
    spec = python_function("def handler(e, c)\n    pass\n", name=unique("syntax"))
    trace = runner.invoke(spec, {}).error["stackTrace"]
    assert len(trace) == 1 and trace[0].endswith('handler.py" Line 1\n    def handler(e, c)\n')


def test_a_response_that_is_not_json_is_a_marshal_error(runner):
    spec = python_function("def handler(event, context):\n    return {1, 2}\n",
                           name=unique("marshal"))
    assert runner.invoke(spec, {}).error == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError", "stackTrace": []}


def test_a_response_over_6_mb_is_refused(runner):
    spec = python_function("def handler(event, context):\n    return 'x' * (7 << 20)\n",
                           name=unique("big"))
    error = runner.invoke(spec, {}).error
    assert error["errorType"] == "Function.ResponseSizeTooLarge"
    assert error["errorMessage"] == ("Response payload size (7340034 bytes) exceeded maximum "
                                     "allowed payload size (6291556 bytes).")


def test_bytes_a_handler_returns_are_the_raw_response(runner):
    spec = python_function("def handler(event, context):\n"
                           "    return b'\"HelloWorld!\"' if event else b'not json'\n",
                           name=unique("bytes"))
    assert runner.invoke(spec, 1).payload == "HelloWorld!"
    raw = runner.invoke(spec, 0)
    assert raw.payload == "not json" and raw.raw_payload == b"not json"


def test_exiting_the_process_is_a_runtime_exit_error(runner):
    spec = python_function("import sys\ndef handler(event, context):\n    sys.exit(3)\n",
                           name=unique("exit"))
    inv = runner.invoke(spec, {})
    assert inv.error == {"errorType": "Runtime.ExitError", "errorMessage":
                         f"RequestId: {inv.request_id} Error: Runtime exited with error: "
                         "exit status 3"}
    assert "Runtime.ExitError" in inv.logs


def test_logs_are_framed_by_start_end_and_report(runner):
    spec = python_function("print('loading')\n"
                           "def handler(event, context):\n"
                           "    print('one')\n"
                           "    import sys; print('two', file=sys.stderr)\n"
                           "    return None\n", name=unique("logs"))
    cold = runner.invoke(spec, {})
    lines = cold.logs.rstrip("\n").split("\n")
    rid = cold.request_id
    assert lines[0] == "INIT_START Runtime Version: python:3.11"
    assert lines[1] == "loading"
    assert lines[2:6] == [f"START RequestId: {rid} Version: $LATEST", "one", "two",
                          f"END RequestId: {rid}"]
    report = lines[6].split("\t")
    assert report[0] == f"REPORT RequestId: {rid}"
    assert report[1] == f"Duration: {cold.duration_ms:.2f} ms"
    assert report[2] == f"Billed Duration: {cold.billed_ms} ms"
    assert report[3] == "Memory Size: 128 MB"
    assert report[4] == f"Max Memory Used: {cold.max_memory_mb} MB"
    assert report[5] == f"Init Duration: {cold.init_ms:.2f} ms"
    warm = runner.invoke(spec, {})
    assert "Init Duration" not in warm.logs
    assert warm.logs.startswith(f"START RequestId: {warm.request_id} Version: $LATEST\none\n")


def test_each_log_line_reaches_on_log_while_the_function_still_runs(runner):
    gate = Gate()
    spec = python_function(PY_GATE + "def handler(event, context):\n"
                                     "    print('first')\n"
                                     "    wait_at_gate(event)\n"
                                     "    print('second')\n"
                                     "    return 'done'\n", name=unique("stream"))
    first_seen = threading.Event()
    seen = []
    result = {}

    def on_log(line):
        seen.append(line)
        if line == "first":
            first_seen.set()

    thread = threading.Thread(target=lambda: result.setdefault(
        "inv", runner.invoke(spec, gate.port, on_log=on_log)))
    thread.start()
    first_seen.wait()
    assert "inv" not in result  # the function cannot return before the gate opens
    assert seen[-1] == "first" and seen[-2].startswith("START RequestId:")
    gate.open()
    thread.join()
    gate.close()
    assert result["inv"].payload == "done"
    assert seen[-3:-2] == ["second"] and seen[-1].startswith("REPORT RequestId:")
    assert "\n".join(seen) + "\n" == result["inv"].logs


def test_concurrent_invocations_get_their_own_workers_up_to_the_reserved_limit(fresh_runner):
    gate = Gate()
    source = PY_GATED_WORKER
    spec = python_function(source, name=unique("limited"), reserved_concurrency=2)
    waiting = threading.Semaphore(0)
    results = []

    def call():
        results.append(fresh_runner.invoke(
            spec, gate.port, on_log=lambda line: line == "waiting" and waiting.release()))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    waiting.acquire()
    waiting.acquire()
    with pytest.raises(TooManyRequestsException, match="Rate Exceeded."):
        fresh_runner.invoke(spec, gate.port)
    gate.open(2)
    for thread in threads:
        thread.join()
    gate.close()
    assert all(r.init_ms is not None for r in results)
    assert len({r.payload for r in results}) == 2
    assert list(fresh_runner.workers().values()) == [(2, 0)]


def test_a_reserved_concurrency_of_zero_throttles_every_call(runner):
    spec = python_function("def handler(e, c):\n    return 1\n", name=unique("zero"),
                           reserved_concurrency=0)
    with pytest.raises(TooManyRequestsException):
        runner.invoke(spec, {})


def test_many_threads_can_invoke_at_once(fresh_runner):
    spec = python_function("def handler(event, context):\n    return event * 2\n",
                           name=unique("threads"))
    results = {}

    def call(i):
        results[i] = [fresh_runner.invoke(spec, i * 100 + j).payload for j in range(10)]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: [(i * 100 + j) * 2 for j in range(10)] for i in range(8)}
    (idle, busy), = fresh_runner.workers().values()
    assert 1 <= idle <= 8 and busy == 0


def test_idle_workers_are_retired_and_the_next_call_is_cold(fresh_runner):
    spec = python_function("def handler(e, c):\n    return 1\n", name=unique("idle"))
    fresh_runner.invoke(spec, {})
    assert fresh_runner.invoke(spec, {}).init_ms is None
    assert fresh_runner.retire_idle(older_than=3600) == 0
    assert fresh_runner.retire_idle(older_than=0) == 1
    assert fresh_runner.workers() == {}
    assert fresh_runner.invoke(spec, {}).init_ms is not None


def test_a_task_timeout_shorter_than_the_functions_stops_it_early(runner):
    gate = Gate()
    spec = python_function(PY_GATE + "def handler(event, context):\n"
                                     "    wait_at_gate(event)\n", name=unique("short"),
                           timeout=60)
    inv = runner.invoke(spec, gate.port, timeout=0.5)
    gate.close()
    assert inv.timed_out
    assert inv.error["errorMessage"].endswith("Task timed out after 0.50 seconds")


def test_tmp_is_private_and_writable(runner):
    spec = python_function("import os, tempfile\n"
                           "def handler(event, context):\n"
                           "    path = os.path.join(tempfile.gettempdir(), 'note')\n"
                           "    seen = os.path.exists(path)\n"
                           "    open(path, 'w').write('x')\n"
                           "    return seen\n", name=unique("tmp"))
    assert runner.invoke(spec, {}).payload is False
    assert runner.invoke(spec, {}).payload is True  # the same warm worker keeps its /tmp
    other = python_function(spec.files["handler.py"], name=unique("tmp"))
    assert runner.invoke(other, {}).payload is False


def test_a_worker_started_by_a_thread_that_has_ended_stays_warm(runner):
    spec = python_function("def handler(e, c):\n    return 1\n", name=unique("thread"))
    thread = threading.Thread(target=runner.invoke, args=(spec, {}))
    thread.start()
    thread.join()
    assert runner.invoke(spec, {}).init_ms is None


def test_the_housekeeper_retires_workers_after_the_idle_timeout(fresh_runner, monkeypatch):
    retired = threading.Event()
    retire_idle = fresh_runner.retire_idle

    def watched_retire_idle(*args, **kwargs):
        count = retire_idle(*args, **kwargs)
        if count:
            retired.set()
        return count

    monkeypatch.setattr(fresh_runner, "retire_idle", watched_retire_idle)
    fresh_runner.idle_timeout = 0.05
    spec = python_function("def handler(e, c):\n    return 1\n", name=unique("housekeeping"))
    fresh_runner.invoke(spec, {})
    retired.wait()
    assert fresh_runner.workers() == {}


def test_tmp_has_the_functions_size_limit(runner):
    spec = python_function("import errno, os, tempfile\n"
                           "def handler(event, context):\n"
                           "    path = os.path.join(tempfile.gettempdir(), 'big')\n"
                           "    try:\n"
                           "        with open(path, 'wb') as f:\n"
                           "            for _ in range(32):\n"
                           "                f.write(b'x' * (1 << 20))\n"
                           "    except OSError as exc:\n"
                           "        return errno.errorcode[exc.errno]\n"
                           "    finally:\n"
                           "        os.unlink(path)\n"
                           "    return 'fit'\n", name=unique("tmpsize"), tmp_mb=16)
    assert runner.invoke(spec, {}).payload in ("ENOSPC", "EFBIG")


def test_an_event_that_is_not_json_or_over_6_mb_is_refused_before_running(runner):
    spec = python_function("def handler(e, c):\n    return 1\n", name=unique("refused"))
    with pytest.raises(InvalidRequestContentException):
        runner.invoke(spec, {1, 2})
    with pytest.raises(RequestTooLargeException, match="smaller than 6291456 bytes"):
        runner.invoke(spec, "x" * 6291456)
    assert runner.invoke(spec, "x" * 100000).payload == 1


def test_a_worker_that_closes_its_response_pipe_is_replaced(runner):
    spec = python_function("import os, sys\n"
                           "def handler(event, context):\n"
                           "    if event == 'close':\n"
                           "        os.close(int(sys.argv[2]))\n"
                           "    return 'ok'\n", name=unique("close"))
    assert runner.invoke(spec, "close").error["errorType"] == "Runtime.ExitError"
    assert runner.invoke(spec, "fine").payload == "ok"


def test_a_runner_at_its_capacity_makes_calls_wait_and_never_throttles():
    from runtime.functions import FunctionRunner

    gate = Gate()
    spec = python_function(PY_GATED_WORKER, name=unique("capacity"))
    results, errors = [], []

    def call():
        try:
            results.append(small.invoke(spec, gate.port))
        except Exception as exc:   # a throttle would land here
            errors.append(exc)

    with FunctionRunner(capacity=1, idle_timeout=600) as small:
        callers = [threading.Thread(target=call) for _ in range(3)]
        for caller in callers:
            caller.start()
        for _ in callers:
            gate.open(1)      # one call at a time reaches the gate: the others wait their turn
        for caller in callers:
            caller.join()
        workers = small.workers()
    gate.close()
    assert errors == []
    assert len(results) == 3 and all(r.error is None for r in results)
    # One at a time: the same warm worker served all three.
    assert list(workers.values()) == [(1, 0)]
    assert len({r.payload for r in results}) == 1
