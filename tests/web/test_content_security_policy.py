"""The Content-Security-Policy: on every page (signed in or not, errors too), only this origin's
scripts, styles and connections, no inline script or style markup in any template."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.urls import reverse

from editor.urls import urlpatterns
from tests.web.base import LiveWebTestCase

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy_of(response) -> dict[str, list[str]]:
    """Returns the response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


class ContentSecurityPolicyTests(LiveWebTestCase):
    def setUp(self):
        super().setUp()
        self.alice.is_staff = self.alice.is_superuser = True
        self.alice.save()
        self.make_function(name="hello")
        self.execution = self.make_finished_execution()

    def pages(self):
        """Yields the path of every named page of the studio (the URL table, not the API)."""
        values = {"name": "hello", "execution_id": self.execution, "token": "not-a-real-link",
                  "map_run_id": "00000000-0000-0000-0000-000000000000"}
        for pattern in urlpatterns:
            if pattern.name is None or pattern.name.startswith("api") or pattern.name == "logout":
                continue
            name = {"role": "runner", "machine": "flow", "execution-list": "flow", "sample": "crawler"}.get(pattern.name, "hello")
            kwargs = {key: values[key] if key != "name" else name for key in pattern.pattern.converters}
            yield reverse(pattern.name, kwargs=kwargs)

    def assertStrictPolicy(self, response):
        policy = policy_of(response)
        self.assertEqual(policy["default-src"], ["'self'"])
        self.assertEqual(policy["script-src"], ["'self'", "'wasm-unsafe-eval'"])
        self.assertEqual(policy["connect-src"], ["'self'"])
        self.assertEqual(policy["style-src"][0], "'self'")
        self.assertEqual(policy["frame-ancestors"], ["'none'"])
        self.assertEqual(policy["object-src"], ["'none'"])
        for sources in policy.values():
            self.assertNotIn("'unsafe-inline'", sources)
            self.assertNotIn("'unsafe-eval'", sources)
        return policy

    def test_every_page_has_the_policy_and_its_nonce_is_the_pages_own(self):
        paths = list(self.pages()) + ["/admin/", "/no-such-page/", "/functions/no-such-function/"]
        self.assertGreaterEqual(len(paths), 14, paths)
        nonces = set()
        for path in paths:
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertIn(response.status_code, (200, 301, 302, 403, 404), path)
                policy = self.assertStrictPolicy(response)
                nonce = re.search(rb'<meta name="csp-nonce" content="([^"]+)">', response.content)
                if nonce:   # a page of ours: the nonce CodeMirror's styles carry is in the header
                    self.assertIn(f"'nonce-{nonce.group(1).decode()}'", policy["style-src"])
                    nonces.add(nonce.group(1))
        self.assertGreater(len(nonces), 10, "each page gets a nonce of its own")

    def test_the_sign_in_page_and_api_refusals_have_it_too(self):
        anonymous = Client()
        self.assertStrictPolicy(anonymous.get("/login/"))
        self.assertStrictPolicy(anonymous.post("/login/", {"username": "bob", "password": "nope"}))
        self.assertStrictPolicy(anonymous.get("/functions/hello/", follow=False))

    def test_no_template_has_an_inline_script_or_style(self):
        for template in TEMPLATES.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for tag in re.findall(r"<script\b[^>]*>", text):
                self.assertRegex(tag, r'\bsrc="', f"{template.name}: inline script {tag}")
            self.assertNotRegex(text, r"<style\b", f"{template.name}: a <style> element")
            self.assertNotRegex(text, r"\sstyle=", f"{template.name}: a style attribute")
            self.assertNotRegex(text, r"\son[a-z]+=", f"{template.name}: an inline event handler")
