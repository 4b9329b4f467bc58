"""Role sessions (editor/services/role_sessions.py): temporary credentials of a role, kept as an
access key's secret is (encrypted) and a token only as its hash, refused once expired, and the
role a function runs with."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from editor.services import roles
from editor.models import RoleSession
from editor.services import role_sessions
from tests.web.base import WebTestCase


class RoleSessionTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.role = roles.create_role(self.alice, {"name": "worker"})

    def test_a_session_is_an_asia_key_whose_secret_is_encrypted_and_token_only_hashed(self):
        session, secret, token = role_sessions.issue_session(self.role, "fn", seconds=900)
        self.assertRegex(session.access_key_id, r"^ASIA[A-Z0-9]{16}$")
        stored = RoleSession.objects.get()
        self.assertNotIn(secret, stored.secret_encrypted)
        self.assertNotIn(token, stored.token_sha256)
        self.assertAlmostEqual((stored.expires_at - timezone.now()).total_seconds(), 900, delta=5)
        self.assertEqual(role_sessions.active_session(session.access_key_id, token), (stored, secret))

    def test_a_session_lasts_at_most_twelve_hours(self):
        session, _, _ = role_sessions.issue_session(self.role, "fn", seconds=10 ** 6)
        self.assertLessEqual(session.expires_at - timezone.now(), timedelta(hours=12))

    def test_a_wrong_token_an_unknown_key_and_an_expired_session_are_refused(self):
        session, _, token = role_sessions.issue_session(self.role, "fn", seconds=900)
        with self.assertRaises(role_sessions.SessionRefused):
            role_sessions.active_session(session.access_key_id, token + "x")
        with self.assertRaises(role_sessions.SessionRefused):
            role_sessions.active_session("ASIA0000000000000000", token)
        RoleSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        with self.assertRaises(role_sessions.SessionExpired):
            role_sessions.active_session(session.access_key_id, token)

    def test_a_deactivated_persons_sessions_are_refused(self):
        session, _, token = role_sessions.issue_session(self.role, "fn", seconds=900)
        self.alice.is_active = False
        self.alice.save()
        with self.assertRaises(role_sessions.SessionRefused):
            role_sessions.active_session(session.access_key_id, token)

    def test_sessions_expired_a_day_ago_are_deleted_when_another_is_issued(self):
        old, _, _ = role_sessions.issue_session(self.role, "old", seconds=900)
        RoleSession.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=2))
        role_sessions.issue_session(self.role, "new", seconds=900)
        self.assertEqual(list(RoleSession.objects.values_list("name", flat=True)), ["new"])

    def test_a_function_runs_with_its_role_else_its_owners_sample_role(self):
        function = self.make_function()
        self.assertIsNone(role_sessions.execution_role(function))   # no sample role made here
        sample = roles.create_role(self.alice, {"name": "flowbench-sample-role"})
        roles.create_role(self.bob, {"name": "flowbench-sample-role"})
        self.assertEqual(role_sessions.execution_role(function), sample)
        function.role = self.role
        function.save()
        self.assertEqual(role_sessions.execution_role(function), self.role)
