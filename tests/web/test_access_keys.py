"""Access keys and accounts: the Security credentials API, `manage.py create_access_key`, secrets
kept encrypted, an account per person (the migration gives existing people theirs)."""

from __future__ import annotations

import io
import re

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

from editor.models import AccessKey
from editor.services.access_keys import active_key
from tests.aws.inprocess import aws_client
from tests.web.base import WebTestCase


class AccessKeysApiTests(WebTestCase):
    def test_a_key_is_created_with_its_secret_once_listed_without_it_and_kept_encrypted(self):
        created = self.call("POST", "/api/access-keys")
        self.assertEqual(created.status_code, 201, created.content)
        self.assertRegex(created.data["id"], r"^AKIA[A-Z0-9]{16}$")
        self.assertEqual(len(created.data["secret"]), 40)
        listed = self.call("GET", "/api/access-keys").data
        self.assertEqual([k["id"] for k in listed["access_keys"]], [created.data["id"]])
        self.assertNotIn("secret", listed["access_keys"][0])
        self.assertEqual(listed["account_id"], self.alice.aws_account.account_id)
        stored = AccessKey.objects.get()
        self.assertNotIn(created.data["secret"], stored.secret_encrypted)
        self.assertEqual(active_key(stored.access_key_id)[1], created.data["secret"])

    def test_a_person_has_at_most_two_keys(self):
        self.call("POST", "/api/access-keys")
        self.call("POST", "/api/access-keys")
        self.assertApiError(self.call("POST", "/api/access-keys"), 409, "LimitExceeded")
        self.assertEqual(AccessKey.objects.count(), 2)
        self.assertEqual(self.call("POST", "/api/access-keys", client=self.bob_client).status_code, 201)

    def test_a_key_is_deactivated_activated_and_deleted_and_signs_only_while_active(self):
        created = self.call("POST", "/api/access-keys").data
        sts = aws_client("sts", created["id"], created["secret"])
        self.assertEqual(sts.get_caller_identity()["Account"], self.alice.aws_account.account_id)
        changed = self.call("PUT", f"/api/access-keys/{created['id']}", {"status": "Inactive"})
        self.assertEqual(changed.data["status"], "Inactive")
        with self.assertRaises(Exception) as refused:
            sts.get_caller_identity()
        self.assertEqual(refused.exception.response["Error"]["Code"], "InvalidClientTokenId")
        self.assertApiError(self.call("PUT", f"/api/access-keys/{created['id']}", {"status": "Maybe"}), 400,
                            "InvalidStatus", "status")
        self.call("PUT", f"/api/access-keys/{created['id']}", {"status": "Active"})
        self.assertEqual(sts.get_caller_identity()["Arn"], f"arn:aws:iam::{self.alice.aws_account.account_id}:root")
        self.assertEqual(self.call("DELETE", f"/api/access-keys/{created['id']}").status_code, 204)
        self.assertFalse(AccessKey.objects.exists())

    def test_bob_cannot_see_or_touch_alices_keys(self):
        created = self.call("POST", "/api/access-keys").data
        self.assertEqual(self.call("GET", "/api/access-keys", client=self.bob_client).data["access_keys"], [])
        for method in ("PUT", "DELETE"):
            self.assertApiError(self.call(method, f"/api/access-keys/{created['id']}", {"status": "Inactive"},
                                          client=self.bob_client), 404)
        self.assertEqual(AccessKey.objects.get().status, "Active")

    def test_the_page_is_linked_from_the_header(self):
        page = self.client.get("/")
        self.assertContains(page, 'href="/security-credentials/"')
        self.assertContains(self.client.get("/security-credentials/"), "Create access key")

    def test_every_person_is_an_account_of_their_own(self):
        ids = {self.alice.aws_account.account_id, self.bob.aws_account.account_id}
        self.assertEqual(len(ids), 2)
        self.assertTrue(all(re.fullmatch(r"\d{12}", i) for i in ids))
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.aws_account.account_id, self.call("GET", "/api/access-keys").data["account_id"])


class CreateAccessKeyCommandTests(WebTestCase):
    def test_it_prints_exactly_the_two_lines_to_export_and_the_key_works(self):
        out = io.StringIO()
        call_command("create_access_key", "alice", stdout=out)
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 2)
        key = re.fullmatch(r"AWS_ACCESS_KEY_ID=(AKIA[A-Z0-9]{16})", lines[0]).group(1)
        secret = re.fullmatch(r"AWS_SECRET_ACCESS_KEY=(\S{40})", lines[1]).group(1)
        self.assertEqual(aws_client("sts", key, secret).get_caller_identity()["Account"],
                         self.alice.aws_account.account_id)

    def test_it_refuses_an_unknown_person_and_a_third_key(self):
        with self.assertRaisesMessage(CommandError, "no user called 'carol'"):
            call_command("create_access_key", "carol", stdout=io.StringIO())
        call_command("create_access_key", "alice", stdout=io.StringIO())
        call_command("create_access_key", "alice", stdout=io.StringIO())
        with self.assertRaisesMessage(CommandError, "AccessKeysPerUser: 2"):
            call_command("create_access_key", "alice", stdout=io.StringIO())


class AccountMigrationTests(TransactionTestCase):
    """0005 gives existing people accounts: the first administrator keeps the old global account,
    the others get their own, and the ARNs their roles and machines named follow them."""

    before, after = ("editor", "0004_functions_network_off_by_default"), ("editor", "0005_accounts_access_keys_inline_policies")

    def tearDown(self):
        # Back to the latest schema, which the tests after this one need.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        super().tearDown()

    def test_existing_people_get_accounts_and_their_arns_and_policies_follow(self):
        executor = MigrationExecutor(connection)
        executor.migrate([self.before])
        old = executor.loader.project_state([self.before]).apps
        User, Role = old.get_model("auth", "User"), old.get_model("editor", "Role")
        StateMachine = old.get_model("editor", "StateMachine")
        admin = User.objects.create(username="admin", is_superuser=True, is_staff=True)
        carol = User.objects.create(username="carol")
        arn = "arn:aws:lambda:us-east-1:123456789012:function:"
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                          "Resource": arn + "*"}]}
        for owner in (admin, carol):
            role = Role.objects.create(owner=owner, name="runner", trusted=["states"], policy=policy)
            StateMachine.objects.create(owner=owner, name="flow", role=role, definition=f'{{"Resource": "{arn}f"}}')
        executor = MigrationExecutor(connection)
        executor.migrate([self.after])
        new = executor.loader.project_state([self.after]).apps
        Account, RolePolicy = new.get_model("editor", "Account"), new.get_model("editor", "RolePolicy")
        StateMachine = new.get_model("editor", "StateMachine")
        self.assertEqual(Account.objects.get(user_id=admin.pk).account_id, "123456789012")
        carols = Account.objects.get(user_id=carol.pk).account_id
        self.assertNotEqual(carols, "123456789012")
        documents = {p.role.owner_id: p.document for p in RolePolicy.objects.select_related("role")}
        self.assertEqual(documents[admin.pk], policy)
        self.assertEqual(documents[carol.pk]["Statement"][0]["Resource"],
                         f"arn:aws:lambda:us-east-1:{carols}:function:*")
        self.assertIn(f":{carols}:function:f", StateMachine.objects.get(owner_id=carol.pk).definition)
        self.assertTrue(all(p.name == "flowbench-policy" for p in RolePolicy.objects.all()))
