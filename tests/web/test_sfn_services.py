"""The services the Step Functions API adds to the studio's writers: aliases (their routing checked,
versions drawn by weight), tags, version deletion, the machine's current version, and waiting for
an execution's end without a server loop."""

import json
import random

from django.test import TestCase

from editor.errors import ApiError
from editor.services import machine_aliases as aliases
from editor.services import machines, roles
from editor.services.broadcast import wait_for_group
from tests.web.base import TwoUsersMixin

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
SUCCEED = {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}


class MachineServicesTests(TwoUsersMixin, TestCase):
    def setUp(self):
        self.make_users()
        roles.create_role(self.alice, {"name": "runner", "trusted": ["states"]})
        self.machine = machines.create_machine(self.alice, {"name": "m", "role": "runner",
                                                            "definition": json.dumps(PASS)})
        self.one = machines.publish_version(self.machine, "first")
        machines.update_machine(self.machine, {"definition": json.dumps(SUCCEED)})
        self.two = machines.publish_version(self.machine)

    def refused(self, call) -> str:
        with self.assertRaises(ApiError) as caught:
            call()
        return caught.exception.code

    def test_an_alias_routes_to_one_or_two_published_versions_whose_weights_make_100(self):
        self.assertEqual(self.one.description, "first")
        for routes, code in (([], "InvalidRouting"), ([{"version": 1, "weight": 50}], "InvalidRouting"),
                             ([{"version": 1, "weight": 50}, {"version": 1, "weight": 50}], "InvalidRouting"),
                             ([{"version": 7, "weight": 100}], "VersionNotFound"),
                             ([{"version": 1, "weight": True}], "InvalidRouting")):
            self.assertEqual(self.refused(lambda: aliases.create_alias(self.machine, "a", routes)), code, routes)
        self.assertEqual(self.refused(lambda: aliases.create_alias(self.machine, "123", [
            {"version": 1, "weight": 100}])), "InvalidName")
        alias = aliases.create_alias(self.machine, "live", [{"version": 1, "weight": 25}, {"version": 2, "weight": 75}])
        self.assertEqual(self.refused(lambda: aliases.create_alias(self.machine, "live", [
            {"version": 1, "weight": 100}])), "ResourceConflict")
        drawn = [aliases.pick_version(alias, random.Random(seed)).number for seed in range(400)]
        self.assertTrue(60 < drawn.count(1) < 140, drawn.count(1))   # about a quarter of 400
        self.assertEqual(self.refused(lambda: machines.delete_version(self.two)), "VersionInUse")
        aliases.update_alias(alias, [{"version": 1, "weight": 100}])
        machines.delete_version(self.two)
        self.assertEqual(list(self.machine.versions.values_list("number", flat=True)), [1])

    def test_tags_replace_by_key_and_stop_at_fifty(self):
        machines.tag_machine(self.machine, [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
        machines.tag_machine(self.machine, [{"key": "a", "value": "3"}])
        self.assertEqual(self.machine.tags, [{"key": "a", "value": "3"}, {"key": "b", "value": "2"}])
        self.assertEqual(self.refused(lambda: machines.tag_machine(
            self.machine, [{"key": f"k{i}", "value": ""} for i in range(49)])), "TooManyTags")
        machines.untag_machine(self.machine, ["a", "missing"])
        self.machine.refresh_from_db()
        self.assertEqual(self.machine.tags, [{"key": "b", "value": "2"}])

    def test_the_current_version_is_the_draft_published_when_new_and_valid(self):
        self.assertEqual(machines.current_version(self.machine), self.two)   # the draft is version 2
        machines.update_machine(self.machine, {"definition": json.dumps(PASS)})
        three = machines.current_version(self.machine)
        self.assertEqual((three.number, three.definition), (3, PASS))
        machines.update_machine(self.machine, {"definition": "{not json"})
        self.assertEqual(machines.current_version(self.machine), three)   # an invalid draft runs the latest

    def test_waiting_without_a_server_loop_asks_the_check_until_the_deadline(self):
        answers = iter([False, False, True])
        self.assertTrue(wait_for_group("nobody", lambda message: True, lambda: next(answers), 5))
        self.assertFalse(wait_for_group("nobody", lambda message: True, lambda: False, 0.1))
