"""The function sandbox as the studio shows and uses it: the chosen backend or a clear refusal,
the data folder private to the server, workers retired with their function."""

import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from editor.models import Invocation
from editor.services.runner import close_runner
from tests.unit.functions.helpers import processes_with_marker
from tests.web.base import WebTestCase

LEAVES_A_CHILD = ("import subprocess\n"
                  "def lambda_handler(event, context):\n"
                  "    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
                  "    return 'left a child'\n")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_folder_and_its_database_are_private_to_the_server():
    data = Path(settings.DATA_DIR)
    assert mode(data) == 0o700
    assert mode(data / "flowbench.sqlite3") == 0o600
    assert mode(data / "secret_key") == 0o600


def test_an_unknown_sandbox_setting_is_refused_naming_the_variable():
    done = subprocess.run([sys.executable, "-c", "import flowbench.settings"], capture_output=True,
                          text=True, env={**os.environ, "FLOWBENCH_SANDBOX": "auto"},
                          cwd=settings.BASE_DIR)
    assert done.returncode != 0
    assert "FLOWBENCH_SANDBOX must be 'bubblewrap' or 'plain', not 'auto'" in done.stderr


class SandboxTestCase(WebTestCase):
    """Each test gets a runner made under its own settings, and leaves none behind."""

    def setUp(self):
        super().setUp()
        close_runner()
        self.addCleanup(close_runner)


class UnavailableSandboxTests(SandboxTestCase):
    """bubblewrap does not work here and plain was not chosen: nothing runs, and it says why."""

    def setUp(self):
        super().setUp()
        patch = pytest.MonkeyPatch()
        patch.setattr("runtime.functions.sandbox.bubblewrap_problem", lambda: "bwrap is not installed")
        self.addCleanup(patch.undo)
        self.function = self.make_function(name="echo", deploy=True)

    def assertRefusal(self, response):
        self.assertApiError(response, 503, "SandboxUnavailable")
        message = response.data["error"]["message"]
        self.assertIn("bwrap is not installed", message)
        self.assertIn("apt-get install bubblewrap", message)
        self.assertIn("FLOWBENCH_SANDBOX=plain", message)
        self.assertEqual(Invocation.objects.count(), 0)

    def test_the_test_button_is_refused_with_how_to_fix_it(self):
        self.assertRefusal(self.call("POST", "/api/functions/echo/test", {"event": {}}))

    def test_the_invoke_api_is_refused_with_how_to_fix_it(self):
        self.assertRefusal(self.call("POST", "/api/functions/echo/invocations", {}))

    def test_the_function_page_says_functions_cannot_run(self):
        response = self.client.get("/functions/echo/")
        self.assertContains(response, "Sandbox unavailable: functions cannot run")
        self.assertContains(response, "apt-get install bubblewrap")

    def test_prepare_says_why_no_function_runs(self):
        out = []
        call_command("prepare", stdout=_Lines(out))
        self.assertTrue(any("Functions cannot run" in line and "apt-get install bubblewrap" in line
                            for line in out), out)


class _Lines:
    """A stream that keeps what is written to it as lines."""

    def __init__(self, lines):
        self.lines = lines

    def write(self, text):
        self.lines.append(text)

    def flush(self):
        pass


@override_settings(FLOWBENCH_SANDBOX="plain")
class PlainSandboxTests(SandboxTestCase):
    def test_the_function_page_warns_that_plain_does_not_isolate(self):
        self.make_function(name="echo")
        response = self.client.get("/functions/echo/")
        self.assertContains(response, 'class="runtime-tag warn" id="sandbox-tag"')
        self.assertContains(response, "Sandbox: plain process, not isolated")

    def test_prepare_says_functions_run_in_the_plain_sandbox(self):
        out = []
        call_command("prepare", stdout=_Lines(out))
        self.assertTrue(any("plain sandbox (FLOWBENCH_SANDBOX=plain)" in line for line in out), out)

    def test_functions_run_when_plain_was_chosen(self):
        self.make_function(name="echo", deploy=True)
        response = self.call("POST", "/api/functions/echo/test", {"event": {}})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.data["status"], "succeeded")


class RetiringTests(SandboxTestCase):
    """What a function left running goes with the function (or the code it ran)."""

    def setUp(self):
        super().setUp()
        self.marker = uuid.uuid4().hex
        self.make_function(name="leaver")
        self.call("PUT", "/api/functions/leaver/code", {"files": {"lambda_function.py": LEAVES_A_CHILD}})
        self.call("PUT", "/api/functions/leaver/configuration", {"env": {"MARKER": self.marker}})
        self.call("POST", "/api/functions/leaver/deploy")
        response = self.call("POST", "/api/functions/leaver/test", {"event": {}})
        self.assertEqual(response.data["response"], "left a child")
        self.assertTrue(processes_with_marker(self.marker))

    def test_deleting_a_function_stops_its_workers_and_what_they_left(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.call("DELETE", "/api/functions/leaver").status_code, 204)
        self.assertEqual(processes_with_marker(self.marker), [])

    def test_redeploying_stops_the_workers_of_the_code_it_replaces(self):
        self.call("PUT", "/api/functions/leaver/code",
                  {"files": {"lambda_function.py": "def lambda_handler(event, context):\n    return 2\n"}})
        with self.captureOnCommitCallbacks(execute=True):
            self.call("POST", "/api/functions/leaver/deploy")
        self.assertEqual(processes_with_marker(self.marker), [])
        self.assertEqual(self.call("POST", "/api/functions/leaver/test", {"event": {}}).data["response"], 2)
