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
