"""EventBridge Scheduler (REST-JSON, signing name `scheduler`): schedules and schedule groups.
editor.services.schedules is the writer; the studio's Schedules page shows what this creates.

Every action is authorized on the schedule's ARN
(`arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>`) or the group's; listings on "*".
"""

from __future__ import annotations

from editor.aws.errors import AwsError, refusal
from editor.aws.pagination import paginate_list
from editor.aws.providers.base import Provider
from editor.errors import ApiError
from editor.models import Schedule, ScheduleGroup
from editor.services import schedules

_INVALID_TOKEN = refusal("validation", "Invalid NextToken.")


def _schedule_shape(schedule: Schedule, arn: str) -> dict:
    target = {"Arn": schedule.target_arn, "RoleArn": schedule.target_role_arn}
    if schedule.target_input is not None:
        target["Input"] = schedule.target_input
    if schedule.retry_policy:
        target["RetryPolicy"] = schedule.retry_policy
    window = {"Mode": schedule.flexible_mode}
    if schedule.flexible_minutes:
        window["MaximumWindowInMinutes"] = schedule.flexible_minutes
    found = {"Arn": arn, "GroupName": schedule.group.name, "Name": schedule.name,
             "ScheduleExpression": schedule.expression, "ScheduleExpressionTimezone": schedule.timezone,
             "State": schedule.state, "CreationDate": schedule.created_at,
             "LastModificationDate": schedule.updated_at, "Target": target, "FlexibleTimeWindow": window,
             "ActionAfterCompletion": schedule.action_after_completion}
    if schedule.description:
        found["Description"] = schedule.description
    if schedule.start_date:
        found["StartDate"] = schedule.start_date
    if schedule.end_date:
        found["EndDate"] = schedule.end_date
    return found


class SchedulerProvider(Provider):
    API_ERRORS = {
        "ResourceNotFound": ("ResourceNotFoundException", 404),
        "Conflict": ("ConflictException", 409),
    }

    def translate(self, error: ApiError) -> AwsError:
        """The studio's refusal, naming the member it is about."""
        translated = super().translate(error)
        if error.field and translated.status == 400 and error.field not in translated.message:
            translated.message = f"Invalid {error.field}: {translated.message}"
            translated.args = (translated.message,)
        return translated

    def _arn(self, name: str, group: str | None) -> str:
        return schedules.schedule_arn(self.owner, group or schedules.DEFAULT_GROUP, name)

    # -- schedules ------------------------------------------------------------------------------

    def CreateSchedule(self, params: dict) -> dict:
        arn = self._arn(params["Name"], params.get("GroupName"))
        self.authorize("scheduler:CreateSchedule", arn)
        schedules.create_schedule(self.owner, params["Name"], _members(params))
        return {"ScheduleArn": arn}

    def UpdateSchedule(self, params: dict) -> dict:
        arn = self._arn(params["Name"], params.get("GroupName"))
        self.authorize("scheduler:UpdateSchedule", arn)
        schedules.update_schedule(self.owner, params["Name"], _members(params))
        return {"ScheduleArn": arn}

    def GetSchedule(self, params: dict) -> dict:
        arn = self._arn(params["Name"], params.get("GroupName"))
        self.authorize("scheduler:GetSchedule", arn)
        schedule = schedules.get_schedule(self.owner, params["Name"], params.get("GroupName"))
        return _schedule_shape(schedule, arn)

    def DeleteSchedule(self, params: dict) -> dict:
        arn = self._arn(params["Name"], params.get("GroupName"))
        self.authorize("scheduler:DeleteSchedule", arn)
        schedules.delete_schedule(self.owner, params["Name"], params.get("GroupName"))
        return {}

    def ListSchedules(self, params: dict) -> dict:
        self.authorize("scheduler:ListSchedules", "*")
        found = Schedule.objects.select_related("group").filter(owner=self.owner)
        if params.get("GroupName"):
            schedules.get_group(self.owner, params["GroupName"])
            found = found.filter(group__name=params["GroupName"])
        if params.get("NamePrefix"):
            found = found.filter(name__startswith=params["NamePrefix"])
        if params.get("State"):
            found = found.filter(state=params["State"])
        page, token = paginate_list(list(found), lambda s: f"{s.group.name}/{s.name}", params.get("NextToken"),
                                    params.get("MaxResults") or 100, invalid=_INVALID_TOKEN)
        summaries = [{"Arn": self._arn(s.name, s.group.name), "Name": s.name, "GroupName": s.group.name,
                      "State": s.state, "CreationDate": s.created_at, "LastModificationDate": s.updated_at,
                      "Target": {"Arn": s.target_arn}} for s in page]
        return {"Schedules": summaries, **({"NextToken": token} if token else {})}

    # -- groups ---------------------------------------------------------------------------------

    def _group_shape(self, group: ScheduleGroup) -> dict:
        return {"Arn": schedules.group_arn(self.owner, group.name), "Name": group.name, "State": "ACTIVE",
                "CreationDate": group.created_at, "LastModificationDate": group.updated_at}

    def CreateScheduleGroup(self, params: dict) -> dict:
        arn = schedules.group_arn(self.owner, params["Name"])
        self.authorize("scheduler:CreateScheduleGroup", arn)
        schedules.create_group(self.owner, params["Name"], params.get("Tags"))
        return {"ScheduleGroupArn": arn}

    def GetScheduleGroup(self, params: dict) -> dict:
        self.authorize("scheduler:GetScheduleGroup", schedules.group_arn(self.owner, params["Name"]))
        return self._group_shape(schedules.get_group(self.owner, params["Name"]))

    def DeleteScheduleGroup(self, params: dict) -> dict:
        self.authorize("scheduler:DeleteScheduleGroup", schedules.group_arn(self.owner, params["Name"]))
        schedules.delete_group(self.owner, params["Name"])
        return {}

    def ListScheduleGroups(self, params: dict) -> dict:
        self.authorize("scheduler:ListScheduleGroups", "*")
        schedules.get_group(self.owner, None)   # `default` is always listed
        found = ScheduleGroup.objects.filter(owner=self.owner)
        if params.get("NamePrefix"):
            found = found.filter(name__startswith=params["NamePrefix"])
        page, token = paginate_list(list(found), lambda g: g.name, params.get("NextToken"),
                                    params.get("MaxResults") or 100, invalid=_INVALID_TOKEN)
        return {"ScheduleGroups": [self._group_shape(g) for g in page], **({"NextToken": token} if token else {})}


def _members(params: dict) -> dict:
    """Returns the schedule members of a Create/UpdateSchedule request (its Name is the path's)."""
    return {key: value for key, value in params.items() if key not in ("Name", "ClientToken") and value is not None}
