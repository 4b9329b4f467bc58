"""Lambda's concurrency limits (editor.services.concurrency): an account's invocations at once, a
function's reserved concurrency as its own pool set aside from the account's; throttled past them
with TooManyRequestsException, through the Invoke API (429) and a state machine's Task alike."""

import json
import threading

from django.test import override_settings

from editor.models import Invocation
from editor.services import concurrency
from runtime.functions import TooManyRequestsException
from tests.unit.functions.helpers import PY_GATED_WORKER, Gate
from tests.web.base import LiveWebTestCase, WebTestCase


class PoolTests(WebTestCase):
    def test_a_reserved_function_has_its_own_pool_taken_from_its_accounts(self):
        reserved = self.make_function(name="reserved")
        reserved.reserved_concurrency = 3
        reserved.save()
        shared = self.make_function(name="shared")
        with override_settings(FLOWBENCH_ACCOUNT_CONCURRENCY=10):
            concurrency._reservations.clear()
            self.assertEqual(concurrency.pool_of(reserved), (f"fn:{reserved.pk}", 3))
            self.assertEqual(concurrency.pool_of(shared), (f"account:{self.alice.pk}", 7))
            bobs = self.make_function(user=self.bob, name="shared")
            self.assertEqual(concurrency.pool_of(bobs), (f"account:{self.bob.pk}", 10))

    def test_a_full_pool_throttles_and_gives_its_places_back(self):
        pool = ("test:a-pool", 2)
        with concurrency.slot(pool), concurrency.slot(pool):
            with self.assertRaises(TooManyRequestsException):
                with concurrency.slot(pool):
                    pass
        with concurrency.slot(pool), concurrency.slot(pool):
            pass


class ThrottleTests(LiveWebTestCase):
    def setUp(self):
        super().setUp()
        self.gate = Gate()
        self.addCleanup(self.gate.close)
        function = self.make_function(name="gated")
        self.call("PUT", "/api/functions/gated/code", {"files": {"lambda_function.py": PY_GATED_WORKER}})
        self.call("PUT", "/api/functions/gated/configuration",
                  {"handler": "lambda_function.handler", "network": True, "timeout": 30, "reserved_concurrency": 1})
        self.call("POST", "/api/functions/gated/deploy")
        function.refresh_from_db()
        self.function = function

    def test_past_its_reserved_concurrency_a_function_is_throttled_until_a_place_frees(self):
        first = {}
        running = threading.Thread(target=lambda: first.update(
            response=self.call("POST", "/api/functions/gated/invocations", self.gate.port)))
        running.start()
        # The first call waits at the gate: it holds the function's one place.
        self.gate.server.settimeout(30)
        connection, _ = self.gate.server.accept()
        throttled = self.call("POST", "/api/functions/gated/invocations", self.gate.port)
        self.assertApiError(throttled, 429, "TooManyRequestsException")
        connection.sendall(b"go")
        connection.close()
        running.join(30)
        self.assertEqual(first["response"].status_code, 200, first["response"].content)
        # The place came back: the next call runs.
        freed = threading.Thread(target=self.gate.open)
        freed.start()
        self.assertEqual(self.call("POST", "/api/functions/gated/invocations", self.gate.port).status_code, 200)
        freed.join(30)
        self.assertEqual(Invocation.objects.filter(function=self.function, status="failed").count(), 1)
        refused = Invocation.objects.get(function=self.function, status="failed")
        self.assertEqual(refused.error["errorType"], "TooManyRequestsException")

    def test_a_task_past_the_limit_fails_as_lambdas_throttle_does(self):
        from editor.services import executions, machines, roles
        from editor.services.executor import get_executor

        roles.create_role(self.alice, {"name": "runner"})
        arn = json.loads(self.call("GET", "/api/roles/default-policy").content)["policy"]["Statement"][0]["Resource"]
        machine = machines.create_machine(self.alice, {"name": "calls", "type": "STANDARD", "role": "runner",
                                                       "definition": json.dumps({"StartAt": "Call", "States": {
                                                           "Call": {"Type": "Task", "Resource": arn[:-1] + "gated",
                                                                    "End": True}}})})
        machines.publish_version(machine)
        with concurrency.slot(concurrency.pool_of(self.function)):   # another caller holds the one place
            execution = executions.start_execution(self.alice, machine, json.dumps(self.gate.port))
            get_executor().wait(execution.id)
        execution.refresh_from_db()
        self.assertEqual((execution.status, execution.error), ("FAILED", "Lambda.TooManyRequestsException"))
