"""The Monitor figures and the seed's samples."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from editor.models import Function, Invocation
from editor.services.metrics import percentile
from tests.web.base import LiveWebTestCase, WebTestCase


class MetricsTests(WebTestCase):
    def test_percentiles_use_the_nearest_rank(self):
        values = [float(n) for n in range(1, 101)]
        self.assertEqual((percentile(values, 50), percentile(values, 99)), (50.0, 99.0))
        self.assertIsNone(percentile([], 50))

    def test_invocations_errors_and_durations_are_bucketed(self):
        function = self.make_function(name="hello")
        now = timezone.now()
        for n, (status, ms) in enumerate([("succeeded", 10.0), ("failed", 30.0), ("succeeded", 20.0)]):
            invocation = Invocation.objects.create(function=function, source="api", status=status,
                                                   duration_ms=ms, memory_mb=128)
            Invocation.objects.filter(pk=invocation.pk).update(started_at=now - timedelta(seconds=30 + n))
        Invocation.objects.create(function=function, source="api", memory_mb=128, duration_ms=99)
        Invocation.objects.filter(duration_ms=99).update(started_at=now - timedelta(hours=2))
        data = self.call("GET", "/api/functions/hello/metrics?window=1h").data
        self.assertEqual(len(data["buckets"]), 30)
        last = data["buckets"][-1]
        self.assertEqual((last["invocations"], last["errors"], last["p50_ms"], last["p99_ms"]), (3, 1, 20.0, 30.0))
        self.assertEqual(sum(b["invocations"] for b in data["buckets"]), 3)

    def test_an_unknown_window_is_refused(self):
        self.make_function(name="hello")
        self.assertApiError(self.call("GET", "/api/functions/hello/metrics?window=1y"), 400, "InvalidWindow", "window")


class SampleTests(WebTestCase):
    def test_load_samples_creates_deployed_samples_with_test_events_once(self):
        call_command("load_samples", "--user", "alice", stdout=StringIO())
        names = set(Function.objects.filter(owner=self.alice).values_list("name", flat=True))
        self.assertEqual(names, {"team-picker", "attack-training", "passing-training", "defence-training",
                                 "free-kick-training", "ball-contest-training"})
        self.assertTrue(all(f.deployed_id for f in Function.objects.filter(owner=self.alice)))
        call_command("load_samples", "--user", "alice", stdout=StringIO())
        self.assertEqual(Function.objects.filter(owner=self.alice).count(), 6)
        self.assertEqual(Function.objects.filter(owner=self.bob).count(), 0)

    def test_a_person_added_at_the_admin_gets_the_samples_once(self):
        from django.contrib.auth import get_user_model

        from editor.models import Role, StateMachine

        admin = get_user_model().objects.create_superuser("root", password="root-password-1")
        self.client.force_login(admin)
        form = {"username": "carol", "password1": "carol-password-1", "password2": "carol-password-1",
                "usable_password": "true"}
        response = self.client.post("/admin/auth/user/add/", form)
        self.assertEqual(response.status_code, 302, response.content[:2000])
        carol = get_user_model().objects.get(username="carol")
        self.assertEqual(set(Function.objects.filter(owner=carol).values_list("name", flat=True)),
                         {"team-picker", "attack-training", "passing-training", "defence-training",
                          "free-kick-training", "ball-contest-training"})
        self.assertEqual(list(Role.objects.filter(owner=carol).values_list("name", flat=True)),
                         ["flowbench-sample-role"])
        machine = StateMachine.objects.get(owner=carol)
        self.assertEqual((machine.name, machine.role.name, machine.versions.count()),
                         ("youth-football-training", "flowbench-sample-role", 1))
        # Changing the person later gives nothing again (what they deleted stays deleted).
        Function.objects.filter(owner=carol, name="team-picker").delete()
        change = {"username": "carol", "is_active": "on", "date_joined_0": "2024-01-01", "date_joined_1": "00:00:00"}
        response = self.client.post(f"/admin/auth/user/{carol.pk}/change/", change)
        self.assertEqual(response.status_code, 302, response.content[:2000])
        self.assertFalse(Function.objects.filter(owner=carol, name="team-picker").exists())

    def test_load_samples_names_an_unknown_user(self):
        with self.assertRaisesMessage(CommandError, "No user called 'carol'"):
            call_command("load_samples", "--user", "carol", stdout=StringIO())


class SampleFunctionTests(LiveWebTestCase):
    """The samples' functions run: they get their role's credentials at a cold start, which a
    runner thread writes (real commits, so not inside a test's transaction)."""

    def test_each_training_returns_its_drill_and_passes_the_player_through(self):
        call_command("load_samples", "--user", "alice", stdout=StringIO())
        expected = {"attack-training": "공격 훈련", "passing-training": "패스 훈련", "defence-training": "수비 훈련",
                    "free-kick-training": "프리킥 훈련", "ball-contest-training": "볼 경합 훈련"}
        for name, drill in expected.items():
            response = self.call("POST", f"/api/functions/{name}/invocations",
                                 {"TraningType": "미드필더", "player": "민준"})
            self.assertEqual(response.status_code, 200, response.content)
            self.assertNotIn("X-Amz-Function-Error", response)
            self.assertEqual(response.data["lastDrill"], drill)
            self.assertEqual(response.data["player"], "민준")
            self.assertEqual(response.data["trainings"][-1]["drill"], drill)
            self.assertGreater(response.data["totalMinutes"], 0)

    def test_trainings_chain_like_the_state_machine(self):
        call_command("load_samples", "--user", "alice", stdout=StringIO())
        first = self.call("POST", "/api/functions/attack-training/invocations", {"TraningType": "공격수"}).data
        second = self.call("POST", "/api/functions/ball-contest-training/invocations", first).data
        self.assertEqual([t["drill"] for t in second["trainings"]], ["공격 훈련", "볼 경합 훈련"])
        self.assertEqual(second["totalMinutes"], 70)

    def test_the_team_picker_draws_four_teams_of_three_and_leaves_one_out(self):
        call_command("load_samples", "--user", "alice", stdout=StringIO())
        result = self.call("POST", "/api/functions/team-picker/invocations", {}).data
        self.assertEqual([len(t["members"]) for t in result["teams"]], [3, 3, 3, 3])
        self.assertEqual(len(result["leftOut"]), 1)
        everyone = {m for t in result["teams"] for m in t["members"]} | set(result["leftOut"])
        self.assertEqual(len(everyone), 13)
