"""Resuming after a restart or a stop. An execution whose process died mid-Task continues from its
stored events in a fresh executor, with contiguous event ids and no completed state run again. A
process that is told to stop hands its running executions back: still RUNNING, every event it
emitted written, its lease due at once, and the next executor continues each one where it stood.
The server's start and stop hooks (flowbench.lifecycle) drive this through the ASGI lifespan."""

import asyncio
import json
import socket
import threading
from datetime import datetime, timedelta, timezone

from editor import services
from editor.models import Execution, ExecutionEvent
from editor.services import executions, machines, roles
from editor.services.accounts import function_arn
from editor.services.executor import get_executor, replace_executor, resume_running_executions
from flowbench import lifecycle
from tests.integration.cluster import wait_until
from tests.web.base import LiveWebTestCase

BLOCKS = (
    "import socket\n\n"
    "def lambda_handler(event, context):\n"
    "    connection = socket.create_connection(('127.0.0.1', event['port']))\n"
    "    connection.recv(1)\n"
    "    return {**event, 'released': True}\n"
)


class BlockingTaskCase(LiveWebTestCase):
    """Alice's function `blocker` answers once the test sends a byte on the connection it opens
    to self.listener; her role `runner` may call it."""

    def setUp(self):
        super().setUp()
        replace_executor()
        self.addCleanup(replace_executor)
        function = services.create_function(self.alice, name="blocker", runtime="python")
        services.save_code(function, {"lambda_function.py": BLOCKS})
        services.update_configuration(function, {"timeout": 60, "network": True})
        services.deploy_function(function)
        roles.create_role(self.alice, {"name": "runner"})
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(60)
        self.addCleanup(self.listener.close)
        self.port = self.listener.getsockname()[1]

    def machine(self, name, states, start_at):
        machine = machines.create_machine(self.alice, {
            "name": name, "type": "STANDARD", "role": "runner",
            "definition": json.dumps({"StartAt": start_at, "States": states})})
        machines.publish_version(machine)
        return machine

    def task_machine(self, before=False):
        """Block (the function, retried on Lambda.ServiceException) then After; with `before`, a
        Pass named Before first."""
        states = {"Block": {"Type": "Task", "Resource": function_arn(self.alice, "blocker"), "Next": "After",
                            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1}]},
                  "After": {"Type": "Pass", "End": True}}
        if before:
            states["Before"] = {"Type": "Pass", "Result": 1, "ResultPath": "$.before", "Next": "Block"}
        return self.machine("task", states, "Before" if before else "Block")

    def start_blocked(self, **options):
        """Starts the Task machine; returns the execution and the function's open connection."""
        execution = executions.start_execution(self.alice, self.task_machine(**options),
                                               json.dumps({"port": self.port}))
        call, _ = self.listener.accept()
        self.addCleanup(call.close)
        return execution, call

    def history(self, execution):
        return [e.as_event() for e in ExecutionEvent.objects.filter(execution=execution).order_by("event_id")]

    def types(self, execution):
        return [e["type"] for e in self.history(execution)]

    def entered(self, execution):
        return [e["stateEnteredEventDetails"]["name"] for e in self.history(execution)
                if e["type"].endswith("StateEntered")]

    def assertOneHistory(self, execution):
        """Contiguous event ids, each state entered once."""
        ids = [e["id"] for e in self.history(execution)]
        self.assertEqual(ids, list(range(1, len(ids) + 1)))
        entered = self.entered(execution)
        self.assertEqual(len(entered), len(set(entered)), entered)


class ResumeTests(BlockingTaskCase):
    """The process dies (its executor is abandoned) and a new one resumes what it left."""

    def test_a_running_execution_continues_in_a_fresh_executor(self):
        execution, first = self.start_blocked(before=True)     # the Task runs in the first executor
        before = ExecutionEvent.objects.filter(execution=execution).count()
        old = get_executor()
        replace_executor()                            # the process "dies"; a new one starts
        self.assertEqual(resume_running_executions(), [str(execution.id)])
        second, _ = self.listener.accept()           # the interrupted Task is retried
        # The cut attempt's invocation is not left "running": the resumed run closed it (a dead
        # worker never records it; this test's old run, still alive, records its outcome later).
        cut = execution.invocations.order_by("started_at").first()
        self.assertEqual((cut.status, cut.error["errorType"]), ("failed", "ServiceException"))
        second.sendall(b"x")
        get_executor().wait(execution.id)
        first.sendall(b"x")                           # the old run wakes up: it must write nothing
        old.wait(execution.id)
        second.close()
        execution.refresh_from_db()
        self.assertEqual(execution.status, Execution.Status.SUCCEEDED)
        self.assertEqual(json.loads(execution.output), {"port": self.port, "before": 1, "released": True})
        self.assertOneHistory(execution)
        self.assertGreater(len(self.history(execution)), before)
        # The Task's visit goes on (no second Entered): its cut attempt failed as the service
        # would, and its Retry rule ran it again.
        self.assertEqual(self.entered(execution), ["Before", "Block", "After"])
        # Its transitions count the states entered by both runs (the resumed run counts on from
        # the history it read).
        self.assertEqual(execution.transitions, 3)
        failed = ExecutionEvent.objects.get(execution=execution, type="LambdaFunctionFailed")
        self.assertEqual(failed.details["lambdaFunctionFailedEventDetails"]["error"], "Lambda.ServiceException")
        self.assertEqual(execution.invocations.count(), 2)

    def test_an_execution_whose_last_event_ended_it_is_finished_not_rerun(self):
        execution, call = self.start_blocked(before=True)
        call.sendall(b"x")
        get_executor().wait(execution.id)
        execution.refresh_from_db()
        self.assertEqual(execution.status, "SUCCEEDED")
        # As if the process died between writing the last event and the status.
        Execution.objects.filter(pk=execution.pk).update(status="RUNNING", stopped_at=None, output=None)
        replace_executor()
        resume_running_executions()
        get_executor().wait(execution.id)
        execution.refresh_from_db()
        self.assertEqual(execution.status, "SUCCEEDED")
        self.assertEqual(json.loads(execution.output)["released"], True)
        self.assertEqual(ExecutionEvent.objects.filter(execution=execution, type="ExecutionSucceeded").count(), 1)
        self.assertEqual(execution.invocations.count(), 1)


class StopTests(BlockingTaskCase):
    """The process is told to stop (SIGTERM): Executor.stop hands its runs back."""

    def assertHandedBack(self, execution, token_before):
        execution.refresh_from_db()
        self.assertEqual(execution.status, "RUNNING")
        self.assertEqual(execution.lease_owner, "")
        self.assertGreater(execution.lease_token, token_before)
        self.assertLessEqual(execution.lease_until, datetime.now(timezone.utc))
        self.assertNotIn("ExecutionAborted", self.types(execution))

    def resume(self, execution):
        replace_executor()
        self.assertIn(str(execution.id), resume_running_executions())
        get_executor().wait(execution.id)
        execution.refresh_from_db()

    def token(self, execution):
        return Execution.objects.get(pk=execution.pk).lease_token

    def test_a_run_in_a_wait_is_handed_back_at_once_and_the_next_start_waits_only_what_is_left(self):
        # Shorter than the lease (a longer Wait parks, holding no thread to hand back).
        machine = self.machine("wait", {"Hold": {"Type": "Wait", "Seconds": 20, "Next": "After"},
                                        "After": {"Type": "Pass", "End": True}}, "Hold")
        execution = executions.start_execution(self.alice, machine, "{}")
        wait_until(lambda: "WaitStateEntered" in self.types(execution), 30, "the Wait to be entered")
        token = self.token(execution)

        self.assertEqual(get_executor().stop(grace=30), 1)

        self.assertHandedBack(execution, token)
        self.assertEqual(self.types(execution)[-1], "WaitStateEntered")
        # The process was down for a while: the Wait is due when the next one starts.
        entered = ExecutionEvent.objects.get(execution=execution, type="WaitStateEntered")
        entered.timestamp = (datetime.now(timezone.utc) - timedelta(seconds=21)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        entered.save()
        self.resume(execution)
        self.assertEqual(execution.status, "SUCCEEDED")
        self.assertOneHistory(execution)

    def test_a_function_that_answers_within_the_grace_keeps_its_result(self):
        execution, call = self.start_blocked()
        token = self.token(execution)
        stopped = []
        stopper = threading.Thread(target=lambda: stopped.append(get_executor().stop(grace=60)))
        stopper.start()
        wait_until(lambda: get_executor().stopping, 10, "the stop to begin")
        call.sendall(b"x")                      # the function answers during the grace
        stopper.join(60)

        self.assertEqual(stopped, [1])
        self.assertHandedBack(execution, token)
        self.assertEqual(self.types(execution)[-2:], ["LambdaFunctionSucceeded", "TaskStateExited"])
        self.resume(execution)
        self.assertEqual(execution.status, "SUCCEEDED")
        self.assertEqual(json.loads(execution.output)["released"], True)
        self.assertEqual(execution.invocations.count(), 1)      # the function ran once
        self.assertOneHistory(execution)

    def test_a_function_still_running_after_the_grace_is_retried_by_the_next_start(self):
        execution, first = self.start_blocked()
        token = self.token(execution)
        old = get_executor()

        self.assertEqual(old.stop(grace=0), 1)

        self.assertHandedBack(execution, token)
        stored = self.types(execution)
        first.sendall(b"x")                     # the old run's function answers late
        old.wait(execution.id)
        self.assertEqual(self.types(execution), stored)          # and it wrote nothing more
        replace_executor()
        resume_running_executions()
        second, _ = self.listener.accept()
        second.sendall(b"x")
        get_executor().wait(execution.id)
        second.close()
        execution.refresh_from_db()
        self.assertEqual(execution.status, "SUCCEEDED")
        failed = ExecutionEvent.objects.get(execution=execution, type="LambdaFunctionFailed")
        self.assertEqual(failed.details["lambdaFunctionFailedEventDetails"]["error"], "Lambda.ServiceException")
        self.assertOneHistory(execution)
        # Both attempts' invocations name their state, the resumed one too.
        response = self.call("GET", f"/api/executions/{execution.id}/invocations")
        self.assertEqual([i["state"] for i in response.data["invocations"]], ["Block", "Block"])

    def test_a_stopping_executor_starts_nothing_and_the_next_start_runs_it(self):
        machine = self.machine("pass", {"Only": {"Type": "Pass", "End": True}}, "Only")
        get_executor().stop(grace=0)

        execution = executions.start_execution(self.alice, machine, "{}")
        get_executor().wait(execution.id)

        execution.refresh_from_db()
        self.assertEqual((execution.status, self.types(execution)), ("RUNNING", []))
        self.resume(execution)
        self.assertEqual(execution.status, "SUCCEEDED")


class LifespanTests(BlockingTaskCase):
    """The ASGI lifespan protocol, as servers other than daphne speak it."""

    def setUp(self):
        super().setUp()
        for flag in ("_started", "_stopped"):
            original = getattr(lifecycle, flag)
            setattr(lifecycle, flag, False)
            self.addCleanup(setattr, lifecycle, flag, original)

    def test_startup_resumes_what_was_left_running_and_shutdown_hands_runs_back(self):
        machine = self.machine("pass", {"Only": {"Type": "Pass", "End": True}}, "Only")
        get_executor().stop(grace=0)
        left = executions.start_execution(self.alice, machine, "{}")    # left RUNNING by a stopped process
        replace_executor()
        sent = []

        async def serve():
            messages = asyncio.Queue()
            for kind in ("lifespan.startup", "lifespan.shutdown"):
                messages.put_nowait({"type": kind})

            async def send(message):
                sent.append(message["type"])
                if message["type"] == "lifespan.startup.complete":
                    await asyncio.to_thread(wait_until, lambda: Execution.objects.get(pk=left.pk).status == "SUCCEEDED",
                                            30, "the left execution to be resumed")
            await lifecycle.Lifespan(None)({"type": "lifespan"}, messages.get, send)
        asyncio.run(serve())

        self.assertEqual(sent, ["lifespan.startup.complete", "lifespan.shutdown.complete"])
        self.assertTrue(get_executor().stopping)
        self.assertEqual(Execution.objects.get(pk=left.pk).status, "SUCCEEDED")
