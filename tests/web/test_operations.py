"""What operators read: /health/ for load balancers, /health/workers, and /metrics for Prometheus,
with figures the cluster's rows give (here, the embedded install)."""

import json

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from editor.models import Execution
from editor.services import executions, machines, roles
from editor.services.executor import get_executor, replace_executor, resume_running_executions
from tests.web.base import LiveWebTestCase


def metric(text: str, name: str, **labels) -> float:
    """Returns the value of one sample of the Prometheus text `text` (read with prometheus-client's
    own parser)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"no sample {name}{labels} in:\n{text[:3000]}")


class OperationsTests(LiveWebTestCase):
    def setUp(self):
        super().setUp()
        replace_executor()
        self.addCleanup(replace_executor)
        self.anonymous = Client()

    def machine(self):
        roles.create_role(self.alice, {"name": "runner"})
        machine = machines.create_machine(self.alice, {"name": "pass", "type": "STANDARD", "role": "runner",
                                                       "definition": json.dumps({"StartAt": "Only", "States": {
                                                           "Only": {"Type": "Pass", "End": True}}})})
        machines.publish_version(machine)
        return machine

    def test_health_answers_without_signing_in_and_names_its_checks(self):
        for path in ("/health/", "/health/workers"):
            response = self.anonymous.get(path, HTTP_ACCEPT="application/json")
            self.assertEqual(response.status_code, 200, response.content)
            self.assertIn("Database", json.dumps(response.json()))

    def test_metrics_count_executions_invocations_and_their_durations(self):
        machine = self.machine()
        done = executions.start_execution(self.alice, machine, "{}")
        get_executor().wait(done.id)
        function = self.make_function(name="hello")
        self.call("POST", "/api/functions/hello/test", {"event": {}})

        response = self.anonymous.get("/metrics")

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/plain"))
        text = response.content.decode()
        self.assertEqual(metric(text, "flowbench_executions_started_total"), 1)
        self.assertEqual(metric(text, "flowbench_executions_ended_total", status="SUCCEEDED"), 1)
        self.assertEqual(metric(text, "flowbench_executions_running"), 0)
        self.assertEqual(metric(text, "flowbench_invocations_total", source="test", status="succeeded"), 1)
        self.assertEqual(metric(text, "flowbench_invocation_duration_seconds_count", source="test"), 1)
        self.assertEqual(metric(text, "flowbench_invocation_duration_seconds_bucket", source="test", le="+Inf"), 1)
        self.assertEqual(metric(text, "flowbench_invocations_throttled_total", source="test"), 0)
        self.assertGreaterEqual(metric(text, "flowbench_history_events_total"), 4)
        self.assertEqual(metric(text, "flowbench_queue_depth"), 0)
        self.assertEqual(function.invocations.count(), 1)

    def test_an_execution_taken_up_from_a_dead_process_counts_as_resumed(self):
        machine = self.machine()
        get_executor().stop(grace=0)
        left = executions.start_execution(self.alice, machine, "{}")   # queued: no takeover
        Execution.objects.filter(pk=left.pk).update(lease_owner="gone:1:dead")   # held by a dead process
        replace_executor()
        resume_running_executions()
        get_executor().wait(left.id)

        text = self.anonymous.get("/metrics").content.decode()
        self.assertEqual(metric(text, "flowbench_executions_resumed_total"), 1)
        self.assertEqual(Execution.objects.get(pk=left.pk).status, "SUCCEEDED")
