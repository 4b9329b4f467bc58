"""Resuming after a restart: an execution whose process stopped mid-Task continues from its stored
events in a fresh executor, with contiguous event ids and no completed state run again."""

import json
import socket

from editor import services
from editor.models import Execution, ExecutionEvent
from editor.services import executor as executor_module
from editor.services import executions, machines, roles
from editor.services.executor import get_executor, replace_executor, resume_running_executions
from tests.web.base import LiveWebTestCase

BLOCKS = (
    "import socket\n\n"
    "def lambda_handler(event, context):\n"
    "    connection = socket.create_connection(('127.0.0.1', event['port']))\n"
    "    connection.recv(1)\n"
    "    return {**event, 'released': True}\n"
)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


class ResumeTests(LiveWebTestCase):
    def setUp(self):
        super().setUp()
        function = services.create_function(self.alice, name="blocker", runtime="python")
        services.save_code(function, {"lambda_function.py": BLOCKS})
        services.update_configuration(function, {"timeout": 30, "network": True})
        services.deploy_function(function)
        roles.create_role(self.alice, {"name": "runner"})
        self.machine = machines.create_machine(self.alice, {
            "name": "flow", "type": "STANDARD", "role": "runner", "definition": json.dumps({
                "StartAt": "Before", "States": {
                    "Before": {"Type": "Pass", "Result": 1, "ResultPath": "$.before", "Next": "Block"},
                    "Block": {"Type": "Task", "Resource": ARN + "blocker", "Next": "After",
                              "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1}]},
                    "After": {"Type": "Pass", "End": True}}})})
        machines.publish_version(self.machine)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(30)
        self.addCleanup(self.listener.close)

    def entered(self, execution_id):
        return [e.details["stateEnteredEventDetails"]["name"] for e in
                ExecutionEvent.objects.filter(execution_id=execution_id, type__endswith="StateEntered")
                .order_by("event_id")]

    def test_a_running_execution_continues_in_a_fresh_executor(self):
        port = self.listener.getsockname()[1]
        execution = executions.start_execution(self.alice, self.machine, json.dumps({"port": port}))
        first, _ = self.listener.accept()            # the Task runs in the first executor
        self.addCleanup(first.close)
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
        old.shutdown(wait=True)
        second.close()
        execution.refresh_from_db()
        self.assertEqual(execution.status, Execution.Status.SUCCEEDED)
        self.assertEqual(json.loads(execution.output), {"port": port, "before": 1, "released": True})
        ids = list(ExecutionEvent.objects.filter(execution=execution).order_by("event_id")
                   .values_list("event_id", flat=True))
        self.assertEqual(ids, list(range(1, len(ids) + 1)))
        self.assertGreater(len(ids), before)
        # The Task's visit goes on (no second Entered): its cut attempt failed as the service
        # would, and its Retry rule ran it again.
        self.assertEqual(self.entered(execution.id), ["Before", "Block", "After"])
        failed = ExecutionEvent.objects.get(execution=execution, type="LambdaFunctionFailed")
        self.assertEqual(failed.details["lambdaFunctionFailedEventDetails"]["error"], "Lambda.ServiceException")
        self.assertEqual(execution.invocations.count(), 2)

    def test_an_execution_whose_last_event_ended_it_is_finished_not_rerun(self):
        port = self.listener.getsockname()[1]
        execution = executions.start_execution(self.alice, self.machine, json.dumps({"port": port}))
        connection, _ = self.listener.accept()
        connection.sendall(b"x")
        get_executor().wait(execution.id)
        connection.close()
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

    def test_the_first_call_from_a_server_resumes_once(self):
        import asyncio
        import threading
        from unittest import mock

        resumed = []
        done = threading.Event()
        wrapped = executor_module.ResumeOnStart(lambda scope, receive, send: _done())
        with mock.patch.object(executor_module, "_resume_in_background",
                               lambda: (resumed.append(1), done.set())):
            for _ in range(3):
                asyncio.run(wrapped({"type": "http", "server": ("127.0.0.1", 8000)}, None, None))
            self.assertTrue(done.wait(10))
        self.assertEqual(resumed, [1])

    def test_resume_on_start_ignores_test_clients(self):
        calls = []
        wrapped = executor_module.ResumeOnStart(lambda scope, receive, send: calls.append(scope) or _done())
        import asyncio

        asyncio.run(wrapped({"type": "http"}, None, None))
        self.assertFalse(wrapped._started)
        self.assertEqual(len(calls), 1)


async def _done():
    return None
