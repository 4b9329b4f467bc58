"""Map: runs its item processor once per item of an array; its result is the list of outputs.

Inline mode records every iteration in the execution's history. Distributed mode (ProcessorConfig
Mode DISTRIBUTED) runs each item as a child execution whose events stay out of the parent history,
which records a Map Run instead, and it may tolerate some failed items. A host that keeps map runs
(its invoker's `keeps_map_runs` is true; the seam is below) runs the children as executions of
their own, on any of its workers, and the Map waits for the run's end on a task token, as a `.sync`
Task waits for a nested execution: parked, holding no thread. Without one (tests, TestState) the
children run in process, on the run's threads. ItemReader / ResultWriter (S3) are not supported.

    invoker.start_map_run(arn, token=..., state=..., label=..., definition=..., inputs=[...],
                          max_concurrency=..., tolerated_count=..., tolerated_percentage=...)
        -> starts the Map Run `arn`: at most `max_concurrency` children at once (0: the host's
           default), failed once more children failed than `tolerated_failures` allows; its end
           answers `token` with the children's outputs in item order, or with the error that
           failed it. A resumed run asks again: the host starts the run once and goes on with it.
    invoker.stop_map_run(arn)   -> its children still running are stopped (the Map is abandoned)
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

from runtime.arn import map_run_arn

from .. import jsonata, jsonpath
from ..branches import run_all
from ..callbacks import CHILD
from ..errors import ExceedToleratedFailureThreshold, QueryEvaluationError, RuntimeFailure, StatesError
from ..execution import Frame, Parked, Run, to_json
from ..executor import JSONATA, Program, State, resume_sequence, run_states, states_binding
from ..history import Position

__all__ = ["MapState", "tolerated_failures"]

_DEFAULT_WORKERS = 40
# A parked Map whose run has not ended is looked at again this often: should the news of a child's
# end have been lost (its process died right after it), the host goes on with the run then.
MAP_RUN_RECHECK = timedelta(seconds=60)


def tolerated_failures(count: int, percentage: float, total: int) -> int:
    """Returns how many failed items of `total` a Distributed Map tolerates: the larger of its
    ToleratedFailureCount and its ToleratedFailurePercentage of the items."""
    return max(count, int(total * percentage / 100))


class MapState(State):
    type_name = "Map"
    has_result = True
    failed_type = "MapStateFailed"

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        processor = spec.get("ItemProcessor") or spec.get("Iterator")
        self.processor = Program(processor, self.query_language, f"{path}/ItemProcessor")
        config = processor.get("ProcessorConfig") or {}
        self.distributed = config.get("Mode") == "DISTRIBUTED"
        self.blocking = self.processor.blocking
        self.label = spec.get("Label")
        jsonata_mode = self.query_language == JSONATA
        if jsonata_mode:
            self.items = jsonata.compile_jsonata(spec["Items"], field="Items") \
                if "Items" in spec else None
            self.item_selector = jsonata.compile_jsonata(spec["ItemSelector"], field="ItemSelector") \
                if "ItemSelector" in spec else None
        else:
            self.items = jsonpath.compile_path(spec["ItemsPath"]) \
                if spec.get("ItemsPath", "$") != "$" else None
            selector = spec.get("ItemSelector", spec.get("Parameters"))
            self.item_selector = jsonpath.compile_template(
                selector, field="ItemSelector" if "ItemSelector" in spec else "Parameters") \
                if selector is not None else None
            if self.item_selector is not None:
                self.uses_context = True  # $$.Map.Item is read per item
        self.max_concurrency = self.number_field(spec, "MaxConcurrency")
        self.tolerated_count = self.number_field(spec, "ToleratedFailureCount")
        self.tolerated_percentage = self.number_field(spec, "ToleratedFailurePercentage", "float")

    def _item_list(self, frame, value, raw_input, ctx):
        variables = frame.variables
        if self.jsonata:
            if self.items is None:
                items = raw_input
            else:
                return self.items.evaluate_as(states_binding(raw_input, ctx), variables, "array")
        else:
            items = self.items.select(value, ctx, variables) if self.items is not None else value
        if not isinstance(items, list):
            raise QueryEvaluationError(f"Map state input must be an array but was: {to_json(items)}",
                                       in_state=True)
        return items

    def execute(self, frame, value, raw_input, ctx, entered_id):
        variables = frame.variables
        items = self._item_list(frame, value, raw_input, ctx)
        limit = self.max_concurrency(raw_input, ctx, variables) if self.max_concurrency else 0
        hosted = self.distributed and getattr(frame.run.invoker, "keeps_map_runs", False)
        if hosted:
            progress = self._map_run_started(frame.resumed)
        else:
            progress = None if self.distributed else self._progress(frame.resumed)
        if progress is None:
            frame.emit("MapStateStarted", "mapStateStartedEventDetails", {"length": len(items)})
        if self.distributed:
            tolerance = self._tolerance(raw_input, ctx, variables)
            if hosted:
                return self._host_map_run(frame, value, ctx, items, limit, tolerance, progress)
            return self._run_distributed(frame, value, items, limit,
                                         tolerated_failures(*tolerance, len(items)))
        inputs = [self._item_input(frame, value, ctx, index, item)
                  for index, item in enumerate(items)]
        steps = frame.run.inspection if frame.top else None
        if steps is not None:   # TestState's record of the Map's own steps (runtime.asl.test_state)
            if not self.jsonata:
                steps["afterItemsPath"] = items
            steps["afterItemSelector"] = inputs
            steps["maxConcurrency"] = limit
        history, begun, done = progress or (None, {}, set())
        run = frame.run
        started: dict[int, int] = {}   # index -> its MapIterationStarted, once this run called it

        def job_for(index, item_input):
            def job():
                run.check_alive()
                if index in started:
                    # Called again after it parked, its siblings still at work: it goes on where it stood.
                    at, after = run.history_index().resume(self.processor, started[index], item_input,
                                                           variables, run.clock.now())
                elif index in begun:
                    # The interrupted run began this iteration: it goes on where it stood.
                    at, after = history.resume(self.processor, begun[index]["id"], item_input, variables,
                                               run.clock.now())
                    if index in done:
                        return at.value
                    started[index] = begun[index]["id"]
                else:
                    after = started[index] = frame.emit("MapIterationStarted", "mapIterationStartedEventDetails",
                                                        {"index": index, "name": self.name})
                    at = Position(item_input, variables, self.processor.start_at, None)
                try:
                    output = resume_sequence(self.processor, frame.child(after, (index, items[index]),
                                                                         at.variables), at)
                except StatesError:
                    frame.emit("MapIterationFailed", "mapIterationFailedEventDetails",
                               {"index": index, "name": self.name})
                    raise
                frame.emit("MapIterationSucceeded", "mapIterationSucceededEventDetails",
                           {"index": index, "name": self.name})
                return output
            return job
        results = run_all([job_for(i, v) for i, v in enumerate(inputs)], self.blocking,
                          limit or _DEFAULT_WORKERS, run.threads, run.thread_done, run.clock.now)
        frame.emit("MapStateSucceeded")
        return results

    @staticmethod
    def _progress(resumed):
        """Returns (history, {index: its MapIterationStarted event}, indexes that succeeded) for
        the attempt of this Map that an interrupted run began, or None to begin an attempt (none
        was begun, or the one begun was failing: it runs again whole)."""
        if resumed is None or resumed.history is None:
            return None
        own = resumed.events
        starts = [i for i, event in enumerate(own) if event["type"] == "MapStateStarted"]
        if not starts:
            return None
        attempt = own[starts[-1] + 1:]
        if any(event["type"] in ("MapIterationFailed", "MapIterationAborted", "MapStateFailed") for event in attempt):
            return None
        begun = {e["mapIterationStartedEventDetails"]["index"]: e for e in attempt
                 if e["type"] == "MapIterationStarted"}
        done = {e["mapIterationSucceededEventDetails"]["index"] for e in attempt
                if e["type"] == "MapIterationSucceeded"}
        return resumed.history, begun, done

    def _item_input(self, frame, value, ctx, index, item):
        """Returns one iteration's input: the item, or the ItemSelector evaluated for it."""
        if self.item_selector is None:
            return item
        item_ctx = frame.run.context.object(
            self.name, ctx["State"]["EnteredTime"] if ctx else "", None, (index, item))
        if self.jsonata:
            return self.item_selector.evaluate({"input": value, "context": item_ctx},
                                               frame.variables)
        return self.item_selector.evaluate(value, item_ctx, frame.variables)

    def _tolerance(self, value, ctx, variables) -> tuple[int, float]:
        """Returns the Map's ToleratedFailureCount and ToleratedFailurePercentage (0 for a field it
        does not set)."""
        count, percentage = 0, 0.0
        if self.tolerated_count is not None:
            count = self.tolerated_count(value, ctx, variables)
            if count < 0:
                raise RuntimeFailure("ToleratedFailureCount cannot be negative.", in_state=True)
        if self.tolerated_percentage is not None:
            percentage = self.tolerated_percentage(value, ctx, variables)
            if not 0 <= percentage <= 100:
                raise RuntimeFailure("ToleratedFailurePercentage must be between 0 and 100.",
                                     in_state=True)
        return count, percentage

    # -- Distributed: a Map Run of child executions, kept by the host ---------------------------

    @staticmethod
    def _map_run_started(resumed):
        """Returns the MapRunStarted event of the attempt an interrupted (or parked) run left
        waiting for its Map Run, or None to begin an attempt."""
        if resumed is None:
            return None
        own = resumed.events
        starts = [i for i, event in enumerate(own) if event["type"] == "MapRunStarted"]
        if not starts or any(event["type"] in ("MapRunFailed", "MapRunSucceeded", "MapStateFailed")
                             for event in own[starts[-1] + 1:]):
            return None
        return own[starts[-1]]

    def processor_definition(self) -> dict:
        """Returns the item processor as the state machine definition each child runs."""
        processor = self.spec.get("ItemProcessor") or self.spec.get("Iterator")
        definition = {key: processor[key] for key in ("StartAt", "States")}
        definition["QueryLanguage"] = self.processor.query_language
        return definition

    def _map_run_arn(self, ctx) -> str:
        """Returns a new Map Run's ARN (…:mapRun:MACHINE/LABEL:ID; LABEL: the Label, else the name)."""
        return map_run_arn(ctx.machine_name, self.label or self.name, str(uuid.uuid4()), ctx.region,
                           ctx.account)

    def _host_map_run(self, frame, value, ctx, items, limit, tolerance, started):
        """Runs the items as the host's Map Run, going on with the one `started` (the attempt's
        MapRunStarted a resumed run found) or starting one."""
        run = frame.run
        invoker = run.invoker
        if started is None:
            arn = self._map_run_arn(run.context)
            started_id = frame.emit("MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": arn})
        else:
            arn, started_id = started["mapRunStartedEventDetails"]["mapRunArn"], started["id"]
        # The token is keyed by the MapRunStarted event: one per attempt of the Map.
        token = invoker.issue_task_token(self.name, started_id, 0, kind=CHILD)
        inputs = [self._item_input(frame, value, ctx, index, item) for index, item in enumerate(items)]
        invoker.start_map_run(
            arn, token=token, state=self.name, label=self.label or self.name,
            definition=self.processor_definition(), inputs=inputs, max_concurrency=limit,
            tolerated_count=tolerance[0], tolerated_percentage=tolerance[1])
        while True:
            run.check_alive()
            answer = invoker.task_token_state(token).answer
            if answer is not None:
                invoker.close_task_token(token)
                if answer.failed:
                    frame.emit("MapRunFailed", "mapRunFailedEventDetails",
                               {"error": answer.error or "", "cause": answer.cause or ""})
                    raise StatesError(answer.cause, answer.error or "States.TaskFailed")
                frame.emit("MapRunSucceeded")
                frame.emit("MapStateSucceeded")
                return json.loads(answer.output)
            now = run.clock.now()
            until = now + MAP_RUN_RECHECK
            if run.deadline is not None:
                until = min(until, run.deadline)
            if run.park_after is not None:
                # Should a sibling fail an enclosing Map or Parallel meanwhile, the children stop.
                raise Parked(until, abandon=(lambda: invoker.stop_map_run(arn),))
            invoker.wait_task_token(token, until, run.cancel)

    def _run_distributed(self, frame, value, items, limit, tolerated):
        run = frame.run
        ctx = run.context
        frame.emit("MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": self._map_run_arn(ctx)})
        failures = []
        lock = threading.Lock()
        item_ctx = {"State": {"EnteredTime": ""}}

        def job_for(index, item):
            def job():
                item_input = self._item_input(frame, value, item_ctx, index, item)
                child_run = Run(clock=run.clock, invoker=run.invoker, sink=None, context=ctx,
                                cancel=run.cancel, suspend=run.suspend, threads=run.threads,
                                deadline=run.deadline)
                # A child execution sees none of its parent's variables, as in AWS (and as the
                # host's children do).
                child = Frame(child_run, {}, 0, (index, item))
                try:
                    return run_states(self.processor, item_input, child)
                except StatesError as exc:
                    with lock:
                        failures.append(exc)
                    return {"Error": exc.error, "Cause": exc.cause}
            return job
        results = run_all([job_for(i, item) for i, item in enumerate(items)], self.blocking,
                          limit or _DEFAULT_WORKERS, run.threads, run.thread_done)
        if len(failures) > tolerated:
            frame.emit("MapRunFailed")
            error = failures[0] if tolerated == 0 and len(failures) == 1 else \
                ExceedToleratedFailureThreshold(
                    "The specified tolerated failure threshold was exceeded")
            raise error
        frame.emit("MapRunSucceeded")
        frame.emit("MapStateSucceeded")
        return results
