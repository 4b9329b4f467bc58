"""Distributed Maps (ProcessorConfig Mode DISTRIBUTED) run each item as a child execution of its
own (editor.services.map_runs), on the real executor: the children are executions like any other,
the parent waits for their Map Run parked, and takes their outputs in item order."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings

from editor.models import Execution, ExecutionEvent, MapRun, TaskToken
from editor.services import executions
from editor.services.accounts import account_id
from tests.integration.cluster import wait_until
from tests.web.test_task_tokens import WAIT, CallbackCase

DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
CALL = "arn:aws:states:::lambda:invoke"


def distributed_map(processor_states: dict, start_at: str, **fields) -> dict:
    return {"Each": {"Type": "Map", "End": True, **fields, "ItemProcessor": {
        "ProcessorConfig": DISTRIBUTED, "StartAt": start_at, "States": processor_states}}}


# Each item: calls the function `notify` (which hands back what it is given), then keeps its answer.
CALLING = {"Call": {"Type": "Task", "Resource": CALL, "Parameters": {"FunctionName": "notify", "Payload.$": "$"},
                    "ResultSelector": {"got.$": "$.Payload.handed.n"}, "End": True}}
# Each item fails when it says so.
FAILING = {"Check": {"Type": "Choice", "Choices": [{"And": [{"Variable": "$.fail", "IsPresent": True},
                                                            {"Variable": "$.fail", "BooleanEquals": True}],
                                                    "Next": "Boom"}],
                     "Default": "Fine"},
           "Boom": {"Type": "Fail", "Error": "Item.Broken", "Cause": "item said so"},
           "Fine": {"Type": "Pass", "Parameters": {"ok.$": "$.n"}, "End": True}}


class DistributedMapTests(CallbackCase):
    def children(self, parent) -> list[Execution]:
        return list(Execution.objects.filter(parent=parent).order_by("map_index"))

    def test_each_item_runs_as_a_child_execution_and_the_outputs_come_back_in_item_order(self):
        machine = self.machine("fan-out", distributed_map(CALLING, "Call", MaxConcurrency=2, Label="Fan"), "Each")
        parent = executions.start_execution(self.alice, machine, json.dumps([{"n": n} for n in range(5)]))
        done = self.ended(parent)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(json.loads(done.output), [{"got": n} for n in range(5)])
        children = self.children(parent)
        self.assertEqual([(c.map_index, c.status, json.loads(c.input)) for c in children],
                         [(n, "SUCCEEDED", {"n": n}) for n in range(5)])
        run = MapRun.objects.get(execution=parent)
        self.assertEqual((run.status, run.item_count, run.max_concurrency, run.label), ("SUCCEEDED", 5, 2, "Fan"))
        self.assertTrue(all(c.map_run_id == run.pk and c.parent_state == "Each" for c in children))
        # Each child called the function itself (its own invocation), and has its own history.
        for child in children:
            self.assertEqual(child.invocations.get().request, json.loads(child.input))
            self.assertEqual(self.types(child)[0], "ExecutionStarted")
        # The parent's history records the Map Run, none of the children's events.
        types = self.types(parent)
        self.assertEqual(types[types.index("MapStateEntered"):], [
            "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded",
            "MapStateExited", "ExecutionSucceeded"])
        started = ExecutionEvent.objects.get(execution=parent, type="MapRunStarted")
        self.assertTrue(started.details["mapRunStartedEventDetails"]["mapRunArn"].endswith(f":mapRun:fan-out/Fan:{run.pk}"))
        # At most MaxConcurrency children ran at once.
        moments = sorted([(c.started_at, 1) for c in children] + [(c.stopped_at, -1) for c in children],
                         key=lambda m: (m[0], m[1]))
        running = peak = 0
        for _, step in moments:
            running += step
            peak = max(peak, running)
        self.assertLessEqual(peak, 2)
        # The Map's token was answered and closed: nothing waits any more.
        self.assertEqual(TaskToken.objects.get(token=run.token).status, "CLOSED")

    def test_tolerated_failures_leave_their_error_in_the_output(self):
        machine = self.machine("tolerant", distributed_map(FAILING, "Check", ToleratedFailureCount=1), "Each")
        items = [{"n": 0}, {"n": 1, "fail": True}, {"n": 2}]
        done = self.ended(executions.start_execution(self.alice, machine, json.dumps(items)))
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(json.loads(done.output), [
            {"ok": 0}, {"Error": "Item.Broken", "Cause": "item said so"}, {"ok": 2}])

    def test_more_failures_than_tolerated_fail_the_map_and_stop_the_children_still_running(self):
        states = {"Check": {**FAILING["Check"], "Default": "Hold"}, "Boom": FAILING["Boom"],
                  "Hold": {"Type": "Task", "Resource": WAIT, "End": True,
                           "Parameters": {"FunctionName": "notify", "Payload": {"t.$": "$$.Task.Token"}}}}
        machine = self.machine("strict", distributed_map(states, "Check"), "Each")
        items = [{"n": 0}, {"n": 1}, {"n": 2, "fail": True}]
        parent = executions.start_execution(self.alice, machine, json.dumps(items))
        done = self.ended(parent)
        # One failure and none tolerated: the Map fails with the child's error, as in process.
        self.assertEqual((done.status, done.error, done.cause), ("FAILED", "Item.Broken", "item said so"))
        self.assertEqual(MapRun.objects.get(execution=parent).status, "FAILED")
        self.assertIn("MapRunFailed", self.types(parent))
        holding = [self.ended(child) for child in self.children(parent)[:2]]
        self.assertEqual([c.status for c in holding], ["ABORTED", "ABORTED"])

    def test_exceeding_a_tolerated_count_fails_with_the_threshold_error(self):
        machine = self.machine("threshold", distributed_map(FAILING, "Check", ToleratedFailureCount=1,
                                                            MaxConcurrency=1), "Each")
        items = [{"n": 0, "fail": True}, {"n": 1, "fail": True}, {"n": 2}]
        parent = executions.start_execution(self.alice, machine, json.dumps(items))
        done = self.ended(parent)
        self.assertEqual((done.status, done.error), ("FAILED", "States.ExceedToleratedFailureThreshold"))
        # One at a time: the third item never started.
        self.assertEqual([c.map_index for c in self.children(parent)], [0, 1])

    def test_stopping_the_parent_stops_its_map_run_and_children(self):
        states = {"Hold": {"Type": "Task", "Resource": WAIT, "End": True,
                           "Parameters": {"FunctionName": "notify", "Payload": {"t.$": "$$.Task.Token"}}}}
        machine = self.machine("held", distributed_map(states, "Hold"), "Each")
        parent = executions.start_execution(self.alice, machine, json.dumps([1, 2]))
        children = wait_until(lambda: len(c := self.children(parent)) == 2 and c, 60, "both children")
        for child in children:
            self.waiting_token(child)
        executions.stop_execution(self.alice, Execution.objects.get(pk=parent.pk))
        self.assertEqual(self.ended(parent).status, "ABORTED")
        self.assertEqual([self.ended(c).status for c in children], ["ABORTED", "ABORTED"])
        self.assertEqual(MapRun.objects.get(execution=parent).status, "ABORTED")

    def test_a_jsonata_machines_children_run_its_processor_in_jsonata(self):
        machine = self.machine("jsonata-map", {"Each": {
            "Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.values %}", "End": True,
            "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
            "ItemProcessor": {"ProcessorConfig": DISTRIBUTED, "StartAt": "Square", "States": {
                "Square": {"Type": "Pass", "Output": "{% $states.input.v * $states.input.v + $states.input.i %}",
                           "End": True}}}}}, "Each")
        done = self.ended(executions.start_execution(self.alice, machine, json.dumps({"values": [2, 3, 4]})))
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(json.loads(done.output), [4, 10, 18])

    def test_a_childs_context_object_and_page_name_the_arns_the_api_gives_it(self):
        """A child runs the state machine MACHINE/LABEL: $$.Execution.Id and $$.StateMachine.Id are
        its ARNs as the API writes them (execution:MACHINE/LABEL:NAME), and its page shows the same."""
        ids = {"Ids": {"Type": "Pass", "End": True, "Parameters": {
            "id.$": "$$.Execution.Id", "machine.$": "$$.StateMachine.Id", "name.$": "$$.StateMachine.Name"}}}
        machine = self.machine("ids", distributed_map(ids, "Ids", Label="Fan"), "Each")
        parent = self.ended(executions.start_execution(self.alice, machine, json.dumps([1, 2])))
        self.assertEqual(parent.status, "SUCCEEDED", parent.cause)
        prefix = f"arn:aws:states:{settings.FLOWBENCH_REGION}:{account_id(self.alice)}"
        children = self.children(parent)
        self.assertEqual(json.loads(parent.output), [
            {"id": f"{prefix}:execution:ids/Fan:{child.name}", "machine": f"{prefix}:stateMachine:ids/Fan",
             "name": "ids/Fan"} for child in children])
        for child in children:
            self.assertEqual(self.call("GET", f"/api/executions/{child.pk}").data["arn"],
                             f"{prefix}:execution:ids/Fan:{child.name}")
        self.assertEqual(self.call("GET", f"/api/executions/{parent.pk}").data["arn"],
                         f"{prefix}:execution:ids:{parent.name}")


class LostNewsTests(CallbackCase):
    def test_a_run_whose_childrens_ends_went_unheard_goes_on_when_its_parent_looks_again(self):
        """Should the process die between a child's end and the advance that follows it, nothing
        starts the next item: the parked parent looks again (MAP_RUN_RECHECK) and its Map goes on
        with the run. Here no child's end is heard at all."""
        from unittest import mock

        from editor.services import map_runs, runs

        runs.execution_ended.disconnect(dispatch_uid="flowbench-map-runs")
        self.addCleanup(runs.execution_ended.connect, map_runs.execution_ended, dispatch_uid="flowbench-map-runs")
        recheck = mock.patch("runtime.asl.states.map.MAP_RUN_RECHECK", timedelta(seconds=0.2))
        recheck.start()
        self.addCleanup(recheck.stop)
        machine = self.machine("unheard", distributed_map(FAILING, "Check", MaxConcurrency=1), "Each")
        parent = executions.start_execution(self.alice, machine, json.dumps([{"n": n} for n in range(3)]))
        done = self.ended(parent)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(json.loads(done.output), [{"ok": n} for n in range(3)])
        self.assertEqual([c.map_index for c in Execution.objects.filter(parent=parent).order_by("map_index")],
                         [0, 1, 2])
