"""Sign-in: every page, API call and admin needs a user; the one-time link works once, then never."""

from datetime import timedelta
from io import StringIO

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from editor import services
from editor.models import SignInLink
from tests.web.base import WebTestCase


class SignInTests(WebTestCase):
    def test_pages_redirect_an_anonymous_visitor_to_sign_in(self):
        anonymous = Client()
        for path in ["/", "/functions/new", "/functions/hello/"]:
            response = anonymous.get(path)
            self.assertEqual(response.status_code, 302, path)
            self.assertTrue(response["Location"].startswith("/login/?next="), path)

    def test_the_api_refuses_an_anonymous_caller_with_the_error_shape(self):
        anonymous = Client()
        for method, path in [("GET", "/api/functions"), ("POST", "/api/functions"), ("GET", "/api/runtimes"),
                             ("POST", "/api/functions/hello/invocations")]:
            response = self.call(method, path, {}, client=anonymous)
            self.assertApiError(response, 401, "NotSignedIn")

    def test_a_one_time_link_signs_in_once(self):
        token = services.create_signin_link(self.alice)
        visitor = Client()
        response = visitor.get(f"/login/{token}")
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        self.assertEqual(visitor.get("/").status_code, 200)
        again = Client().get(f"/login/{token}")
        self.assertEqual(again.status_code, 403)
        self.assertContains(again, "does not work", status_code=403)

    def test_an_expired_link_is_refused(self):
        token = services.create_signin_link(self.alice)
        SignInLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        response = Client().get(f"/login/{token}")
        self.assertEqual(response.status_code, 403)
        self.assertIsNone(Client().session.get("_auth_user_id"))

    def test_an_unknown_link_is_refused(self):
        self.assertEqual(Client().get("/login/not-a-real-token-at-all-xxxxxxxx").status_code, 403)

    def test_the_token_is_stored_only_as_a_digest(self):
        token = services.create_signin_link(self.alice)
        self.assertFalse(SignInLink.objects.filter(token_sha256=token).exists())

    def test_the_password_form_signs_in(self):
        visitor = Client()
        self.assertEqual(visitor.get("/login/").status_code, 200)
        response = visitor.post("/login/", {"username": "bob", "password": "bob-password-1"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(visitor.get("/").status_code, 200)

    def test_a_wrong_password_is_refused_on_the_form(self):
        response = Client().post("/login/", {"username": "bob", "password": "nope"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "correct username and password")

    def fail_to_sign_in(self, visitor, username, times):
        for _ in range(times):
            response = visitor.post("/login/", {"username": username, "password": "wrong-password"})
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "correct username and password")

    def test_after_the_failure_limit_even_the_right_password_is_refused_with_a_message(self):
        visitor = Client()
        self.fail_to_sign_in(visitor, "bob", settings.AXES_FAILURE_LIMIT - 1)
        refused = visitor.post("/login/", {"username": "bob", "password": "nope"})   # the Nth failure
        self.assertEqual(refused.status_code, 429)
        response = visitor.post("/login/", {"username": "bob", "password": "bob-password-1"})
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Too many failed sign-ins", status_code=429)
        self.assertContains(response, f"try again in {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} minutes",
                            status_code=429)
        self.assertContains(response, 'value="bob"', status_code=429)
        self.assertEqual(visitor.get("/").status_code, 302)   # not signed in
        # Another username from the same address is not locked.
        self.assertEqual(visitor.post("/login/", {"username": "alice", "password": "alice-password-1"}).status_code,
                         302)

    def test_the_one_time_link_still_signs_in_a_locked_username(self):
        visitor = Client()
        self.fail_to_sign_in(visitor, "alice", settings.AXES_FAILURE_LIMIT - 1)
        self.assertEqual(visitor.post("/login/", {"username": "alice", "password": "x"}).status_code, 429)
        token = services.create_signin_link(self.alice)
        self.assertRedirects(visitor.get(f"/login/{token}"), "/", fetch_redirect_response=False)
        self.assertEqual(visitor.get("/").status_code, 200)

    def test_after_the_cool_off_the_right_password_signs_in_again(self):
        visitor = Client()
        self.fail_to_sign_in(visitor, "bob", settings.AXES_FAILURE_LIMIT - 1)
        self.assertEqual(visitor.post("/login/", {"username": "bob", "password": "x"}).status_code, 429)
        AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
        response = visitor.post("/login/", {"username": "bob", "password": "bob-password-1"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(visitor.get("/").status_code, 200)

    def test_the_admin_is_for_staff_only(self):
        self.assertEqual(self.client.get("/admin/").status_code, 302)


class PrepareCommandTests(WebTestCase):
    def test_prepare_creates_the_administrator_once_and_prints_a_working_link(self):
        out = StringIO()
        call_command("prepare", stdout=out)
        admin = get_user_model().objects.get(is_superuser=True)
        self.assertFalse(admin.has_usable_password())
        link = next(line.strip() for line in out.getvalue().splitlines() if "/login/" in line)
        token = link.rsplit("/login/", 1)[1]
        visitor = Client()
        self.assertEqual(visitor.get(f"/login/{token}").status_code, 302)
        self.assertEqual(visitor.get("/admin/").status_code, 200)
        call_command("prepare", stdout=StringIO())
        self.assertEqual(get_user_model().objects.filter(is_superuser=True).count(), 1)

    def test_prepare_loads_the_samples_on_first_run(self):
        call_command("prepare", stdout=StringIO())
        admin = get_user_model().objects.get(is_superuser=True)
        names = set(admin.functions.values_list("name", flat=True))
        self.assertTrue({"attack-training", "passing-training", "defence-training", "free-kick-training",
                         "ball-contest-training"} <= names)
