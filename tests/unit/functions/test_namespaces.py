"""A spec's namespace keeps apart functions that share a name (two owners' "hello"): their
workers and concurrency are separate, and each function sees only its own name."""

import threading

import pytest

from runtime.functions import FunctionSpec, InvalidFunctionSpec, TooManyRequestsException
from tests.unit.functions.helpers import PY_GATED_WORKER, Gate, node_function, python_function, unique

PY_CONTEXT = (
    "import os\n"
    "def handler(event, context):\n"
    "    return {'name': context.function_name, 'arn': context.invoked_function_arn,\n"
    "            'group': context.log_group_name, 'env': os.environ['AWS_LAMBDA_FUNCTION_NAME'],\n"
    "            'env_group': os.environ['AWS_LAMBDA_LOG_GROUP_NAME']}\n"
)
JS_CONTEXT = (
    "exports.handler = async (event, context) => ({\n"
    "  name: context.functionName, arn: context.invokedFunctionArn, group: context.logGroupName,\n"
    "  env: process.env.AWS_LAMBDA_FUNCTION_NAME, env_group: process.env.AWS_LAMBDA_LOG_GROUP_NAME,\n"
    "});\n"
)


def test_the_namespace_is_part_of_the_workers_identity_only():
    plain = FunctionSpec(name="hello", runtime="python")
    alices = FunctionSpec(name="hello", runtime="python", namespace="u1")
    bobs = FunctionSpec(name="hello", runtime="python", namespace="u2")
    assert len({plain.version_key, alices.version_key, bobs.version_key}) == 3
    assert alices.version_key.startswith("u1/hello:$LATEST:")
    assert plain.version_key.startswith("hello:$LATEST:")
    assert (alices.function_key, plain.function_key) == ("u1/hello", "hello")


@pytest.mark.parametrize("namespace", ["a/b", "a:b"])
def test_a_namespace_with_a_separator_is_refused(namespace):
    with pytest.raises(InvalidFunctionSpec, match="namespace"):
        FunctionSpec(name="hello", namespace=namespace)


@pytest.mark.parametrize("make, source", [(python_function, PY_CONTEXT), (node_function, JS_CONTEXT)],
                         ids=["python", "nodejs"])
def test_a_function_in_a_namespace_sees_its_own_name(runner, make, source):
    name = unique("named")
    inv = runner.invoke(make(source, name=name, namespace="u7"), {})
    assert inv.error is None, inv.error
    assert inv.payload == {
        "name": name, "env": name, "group": f"/aws/lambda/{name}", "env_group": f"/aws/lambda/{name}",
        "arn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}"}
    assert "u7" not in inv.logs


def test_two_namespaces_never_share_workers_or_concurrency(fresh_runner):
    gate = Gate()
    source = PY_GATED_WORKER
    name = unique("shared-name")
    alices = python_function(source, name=name, namespace="u1", reserved_concurrency=1)
    bobs = python_function(source, name=name, namespace="u2", reserved_concurrency=1)
    waiting = threading.Semaphore(0)
    results = {}

    def call(spec, key):
        results[key] = fresh_runner.invoke(
            spec, gate.port, on_log=lambda line: line == "waiting" and waiting.release())

    alice = threading.Thread(target=call, args=(alices, "alice"))
    alice.start()
    waiting.acquire()
    # Alice's one concurrent invocation is running: Bob's function of the same name still runs.
    bob = threading.Thread(target=call, args=(bobs, "bob"))
    bob.start()
    waiting.acquire()
    with pytest.raises(TooManyRequestsException):
        fresh_runner.invoke(alices, gate.port)
    gate.open(2)
    alice.join()
    bob.join()
    gate.close()
    assert results["alice"].payload != results["bob"].payload
    assert sorted(fresh_runner.workers()) == sorted([alices.version_key, bobs.version_key])
    assert fresh_runner.retire(name, namespace="u1") == 1
    assert list(fresh_runner.workers()) == [bobs.version_key]
