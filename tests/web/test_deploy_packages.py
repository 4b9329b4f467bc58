"""Deploy from the studio installs the draft's requirements.txt; a failed install refuses the Deploy
with pip's message and keeps the deployed version."""

from editor.models import FunctionVersion
from tests.web.base import WebTestCase


class DeployPackagesTests(WebTestCase):
    def test_a_deploy_keeps_its_install_log_and_runs_with_the_package(self):
        self.make_function(name="hello", deploy=True)
        self.call("PUT", "/api/functions/hello/code", {"files": {
            "lambda_function.py": "import six\n\ndef lambda_handler(e, c):\n    return six.__version__\n",
            "requirements.txt": "six==1.16.0\n"}})
        response = self.call("POST", "/api/functions/hello/deploy")
        self.assertEqual(response.status_code, 200, response.data)
        log = response.data["version"]["install_log"]
        # Installed now, or by an earlier run into the same cache: either way the log says which.
        self.assertTrue("Successfully installed six-1.16.0" in log or "cached package" in log, log)
        result = self.call("POST", "/api/functions/hello/test", {"event": {}})
        self.assertEqual(result.data["response"], "1.16.0", result.data)

    def test_a_requirement_that_does_not_resolve_fails_the_deploy_and_keeps_the_deployed_version(self):
        function = self.make_function(name="hello", deploy=True)
        before = FunctionVersion.objects.filter(function=function).count()
        deployed = function.deployed_id
        response = self.call("PUT", "/api/functions/hello/code", {"files": {
            "lambda_function.py": "def lambda_handler(e, c):\n    return 2\n",
            "requirements.txt": "flowbench-no-such-package-xyz==1.0\n"}})
        self.assertEqual(response.status_code, 200)
        response = self.call("POST", "/api/functions/hello/deploy")
        self.assertEqual(response.status_code, 400)
        error = response.data["error"]
        self.assertEqual(error["code"], "InstallationFailed")
        self.assertIn("flowbench-no-such-package-xyz", error["message"])
        self.assertIn("requirements.txt", error.get("field", "") + error.get("pointer", "") + error["message"])
        function.refresh_from_db()
        self.assertEqual(function.deployed_id, deployed)
        self.assertEqual(FunctionVersion.objects.filter(function=function).count(), before)

    def test_the_bobs_of_this_world_cannot_deploy_alices_function(self):
        self.make_function(name="hello", deploy=True)
        response = self.call("POST", "/api/functions/hello/deploy", client=self.bob_client)
        self.assertEqual(response.status_code, 404)
