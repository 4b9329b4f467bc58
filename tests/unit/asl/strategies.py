"""Hypothesis strategies for valid state machines and the inputs they run on, shared by the
engine's property tests (tests/unit/asl) and the web's (tests/web)."""

from __future__ import annotations

import json

from hypothesis import strategies as st

# Timestamps a definition may hold, edge ones included: a leap second, fractions beyond
# microseconds, extreme offsets, the first and last years, and delays beyond what AWS waits.
TIMESTAMPS = ["2024-01-01T00:00:00Z", "2024-06-30T23:59:60Z", "2016-12-31T23:59:60.999Z",
              "2024-02-29T12:00:00+14:00", "2024-01-01T00:00:00.123456789-23:59",
              "2099-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
              "9999-12-31T23:59:59.999999Z"]
# What an input may hold where a timestamp is read: the above and near misses.
TIMESTAMP_TEXTS = TIMESTAMPS + ["9999-12-31T23:59:60Z", "2023-02-29T00:00:00Z",
                                "2024-01-01T00:00:00", "2024-01-01t00:00:00z"]
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                         st.floats(allow_nan=False, allow_infinity=False, width=32),
                         st.sampled_from(["", "a", "공격수", *TIMESTAMP_TEXTS]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["a", "b", "n", "items"]), inner,
                                            max_size=3)),
    max_leaves=8)
paths = st.sampled_from(["$", "$.a", "$.b", "$.a.b", "$.items", "$.items[0]", "$.n", "$$.Execution.Input",
                         "$$.State.Name", "$.a[*]"])
operators = st.sampled_from(["StringEquals", "NumericGreaterThan", "BooleanEquals",
                             "IsPresent", "IsNull", "TimestampLessThan", "TimestampEquals",
                             "IsTimestamp", "StringMatches", "NumericEqualsPath",
                             "TimestampGreaterThanEqualsPath"])
values_for = {"StringEquals": st.text(max_size=3), "NumericGreaterThan": st.integers(-3, 3),
              "BooleanEquals": st.booleans(), "IsPresent": st.booleans(), "IsNull": st.booleans(),
              "TimestampLessThan": st.sampled_from(TIMESTAMPS),
              "TimestampEquals": st.sampled_from(TIMESTAMPS), "IsTimestamp": st.booleans(),
              "StringMatches": st.sampled_from(["*", "a*", "\\*"]), "NumericEqualsPath": paths,
              "TimestampGreaterThanEqualsPath": paths}


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
        field, value = draw(st.sampled_from([
            ("Seconds", st.integers(0, 100)), ("Timestamp", st.sampled_from(TIMESTAMPS)),
            ("TimestampPath", paths), ("SecondsPath", paths)]))
        return {"Type": "Wait", field: draw(value), **end}
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
    """Returns a valid definition of one to four states (Wait and Choice timestamps included)."""
    count = draw(st.integers(1, 4))
    names = [f"S{i}" for i in range(count)]
    states = {name: draw(state(name, names[i + 1] if i + 1 < count else None))
              for i, name in enumerate(names)}
    if '"Done"' in json.dumps(states):
        states["Done"] = {"Type": "Succeed"}
    return {"StartAt": "S0", "States": states}


def echo_or_fail(event, context):
    """The function the generated Tasks call (`echo`): echoes its event, fails without `a`."""
    if isinstance(event, dict) and event.get("a") is None:
        raise ValueError("no a")
    return event
