"""Wait: holds the execution for some seconds or until a moment, then passes its input on."""

from __future__ import annotations

from datetime import timedelta

from .. import jsonata, jsonpath
from ..errors import QueryEvaluationError, RuntimeFailure
from ..execution import Parked
from ..executor import State, show, states_binding
from ..timestamps import parse_timestamp

__all__ = ["WaitState", "MAX_DELAY"]

# The longest delay AWS accepts, in seconds (it keeps them in a signed 32-bit integer: a Timestamp
# 24,855 days ahead waits, one 24,856 days ahead fails the run).
MAX_DELAY = 2**31 - 1


class WaitState(State):
    type_name = "Wait"
    blocking = True

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        self.seconds = spec.get("Seconds")
        self.timestamp = spec.get("Timestamp")
        self.seconds_path = jsonpath.compile_path(spec["SecondsPath"]) \
            if "SecondsPath" in spec else None
        self.timestamp_path = jsonpath.compile_path(spec["TimestampPath"]) \
            if "TimestampPath" in spec else None
        if self.jsonata:
            self.seconds = jsonata.compile_jsonata(self.seconds, field="Seconds") \
                if "Seconds" in spec else None
            self.timestamp = jsonata.compile_jsonata(self.timestamp, field="Timestamp") \
                if "Timestamp" in spec else None

    def execute(self, frame, value, raw_input, ctx, entered_id):
        run = frame.run
        seconds = self._seconds(frame, value, ctx)
        now = run.clock.now()
        relative = seconds is not None
        if not relative:
            # AWS waits until the timestamp's second: it drops fractions.
            moment = self._moment(frame, value, ctx).replace(microsecond=0)
            seconds = (moment - now).total_seconds()
        if seconds > MAX_DELAY:
            raise RuntimeFailure("Wait state delay is too long.", in_state=True)
        if relative and frame.resumed is not None:
            # A resumed visit waits what is left of the time since the state was entered.
            seconds -= (now - frame.resumed.entered_at).total_seconds()
        seconds = max(seconds, 0)
        if run.park_after is not None and seconds > 0 and seconds >= run.park_after:
            # At any depth: a Parallel or Map whose branches park parks in turn (runtime.asl.branches).
            until = now + timedelta(seconds=seconds)
            if run.deadline is not None:
                until = min(until, run.deadline)
            raise Parked(until)
        run.sleep(seconds)
        return value

    def _seconds(self, frame, value, ctx):
        if self.jsonata:
            if self.seconds is None:
                return None
            return self.seconds.evaluate_as(states_binding(value, ctx), frame.variables, "integer")
        if self.seconds is not None:
            return self.seconds
        if self.seconds_path is None:
            return None
        found = self.seconds_path.find(value, ctx, frame.variables)
        text = self.seconds_path.text
        if found is jsonpath.MISSING:
            raise RuntimeFailure(
                f"The SecondsPath parameter does not reference an input value: {text}",
                in_state=True)
        if isinstance(found, float) and found.is_integer():
            found = int(found)
        if isinstance(found, bool) or not isinstance(found, int):
            raise RuntimeFailure(
                f"The SecondsPath parameter cannot be parsed as a long value: {text} == "
                f"{show(found)}", in_state=True)
        if found < 0:
            raise RuntimeFailure(
                f"The SecondsPath parameter references a negative value: {text} == {found}",
                in_state=True)
        return found

    def _moment(self, frame, value, ctx):
        if self.jsonata:
            text = self.timestamp.evaluate(states_binding(value, ctx), frame.variables)
            moment = parse_timestamp(text)
            if moment is None:
                raise QueryEvaluationError(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
                    f"format string: {show(text)}", in_state=True, location="Timestamp")
            return moment
        if self.timestamp is not None:
            return parse_timestamp(self.timestamp)
        found = self.timestamp_path.find(value, ctx, frame.variables)
        text = self.timestamp_path.text
        if found is jsonpath.MISSING:
            raise RuntimeFailure(
                f"The TimestampPath parameter does not reference an input value: {text}",
                in_state=True)
        moment = parse_timestamp(found)
        if moment is None:
            raise RuntimeFailure(
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
                f"date-time format string: {text} == {show(found)}", in_state=True)
        return moment
