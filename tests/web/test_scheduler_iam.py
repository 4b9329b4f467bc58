"""The Scheduler API under a role's temporary credentials (what a function's SDK signs with): each
action is authorized on the schedule's ARN, as IAM policies name it."""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.test import Client

from editor.models import Schedule
from editor.services import roles
from editor.services.accounts import account_id, function_arn, role_arn
from editor.services.role_sessions import issue_session
from tests.aws.inprocess import ENDPOINT, send_to
from tests.web.base import WebTestCase


class SchedulerUnderARoleTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.make_function(name="tick", deploy=True)
        roles.create_role(self.alice, {"name": "sched", "trusted": ["scheduler"]})
        account = account_id(self.alice)
        self.caller = roles.create_role(self.alice, {"name": "caller", "trusted": ["lambda"], "policy": {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["scheduler:CreateSchedule", "scheduler:GetSchedule"],
                 "Resource": f"arn:aws:scheduler:us-east-1:{account}:schedule/default/ok-*"},
                {"Effect": "Allow", "Action": "scheduler:ListSchedules", "Resource": "*"}]}})

    def scheduler(self):
        session, secret, token = issue_session(self.caller, "tester", seconds=900)
        client = boto3.session.Session(aws_access_key_id=session.access_key_id, aws_secret_access_key=secret,
                                       aws_session_token=token, region_name="us-east-1").client(
            "scheduler", endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1}))
        client.meta.events.register("before-send", send_to(Client()))
        return client

    def create(self, client, name):
        return client.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                                      Target={"Arn": function_arn(self.alice, "tick"),
                                              "RoleArn": role_arn(self.alice, "sched")})

    def test_the_roles_policy_decides_each_action_on_the_schedules_arn(self):
        client = self.scheduler()
        self.assertTrue(self.create(client, "ok-1")["ScheduleArn"].endswith(":schedule/default/ok-1"))
        self.assertEqual(client.get_schedule(Name="ok-1")["Name"], "ok-1")
        self.assertEqual([s["Name"] for s in client.list_schedules()["Schedules"]], ["ok-1"])
        with self.assertRaises(ClientError) as refused:
            self.create(client, "other")
        error = refused.exception.response["Error"]
        self.assertEqual(error["Code"], "AccessDeniedException")
        self.assertIn("scheduler:CreateSchedule on resource: arn:aws:scheduler:us-east-1:", error["Message"])
        with self.assertRaises(ClientError) as refused:
            client.delete_schedule(Name="ok-1")
        self.assertEqual(refused.exception.response["Error"]["Code"], "AccessDeniedException")
        self.assertEqual(sorted(Schedule.objects.values_list("name", flat=True)), ["ok-1"])
