"""The studio's JSON API for schedules: list them with their next run times and last fires,
create, replace, enable/disable and delete them. The body of a schedule uses EventBridge
Scheduler's member names (`ScheduleExpression`, `Target.Arn`, ...), which refusals name as their
`field`. Every call goes through editor.services.schedules."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import reverse

from editor.api import api, read_json
from editor.models import Function, Role, Schedule, ScheduleFire, ScheduleGroup, StateMachine
from editor.serializers import iso
from editor.services import schedules
from editor.services.accounts import function_arn, role_arn, state_machine_arn

FIRES_SHOWN = 10


def _target_link(user, arn: str) -> str | None:
    target = schedules.resolve_target(user, arn)
    if target is None:
        return None
    if target.kind == "function":
        return reverse("function", args=[target.function.name])
    return reverse("machine", args=[target.machine.name])


def _fire_json(fire: ScheduleFire) -> dict:
    found = {"tick_at": iso(fire.tick_at), "fired_at": iso(fire.fired_at), "target_arn": fire.target_arn,
             "error": fire.error or None, "invocation": None, "execution": None, "link": None,
             "attempts": fire.attempts, "retry_at": iso(fire.retry_at) if fire.retry_at else None}
    if fire.invocation_id:
        found["invocation"] = str(fire.invocation_id)
        found["link"] = (reverse("function", args=[fire.invocation.function.name]) + f"#invocation-{fire.invocation_id}"
                         if fire.invocation else None)
    if fire.execution_id:
        found["execution"] = str(fire.execution_id)
        found["link"] = reverse("execution", args=[str(fire.execution_id)])
    return found


def schedule_json(user, schedule: Schedule) -> dict:
    fires = (ScheduleFire.objects.filter(schedule=schedule).select_related("invocation__function")
             .order_by("-tick_at")[:FIRES_SHOWN])
    return {
        "name": schedule.name, "group": schedule.group.name,
        "arn": schedules.schedule_arn(user, schedule.group.name, schedule.name),
        "ScheduleExpression": schedule.expression, "ScheduleExpressionTimezone": schedule.timezone,
        "Description": schedule.description, "State": schedule.state,
        "StartDate": iso(schedule.start_date), "EndDate": iso(schedule.end_date),
        "FlexibleTimeWindow": {"Mode": schedule.flexible_mode,
                               **({"MaximumWindowInMinutes": schedule.flexible_minutes}
                                  if schedule.flexible_minutes else {})},
        "Target": {"Arn": schedule.target_arn, "RoleArn": schedule.target_role_arn, "Input": schedule.target_input},
        "ActionAfterCompletion": schedule.action_after_completion,
        "disabled_reason": schedule.disabled_reason or None,
        "next_runs": [iso(t) for t in schedules.upcoming_ticks(schedule, 3)],
        "target_link": _target_link(user, schedule.target_arn),
        "fires": [_fire_json(f) for f in fires],
        "created_at": iso(schedule.created_at), "updated_at": iso(schedule.updated_at),
    }


def _choices(user) -> dict:
    """What the form offers: the user's functions, state machines and roles, by ARN."""
    return {
        "functions": [{"name": f.name, "arn": function_arn(user, f.name)}
                      for f in Function.objects.filter(owner=user).order_by("name")],
        "machines": [{"name": m.name, "arn": state_machine_arn(user, m.name)}
                     for m in StateMachine.objects.filter(owner=user).order_by("name")],
        "roles": [{"name": r.name, "arn": role_arn(user, r.name, r.path)}
                  for r in Role.objects.filter(owner=user).order_by("name")],
        "groups": sorted({schedules.DEFAULT_GROUP, *ScheduleGroup.objects.filter(owner=user).values_list("name", flat=True)}),
    }


@api("GET", "POST")
def schedule_list(request):
    if request.method == "POST":
        data = read_json(request)
        name = data.pop("Name", None)
        schedules.schedule_name(name)
        schedule = schedules.create_schedule(request.user, name, data)
        return JsonResponse(schedule_json(request.user, schedule), status=201)
    found = Schedule.objects.filter(owner=request.user).select_related("group")
    return JsonResponse({"schedules": [schedule_json(request.user, s) for s in found],
                         "choices": _choices(request.user)})


@api("GET", "PUT", "DELETE")
def schedule_detail(request, group, name):
    if request.method == "DELETE":
        schedules.delete_schedule(request.user, name, group)
        return HttpResponse(status=204)
    if request.method == "PUT":
        data = read_json(request)
        data.pop("Name", None)
        schedules.get_schedule(request.user, name, group)   # 404 before any field is checked
        schedule = schedules.update_schedule(request.user, name, {**data, "GroupName": group})
    else:
        schedule = schedules.get_schedule(request.user, name, group)
    return JsonResponse(schedule_json(request.user, schedule))


@api("POST")
def schedule_state(request, group, name):
    data = read_json(request)
    schedule = schedules.set_state(request.user, name, group, data.get("State"))
    return JsonResponse(schedule_json(request.user, schedule))
