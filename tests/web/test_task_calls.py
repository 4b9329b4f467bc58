"""What a Task's function call keeps and what it reads each time (editor.services.task_invoker), and
the group commit that writes the runs' events and Invocation rows together (editor.services.checkpoints).

The invoker keeps a version's spec, the account id and the role's decisions; these tests show that
what must apply at the next call still does: a redeploy, a role edit (within POLICY_SECONDS), and
that the Invocation is stored, running, before the function runs."""

import json
import threading
from types import SimpleNamespace
from unittest import mock

from editor import services
from editor.models import Execution, ExecutionEvent, Invocation
from editor.services import checkpoints, executions, leases, machines, roles
from editor.services.accounts import function_arn
from editor.services.executor import get_executor
from editor.services.task_invoker import POLICY_SECONDS, TaskInvoker
from tests.unit.functions.helpers import PY_GATED_WORKER, Gate
from tests.web.base import LiveWebTestCase
from tests.web.test_leases import OneExecution

ANSWERS = "def lambda_handler(event, context):\n    return {{'version': {}}}\n"


def started(event_id: int) -> dict:
    return {"id": event_id, "previousEventId": event_id - 1, "timestamp": "2024-01-01T00:00:00.000Z",
            "type": "ExecutionStarted" if event_id == 1 else "PassStateEntered", "details": {}}


class InvokerTests(LiveWebTestCase):
    """A TaskInvoker called twice, as one execution's Tasks call it."""

    def setUp(self):
        super().setUp()
        self.role = roles.create_role(self.alice, {"name": "runner"})
        self.function = self.make_function(name="answers")
        self.deploy(1)
        self.invoker = TaskInvoker(None, self.role, owner_id=self.alice.pk, session="tests")

    def deploy(self, number: int) -> None:
        services.save_code(self.function, {"lambda_function.py": ANSWERS.format(number)})
        services.deploy_function(self.function)

    def call(self):
        return self.invoker.invoke_function("answers", {}, state="Call").payload

    def test_a_redeploy_is_used_once_the_function_is_looked_up_again(self):
        self.assertEqual(self.call(), {"version": 1})
        self.deploy(2)
        self.assertEqual(self.call(), {"version": 1})   # looked up less than POLICY_SECONDS ago
        self.invoker._functions = {key: (*found[:2], found[2] - POLICY_SECONDS)   # POLICY_SECONDS went by
                                   for key, found in self.invoker._functions.items()}
        self.assertEqual(self.call(), {"version": 2})
        self.assertEqual(list(Invocation.objects.order_by("started_at").values_list("status", "response")),
                         [("succeeded", {"version": 1}), ("succeeded", {"version": 1}),
                          ("succeeded", {"version": 2})])

    def test_a_role_edit_that_denies_the_call_applies_once_the_policy_is_read_again(self):
        from runtime.asl import FunctionServiceError

        self.assertEqual(self.call(), {"version": 1})
        roles.put_role_policy(self.role, "deny", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*"}]})
        policy, read_at = self.invoker._policy
        self.invoker._policy = (policy, read_at - POLICY_SECONDS)   # POLICY_SECONDS went by
        with self.assertRaises(FunctionServiceError) as raised:
            self.call()
        self.assertEqual(raised.exception.error_type, "AccessDeniedException")
        self.assertIn("with an explicit deny", raised.exception.message)
        self.assertEqual(Invocation.objects.count(), 1)


class RunningInvocationTests(LiveWebTestCase):
    def test_a_tasks_invocation_is_stored_running_while_its_function_runs(self):
        gate = Gate()
        self.addCleanup(gate.close)
        function = self.make_function(name="gated")
        services.save_code(function, {"lambda_function.py": PY_GATED_WORKER})
        services.update_configuration(function, {"handler": "lambda_function.handler", "network": True,
                                                 "timeout": 30})
        services.deploy_function(function)
        roles.create_role(self.alice, {"name": "runner"})   # (its default policy lets it call Alice's functions)
        definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "End": True,
                                                             "Resource": function_arn(self.alice, "gated")}}}
        machine = machines.create_machine(self.alice, {"name": "calls", "type": "STANDARD", "role": "runner",
                                                       "definition": json.dumps(definition)})
        machines.publish_version(machine)
        execution = executions.start_execution(self.alice, machine, json.dumps(gate.port))
        gate.server.settimeout(30)
        waiting, _ = gate.server.accept()   # the function runs, and waits at the gate
        try:
            running = Invocation.objects.get(execution_id=execution.id)
            self.assertEqual((running.status, running.state_name, running.function_id), ("running", "Call", function.pk))
            self.assertEqual(list(ExecutionEvent.objects.filter(execution_id=execution.id).order_by("event_id")
                                  .values_list("type", flat=True))[-1], "LambdaFunctionStarted")
            listed = self.call("GET", f"/api/executions/{execution.id}/invocations").data["invocations"]
            self.assertEqual([(i["state"], i["status"]) for i in listed], [("Call", "running")])
        finally:
            waiting.sendall(b"go")
            waiting.close()
        get_executor().wait(execution.id)
        execution.refresh_from_db()
        self.assertEqual(execution.status, "SUCCEEDED", execution.cause)
        finished = Invocation.objects.get(execution_id=execution.id)
        self.assertEqual((finished.status, finished.response), ("succeeded", json.loads(execution.output)))


class GroupCommitTests(OneExecution):
    """Flushes of several runs written in one transaction, each under its own fencing token."""

    def setUp(self):
        super().setUp()
        self.executions = [self.execution] + [
            Execution.objects.create(machine=self.execution.machine, version=self.execution.version, name=f"e{i}",
                                     input="{}", lease_until=leases.queued_until()) for i in (2, 3)]

    def recorder(self, execution, token):
        recorder = checkpoints.EventRecorder(execution.pk, token)
        recorder.pending.append(started(1))
        return recorder

    def stored(self, execution):
        return list(ExecutionEvent.objects.filter(execution_id=execution.pk).values_list("event_id", flat=True))

    def test_one_transaction_writes_the_runs_that_hold_their_lease_and_refuses_the_one_that_lost_it(self):
        first, lost, third = self.executions
        tokens = [leases.acquire(e.pk) for e in self.executions]
        stale = tokens[1]
        leases.acquire(lost.pk, steal=True)   # another process took the second one
        kept = []
        recorders = [self.recorder(first, tokens[0]), self.recorder(lost, stale), self.recorder(third, tokens[2])]
        # (as `also` queues them, without waking the checkpointer thread, which would flush them now)
        recorders[1].writes += [(lambda: kept.append("written"), True), (lambda: kept.append("not kept"), False)]
        flushes = [checkpoints._Flush(r, r.pending, r.writes) for r in recorders]
        checkpoints._write_group(flushes)
        self.assertEqual([type(f.error) for f in flushes], [type(None), checkpoints.Abandoned, type(None)])
        self.assertEqual((self.stored(first), self.stored(lost), self.stored(third)), ([1], [], [1]))
        self.assertEqual(kept, [])   # the lost run's writes went nowhere in the group ...
        recorders[1].pending = [started(2)]
        with self.assertRaises(checkpoints.Abandoned):
            recorders[1].flush()
        self.assertEqual(kept, ["written"])   # ... and a kept one is made on its own when it flushes
        self.assertEqual(self.stored(lost), [])

    def test_the_results_of_a_group_are_stored_together_as_update_would_store_them(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from editor.services.invocations import record_result, result_fields

        function = services.create_function(self.alice, name="answers", runtime="python")
        version = services.deploy_function(function)
        tokens = [leases.acquire(e.pk) for e in self.executions]
        recorders = [self.recorder(e, t) for e, t in zip(self.executions, tokens)]
        made = [Invocation.objects.create(function=function, version=version, request={}, execution_id=e.pk, memory_mb=128,
                                          source=Invocation.Source.STATE_MACHINE) for e in self.executions]
        outcomes = [(SimpleNamespace(request_id="r-1", duration_ms=1.25, billed_ms=2, max_memory_mb=30, init_ms=None,
                                     logs=["START", "안녕 ✓"], error=None, payload={"n": 2 ** 62, "k": "공격수"}), None),
                    (SimpleNamespace(request_id="r-2", duration_ms=3.5, billed_ms=4, max_memory_mb=31, init_ms=12.5,
                                     logs="", error={"errorType": "Boom", "errorMessage": "no"}, payload=None), None),
                    (None, {"errorType": "ServiceException", "errorMessage": "gone"})]
        for invocation, recorder, (result, failure) in zip(made, recorders, outcomes):
            record_result(invocation, result, failure, recorder)
        flushes = [checkpoints._Flush(r, r.pending, r.writes) for r in recorders]
        with CaptureQueriesContext(connection) as queries:
            checkpoints._write_group(flushes)
        self.assertEqual([f.error for f in flushes], [None, None, None])
        # One statement per set of fields (the two answers, then the refused call), not per row.
        updates = [q["sql"] for q in queries if 'UPDATE "editor_invocation"' in q["sql"]]
        self.assertEqual([sql.split(" times:")[0] for sql in updates], ["2", "1"])
        # The same results stored through the ORM's update(), on copies, read back alike.
        now = timezone.now()
        for invocation, (result, failure) in zip(made, outcomes):
            copy = Invocation.objects.create(function=function, version=version, request={}, memory_mb=128,
                                             source=Invocation.Source.STATE_MACHINE)
            fields = {**result_fields(result, failure), "finished_at": now}
            Invocation.objects.filter(pk=copy.pk).update(**fields)
            Invocation.objects.filter(pk=invocation.pk).update(finished_at=now)
            stored, expected = Invocation.objects.get(pk=invocation.pk), Invocation.objects.get(pk=copy.pk)
            for name in fields:
                self.assertEqual(getattr(stored, name), getattr(expected, name), name)
        self.assertEqual(Invocation.objects.get(pk=made[0].pk).response, {"n": 2 ** 62, "k": "공격수"})
        self.assertEqual(Invocation.objects.get(pk=made[2].pk).status, "failed")

    def test_a_groups_new_rows_are_stored_as_bulk_create_would_store_them(self):
        function = services.create_function(self.alice, name="answers", runtime="python")
        version = services.deploy_function(function)

        def made():
            return Invocation(function=function, version=version, request={"선수": "김", "n": 2 ** 62, "x": None},
                              memory_mb=256, execution_id=self.execution.pk, state_name="Call 1",
                              source=Invocation.Source.STATE_MACHINE, lease_until=None, client_context=None)

        ours, theirs = [made(), made()], [made(), made()]
        checkpoints._insert_rows(Invocation, ours)
        Invocation.objects.bulk_create(theirs)
        fields = [f.attname for f in Invocation._meta.concrete_fields if f.attname not in ("id", "started_at")]
        for mine, expected in zip(ours, theirs):
            stored, wanted = Invocation.objects.get(pk=mine.pk), Invocation.objects.get(pk=expected.pk)
            self.assertEqual({f: getattr(stored, f) for f in fields}, {f: getattr(wanted, f) for f in fields})
            self.assertIsNotNone(stored.started_at)   # auto_now_add, as the ORM sets it
            self.assertFalse(mine._state.adding)

    def test_a_group_write_cut_by_an_unexpected_error_tells_every_run_it_failed(self):
        tokens = [leases.acquire(e.pk) for e in self.executions]
        flushes = [checkpoints._Flush(r, r.pending, r.writes)
                   for r in (self.recorder(e, t) for e, t in zip(self.executions, tokens))]
        with mock.patch.object(checkpoints, "store_rows", side_effect=RuntimeError("cut")):
            checkpoints._write_group(flushes)
        self.assertTrue(all(isinstance(f.error, RuntimeError) for f in flushes))
        self.assertEqual([self.stored(e) for e in self.executions], [[], [], []])

    def test_runs_checkpointing_at_once_each_get_all_their_events_stored(self):
        tokens = [leases.acquire(e.pk) for e in self.executions]
        recorders = [checkpoints.EventRecorder(e.pk, t) for e, t in zip(self.executions, tokens)]
        barrier = threading.Barrier(len(recorders))
        errors = []

        def run(recorder):
            try:
                for event_id in range(1, 21):
                    recorder(started(event_id))
                    if event_id % 5 == 0:
                        barrier.wait(10)
                        recorder.checkpoint()
            except BaseException as exc:   # shown by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(r,)) for r in recorders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(errors, [])
        for execution in self.executions:
            self.assertEqual(sorted(self.stored(execution)), list(range(1, 21)))
        self.assertTrue(all(not r.pending and not r.lost for r in recorders))
