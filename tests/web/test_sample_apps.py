"""The seed's photo proxies and crawler apps as samples: loading creates each part once (a second
load creates nothing), wired (the bucket's notification on uploads/ starts the machine, the schedule
is ENABLED with its target and role, the roles allow what the functions and machines need and
nothing more), and all or nothing; the Samples pages and the Load API; `manage.py prepare` loads
them (FLOWBENCH_SAMPLE_APPS=0 does not)."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from editor.models import Bucket, Function, FunctionUpdate, Role, Schedule, StateMachine
from editor.samples.apps import all_apps, app_named
from editor.services.accounts import account_id, function_arn, role_arn, state_machine_arn
from editor.services.buckets import create_bucket
from editor.services.function_permissions import allows_public_url
from editor.services.policy import evaluate
from editor.services.samples import load_sample_apps
from editor.services.schedules import check_target
from tests.web.base import WebTestCase

PHOTO_PARTS = {"photo-proxies-functions", "photo-proxies-machine", "photo-check", "photo-proxy", "photo-proxies"}
CRAWLER_PARTS = {"crawler-functions", "crawler-machine", "crawler-scheduler", "crawl-target", "crawl-page",
                 "crawl-succeeded", "crawl-failed", "crawl-target function URL", "crawler", "crawler-every-10-minutes"}


def deployed_or_installing(function: Function) -> bool:
    """A function of a sample runs its code, or waits for its packages (not cached yet) to install."""
    return function.deployed is not None or FunctionUpdate.objects.filter(
        function=function, status=FunctionUpdate.Status.IN_PROGRESS).exists()


class SampleAppLoadingTests(WebTestCase):
    def test_the_apps_are_photo_proxies_and_the_crawler_each_with_a_template_and_functions(self):
        ids = [app.id for app in all_apps()]
        self.assertTrue({"photo-proxies", "crawler"} <= set(ids), ids)
        self.assertEqual(app_named("crawler").functions, ("crawl-target", "crawl-page", "crawl-succeeded",
                                                           "crawl-failed"))
        self.assertIsNone(app_named("nothing"))

    def test_loading_twice_creates_nothing_the_second_time(self):
        bucket = f"photos-{account_id(self.alice)}"
        first = load_sample_apps(self.alice)
        self.assertTrue(PHOTO_PARTS | CRAWLER_PARTS | {bucket, f"{bucket}: uploads/ -> photo-proxies"} <= set(first),
                        first)
        counts = [m.objects.count() for m in (Function, Role, StateMachine, Bucket, Schedule)]
        self.assertEqual(load_sample_apps(self.alice), [])
        self.assertEqual([m.objects.count() for m in (Function, Role, StateMachine, Bucket, Schedule)], counts)
        self.assertEqual(len(Bucket.objects.get(name=bucket).machine_notifications), 1)

    def test_the_photo_app_is_wired_from_the_uploads_to_the_machine_and_its_roles_allow_only_what_it_needs(self):
        load_sample_apps(self.alice)
        name = f"photos-{account_id(self.alice)}"
        bucket = Bucket.objects.get(name=name)
        self.assertEqual(bucket.owner, self.alice)
        self.assertEqual(bucket.machine_notifications, [{
            "Id": "photo-proxies-uploads", "StateMachineArn": state_machine_arn(self.alice, "photo-proxies"),
            "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}])
        machine = StateMachine.objects.get(owner=self.alice, name="photo-proxies")
        version = machine.versions.get()
        self.assertEqual((version.number, machine.role.name, machine.role.trusted), (1, "photo-proxies-machine", ["states"]))
        tasks = {s["Resource"] for s in version.definition["States"].values() if s["Type"] == "Task"}
        self.assertEqual(tasks, {function_arn(self.alice, "photo-check"), function_arn(self.alice, "photo-proxy")})
        self.assertEqual(version.definition["States"]["Not a photo"]["Error"], "NotAPhoto")
        for task in tasks:
            self.assertEqual(evaluate(machine.role.policy, "lambda:InvokeFunction", task), "allow")
        self.assertNotEqual(evaluate(machine.role.policy, "lambda:InvokeFunction",
                                     function_arn(self.alice, "crawl-page")), "allow")

        role = Role.objects.get(owner=self.alice, name="photo-proxies-functions")
        self.assertEqual(role.trusted, ["lambda"])
        allowed = lambda action, key: evaluate(role.policy, action, f"arn:aws:s3:::{name}/{key}") == "allow"  # noqa: E731
        self.assertTrue(allowed("s3:GetObject", "uploads/holiday.jpg"))
        self.assertTrue(allowed("s3:PutObject", "proxies/holiday.jpg"))
        self.assertFalse(allowed("s3:PutObject", "uploads/holiday.jpg"))
        self.assertFalse(allowed("s3:GetObject", "private/notes.txt"))
        self.assertFalse(allowed("s3:DeleteObject", "uploads/holiday.jpg"))
        self.assertFalse(evaluate(role.policy, "s3:GetObject", "arn:aws:s3:::someone-else/uploads/a.jpg") == "allow")
        for function_name in ("photo-check", "photo-proxy"):
            function = Function.objects.get(owner=self.alice, name=function_name)
            self.assertEqual(function.role, role)
            self.assertTrue(deployed_or_installing(function), function_name)
        proxy = Function.objects.get(owner=self.alice, name="photo-proxy")
        self.assertEqual(proxy.files["requirements.txt"], "Pillow==11.0.0\n")
        self.assertIn("from PIL import Image", proxy.files["lambda_function.py"])

    def test_the_crawler_is_scheduled_every_ten_minutes_enabled_with_its_machine_and_role(self):
        load_sample_apps(self.alice)
        schedule = Schedule.objects.get(owner=self.alice, name="crawler-every-10-minutes")
        machine_arn = state_machine_arn(self.alice, "crawler")
        self.assertEqual((schedule.expression, schedule.state, schedule.group.name),
                         ("rate(10 minutes)", "ENABLED", "default"))
        self.assertEqual((schedule.target_arn, schedule.target_role_arn),
                         (machine_arn, role_arn(self.alice, "crawler-scheduler")))
        self.assertEqual(json.loads(schedule.target_input), {"function": "crawl-target"})
        # The first crawl is one period after loading (crawl-page may be installing until then).
        self.assertEqual(schedule.next_fire_at, schedule.start_date)
        self.assertGreater(schedule.start_date, schedule.created_at + timedelta(minutes=9))
        self.assertEqual(check_target(self.alice, schedule.target_arn, schedule.target_role_arn).machine.name, "crawler")

        machine = StateMachine.objects.get(owner=self.alice, name="crawler")
        states = machine.versions.get().definition["States"]
        self.assertEqual(states["Crawl the page"]["Catch"][0]["Next"], "Record the failure")
        self.assertEqual(states["Did it answer?"]["Choices"][0]["Next"], "Record the summary")
        self.assertEqual(states["Did it answer?"]["Default"], "Record the failure")
        for state, function in (("Crawl the page", "crawl-page"), ("Record the summary", "crawl-succeeded"),
                                ("Record the failure", "crawl-failed")):
            self.assertEqual(states[state]["Resource"], function_arn(self.alice, function))
            self.assertEqual(evaluate(machine.role.policy, "lambda:InvokeFunction", function_arn(self.alice, function)),
                             "allow")

        page = Function.objects.get(owner=self.alice, name="crawl-page")
        self.assertTrue(page.network)
        self.assertEqual(page.files["requirements.txt"], "requests==2.32.3\nbeautifulsoup4==4.12.3\n")
        self.assertEqual(evaluate(page.role.policy, "lambda:GetFunctionUrlConfig", function_arn(self.alice, "crawl-target")),
                         "allow")
        target = Function.objects.get(owner=self.alice, name="crawl-target")
        url = target.urls.get()
        self.assertEqual((url.qualifier, url.auth_type), ("", "NONE"))
        self.assertTrue(allows_public_url(target, ""))
        for name in ("crawl-target", "crawl-page", "crawl-succeeded", "crawl-failed"):
            self.assertTrue(deployed_or_installing(Function.objects.get(owner=self.alice, name=name)), name)

    def test_a_part_the_person_lacks_is_made_again_and_what_they_have_is_left_as_it_is(self):
        load_sample_apps(self.alice)
        Function.objects.filter(owner=self.alice, name="crawl-failed").delete()
        check = Function.objects.get(owner=self.alice, name="photo-check")
        check.description = "mine now"
        check.save()
        self.assertEqual(load_sample_apps(self.alice), ["crawl-failed"])
        self.assertEqual(Function.objects.get(owner=self.alice, name="photo-check").description, "mine now")

    def test_a_load_that_cannot_finish_leaves_nothing_of_the_app(self):
        # Bob already holds the bucket name the photo app gives Alice: her load is refused whole.
        create_bucket(self.bob, f"photos-{account_id(self.alice)}", "us-east-1")
        response = self.call("POST", "/api/samples/photo-proxies/load")
        self.assertApiError(response, 409, "BucketAlreadyExists", "Bucket")
        self.assertFalse(Role.objects.filter(owner=self.alice, name__startswith="photo-proxies").exists())
        self.assertFalse(Function.objects.filter(owner=self.alice, name__startswith="photo-").exists())
        self.assertFalse(StateMachine.objects.filter(owner=self.alice, name="photo-proxies").exists())


class SampleApiTests(WebTestCase):
    def test_load_returns_what_it_created_then_nothing(self):
        response = self.call("POST", "/api/samples/crawler/load")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.data["app"], "crawler")
        self.assertEqual(set(response.data["created"]), CRAWLER_PARTS)
        self.assertIsInstance(response.data["installing"], list)
        again = self.call("POST", "/api/samples/crawler/load")
        self.assertEqual((again.status_code, again.data["created"]), (201, []))
        self.assertFalse(StateMachine.objects.filter(name="photo-proxies").exists())   # only the app asked for

    def test_an_unknown_app_is_404_and_other_methods_are_405(self):
        response = self.call("POST", "/api/samples/chess-club/load")
        self.assertApiError(response, 404, "ResourceNotFound", "id")
        self.assertIn("photo-proxies", response.data["error"]["message"])
        self.assertApiError(self.call("GET", "/api/samples/crawler/load"), 405, "MethodNotAllowed")
        self.assertApiError(self.call("PUT", "/api/samples/crawler/load", {"x": 1}), 405, "MethodNotAllowed")
        self.assertFalse(Function.objects.exists())

    def test_each_person_loads_their_own_copy_and_sees_only_it(self):
        self.call("POST", "/api/samples/photo-proxies/load")
        self.assertEqual(self.call("POST", "/api/samples/photo-proxies/load", client=self.bob_client).status_code, 201)
        self.assertEqual(Bucket.objects.get(owner=self.bob).name, f"photos-{account_id(self.bob)}")
        self.assertEqual(Bucket.objects.get(owner=self.alice).name, f"photos-{account_id(self.alice)}")
        bob_machine = StateMachine.objects.get(owner=self.bob, name="photo-proxies")
        self.assertEqual(bob_machine.role.owner, self.bob)
        self.assertIn(account_id(self.bob), json.dumps(bob_machine.versions.get().definition))
        self.assertNotIn(account_id(self.alice), json.dumps(bob_machine.versions.get().definition))
        page = self.bob_client.get("/samples/photo-proxies/").content.decode()
        self.assertIn(f"photos-{account_id(self.bob)}", page)
        self.assertNotIn(f"photos-{account_id(self.alice)}", page)

    def test_a_load_racing_another_is_a_conflict_not_a_500(self):
        from dataclasses import replace
        from unittest import mock

        from django.db import IntegrityError

        def racing(user):
            raise IntegrityError("UNIQUE constraint failed: editor_function.owner_id, editor_function.name")

        app = replace(app_named("crawler"), load=racing)
        with mock.patch("editor.services.sample_apps.app_named", return_value=app):
            response = self.call("POST", "/api/samples/crawler/load")
        self.assertApiError(response, 409, "ResourceConflict")
        self.assertIn("another request", response.data["error"]["message"])

    def test_the_load_endpoint_is_for_people_signed_in(self):
        from django.test import Client

        response = Client().post("/api/samples/crawler/load")
        self.assertIn(response.status_code, (302, 401, 403))
        self.assertFalse(Function.objects.exists())


class SamplePagesTests(WebTestCase):
    def test_the_samples_page_lists_the_apps_and_says_which_are_loaded(self):
        page = self.client.get("/samples/")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertIn('href="/samples/"', html)   # in the studio's navigation
        for app in all_apps():
            self.assertIn(f'href="/samples/{app.id}/"', html)
            self.assertIn(app.title, html)
        self.assertEqual(html.count("Not loaded"), len(all_apps()))
        self.call("POST", "/api/samples/crawler/load")
        html = self.client.get("/samples/").content.decode()
        self.assertEqual(html.count("Not loaded"), len(all_apps()) - 1)
        self.assertIn('<span class="badge ok">Loaded</span>', html)
        self.assertEqual(self.bob_client.get("/samples/").content.decode().count("Not loaded"), len(all_apps()))

    def test_an_app_page_explains_it_offers_the_load_button_then_links_its_parts(self):
        html = self.client.get("/samples/photo-proxies/").content.decode()
        self.assertIn('id="sample-load"', html)
        self.assertIn("HeadObject", html)
        self.assertIn("(not loaded)", html)
        self.call("POST", "/api/samples/photo-proxies/load")
        html = self.client.get("/samples/photo-proxies/").content.decode()
        self.assertNotIn('id="sample-load"', html)
        bucket = f"photos-{account_id(self.alice)}"
        for href in (f"/buckets/{bucket}/", "/state-machines/photo-proxies/", "/functions/photo-check/",
                     "/functions/photo-proxy/", "/roles/photo-proxies-functions/", "/roles/photo-proxies-machine/",
                     f"/buckets/{bucket}/?prefix=uploads/"):
            self.assertIn(f'href="{href}"', html)
        self.assertNotIn("(not loaded)", html)

    def test_the_crawler_page_shows_the_schedule_with_its_next_runs_and_run_now(self):
        self.call("POST", "/api/samples/crawler/load")
        html = self.client.get("/samples/crawler/").content.decode()
        self.assertIn('id="crawler-run-now"', html)
        self.assertIn("rate(10 minutes)", html)
        self.assertIn('data-input="{&quot;function&quot;: &quot;crawl-target&quot;}"', html)
        self.assertEqual(html.count("<time datetime="), 3)
        url = Function.objects.get(owner=self.alice, name="crawl-target").urls.get()
        self.assertIn(f"/lambda-url/{url.url_id}/", html)
        self.assertIn("FLOWBENCH_BASE_URL", html)

    def test_a_partly_loaded_app_says_what_is_missing(self):
        self.call("POST", "/api/samples/crawler/load")
        Schedule.objects.filter(owner=self.alice).delete()
        html = self.client.get("/samples/crawler/").content.decode()
        self.assertIn('id="sample-missing"', html)
        self.assertIn('id="sample-load"', html)
        self.assertIn("crawler-every-10-minutes", html)
        self.assertIn("Partly loaded", self.client.get("/samples/").content.decode())

    def test_the_pages_say_which_packages_still_install_and_which_failed(self):
        self.call("POST", "/api/samples/crawler/load")
        page = Function.objects.get(owner=self.alice, name="crawl-page")
        if not FunctionUpdate.objects.filter(function=page, status=FunctionUpdate.Status.IN_PROGRESS).exists():
            # Its packages were cached: deployed at once. Watch it as a Deploy that installs.
            FunctionUpdate.objects.create(function=page, snapshot=page.draft_snapshot())
        self.assertIn("Installing packages: crawl-page", self.client.get("/samples/").content.decode())
        html = self.client.get("/samples/crawler/").content.decode()
        self.assertIn('id="sample-installing"', html)
        self.assertIn("crawl-page", html)
        FunctionUpdate.objects.filter(function=page).update(status=FunctionUpdate.Status.FAILED, reason="no network")
        Function.objects.filter(pk=page.pk).update(state="Failed", deployed=None)
        listing = self.client.get("/samples/").content.decode()
        self.assertNotIn("Installing packages", listing)
        self.assertIn("Packages failed to install: crawl-page", listing)
        self.assertIn('id="sample-failed"', self.client.get("/samples/crawler/").content.decode())

    def test_an_unknown_app_page_is_404(self):
        self.assertEqual(self.client.get("/samples/chess-club/").status_code, 404)


class PrepareLoadsTheAppsTests(WebTestCase):
    def admin(self):
        return get_user_model().objects.get(is_superuser=True)

    @override_settings(FLOWBENCH_SAMPLE_APPS=True)
    def test_prepare_loads_the_apps_for_the_administrator_on_its_first_run(self):
        out = StringIO()
        call_command("prepare", stdout=out)
        admin = self.admin()
        self.assertTrue(StateMachine.objects.filter(owner=admin, name__in=["photo-proxies", "crawler"]).count() == 2)
        self.assertTrue(Schedule.objects.filter(owner=admin, name="crawler-every-10-minutes", state="ENABLED").exists())
        self.assertIn("crawler-every-10-minutes", out.getvalue())
        call_command("prepare", stdout=StringIO())   # a later run loads nothing again
        self.assertEqual(StateMachine.objects.filter(owner=admin, name="crawler").count(), 1)

    def test_load_samples_loads_the_apps_too_when_asked(self):
        call_command("load_samples", "--user", "alice", stdout=StringIO())
        self.assertFalse(StateMachine.objects.filter(owner=self.alice, name="crawler").exists())
        out = StringIO()
        call_command("load_samples", "--user", "alice", "--apps", stdout=out)
        self.assertTrue(StateMachine.objects.filter(owner=self.alice, name__in=["crawler", "photo-proxies"]).count() == 2)
        self.assertIn("crawler-every-10-minutes", out.getvalue())

    @override_settings(FLOWBENCH_SAMPLE_APPS=False)
    def test_prepare_leaves_the_apps_out_when_told(self):
        call_command("prepare", stdout=StringIO())
        admin = self.admin()
        self.assertTrue(Function.objects.filter(owner=admin, name="attack-training").exists())
        self.assertFalse(Function.objects.filter(owner=admin, name__in=["photo-check", "crawl-page"]).exists())
        self.assertFalse(Bucket.objects.exists())
        self.assertFalse(Schedule.objects.exists())
