"""Executions through the executor, with real functions in the real runner: the seed machine's
routes, roles that refuse a Task, stop, redrive, bad input and Alice's executions hidden from Bob."""

import json
from unittest import mock

from editor import services
from editor.models import Execution, ExecutionEvent, Invocation
from editor.services.accounts import function_arn
from editor.services.executor import get_executor
from editor.services.samples import load_sample_machine, load_samples
from tests.web.base import LiveWebTestCase

FAILS = "def lambda_handler(event, context):\n    raise RuntimeError('not yet')\n"
WORKS = "def lambda_handler(event, context):\n    return {**event, 'called': True}\n"


def entered(execution_id):
    return [e.details["stateEnteredEventDetails"]["name"]
            for e in ExecutionEvent.objects.filter(execution_id=execution_id, type__endswith="StateEntered")
            .order_by("event_id")]


class ExecutionTestCase(LiveWebTestCase):
    def setUp(self):
        super().setUp()
        self.arn = function_arn(self.alice, "")   # Tasks name Alice's own account's functions

    def start(self, machine, body, status=201):
        response = self.call("POST", f"/api/state-machines/{machine}/executions", body)
        self.assertEqual(response.status_code, status, response.content)
        return response.data

    def run_to_end(self, machine, body):
        started = self.start(machine, body)
        get_executor().wait(started["id"])
        return self.call("GET", f"/api/executions/{started['id']}").data

    def assertContiguous(self, execution_id):
        ids = list(ExecutionEvent.objects.filter(execution_id=execution_id).order_by("event_id")
                   .values_list("event_id", flat=True))
        self.assertEqual(ids, list(range(1, len(ids) + 1)))

    def machine(self, name, definition, role="runner"):
        response = self.call("POST", "/api/state-machines", {"name": name, "type": "STANDARD", "role": role,
                                                              "definition": json.dumps(definition)})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.call("POST", f"/api/state-machines/{name}/versions").status_code, 201)


class SeedMachineTests(ExecutionTestCase):
    def setUp(self):
        super().setUp()
        load_samples(self.alice)
        self.assertEqual(load_sample_machine(self.alice), ["flowbench-sample-role", "youth-football-training"])

    def test_each_position_runs_its_two_trainings_end_to_end(self):
        routes = {"공격수": ["공격 훈련", "볼 경합 훈련"], "미드필더": ["패스 훈련", "프리킥 훈련"],
                  "수비수": ["수비 훈련", "볼 경합 훈련"]}
        for position, trainings in routes.items():
            data = self.run_to_end("youth-football-training", {"input": json.dumps({"TraningType": position})})
            self.assertEqual(data["status"], "SUCCEEDED", data)
            self.assertEqual(entered(data["id"]), ["훈련", *trainings])
            self.assertEqual(data["transitions"], 3)
            output = json.loads(data["output"])
            self.assertEqual([t["drill"] for t in output["trainings"]], trainings)
            self.assertContiguous(data["id"])
            invocations = self.call("GET", f"/api/executions/{data['id']}/invocations").data["invocations"]
            self.assertEqual([i["state"] for i in invocations], trainings)
            self.assertTrue(all(i["status"] == "succeeded" and i["logs"] for i in invocations))
            self.assertEqual(Invocation.objects.filter(execution_id=data["id"], source="state_machine").count(), 2)

    def test_tasks_in_parallel_branches_run_and_record_their_states(self):
        self.machine("both", {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Attack", "States": {"Attack": {"Type": "Task", "Resource": self.arn + "attack-training",
                                                        "End": True}}},
            {"StartAt": "Defence", "States": {"Defence": {"Type": "Task", "Resource": self.arn + "defence-training",
                                                          "End": True}}}]}}}, role="flowbench-sample-role")
        data = self.run_to_end("both", {"input": '{"TraningType": "수비수"}'})
        self.assertEqual(data["status"], "SUCCEEDED", data)
        self.assertEqual([b["lastDrill"] for b in json.loads(data["output"])], ["공격 훈련", "수비 훈련"])
        self.assertContiguous(data["id"])
        self.assertEqual(sorted(Invocation.objects.filter(execution_id=data["id"]).values_list("state_name", flat=True)),
                         ["Attack", "Defence"])

    def test_an_unknown_position_fails_with_no_choice_matched(self):
        data = self.run_to_end("youth-football-training", {"input": '{"TraningType": "골키퍼"}'})
        self.assertEqual((data["status"], data["error"]), ("FAILED", "States.NoChoiceMatched"))
        events = self.call("GET", f"/api/executions/{data['id']}/events").data["events"]
        self.assertEqual(events[-1]["type"], "ExecutionFailed")
        self.assertEqual(events[-1]["executionFailedEventDetails"]["error"], "States.NoChoiceMatched")
        self.assertEqual(events[0]["type"], "ExecutionStarted")
        self.assertEqual(set(events[0]), {"id", "previousEventId", "timestamp", "type",
                                          "executionStartedEventDetails"})
        later = self.call("GET", f"/api/executions/{data['id']}/events?after=2").data["events"]
        self.assertEqual([e["id"] for e in later], [e["id"] for e in events[2:]])


class RoleAtRunTimeTests(ExecutionTestCase):
    def setUp(self):
        super().setUp()
        load_samples(self.alice)
        self.call("POST", "/api/roles", {"name": "runner", "policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": self.arn + "attack-*"}]}})

    def test_a_task_the_role_does_not_allow_fails_as_aws_fails_it_and_a_catch_takes_it(self):
        self.machine("caught", {"StartAt": "Pass drill", "States": {
            "Pass drill": {"Type": "Task", "Resource": self.arn + "passing-training", "Next": "Done",
                           "Catch": [{"ErrorEquals": ["Lambda.AWSLambdaException"], "ResultPath": "$.denied",
                                      "Next": "Refused"}]},
            "Refused": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"}}})
        data = self.run_to_end("caught", {"input": "{}"})
        self.assertEqual(data["status"], "SUCCEEDED")
        self.assertEqual(entered(data["id"]), ["Pass drill", "Refused"])
        denied = json.loads(data["output"])["denied"]
        self.assertEqual(denied["Error"], "Lambda.AWSLambdaException")
        self.assertIn("assumed-role/runner/", denied["Cause"])
        self.assertIn("is not authorized to perform: lambda:InvokeFunction on resource: "
                      f"{self.arn}passing-training because no identity-based policy allows the "
                      "lambda:InvokeFunction action", denied["Cause"])
        self.assertFalse(Invocation.objects.exists())

    def test_a_task_naming_another_accounts_function_finds_nothing_even_with_one_of_that_name(self):
        bobs = function_arn(self.bob, "attack-training")
        self.call("POST", "/api/roles", {"name": "anything", "policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}})
        self.machine("borrow", {"StartAt": "Attack", "States": {
            "Attack": {"Type": "Task", "Resource": bobs, "End": True}}}, role="anything")
        data = self.run_to_end("borrow", {"input": "{}"})
        self.assertEqual((data["status"], data["error"]), ("FAILED", "Lambda.ResourceNotFoundException"))
        self.assertIn(f"Function not found: {bobs}", data["cause"])
        self.assertFalse(Invocation.objects.exists())   # Alice's own attack-training did not run

    def test_an_allowed_task_runs_and_a_denied_one_fails_the_execution(self):
        self.machine("plain", {"StartAt": "Attack", "States": {
            "Attack": {"Type": "Task", "Resource": self.arn + "attack-training", "Next": "Defence"},
            "Defence": {"Type": "Task", "Resource": self.arn + "defence-training", "End": True}}})
        data = self.run_to_end("plain", {"input": '{"TraningType": "공격수"}'})
        self.assertEqual((data["status"], data["error"]), ("FAILED", "Lambda.AWSLambdaException"))
        self.assertEqual(Invocation.objects.get().state_name, "Attack")


class ExecutionLifecycleTests(ExecutionTestCase):
    def setUp(self):
        super().setUp()
        self.call("POST", "/api/roles", {"name": "runner"})

    def test_a_stop_that_comes_as_the_run_parks_aborts_it_at_once(self):
        """The stop comes while the run that parks in a long Wait has given its lease back (here:
        as it sets its wake-up): it is aborted then, not when the Wait is due."""
        from editor.services import leases
        from editor.services.executions import stop_execution

        self.machine("waits", {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1000, "End": True}}})
        wake_at, stopped = leases.Keeper.wake_at, []

        def stop_then_wake(keeper, execution_id, when):
            if not stopped:
                stopped.append(stop_execution(self.alice, Execution.objects.get(pk=execution_id), "Manual", "now"))
            wake_at(keeper, execution_id, when)

        with mock.patch.object(leases.Keeper, "wake_at", stop_then_wake):
            started = self.start("waits", {"input": "{}"})
            get_executor().wait(started["id"])
        self.assertEqual(len(stopped), 1)
        data = self.call("GET", f"/api/executions/{started['id']}").data
        self.assertEqual((data["status"], data["error"], data["cause"]), ("ABORTED", "Manual", "now"))
        events = self.call("GET", f"/api/executions/{started['id']}/events").data["events"]
        self.assertEqual([e["type"] for e in events][-2:], ["WaitStateEntered", "ExecutionAborted"])
        self.assertContiguous(started["id"])

    def test_stop_aborts_a_running_execution(self):
        self.machine("waits", {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1000, "End": True}}})
        started = self.start("waits", {"input": "{}", "name": "long-one"})
        self.assertEqual(started["status"], "RUNNING")
        running = self.call("GET", "/api/state-machines/waits/executions?status=RUNNING").data["executions"]
        self.assertEqual([e["name"] for e in running], ["long-one"])
        stopped = self.call("POST", f"/api/executions/{started['id']}/stop", {"error": "Manual", "cause": "enough"})
        self.assertEqual(stopped.status_code, 200, stopped.content)
        get_executor().wait(started["id"])
        data = self.call("GET", f"/api/executions/{started['id']}").data
        self.assertEqual((data["status"], data["error"], data["cause"]), ("ABORTED", "Manual", "enough"))
        events = self.call("GET", f"/api/executions/{started['id']}/events").data["events"]
        self.assertEqual(events[-1]["type"], "ExecutionAborted")
        self.assertContiguous(started["id"])
        self.assertApiError(self.call("POST", f"/api/executions/{started['id']}/stop"), 409, "ExecutionNotRunning")

    def test_redrive_continues_a_failed_execution_from_the_failed_state(self):
        function = self.make_function(name="flaky")
        services.save_code(function, {"lambda_function.py": FAILS})
        services.deploy_function(function)
        self.machine("redriven", {"StartAt": "Prepare", "States": {
            "Prepare": {"Type": "Pass", "Result": {"n": 1}, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": self.arn + "flaky", "End": True}}})
        failed = self.run_to_end("redriven", {"input": "{}"})
        self.assertEqual((failed["status"], failed["error"]), ("FAILED", "RuntimeError"))
        self.assertApiError(self.call("POST", f"/api/executions/{failed['id']}/stop"), 409)
        services.save_code(function, {"lambda_function.py": WORKS})
        services.deploy_function(function)
        redriven = self.call("POST", f"/api/executions/{failed['id']}/redrive")
        self.assertEqual(redriven.status_code, 200, redriven.content)
        self.assertEqual(redriven.data["redrive_count"], 1)
        get_executor().wait(failed["id"])
        data = self.call("GET", f"/api/executions/{failed['id']}").data
        self.assertEqual(data["status"], "SUCCEEDED", data)
        self.assertEqual(json.loads(data["output"]), {"n": 1, "called": True})
        self.assertEqual(entered(failed["id"]), ["Prepare", "Call", "Call"])
        self.assertEqual(data["transitions"], 3)
        types = [e["type"] for e in self.call("GET", f"/api/executions/{failed['id']}/events").data["events"]]
        self.assertEqual(types[types.index("ExecutionFailed"):types.index("ExecutionFailed") + 3],
                         ["ExecutionFailed", "ExecutionRedriven", "TaskStateEntered"])
        self.assertContiguous(failed["id"])
        self.assertApiError(self.call("POST", f"/api/executions/{failed['id']}/redrive"), 409,
                            "ExecutionNotRedrivable")

    def test_bad_starts_are_refused_with_their_field(self):
        self.machine("pass", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        self.start("pass", {"input": "{}", "name": "once"})
        big = json.dumps({"blob": "x" * (256 * 1024)})
        cases = [
            ({"input": "{nope"}, 400, "InvalidJson", "input"),
            ({"input": big}, 400, "InputTooLarge", "input"),
            ({"input": "{}", "name": "once"}, 409, "ExecutionAlreadyExists", "name"),
            ({"input": "{}", "name": "has space"}, 400, "InvalidName", "name"),
            ({"input": "{}", "name": "x" * 81}, 400, "InvalidName", "name"),
            ({"input": "{}", "version": 7}, 404, "ResourceNotFound", "version"),
            ({"input": "{}", "version": "one"}, 400, "InvalidType", "version"),
            ({"input": "{}", "colour": 1}, 400, "UnknownField", "colour"),
        ]
        for body, status, code, field in cases:
            self.assertApiError(self.call("POST", "/api/state-machines/pass/executions", body), status, code, field)
        self.assertApiError(self.call("POST", "/api/state-machines/pass/executions", raw=b"[1"), 400, "InvalidJson")
        deep = "[" * 100_000 + "]" * 100_000
        self.assertApiError(self.call("POST", "/api/state-machines/pass/executions", {"input": deep}), 400,
                            "InvalidJson", "input")
        self.assertApiError(self.call("POST", "/api/state-machines/pass/executions",
                                      raw=('{"input": ' + deep + "}").encode()), 400, "InvalidJson")
        self.call("POST", "/api/state-machines", {"name": "unpublished", "type": "STANDARD", "role": "runner"})
        self.assertApiError(self.call("POST", "/api/state-machines/unpublished/executions", {"input": "{}"}), 409,
                            "NoVersion")
        self.assertEqual(Execution.objects.count(), 1)
        for path in ("", "/events", "/invocations"):
            self.assertApiError(self.call("GET", f"/api/executions/not-a-uuid{path}"), 404)
            self.assertApiError(self.call("GET", f"/api/executions/7d1b8a52-2f7e-4b8e-9a51-0c7f1d2e3a4b{path}"), 404)
        self.assertApiError(self.call("GET", "/api/state-machines/pass/executions?status=DONE"), 400, "InvalidStatus")

    def test_recent_inputs_are_the_last_five_distinct(self):
        self.machine("pass", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        for n in [1, 2, 2, 3, 4, 5, 6]:
            get_executor().wait(self.start("pass", {"input": json.dumps({"n": n})})["id"])
        inputs = self.call("GET", "/api/state-machines/pass/recent-inputs").data["inputs"]
        self.assertEqual([json.loads(i)["n"] for i in inputs], [6, 5, 4, 3, 2])

    def test_bob_cannot_see_stop_or_redrive_alices_executions(self):
        self.machine("pass", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        data = self.run_to_end("pass", {"input": '{"secret": 1}'})
        self.assertEqual(data["status"], "SUCCEEDED")
        self.assertEqual(data["machine"], "pass")
        self.assertIn("digraph", data["dot"])
        for method, path in [("GET", ""), ("GET", "/events"), ("GET", "/invocations"), ("POST", "/stop"),
                             ("POST", "/redrive")]:
            self.assertApiError(self.call(method, f"/api/executions/{data['id']}{path}", {}, client=self.bob_client),
                                404)


class DeleteWithHistoryTests(ExecutionTestCase):
    def test_a_machine_with_finished_executions_is_deleted_with_them_and_its_role_is_free_again(self):
        self.call("POST", "/api/roles", {"name": "runner"})
        self.machine("pass", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        self.run_to_end("pass", {"input": "{}"})
        self.assertApiError(self.call("DELETE", "/api/roles/runner"), 409, "RoleInUse")
        self.assertEqual(self.call("DELETE", "/api/state-machines/pass").status_code, 204)
        self.assertFalse(Execution.objects.exists())
        self.assertFalse(ExecutionEvent.objects.exists())
        self.assertEqual(self.call("DELETE", "/api/roles/runner").status_code, 204)
