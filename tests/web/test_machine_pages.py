"""The pages of roles, state machines and executions: they need a signed-in user and show only
what is the user's own (anything else is a 404)."""

from __future__ import annotations

import json
import re

from django.test import Client

from runtime.asl.choice_operators import page_table
from tests.web.base import WebTestCase


class MachinePageTests(WebTestCase):
    def test_the_list_and_create_pages_render_with_the_navigation(self):
        for path in ["/roles/", "/roles/new", "/state-machines/", "/state-machines/new"]:
            response = self.client.get(path)
            self.assertEqual(response.status_code, 200, path)
            self.assertContains(response, 'href="/state-machines/"')
            self.assertContains(response, 'href="/roles/"')

    def test_every_page_needs_a_signed_in_user(self):
        anonymous = Client()
        for path in ["/roles/", "/roles/new", "/roles/r/", "/state-machines/", "/state-machines/new",
                     "/state-machines/m/", "/state-machines/m/executions/",
                     "/executions/00000000-0000-0000-0000-000000000000/"]:
            response = anonymous.get(path)
            self.assertEqual(response.status_code, 302, path)
            self.assertIn("/login/", response["Location"])

    def test_unknown_names_and_ids_are_not_found(self):
        for path in ["/roles/nobody/", "/state-machines/nothing/", "/state-machines/nothing/executions/",
                     "/executions/00000000-0000-0000-0000-000000000000/", "/executions/not-an-id/"]:
            self.assertEqual(self.client.get(path).status_code, 404, path)


class OwnedPageTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.call("POST", "/api/roles", {"name": "runner"})
        created = self.call("POST", "/api/state-machines",
                            {"name": "flow", "type": "STANDARD", "role": "runner", "template": "hello-world"})
        self.assertEqual(created.status_code, 201, created.content[:400])

    def test_the_owner_sees_the_role_machine_and_executions_pages(self):
        role = self.client.get("/roles/runner/")
        self.assertContains(role, 'data-name="runner"')
        machine = self.client.get("/state-machines/flow/")
        self.assertContains(machine, 'data-name="flow"')
        self.assertContains(machine, "codemirror-6.0.2.js")
        self.assertContains(self.client.get("/state-machines/flow/executions/"), 'data-name="flow"')

    def test_another_users_role_machine_and_execution_are_not_found(self):
        for path in ["/roles/runner/", "/state-machines/flow/", "/state-machines/flow/executions/"]:
            self.assertEqual(self.bob_client.get(path).status_code, 404, path)
        self.assertEqual(self.call("POST", "/api/state-machines/flow/versions").status_code, 201)
        started = self.call("POST", "/api/state-machines/flow/executions", {"input": "{}"})
        self.assertEqual(started.status_code, 201, started.content[:400])
        path = f"/executions/{started.data['id']}/"
        self.assertEqual(self.client.get(path).status_code, 200)
        self.assertEqual(self.bob_client.get(path).status_code, 404)

    def test_the_machine_page_carries_the_engines_choice_operators(self):
        page = self.client.get("/state-machines/flow/").content.decode()
        found = re.search(r'<script id="choice-operators" type="application/json">(.*?)</script>',
                          page, re.DOTALL)
        self.assertIsNotNone(found)
        self.assertEqual(json.loads(found.group(1)), page_table())
