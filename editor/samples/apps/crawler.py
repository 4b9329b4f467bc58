"""Crawler (the seed's app 3.2): a schedule (EventBridge Scheduler, every 10 minutes) starts a state
machine that crawls a page (crawl-page: requests and Beautiful Soup, network on; it returns the
status, title and links), then a Choice sends a page that answered to crawl-succeeded (which
records the summary) and one that answered an error to crawl-failed (which records the reason),
as does the crawl Task's Catch for a crawl that failed outright.

The page crawled is served by Flowbench itself: the function URL (AuthType NONE) of crawl-target,
so the sample works offline. The schedule's input names that function, {"function": "crawl-target"},
not its address: crawl-page asks Lambda for the URL (GetFunctionUrlConfig, allowed by its role) at
each crawl, so it keeps working when Flowbench is served at another address (FLOWBENCH_BASE_URL).
An input {"url": "https://..."} crawls any other page.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from editor.models import Function, Role, Schedule, StateMachine
from editor.samples.apps import SampleApp, definition, function_files

ID = "crawler"
MACHINE = "crawler"
SCHEDULE = "crawler-every-10-minutes"
EXPRESSION = "rate(10 minutes)"
FIRST_RUN_AFTER = timedelta(minutes=10)
TARGET, PAGE, SUCCEEDED, FAILED = "crawl-target", "crawl-page", "crawl-succeeded", "crawl-failed"
FUNCTIONS = (TARGET, PAGE, SUCCEEDED, FAILED)
FUNCTION_ROLE = "crawler-functions"
MACHINE_ROLE = "crawler-machine"
SCHEDULER_ROLE = "crawler-scheduler"
INPUT = json.dumps({"function": TARGET})
ROLES = (FUNCTION_ROLE, MACHINE_ROLE, SCHEDULER_ROLE)


def _policy(sid: str, action: str, resources: list[str]) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Allow", "Action": action,
                                                    "Resource": resources}]}


def load(user) -> list[str]:
    """Creates what the user lacks of the app; returns the names it created."""
    from editor.services.accounts import function_arn, role_arn, state_machine_arn
    from editor.services.function_urls import create_url
    from editor.services.samples import ensure_function, ensure_machine, ensure_role
    from editor.services.schedules import create_schedule

    created = []
    machine_arn = state_machine_arn(user, MACHINE)
    with transaction.atomic():
        have = set(Role.objects.filter(owner=user, name__in=ROLES).values_list("name", flat=True))
        function_role = ensure_role(user, FUNCTION_ROLE, trusted=["lambda"], policy=_policy(
            "FindTheCrawlTarget", "lambda:GetFunctionUrlConfig", [function_arn(user, TARGET)]),
            description="The crawler's functions: look up crawl-target's function URL.")
        machine_role = ensure_role(user, MACHINE_ROLE, trusted=["states"], policy=_policy(
            "InvokeTheCrawler", "lambda:InvokeFunction",
            [function_arn(user, name) for name in (PAGE, SUCCEEDED, FAILED)]),
            description="The crawler's state machine: invoke crawl-page, crawl-succeeded and crawl-failed.")
        ensure_role(user, SCHEDULER_ROLE, trusted=["scheduler"], policy=_policy(
            "StartTheCrawler", "states:StartExecution", [machine_arn]),
            description="The crawler's schedule: start the crawler state machine.")
        created += [name for name in ROLES if name not in have]
        functions = [
            (TARGET, dict(description="Crawler: the page it crawls, served through this function's URL.")),
            (PAGE, dict(description="Crawler: crawl one page (requests, Beautiful Soup): status, title, links.",
                        network=True, timeout=30, memory=256)),
            (SUCCEEDED, dict(description="Crawler: record the summary of a crawl that succeeded.")),
            (FAILED, dict(description="Crawler: record why a crawl failed.")),
        ]
        for name, settings in functions:
            if ensure_function(user, name, files=function_files(ID, name), role=function_role, **settings):
                created.append(name)
        target = Function.objects.get(owner=user, name=TARGET)
        if not target.urls.filter(qualifier="").exists():
            create_url(target, auth_type="NONE", allow_public=True)
            created.append(f"{TARGET} function URL")
        if ensure_machine(user, MACHINE, role=machine_role, definition=definition(ID),
                          description="Crawler: crawl a page, then record its summary or why it failed."):
            created.append(MACHINE)
        if not Schedule.objects.filter(owner=user, name=SCHEDULE, group__name="default").exists():
            create_schedule(user, SCHEDULE, {
                # The first crawl one period after loading, not at once: crawl-page's packages may
                # still be installing then (Run now on the app's page crawls at once).
                "StartDate": (timezone.now() + FIRST_RUN_AFTER).replace(microsecond=0),
                "ScheduleExpression": EXPRESSION, "State": "ENABLED", "FlexibleTimeWindow": {"Mode": "OFF"},
                "Description": "Crawls crawl-target's page every 10 minutes.",
                "Target": {"Arn": machine_arn, "RoleArn": role_arn(user, SCHEDULER_ROLE), "Input": INPUT}})
            created.append(SCHEDULE)
    return created


def resources(user) -> list[dict]:
    """The app's parts, each with its page when the user has it ("missing": True when not); the
    schedule's carries its state, next runs and input, the function URL its address."""
    from editor.services.function_urls import path_url
    from editor.services.schedules import upcoming_ticks

    functions = {f.name: f for f in Function.objects.filter(owner=user, name__in=FUNCTIONS)}
    roles = set(Role.objects.filter(owner=user, name__in=ROLES).values_list("name", flat=True))
    has_machine = StateMachine.objects.filter(owner=user, name=MACHINE).exists()
    schedule = Schedule.objects.filter(owner=user, name=SCHEDULE, group__name="default").first()
    url = functions[TARGET].urls.filter(qualifier="").first() if TARGET in functions else None

    def part(kind, label, href, present, **more):
        return {"kind": kind, "name": label, "href": href if present else None, "missing": not present, **more}

    return [
        part("schedule", SCHEDULE, reverse("schedule-list"), schedule is not None,
             **({"expression": schedule.expression, "state": schedule.state, "input": schedule.target_input,
                 "next_runs": upcoming_ticks(schedule, 3)} if schedule is not None else {})),
        part("state machine", MACHINE, reverse("machine", args=[MACHINE]), has_machine),
        *[part("function", name, reverse("function", args=[name]), name in functions) for name in FUNCTIONS],
        part("function URL", path_url(url.url_id) if url else f"{TARGET}'s URL",
             path_url(url.url_id) if url else None, url is not None),
        *[part("role", name, reverse("role", args=[name]), name in roles) for name in ROLES],
    ]


APP = SampleApp(
    id=ID, title="Crawler",
    summary="Every 10 minutes a schedule starts a state machine that crawls a page served by Flowbench itself, "
            "then records its title and links, or why the crawl failed.",
    template="samples/crawler.html", load=load, resources=resources, functions=FUNCTIONS)
