"""The public contract, in both languages and on both backends."""

import pytest

from tests.unit.functions.helpers import node_function, python_function, unique


def test_a_python_handler_returns_its_json_response(runner):
    spec = python_function("def handler(event, context):\n    return {'got': event}\n",
                           name=unique("echo"))
    inv = runner.invoke(spec, {"a": [1, 2]})
    assert inv.error is None
    assert inv.payload == {"got": {"a": [1, 2]}}


def test_a_node_handler_returns_its_json_response(runner):
    spec = node_function("exports.handler = async (event) => ({ got: event });\n",
                         name=unique("echo"))
    inv = runner.invoke(spec, {"a": [1, 2]})
    assert inv.error is None
    assert inv.payload == {"got": {"a": [1, 2]}}


def test_the_invocation_carries_lambdas_figures(runner):
    spec = python_function("def handler(event, context):\n    return 1\n", name=unique("fig"))
    cold = runner.invoke(spec, {})
    warm = runner.invoke(spec, {})
    assert cold.init_ms is not None and cold.init_ms > 0
    assert warm.init_ms is None
    for inv in (cold, warm):
        assert len(inv.request_id) == 36
        assert inv.duration_ms >= 0 and inv.billed_ms >= 1
        assert inv.max_memory_mb > 0
        assert inv.backend == runner.backend_name


def test_request_ids_are_random_version_4_uuids():
    import uuid

    from runtime.functions.runner import new_request_id
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for text in ids:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)


def test_a_forked_child_draws_request_ids_of_its_own():
    import os

    from runtime.functions.runner import new_request_id
    new_request_id()   # the parent holds a batch of random bytes not used yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert child != new_request_id()


def test_a_response_is_decoded_as_the_standard_library_decodes_it(runner):
    import math

    spec = python_function("def handler(event, context):\n"
                           "    return [float('nan'), float('inf'), 3 ** 50, -(2 ** 63) - 1, event]\n",
                           name=unique("decode"))
    inv = runner.invoke(spec, {"k": "é \U0001F600"})
    assert inv.error is None
    nan, inf, big, small, echoed = inv.payload
    assert math.isnan(nan) and inf == math.inf
    assert (type(big), big, type(small), small) == (int, 3 ** 50, int, -(2 ** 63) - 1)
    assert echoed == {"k": "é \U0001F600"}


RENAMING_HANDLERS = {
    "python": (python_function, "import os\n"
                                "def handler(event, context):\n"
                                "    os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'renamed'\n"
                                "    return context.function_name\n"),
    "nodejs": (node_function, "exports.handler = async (event, context) => {\n"
                              "  process.env.AWS_LAMBDA_FUNCTION_NAME = 'renamed';\n"
                              "  return context.functionName;\n"
                              "};\n"),
}


@pytest.mark.parametrize("language", RENAMING_HANDLERS)
def test_the_contexts_function_fields_are_read_when_the_worker_starts(runner, language):
    # As in Lambda's runtimes: a handler that changes its environment does not rename itself.
    make, source = RENAMING_HANDLERS[language]
    spec = make(source, name=unique("named"))
    assert [runner.invoke(spec, {}).payload for _ in range(2)] == [spec.name, spec.name]
