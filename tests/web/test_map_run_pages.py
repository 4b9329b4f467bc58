"""The console's view of Distributed Map runs, on the real executor: a run's page and its JSON
(DescribeMapRun's figures, item counts, its children a page at a time, filterable by status), the
parent's callbacks naming its runs in place of their children, a child naming its run, and a
machine's executions listing none of the children (AWS lists them under their Map Run only)."""

from __future__ import annotations

import json
import uuid
from unittest import mock

from editor.models import Execution, ExecutionEvent, MapRun
from editor.services import executions, map_runs
from tests.integration.cluster import wait_until
from tests.web.test_map_runs import FAILING, distributed_map
from tests.web.test_task_tokens import WAIT, CallbackCase

# Items 1 and 3 fail; two failures are tolerated, so the run succeeds with 3 items succeeded.
ITEMS = [{"n": 0}, {"n": 1, "fail": True}, {"n": 2}, {"n": 3, "fail": True}, {"n": 4}]
NO_COUNTS = {"pending": 0, "running": 0, "succeeded": 0, "failed": 0, "timed_out": 0, "aborted": 0}


class MapRunPageCase(CallbackCase):
    def run_map(self, items=ITEMS, **fields) -> tuple[Execution, MapRun]:
        """Runs Alice's machine "fan" (a Distributed Map labelled "Fan" over FAILING) on `items` to
        its end; returns the parent and its run."""
        fields = {"ToleratedFailureCount": 2, "Label": "Fan", **fields}
        machine = self.machine("fan", distributed_map(FAILING, "Check", **fields), "Each")
        parent = self.ended(executions.start_execution(self.alice, machine, json.dumps(items)))
        return parent, MapRun.objects.get(execution=parent)

    def hold_map(self, items, **fields) -> tuple[Execution, MapRun]:
        """Starts Alice's machine "held" (a Distributed Map whose children wait on a task token no
        one answers) on `items`; returns the parent and its run once the first child waits. The
        run stays RUNNING until the parent is stopped."""
        states = {"Hold": {"Type": "Task", "Resource": WAIT, "End": True,
                           "Parameters": {"FunctionName": "notify", "Payload": {"t.$": "$$.Task.Token"}}}}
        machine = self.machine("held", distributed_map(states, "Hold", **fields), "Each")
        parent = executions.start_execution(self.alice, machine, json.dumps(items))
        child = wait_until(lambda: Execution.objects.filter(parent=parent).first(), 60, "the first child")
        self.waiting_token(child)
        return parent, MapRun.objects.get(execution=parent)

    def detail(self, parent, run, query="", client=None):
        return self.call("GET", f"/api/executions/{parent.pk}/map-runs/{run.pk}{query}", client=client)


class MapRunDetailTests(MapRunPageCase):
    def test_a_finished_run_shows_its_figures_counts_and_children_in_item_order(self):
        parent, run = self.run_map(MaxConcurrency=2)
        self.assertEqual(parent.status, "SUCCEEDED", parent.cause)
        response = self.detail(parent, run)
        self.assertEqual(response.status_code, 200, response.content[:500])
        data = response.data
        started = ExecutionEvent.objects.get(execution=parent, type="MapRunStarted")
        self.assertEqual(data["arn"], started.details["mapRunStartedEventDetails"]["mapRunArn"])
        self.assertEqual((data["id"], data["label"], data["state"], data["status"]), (str(run.pk), "Fan", "Each", "SUCCEEDED"))
        self.assertEqual((data["max_concurrency"], data["tolerated_failure_count"], data["tolerated_failure_percentage"]),
                         (2, 2, 0))
        self.assertEqual(data["execution"], {"id": str(parent.pk), "name": parent.name, "machine": "fan",
                                             "status": "SUCCEEDED"})
        self.assertEqual(data["counts"], {**NO_COUNTS, "succeeded": 3, "failed": 2, "total": 5})
        self.assertIsNotNone(data["started_at"])
        self.assertIsNotNone(data["stopped_at"])
        children = Execution.objects.filter(map_run=run).order_by("map_index")
        self.assertEqual(data["children"], [
            {"id": str(c.pk), "name": c.name, "index": n, "status": "FAILED" if n in (1, 3) else "SUCCEEDED",
             "started_at": c.started_at.isoformat(), "stopped_at": c.stopped_at.isoformat()}
            for n, c in enumerate(children)])
        self.assertEqual((data["page"], data["pages"], data["matching"], data["page_size"]), (1, 1, 5, 100))

    def test_the_arn_is_the_one_the_history_names_even_for_an_unlabelled_map_with_a_long_name(self):
        name = "Process every incoming order of the day in parallel"   # 51 characters, no Label
        machine = self.machine("long", {name: distributed_map(FAILING, "Check")["Each"]}, name)
        parent = self.ended(executions.start_execution(self.alice, machine, json.dumps([{"n": 1}])))
        run = MapRun.objects.get(execution=parent)
        self.assertEqual(run.label, name)
        started = ExecutionEvent.objects.get(execution=parent, type="MapRunStarted")
        arn = started.details["mapRunStartedEventDetails"]["mapRunArn"]
        self.assertTrue(arn.endswith(f":mapRun:long/{name}:{run.pk}"), arn)
        self.assertEqual(self.detail(parent, run).data["arn"], arn)

    def test_children_come_a_page_at_a_time_and_filtered_by_status(self):
        parent, run = self.run_map()
        with mock.patch.object(map_runs, "PAGE_SIZE", 2):
            pages = [self.detail(parent, run, f"?page={n}").data for n in (1, 2, 3, 4)]
            failed = self.detail(parent, run, "?status=FAILED").data
            beyond = self.detail(parent, run, "?status=SUCCEEDED&page=3").data
        self.assertEqual([[c["index"] for c in page["children"]] for page in pages], [[0, 1], [2, 3], [4], []])
        self.assertEqual({(page["pages"], page["matching"], page["page_size"]) for page in pages}, {(3, 5, 2)})
        self.assertEqual([(c["index"], c["status"]) for c in failed["children"]], [(1, "FAILED"), (3, "FAILED")])
        self.assertEqual((failed["matching"], failed["pages"]), (2, 1))
        self.assertEqual((beyond["children"], beyond["matching"], beyond["pages"]), ([], 3, 2))
        # The counts are the whole run's, whatever page or filter.
        self.assertEqual(failed["counts"], pages[0]["counts"])
        self.assertApiError(self.detail(parent, run, "?status=DONE"), 400, "InvalidStatus", "status")
        for bad in ("0", "x", "-1"):
            self.assertApiError(self.detail(parent, run, f"?page={bad}"), 400, "InvalidType", "page")

    def test_a_run_that_ended_early_counts_the_items_it_never_started_as_pending(self):
        parent, run = self.run_map([{"n": 0, "fail": True}, {"n": 1, "fail": True}, {"n": 2}],
                                   ToleratedFailureCount=1, MaxConcurrency=1)
        data = self.detail(parent, run).data
        self.assertEqual((data["status"], data["error"]), ("FAILED", "States.ExceedToleratedFailureThreshold"))
        self.assertTrue(data["cause"])
        self.assertEqual(data["counts"], {**NO_COUNTS, "pending": 1, "failed": 2, "total": 3})
        self.assertEqual([c["index"] for c in data["children"]], [0, 1])

    def test_a_running_run_counts_its_running_and_pending_items(self):
        parent, run = self.hold_map([1, 2, 3], MaxConcurrency=1)
        data = self.detail(parent, run).data
        self.assertEqual(data["status"], "RUNNING")
        self.assertIsNone(data["stopped_at"])
        self.assertEqual(data["counts"], {**NO_COUNTS, "running": 1, "pending": 2, "total": 3})
        self.assertEqual([(c["index"], c["status"], c["stopped_at"]) for c in data["children"]], [(0, "RUNNING", None)])
        executions.stop_execution(self.alice, Execution.objects.get(pk=parent.pk))
        self.ended(parent)
        self.assertEqual(self.detail(parent, run).data["counts"], {**NO_COUNTS, "aborted": 1, "pending": 2, "total": 3})

    def test_another_persons_run_and_malformed_ids_are_not_found(self):
        parent, run = self.run_map()
        self.assertApiError(self.detail(parent, run, client=self.bob_client), 404, "ResourceNotFound")
        other = self.ended(executions.start_execution(self.alice, parent.machine, "[]"))
        for path in (f"/api/executions/{parent.pk}/map-runs/not-a-uuid",
                     f"/api/executions/not-a-uuid/map-runs/{run.pk}",
                     f"/api/executions/{parent.pk}/map-runs/{uuid.uuid4()}",
                     f"/api/executions/{other.pk}/map-runs/{run.pk}"):   # a run of another execution
            self.assertApiError(self.call("GET", path), 404, "ResourceNotFound")
        page = f"/executions/{parent.pk}/map-runs/{run.pk}/"
        self.assertEqual(self.bob_client.get(page).status_code, 404)
        for path in (f"/executions/{parent.pk}/map-runs/not-a-uuid/", f"/executions/not-a-uuid/map-runs/{run.pk}/",
                     f"/executions/{other.pk}/map-runs/{run.pk}/"):
            self.assertEqual(self.client.get(path).status_code, 404, path)

    def test_the_page_names_its_run_and_the_childs_page_its_run_and_parent(self):
        parent, run = self.run_map()
        page = self.client.get(f"/executions/{parent.pk}/map-runs/{run.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, f'data-execution="{parent.pk}" data-id="{run.pk}"')
        self.assertContains(page, f'<a href="/executions/{parent.pk}/">{parent.name}</a> › Map Run Fan</nav>')
        self.assertContains(page, "js/map-run-page.js")
        child = Execution.objects.get(map_run=run, map_index=2)
        crumbs = self.client.get(f"/executions/{child.pk}/")
        self.assertContains(crumbs, f'<a href="/executions/{parent.pk}/map-runs/{run.pk}/">Map Run Fan</a> › {child.name}</nav>')


class ParentAndChildTests(MapRunPageCase):
    def test_the_parents_callbacks_list_its_run_with_counts_instead_of_its_children(self):
        parent, run = self.run_map()
        data = self.call("GET", f"/api/executions/{parent.pk}/callbacks").data
        self.assertEqual(data["children"], [])
        self.assertEqual(data["mapRuns"], [{
            "id": str(run.pk), "label": "Fan", "state": "Each", "status": "SUCCEEDED",
            "started_at": run.started_at.isoformat(), "stopped_at": run.stopped_at.isoformat(),
            "counts": {**NO_COUNTS, "succeeded": 3, "failed": 2, "total": 5}}])

    def test_a_childs_callbacks_name_its_run_and_item(self):
        parent, run = self.run_map()
        child = Execution.objects.get(map_run=run, map_index=3)
        data = self.call("GET", f"/api/executions/{child.pk}/callbacks").data
        self.assertEqual(data["parent"], {"id": str(parent.pk), "name": parent.name, "machine": "fan",
                                          "status": "SUCCEEDED", "state": "Each",
                                          "mapRun": {"id": str(run.pk), "label": "Fan", "index": 3}})
        self.assertEqual(data["mapRuns"], [])

    def test_the_machines_executions_list_none_of_the_children(self):
        parent, run = self.run_map()
        self.assertEqual(Execution.objects.filter(machine=parent.machine).count(), 6)
        listed = self.call("GET", "/api/state-machines/fan/executions").data["executions"]
        self.assertEqual([e["id"] for e in listed], [str(parent.pk)])
        for status, expected in (("SUCCEEDED", [str(parent.pk)]), ("FAILED", [])):
            found = self.call("GET", f"/api/state-machines/fan/executions?status={status}").data["executions"]
            self.assertEqual([e["id"] for e in found], expected, status)
        machine = next(m for m in self.call("GET", "/api/state-machines").data["state_machines"] if m["name"] == "fan")
        self.assertEqual(machine["last_execution"]["id"], str(parent.pk))
        self.assertEqual(self.call("GET", "/api/state-machines/fan/recent-inputs").data["inputs"], [json.dumps(ITEMS)])
