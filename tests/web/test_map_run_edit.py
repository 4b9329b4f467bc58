"""The Map Run page's Edit, through its JSON API on the real executor: PATCH changes a running
run's MaxConcurrency and tolerated failures (as UpdateMapRun does) and answers the run as GET
does; every bad body is refused by field with the row left as it was; an ended run is a 409, and
another person's run the same 404 as GET's."""

from __future__ import annotations

from django.test import Client

from editor.models import Execution, MapRun
from editor.services import executions
from tests.web.test_map_run_pages import NO_COUNTS, MapRunPageCase

SETTINGS = ("max_concurrency", "tolerated_failure_count", "tolerated_failure_percentage", "tolerated_failures",
            "status")


class MapRunEditTests(MapRunPageCase):
    def held(self) -> tuple[Execution, MapRun]:
        """A run of four items, one child at a time, that goes on until the test ends."""
        parent, run = self.hold_map([1, 2, 3, 4], MaxConcurrency=1, ToleratedFailureCount=1)
        self.addCleanup(self.stop, parent)
        return parent, run

    def stop(self, parent):
        parent = Execution.objects.get(pk=parent.pk)
        if parent.status == "RUNNING":
            executions.stop_execution(self.alice, parent)
        self.ended(parent)

    def edit(self, parent, run, body=None, *, raw=None, query="", client=None):
        return self.call("PATCH", f"/api/executions/{parent.pk}/map-runs/{run.pk}{query}", body, raw=raw,
                         client=client)

    def settings(self, run) -> tuple:
        return tuple(MapRun.objects.filter(pk=run.pk).values_list(*SETTINGS).get())

    def test_an_edit_changes_the_running_run_and_answers_it_as_get_does(self):
        parent, run = self.held()
        response = self.edit(parent, run, {"max_concurrency": 3, "tolerated_failure_count": 0,
                                           "tolerated_failure_percentage": 50})
        self.assertEqual(response.status_code, 200, response.content[:500])
        # Half of four items beats a count of 0; the higher limit started two more children at once.
        self.assertEqual(self.settings(run), (3, 0, 50.0, 2, "RUNNING"))
        data = response.data
        self.assertEqual((data["max_concurrency"], data["tolerated_failure_count"], data["tolerated_failure_percentage"]),
                         (3, 0, 50.0))
        self.assertEqual(data["counts"], {**NO_COUNTS, "running": 3, "pending": 1, "total": 4})
        self.assertEqual([c["index"] for c in data["children"]], [0, 1, 2])
        self.assertEqual(data, self.detail(parent, run).data)
        # One setting alone leaves the others; the page's filter and page number apply to the answer.
        response = self.edit(parent, run, {"tolerated_failure_percentage": 12.5}, query="?status=SUCCEEDED")
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual(self.settings(run), (3, 0, 12.5, 0, "RUNNING"))
        self.assertEqual((response.data["children"], response.data["matching"]), ([], 0))
        self.assertEqual(response.data, self.detail(parent, run, "?status=SUCCEEDED").data)
        response = self.edit(parent, run, {"max_concurrency": 0})   # no limit of its own: the last item starts
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual((response.data["max_concurrency"], response.data["counts"]["running"]), (0, 4))

    def test_bad_bodies_are_refused_by_field_and_change_nothing(self):
        parent, run = self.held()
        before = self.settings(run)
        self.assertEqual(before, (1, 1, 0.0, 1, "RUNNING"))
        refused = [
            ({"max_concurrency": "2"}, "InvalidType", "max_concurrency"),
            ({"max_concurrency": True}, "InvalidType", "max_concurrency"),
            ({"max_concurrency": 2.5}, "InvalidType", "max_concurrency"),
            ({"max_concurrency": None}, "InvalidType", "max_concurrency"),
            ({"max_concurrency": -1}, "OutOfRange", "max_concurrency"),
            ({"max_concurrency": 10_001}, "OutOfRange", "max_concurrency"),
            ({"tolerated_failure_count": False}, "InvalidType", "tolerated_failure_count"),
            ({"tolerated_failure_count": "1"}, "InvalidType", "tolerated_failure_count"),
            ({"tolerated_failure_count": 1.5}, "InvalidType", "tolerated_failure_count"),
            ({"tolerated_failure_count": -1}, "OutOfRange", "tolerated_failure_count"),
            ({"tolerated_failure_count": 2**31}, "OutOfRange", "tolerated_failure_count"),
            ({"tolerated_failure_percentage": 100.5}, "OutOfRange", "tolerated_failure_percentage"),
            ({"tolerated_failure_percentage": -0.1}, "OutOfRange", "tolerated_failure_percentage"),
            ({"tolerated_failure_percentage": True}, "InvalidType", "tolerated_failure_percentage"),
            ({"tolerated_failure_percentage": "50"}, "InvalidType", "tolerated_failure_percentage"),
            ({}, "Required", "max_concurrency"),
            ({"max_concurrency": 2, "label": "x"}, "UnknownField", "label"),
            ({"maxConcurrency": 2}, "UnknownField", "maxConcurrency"),
            # A good setting beside a bad one is not stored either.
            ({"max_concurrency": 5, "tolerated_failure_count": 3, "tolerated_failure_percentage": 101},
             "OutOfRange", "tolerated_failure_percentage"),
            ({"max_concurrency": 5, "tolerated_failure_count": -3}, "OutOfRange", "tolerated_failure_count"),
        ]
        for body, code, field in refused:
            with self.subTest(body=body):
                self.assertApiError(self.edit(parent, run, body), 400, code, field)
                self.assertEqual(self.settings(run), before)
        # Bodies that are no JSON object: refused as a whole (no field), and NaN as out of range.
        for raw, code, field in ((b"max_concurrency=2", "InvalidJson", None), (b"[2]", "InvalidType", None),
                                 (b'{"max_concurrency": 2', "InvalidJson", None),
                                 (b'{"tolerated_failure_percentage": NaN}', "OutOfRange",
                                  "tolerated_failure_percentage")):
            with self.subTest(raw=raw):
                response = self.edit(parent, run, raw=raw)
                self.assertApiError(response, 400, code)
                self.assertEqual(response.data["error"]["field"], field)
                self.assertEqual(self.settings(run), before)
        # A query GET would refuse is refused before anything is stored.
        self.assertApiError(self.edit(parent, run, {"max_concurrency": 2}, query="?status=DONE"), 400,
                            "InvalidStatus", "status")
        self.assertEqual(self.settings(run), before)

    def test_an_ended_run_is_a_conflict_and_stays_as_it_ended(self):
        parent, run = self.run_map(MaxConcurrency=2)
        before = self.settings(run)
        self.assertEqual(before[-1], "SUCCEEDED")
        response = self.edit(parent, run, {"max_concurrency": 5})
        self.assertApiError(response, 409, "MapRunEnded")
        self.assertIn("SUCCEEDED", response.data["error"]["message"])
        self.assertEqual(self.settings(run), before)

    def test_another_persons_run_is_not_found_whatever_the_body(self):
        parent, run = self.held()
        before = self.settings(run)
        for body in ({"max_concurrency": 5}, {"max_concurrency": -1}, {}):
            with self.subTest(body=body):
                self.assertApiError(self.edit(parent, run, body, client=self.bob_client), 404, "ResourceNotFound")
        other = executions.start_execution(self.alice, parent.machine, "[]")
        self.ended(other)
        self.assertApiError(self.call("PATCH", f"/api/executions/{other.pk}/map-runs/{run.pk}",
                                      {"max_concurrency": 5}), 404, "ResourceNotFound")
        self.assertEqual(self.settings(run), before)

    def test_the_browser_needs_a_csrf_token(self):
        parent, run = self.held()
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(self.alice)
        path = f"/api/executions/{parent.pk}/map-runs/{run.pk}"
        response = browser.patch(path, '{"max_concurrency": 2}', content_type="application/json")
        self.assertEqual((response.status_code, response.json()["error"]["code"]), (403, "CsrfFailed"))
        self.assertEqual(self.settings(run)[0], 1)
        browser.get("/")
        response = browser.patch(path, '{"max_concurrency": 2}', content_type="application/json",
                                 HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual(self.settings(run)[0], 2)
