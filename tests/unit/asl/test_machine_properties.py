"""Property: a machine that validates never raises a Python exception from `run`; whatever the
input, the run ends with a status, and a failed run names its error."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.asl import DefinitionError, FakeClock, FakeInvoker, StateMachine

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                         st.floats(allow_nan=False, allow_infinity=False, width=32),
                         st.sampled_from(["", "a", "공격수", "2024-01-01T00:00:00Z"]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["a", "b", "n", "items"]), inner,
                                            max_size=3)),
    max_leaves=8)
paths = st.sampled_from(["$", "$.a", "$.b", "$.a.b", "$.items", "$.items[0]", "$.n", "$$.Execution.Input",
                         "$$.State.Name", "$.a[*]"])
operators = st.sampled_from(["StringEquals", "NumericGreaterThan", "BooleanEquals",
                             "IsPresent", "IsNull", "TimestampLessThan", "StringMatches",
                             "NumericEqualsPath"])
values_for = {"StringEquals": st.text(max_size=3), "NumericGreaterThan": st.integers(-3, 3),
              "BooleanEquals": st.booleans(), "IsPresent": st.booleans(), "IsNull": st.booleans(),
              "TimestampLessThan": st.just("2030-01-01T00:00:00Z"),
              "StringMatches": st.sampled_from(["*", "a*", "\\*"]), "NumericEqualsPath": paths}


@st.composite
def state(draw, name: str, next_name: str | None):
    kinds = ["Pass", "Pass", "Choice", "Wait", "Map", "Task", "Parallel"]
    kind = draw(st.sampled_from(kinds if next_name else kinds + ["Fail"]))
    end = {"Next": next_name} if next_name else {"End": True}
    if kind == "Pass":
        spec = {"Type": "Pass", **end}
        if draw(st.booleans()):
            spec["Parameters"] = {"v.$": draw(paths), "k": draw(json_scalars)}
        if draw(st.booleans()):
            spec["ResultPath"] = draw(st.sampled_from(["$.r", "$.a.b", None, "$"]))
        if draw(st.booleans()):
            spec["InputPath"] = draw(paths)
        return spec
    if kind == "Choice":
        op = draw(operators)
        target = next_name or "Done"
        return {"Type": "Choice", "Choices": [{"Variable": draw(paths), op: draw(values_for[op]),
                                               "Next": target}],
                **({"Default": target} if draw(st.booleans()) else {})}
    if kind == "Fail":
        return {"Type": "Fail", "Error": "Bad", "Cause": "because"}
    if kind == "Wait":
        return {"Type": "Wait", "Seconds": draw(st.integers(0, 100)), **end}
    if kind == "Map":
        return {"Type": "Map", "ItemsPath": draw(paths), **end,
                "ItemProcessor": {"StartAt": f"{name}I",
                                  "States": {f"{name}I": {"Type": "Pass", "End": True}}}}
    if kind == "Parallel":
        return {"Type": "Parallel", **end, "Branches": [
            {"StartAt": f"{name}B", "States": {f"{name}B": {
                "Type": "Pass", "InputPath": draw(paths), "End": True}}}]}
    return {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
            **end, "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": next_name or "Done"}]}


@st.composite
def machines(draw):
    count = draw(st.integers(1, 4))
    names = [f"S{i}" for i in range(count)]
    states = {name: draw(state(name, names[i + 1] if i + 1 < count else None))
              for i, name in enumerate(names)}
    if '"Done"' in json.dumps(states):
        states["Done"] = {"Type": "Succeed"}
    return {"StartAt": "S0", "States": states}


def echo_or_fail(event, context):
    if isinstance(event, dict) and event.get("a") is None:
        raise ValueError("no a")
    return event


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines(), json_values)
def test_a_valid_machine_ends_every_run_with_a_status_and_never_raises(definition, value):
    try:
        machine = StateMachine(definition)
    except DefinitionError as error:  # the generator makes only valid machines
        raise AssertionError(f"generated an invalid machine: {error}") from error
    result = machine.run(value, invoker=FakeInvoker({"echo": echo_or_fail}), clock=FakeClock())

    assert result.status in ("SUCCEEDED", "FAILED")
    if result.status == "FAILED":
        assert result.error
        assert result.history[-1]["type"] == "ExecutionFailed"
    else:
        assert result.history[-1]["type"] == "ExecutionSucceeded"
