"""Task tokens and nested executions through the studio: a `.waitForTaskToken` Task parks its
execution (no thread, no lease) until the studio's JSON API answers its token; double answers,
another person's token, bad output and timeouts are refused as AWS refuses them; nested
executions (`states:startExecution`, `.sync`, `.sync:2`, `.waitForTaskToken`) link both ways and
the parent goes on when the child ends."""

from __future__ import annotations

import json

from editor import services
from editor.models import Execution, ExecutionEvent, TaskToken
from editor.services import executions, machines, roles
from editor.services.accounts import state_machine_arn
from editor.services.executor import replace_executor
from tests.integration.cluster import wait_until
from tests.web.base import LiveWebTestCase

WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"
ECHO = "def lambda_handler(event, context):\n    return {'handed': event}\n"


class CallbackCase(LiveWebTestCase):
    """Alice's function `notify` (returns what it is given) and her role `runner`, which may invoke
    her functions and start her state machines."""

    def setUp(self):
        super().setUp()
        replace_executor()
        self.addCleanup(replace_executor)
        function = services.create_function(self.alice, name="notify", runtime="python")
        services.save_code(function, {"lambda_function.py": ECHO})
        services.deploy_function(function)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"},
            {"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"}]}
        roles.create_role(self.alice, {"name": "runner", "policy": policy})

    def machine(self, name, states, start_at, user=None):
        machine = machines.create_machine(user or self.alice, {
            "name": name, "type": "STANDARD", "role": "runner",
            "definition": json.dumps({"StartAt": start_at, "States": states})})
        machines.publish_version(machine)
        return machine

    def approval(self, **task):
        return self.machine("approval", {
            "Ask": {"Type": "Task", "Resource": WAIT, "Next": "Done", **task,
                    "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}}},
            "Done": {"Type": "Pass", "End": True}}, "Ask")

    def waiting_token(self, execution) -> str:
        """Returns the token once the execution waits on it, parked (no process holds it)."""
        def parked():
            row = Execution.objects.get(pk=execution.pk)
            token = TaskToken.objects.filter(execution=execution, status="WAITING").first()
            submitted = ExecutionEvent.objects.filter(execution=execution, type="TaskSubmitted").exists()
            return token.token if token and submitted and row.lease_owner == "" else None
        return wait_until(parked, 60, "the execution parked on its task token")

    def ended(self, execution) -> Execution:
        return wait_until(lambda: (e := Execution.objects.get(pk=execution.pk)).status != "RUNNING" and e,
                          60, "the execution's end")

    def types(self, execution) -> list[str]:
        return list(ExecutionEvent.objects.filter(execution=execution).order_by("event_id")
                    .values_list("type", flat=True))


class WaitForTaskTokenTests(CallbackCase):
    def test_the_function_gets_the_token_and_the_answer_resumes_the_parked_execution(self):
        execution = executions.start_execution(self.alice, self.approval(), json.dumps({"n": 5}))
        token = self.waiting_token(execution)
        invocation = execution.invocations.get()
        self.assertEqual(invocation.request, {"token": token, "n": 5})
        page = self.call("GET", f"/api/executions/{execution.id}/callbacks").data
        self.assertEqual([t["token"] for t in page["waiting"]], [token])
        self.assertEqual(page["waiting"][0]["state"], "Ask")

        response = self.call("POST", "/api/task-tokens/success", {"taskToken": token, "output": '{"ok": true}'})
        self.assertEqual(response.status_code, 200, response.content)
        done = self.ended(execution)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(json.loads(done.output), {"ok": True})
        self.assertEqual(self.types(execution)[:7], [
            "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted",
            "TaskSucceeded", "TaskStateExited"])
        # Answered once: the token takes no other answer.
        again = self.call("POST", "/api/task-tokens/success", {"taskToken": token, "output": "{}"})
        self.assertApiError(again, 400, "TaskTimedOut", "taskToken")
        self.assertEqual(self.call("GET", f"/api/executions/{execution.id}/callbacks").data["waiting"], [])

    def test_a_failure_answer_fails_the_task_with_its_error_and_cause(self):
        execution = executions.start_execution(self.alice, self.approval(), json.dumps({"n": 1}))
        token = self.waiting_token(execution)
        response = self.call("POST", "/api/task-tokens/failure",
                             {"taskToken": token, "error": "Rejected", "cause": "Not this time"})
        self.assertEqual(response.status_code, 200, response.content)
        done = self.ended(execution)
        self.assertEqual((done.status, done.error, done.cause), ("FAILED", "Rejected", "Not this time"))
        failed = ExecutionEvent.objects.get(execution=execution, type="TaskFailed")
        self.assertEqual(failed.details["taskFailedEventDetails"]["error"], "Rejected")

    def test_bad_answers_are_refused_naming_their_field_and_the_task_still_waits(self):
        execution = executions.start_execution(self.alice, self.approval(), json.dumps({"n": 1}))
        token = self.waiting_token(execution)
        bad = self.call("POST", "/api/task-tokens/success", {"taskToken": token, "output": "{not json"})
        self.assertApiError(bad, 400, "InvalidOutput", "output")
        self.assertApiError(self.call("POST", "/api/task-tokens/success", {"taskToken": "x" * 10, "output": "1"}),
                            400, "InvalidToken", "taskToken")
        self.assertApiError(self.call("POST", "/api/task-tokens/success", {"taskToken": "A" * 64, "output": "1"}),
                            404, "TaskDoesNotExist", "taskToken")
        # Bob cannot see, answer or keep alive Alice's task.
        for path, body in (("success", {"output": "1"}), ("failure", {}), ("heartbeat", {})):
            refused = self.call("POST", f"/api/task-tokens/{path}", {"taskToken": token, **body},
                                client=self.bob_client)
            self.assertApiError(refused, 404, "TaskDoesNotExist", "taskToken")
        self.assertEqual(self.call("GET", f"/api/executions/{execution.id}/callbacks", client=self.bob_client)
                         .status_code, 404)
        self.assertEqual(TaskToken.objects.get(token=token).status, "WAITING")
        self.assertEqual(Execution.objects.get(pk=execution.pk).status, "RUNNING")
        self.call("POST", "/api/task-tokens/success", {"taskToken": token, "output": "2"})
        self.assertEqual(self.ended(execution).status, "SUCCEEDED")

    def test_a_task_nobody_answers_times_out_and_its_token_is_closed(self):
        execution = executions.start_execution(self.alice, self.approval(TimeoutSeconds=1), json.dumps({"n": 1}))
        done = self.ended(execution)
        self.assertEqual((done.status, done.error), ("FAILED", "States.Timeout"))
        self.assertIn("TaskTimedOut", self.types(execution))
        token = TaskToken.objects.get(execution=execution)
        self.assertEqual(token.status, "CLOSED")
        late = self.call("POST", "/api/task-tokens/success", {"taskToken": token.token, "output": "{}"})
        self.assertApiError(late, 400, "TaskTimedOut")

    def test_without_a_heartbeat_the_task_fails_with_states_heartbeat_timeout(self):
        execution = executions.start_execution(self.alice, self.approval(HeartbeatSeconds=1, TimeoutSeconds=600),
                                               json.dumps({"n": 1}))
        done = self.ended(execution)
        self.assertEqual((done.status, done.error), ("FAILED", "States.HeartbeatTimeout"))

    def test_a_heartbeat_moves_the_heartbeat_deadline(self):
        execution = executions.start_execution(self.alice, self.approval(HeartbeatSeconds=600), json.dumps({"n": 1}))
        token = self.waiting_token(execution)
        before = TaskToken.objects.get(token=token).heartbeat_deadline
        self.assertEqual(self.call("POST", "/api/task-tokens/heartbeat", {"taskToken": token}).status_code, 200)
        self.assertGreater(TaskToken.objects.get(token=token).heartbeat_deadline, before)
        services_stop = executions.stop_execution(self.alice, execution)
        self.assertEqual(services_stop.status, "ABORTED")
        self.assertEqual(TaskToken.objects.get(token=token).status, "CLOSED")
        self.assertApiError(self.call("POST", "/api/task-tokens/heartbeat", {"taskToken": token}), 400, "TaskTimedOut")

    def test_tasks_in_parallel_branches_park_the_execution_and_each_answer_is_taken(self):
        def branch(name):
            return {"StartAt": name, "States": {name: {
                "Type": "Task", "Resource": WAIT, "End": True,
                "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}}}}
        machine = self.machine("branches", {"Both": {"Type": "Parallel", "End": True,
                                                     "Branches": [branch("AskA"), branch("AskB")]}}, "Both")
        execution = executions.start_execution(self.alice, machine, "{}")
        # Both branches wait at once, and no process holds the execution meanwhile (it parked).
        tokens = wait_until(lambda: list(TaskToken.objects.filter(execution=execution, status="WAITING")
                                         .values_list("token", flat=True)) if ExecutionEvent.objects.filter(
            execution=execution, type="TaskSubmitted").count() == 2 and Execution.objects.get(
            pk=execution.pk).lease_owner == "" else None, 60, "both branches parked")
        for number, token in enumerate(tokens):
            self.call("POST", "/api/task-tokens/success", {"taskToken": token, "output": json.dumps(number)})
        done = self.ended(execution)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(sorted(json.loads(done.output)), [0, 1])


class NestedExecutionTests(CallbackCase):
    def parent(self, pattern, **parameters):
        child_arn = state_machine_arn(self.alice, "child")
        return self.machine("parent", {"Start": {
            "Type": "Task", "Resource": f"arn:aws:states:::states:startExecution{pattern}", "End": True,
            "Parameters": {"StateMachineArn": child_arn, "Input": {"n.$": "$.n",
                           "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}, **parameters}}},
            "Start")

    def child(self, states=None, start_at="Double"):
        states = states or {"Double": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                                       "End": True}}
        return self.machine("child", states, start_at)

    def test_sync_waits_for_the_child_and_takes_its_description_and_both_are_linked(self):
        self.child()
        parent = executions.start_execution(self.alice, self.parent(".sync"), json.dumps({"n": 4}))
        done = self.ended(parent)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        output = json.loads(done.output)
        self.assertEqual(output["Status"], "SUCCEEDED")
        self.assertEqual(json.loads(output["Output"]), {"doubled": 8})
        child = Execution.objects.get(parent=parent)
        self.assertEqual(child.parent_state, "Start")
        self.assertEqual(output["ExecutionArn"].rsplit(":", 1)[1], child.name)
        self.assertEqual(json.loads(child.input)["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"].rsplit(":", 1)[1],
                         parent.name)
        self.assertIn("TaskSubmitted", self.types(parent))
        links = self.call("GET", f"/api/executions/{parent.id}/callbacks").data
        self.assertEqual([(c["id"], c["state"]) for c in links["children"]], [(str(child.id), "Start")])
        back = self.call("GET", f"/api/executions/{child.id}/callbacks").data
        self.assertEqual(back["parent"]["id"], str(parent.id))

    def test_sync_2_gives_the_childs_output_as_json(self):
        self.child()
        parent = executions.start_execution(self.alice, self.parent(".sync:2"), json.dumps({"n": 3}))
        done = self.ended(parent)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(json.loads(done.output)["Output"], {"doubled": 6})

    def test_fire_and_forget_returns_the_start_response_at_once(self):
        self.child()
        parent = executions.start_execution(self.alice, self.parent("", Name="named-child"), json.dumps({"n": 1}))
        done = self.ended(parent)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        output = json.loads(done.output)
        self.assertTrue(output["ExecutionArn"].endswith(":child:named-child"))
        self.assertIsInstance(output["StartDate"], int)
        child = Execution.objects.get(name="named-child")
        self.assertEqual((child.parent_id, child.parent_token), (parent.id, ""))
        self.assertEqual(self.ended(child).status, "SUCCEEDED")

    def test_a_failed_child_fails_the_parents_task_with_states_task_failed(self):
        self.child({"Boom": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}}, "Boom")
        parent = executions.start_execution(self.alice, self.parent(".sync"), json.dumps({"n": 1}))
        done = self.ended(parent)
        self.assertEqual((done.status, done.error), ("FAILED", "States.TaskFailed"))
        cause = json.loads(done.cause)
        self.assertEqual((cause["Status"], cause["Error"]), ("FAILED", "Broken"))

    def test_the_child_answers_the_token_it_was_given(self):
        self.child({"Hold": {"Type": "Task", "Resource": WAIT, "End": True,
                             "Parameters": {"FunctionName": "notify", "Payload": {"t.$": "$$.Task.Token"}}}}, "Hold")
        child_arn = state_machine_arn(self.alice, "child")
        parent_machine = self.machine("parent", {"Start": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken", "End": True,
            "Parameters": {"StateMachineArn": child_arn, "Input": {"parentToken.$": "$$.Task.Token"}}}}, "Start")
        parent = executions.start_execution(self.alice, parent_machine, "{}")
        child = wait_until(lambda: Execution.objects.filter(parent=parent).first(), 60, "the child")
        token = json.loads(child.input)["parentToken"]
        self.call("POST", "/api/task-tokens/success", {"taskToken": token, "output": '{"from": "child"}'})
        done = self.ended(parent)
        self.assertEqual(done.status, "SUCCEEDED", done.cause)
        self.assertEqual(json.loads(done.output), {"from": "child"})
        self.assertEqual(Execution.objects.get(pk=child.pk).status, "RUNNING")   # it goes on by itself
        executions.stop_execution(self.alice, child)

    def test_stopping_the_parent_stops_its_running_sync_child(self):
        self.child({"Hold": {"Type": "Task", "Resource": WAIT, "End": True,
                             "Parameters": {"FunctionName": "notify", "Payload": {"t.$": "$$.Task.Token"}}}}, "Hold")
        parent = executions.start_execution(self.alice, self.parent(".sync"), json.dumps({"n": 1}))
        child = wait_until(lambda: Execution.objects.filter(parent=parent).first(), 60, "the child")
        self.waiting_token(child)
        executions.stop_execution(self.alice, parent)
        self.assertEqual(self.ended(parent).status, "ABORTED")
        self.assertEqual(self.ended(child).status, "ABORTED")

    def test_a_role_without_states_start_execution_fails_the_task(self):
        self.child()
        roles.put_role_policy(roles.get_role(self.alice, "runner"), "only-lambda", {
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "states:StartExecution",
                                                    "Resource": "*"}]})
        parent = executions.start_execution(self.alice, self.parent(".sync"), json.dumps({"n": 1}))
        done = self.ended(parent)
        self.assertEqual(done.status, "FAILED")
        self.assertIn("not authorized to perform: states:StartExecution", done.cause)
        self.assertFalse(Execution.objects.filter(parent=parent).exists())

    def test_another_persons_machine_cannot_be_started(self):
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        roles.create_role(self.bob, {"name": "runner", "policy": policy})
        self.machine("child", {"P": {"Type": "Pass", "End": True}}, "P", user=self.bob)
        parent = executions.start_execution(self.alice, self.parent(".sync", StateMachineArn=state_machine_arn(
            self.bob, "child")), json.dumps({"n": 1}))
        done = self.ended(parent)
        self.assertEqual((done.status, done.error), ("FAILED", "StepFunctions.StateMachineDoesNotExistException"))
        self.assertEqual(Execution.objects.filter(machine__owner=self.bob).count(), 0)


class TokenStoreTests(CallbackCase):
    def test_a_tokens_attempt_is_issued_once_and_a_new_attempt_closes_the_earlier_ones(self):
        from editor.services import task_tokens

        execution = executions.start_execution(self.alice, self.approval(), json.dumps({"n": 1}))
        first = self.waiting_token(execution)
        self.assertEqual(task_tokens.issue(execution.id, "Ask", 2, 0, kind="callback", heartbeat=None, timeout=None),
                         first)
        second = task_tokens.issue(execution.id, "Ask", 2, 1, kind="callback", heartbeat=None, timeout=None)
        self.assertNotEqual(second, first)
        self.assertEqual(TaskToken.objects.get(token=first).status, "CLOSED")
        self.assertApiError(self.call("POST", "/api/task-tokens/success", {"taskToken": first, "output": "1"}),
                            400, "TaskTimedOut")
        executions.stop_execution(self.alice, execution)

    def test_an_answer_given_while_the_run_parks_dispatches_it_once_parked(self):
        from editor.services import task_tokens

        execution = executions.start_execution(self.alice, self.approval(), json.dumps({"n": 1}))
        token = self.waiting_token(execution)
        self.assertFalse(task_tokens.claim_answered(execution.id))   # no answer yet
        # The answer is stored while a run holds the execution (its lease): nobody dispatches it.
        Execution.objects.filter(pk=execution.pk).update(lease_owner="someone")
        self.call("POST", "/api/task-tokens/success", {"taskToken": token, "output": '"late"'})
        self.assertEqual(TaskToken.objects.get(token=token).status, "ANSWERED")
        self.assertEqual(Execution.objects.get(pk=execution.pk).status, "RUNNING")
        # Once it has parked, the answer it has not taken queues it again.
        Execution.objects.filter(pk=execution.pk).update(lease_owner="")
        self.assertTrue(task_tokens.claim_answered(execution.id))
        from editor.services.executor import dispatch

        dispatch(execution.id)
        done = self.ended(execution)
        self.assertEqual((done.status, json.loads(done.output)), ("SUCCEEDED", "late"))
