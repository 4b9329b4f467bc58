"""The public contract, in both languages and on both backends."""

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
