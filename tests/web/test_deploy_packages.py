"""Deploy from the studio: a draft whose requirements.txt is not in the package cache answers 202
at once and installs on an installer thread (editor.services.deploys), then deploys; a failed install
fails that Deploy with pip's message and keeps the deployed version; a Deploy or a configuration
change while one installs is refused (409); an install a dead process left is taken up again, and
failed clearly once its installers died too often."""

from datetime import timedelta

from django.utils import timezone

from editor.models import Function, FunctionUpdate, FunctionVersion
from editor.services import deploys
from tests.integration.cluster import wait_until
from tests.web.base import LiveWebTestCase
from tests.wheel_server import WheelServer

USES_PROBE = "import flowbench_probe\n\ndef lambda_handler(e, c):\n    return flowbench_probe.VALUE\n"


class DeployPackagesTests(LiveWebTestCase):
    def ended(self, name="hello") -> dict:
        """Waits for the function's background Deploy to end; returns its last_update."""
        def done():
            update = self.call("GET", f"/api/functions/{name}").data["last_update"]
            return update if update and update["status"] != "InProgress" else None
        return wait_until(done, 180, "the Deploy's install to end")

    def test_a_deploy_installs_in_the_background_keeps_its_log_and_runs_with_the_package(self):
        self.make_function(name="hello", deploy=True)
        with WheelServer(hold=False) as wheels:
            self.call("PUT", "/api/functions/hello/code", {"files": {
                "lambda_function.py": USES_PROBE, "requirements.txt": wheels.requirements()}})
            response = self.call("POST", "/api/functions/hello/deploy")
            self.assertEqual(response.status_code, 202, response.data)
            self.assertIsNone(response.data["version"])
            self.assertEqual(response.data["function"]["last_update"]["status"], "InProgress")
            update = self.ended()
        self.assertEqual((update["status"], update["version"]), ("Successful", "$LATEST"), update)
        self.assertIn("Successfully installed flowbench-probe-1.0", update["log"])
        versions = self.call("GET", "/api/functions/hello/versions").data["versions"]
        self.assertIn("Successfully installed flowbench-probe-1.0", versions[0]["install_log"])
        result = self.call("POST", "/api/functions/hello/test", {"event": {}})
        self.assertEqual(result.data["response"], "probe", result.data)
        # The same file again: from the cache, deployed at once (200).
        function = Function.objects.get(name="hello")
        self.call("PUT", "/api/functions/hello/code", {"files": {**function.files, "other.py": "X = 1\n"}})
        response = self.call("POST", "/api/functions/hello/deploy")
        self.assertEqual(response.status_code, 200, response.data)
        self.assertIn("cached package", response.data["version"]["install_log"])

    def test_a_deploy_or_a_configuration_change_while_one_installs_is_refused(self):
        self.make_function(name="hello", deploy=True)
        with WheelServer() as wheels:
            self.call("PUT", "/api/functions/hello/code", {"files": {
                "lambda_function.py": USES_PROBE, "requirements.txt": wheels.requirements()}})
            self.assertEqual(self.call("POST", "/api/functions/hello/deploy").status_code, 202)
            wheels.wait_for_download()
            # The log so far is kept while pip runs: a page opened now shows it.
            wait_until(lambda: "Installing dependencies" in self.call("GET", "/api/functions/hello").data[
                "last_update"]["log"], 30, "the install's log so far to be stored")
            self.assertApiError(self.call("POST", "/api/functions/hello/deploy"), 409, "UpdateInProgress")
            self.assertApiError(self.call("PUT", "/api/functions/hello/configuration", {"timeout": 9}), 409,
                                "UpdateInProgress")
            # The deployed code still answers meanwhile.
            self.assertEqual(self.call("POST", "/api/functions/hello/test", {"event": {}}).data["status"], "succeeded")
            wheels.open()
            self.assertEqual(self.ended()["status"], "Successful")
        self.assertEqual(Function.objects.get(name="hello").timeout, 3)

    def test_a_requirement_that_does_not_resolve_fails_the_deploy_and_keeps_the_deployed_version(self):
        function = self.make_function(name="hello", deploy=True)
        before = FunctionVersion.objects.filter(function=function).count()
        deployed = function.deployed_id
        self.call("PUT", "/api/functions/hello/code", {"files": {
            "lambda_function.py": "def lambda_handler(e, c):\n    return 2\n",
            "requirements.txt": f"flowbench-no-such-package-xyz==1.0\n# {function.pk}-{before}-{deployed}\n"}})
        self.assertEqual(self.call("POST", "/api/functions/hello/deploy").status_code, 202)
        update = self.ended()
        self.assertEqual(update["status"], "Failed")
        self.assertIn("Installing requirements.txt failed", update["reason"])
        self.assertIn("flowbench-no-such-package-xyz", update["reason"])
        function.refresh_from_db()
        self.assertEqual((function.deployed_id, function.state), (deployed, "Active"))
        self.assertEqual(FunctionVersion.objects.filter(function=function).count(), before)

    def test_an_install_a_dead_process_left_is_taken_up_and_one_cut_off_too_often_fails_clearly(self):
        function = self.make_function(name="hello", deploy=True)
        with WheelServer(hold=False) as wheels:
            snapshot = {**function.draft_snapshot(), "files": {
                "lambda_function.py": USES_PROBE, "requirements.txt": wheels.requirements()}}
            # As a killed process leaves it: InProgress, held by a runner that is gone, lease not over.
            left = FunctionUpdate.objects.create(function=function, snapshot=snapshot, runner="gone:1:dead",
                                                 attempts=1, lease_until=timezone.now() + timedelta(minutes=5))
            self.assertEqual(deploys.sweep_updates(), 0)     # a live lease is left alone by the sweep
            self.assertEqual(deploys.resume_updates(), 1)    # a restarted web process takes it over
            update = self.ended()
        self.assertEqual(update["status"], "Successful", update)
        self.assertIn("installing again (attempt 2 of 3)", update["log"])
        self.assertEqual(self.call("POST", "/api/functions/hello/test", {"event": {}}).data["response"], "probe")

        dead = FunctionUpdate.objects.create(function=function, snapshot=snapshot, runner="gone:2:dead",
                                             attempts=deploys.MAX_ATTEMPTS, lease_until=timezone.now())
        deploys.run_update(dead.pk)   # its lease ran out: the sweep's job may take it
        dead.refresh_from_db()
        self.assertEqual(dead.status, "Failed")
        self.assertIn("The install stopped 3 times", dead.reason)

    def test_the_bobs_of_this_world_cannot_deploy_alices_function(self):
        self.make_function(name="hello", deploy=True)
        response = self.call("POST", "/api/functions/hello/deploy", client=self.bob_client)
        self.assertEqual(response.status_code, 404)
