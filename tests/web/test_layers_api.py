"""The studio's layers API: upload a zip as a version, list with the functions using it, delete;
another user sees and touches none of it; bad zips are refused naming the entry."""

import io
import zipfile

from tests.web.base import WebTestCase


def zipped(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


class LayersApiTests(WebTestCase):
    def upload(self, name, files, client=None, **query):
        client = client or self.client
        params = "&".join(f"{k}={v}" for k, v in query.items())
        response = client.generic("POST", f"/api/layers/{name}/versions?{params}", zipped(files),
                                  content_type="application/zip")
        response.data = response.json()
        return response

    def test_a_version_is_uploaded_listed_with_its_users_and_deleted(self):
        made = self.upload("utils", {"python/utils.py": "X = 1\n"}, description="shared",
                           compatible_runtimes="python3.11")
        self.assertEqual(made.status_code, 201)
        self.assertEqual(made.data["version"], 1)
        self.assertEqual(made.data["compatible_runtimes"], ["python3.11"])
        self.make_function(name="hello", deploy=True)
        response = self.call("PUT", "/api/functions/hello/configuration", {"layers": [made.data["arn"]]})
        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(self.call("GET", "/api/functions/hello").data["configuration"]["layers"], [made.data["arn"]])
        listed = self.call("GET", "/api/layers").data["layers"]
        self.assertEqual([(l["name"], [v["used_by"] for v in l["versions"]]) for l in listed],
                         [("utils", [["hello"]])])
        # Bob sees nothing, cannot delete it, cannot list it in his function.
        self.assertEqual(self.call("GET", "/api/layers", client=self.bob_client).data["layers"], [])
        self.assertEqual(self.call("DELETE", "/api/layers/utils/versions/1", client=self.bob_client).status_code, 404)
        self.make_function(self.bob, name="theirs", deploy=True)
        refused = self.call("PUT", "/api/functions/theirs/configuration", {"layers": [made.data["arn"]]},
                            client=self.bob_client)
        self.assertEqual(refused.status_code, 404)
        self.assertEqual(self.call("DELETE", "/api/layers/utils/versions/1").status_code, 204)
        self.assertEqual(self.call("GET", "/api/layers").data["layers"], [])

    def test_a_zip_escaping_its_root_is_refused_naming_the_path(self):
        response = self.upload("bad", {"../evil.py": "x"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.data["error"]["field"], "zip")
        self.assertIn("../evil.py", response.data["error"]["message"])
        self.assertEqual(self.call("GET", "/api/layers").data["layers"], [])

    def test_more_than_five_layers_are_refused(self):
        arns = [self.upload(f"l{i}", {f"f{i}": "x"}).data["arn"] for i in range(6)]
        self.make_function(name="hello", deploy=True)
        response = self.call("PUT", "/api/functions/hello/configuration", {"layers": arns})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.data["error"]["field"], "layers")
