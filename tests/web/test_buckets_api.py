"""The studio's JSON API for buckets (the Buckets page's): Alice's buckets and objects through the
same services as S3's API, Bob refused everything of hers, and objects never shown as active
content on the studio's own address."""

from __future__ import annotations

from django.test import TestCase

from tests.web.base import TwoUsersMixin
from tests.web.object_stores import TemporaryObjectStore


class BucketsApi(TemporaryObjectStore, TwoUsersMixin, TestCase):
    def setUp(self):
        self.use_temporary_store()
        self.make_users()
        self.assertEqual(self.call("POST", "/api/buckets", {"name": "alice-photos"}).status_code, 201)

    def put(self, key, data: bytes, content_type="text/plain", client=None):
        with self.captureOnCommitCallbacks(execute=True):
            return (client or self.client).generic("PUT", f"/api/buckets/alice-photos/objects/{key}", data,
                                                   content_type=content_type)

    def test_objects_are_uploaded_listed_by_folder_downloaded_and_deleted(self):
        self.assertEqual(self.put("docs/readme.txt", b"hello").status_code, 201)
        self.assertEqual(self.put("top.png", b"\x89PNG...", "image/png").status_code, 201)
        listing = self.call("GET", "/api/buckets/alice-photos/objects").data
        self.assertEqual(listing["prefixes"], ["docs/"])
        self.assertEqual([o["key"] for o in listing["objects"]], ["top.png"])
        inside = self.call("GET", "/api/buckets/alice-photos/objects?prefix=docs/").data
        self.assertEqual([(o["key"], o["size"]) for o in inside["objects"]], [("docs/readme.txt", 5)])
        download = self.client.get("/api/buckets/alice-photos/objects/docs/readme.txt")
        self.assertEqual(b"".join(download), b"hello")   # an async stream, read here through the sync client
        self.assertIn("attachment", download["Content-Disposition"])
        buckets = self.call("GET", "/api/buckets").data["buckets"]
        self.assertEqual([(b["name"], b["objects"], b["size"]) for b in buckets], [("alice-photos", 2, 12)])
        self.assertEqual(self.call("DELETE", "/api/buckets/alice-photos").status_code, 409)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.call("DELETE", "/api/buckets/alice-photos/objects/docs/readme.txt").status_code, 204)
        self.assertApiError(self.call("GET", "/api/buckets/alice-photos/objects/docs/readme.txt"), 404, "NoSuchKey")

    def test_active_content_is_downloaded_never_shown_inline(self):
        self.put("evil.html", b"<script>alert(1)</script>", "text/html")
        self.put("evil.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
        html = self.client.get("/api/buckets/alice-photos/objects/evil.html?inline=1")
        self.assertEqual(html["Content-Type"], "text/plain; charset=utf-8")
        svg = self.client.get("/api/buckets/alice-photos/objects/evil.svg?inline=1")
        self.assertEqual(svg["Content-Type"], "application/octet-stream")
        self.assertIn("attachment", svg["Content-Disposition"])
        for response in (html, svg):
            self.assertEqual(response["X-Content-Type-Options"], "nosniff")
            self.assertIn("sandbox", response["Content-Security-Policy"])

    def test_bad_names_are_refused_naming_the_field(self):
        self.assertApiError(self.call("POST", "/api/buckets", {"name": "Bad_Name"}), 400, "InvalidBucketName", "name")
        self.assertApiError(self.call("POST", "/api/buckets", {"name": "alice-photos"}), 409,
                            "BucketAlreadyOwnedByYou", "name")
        self.assertApiError(self.call("POST", "/api/buckets", {"name": "alice-photos"}, client=self.bob_client), 409,
                            "BucketAlreadyExists", "name")

    def test_bob_is_refused_everything_of_alices(self):
        self.put("secret.txt", b"alice's")
        refusals = [
            self.call("GET", "/api/buckets/alice-photos/objects", client=self.bob_client),
            self.call("GET", "/api/buckets/alice-photos/objects/secret.txt", client=self.bob_client),
            self.call("DELETE", "/api/buckets/alice-photos/objects/secret.txt", client=self.bob_client),
            self.call("DELETE", "/api/buckets/alice-photos", client=self.bob_client),
            self.call("GET", "/api/buckets/alice-photos/notifications", client=self.bob_client),
            self.put("planted.txt", b"bob's", client=self.bob_client),
        ]
        for response in refusals:
            self.assertEqual(response.status_code, 403, response.content[:300])
        self.assertEqual(self.call("GET", "/api/buckets", client=self.bob_client).data["buckets"], [])
        self.assertEqual(self.client.get("/buckets/alice-photos/").status_code, 200)
        self.assertEqual(self.bob_client.get("/buckets/alice-photos/").status_code, 404)
        listing = self.call("GET", "/api/buckets/alice-photos/objects").data
        self.assertEqual([o["key"] for o in listing["objects"]], ["secret.txt"])
