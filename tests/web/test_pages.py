"""Pages render for their owner and 404 for anyone else."""

from tests.web.base import WebTestCase


class PageTests(WebTestCase):
    def test_the_function_list_and_create_pages_render(self):
        for path in ["/", "/functions/new"]:
            response = self.client.get(path)
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "Flowbench")

    def test_the_function_page_renders_for_its_owner(self):
        self.make_function(name="hello")
        response = self.client.get("/functions/hello/")
        self.assertContains(response, 'data-name="hello"')
        self.assertContains(response, "codemirror-6.0.2.js")

    def test_another_users_function_page_is_not_found(self):
        self.make_function(name="hello")
        self.assertEqual(self.bob_client.get("/functions/hello/").status_code, 404)

    def test_the_pages_carry_a_csrf_token_for_the_api(self):
        response = self.client.get("/")
        self.assertContains(response, 'name="csrf-token"')

    def test_every_page_names_the_icon_and_favicon_ico_leads_to_it(self):
        from django.contrib.staticfiles import finders
        from django.test import Client

        for client, path in [(self.client, "/"), (self.client, "/state-machines/"), (Client(), "/login/")]:
            self.assertContains(client.get(path), 'rel="icon" href="/static/favicon.svg"')
        # Asked for by browsers on every page, signed in or not.
        response = Client().get("/favicon.ico")
        self.assertEqual((response.status_code, response["Location"]), (301, "/static/favicon.svg"))
        self.assertIn("<svg", open(finders.find("favicon.svg"), encoding="utf-8").read())
