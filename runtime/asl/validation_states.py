"""The checks of each state type, mixed into the validator of `validation`.

Every `check_<type>` method receives the state, its JSON pointer, the query language in force and
a list to which it appends the state's transitions as (field, target name, pointer); the validator
then resolves them within the state's scope. Choice lives in `validation_choice`, the shapes all
states share in `validation_fields`.
"""

from __future__ import annotations

from runtime.arn import Integration, parse_resource
from runtime.asl.validation_choice import ChoiceChecks
from runtime.asl.timestamps import is_timestamp
from runtime.asl.validation_expressions import is_jsonata
from runtime.asl.validation_fields import MAX_SECONDS, NOT_RFC3339, is_number
from runtime.json_pointer import child

__all__ = ["StateChecks", "STATE_FIELDS"]

# Fields per state type: (both query languages, JSONPath only, JSONata only).
_COMMON = {"Type", "Comment", "QueryLanguage"}
_IO_JSONPATH = {"InputPath", "OutputPath"}
STATE_FIELDS = {
    "Pass": ({"Next", "End", "Assign"},
             _IO_JSONPATH | {"Parameters", "Result", "ResultPath"}, {"Output"}),
    "Task": ({"Next", "End", "Assign", "Resource", "Retry", "Catch", "TimeoutSeconds",
              "HeartbeatSeconds", "Credentials"},
             _IO_JSONPATH | {"Parameters", "ResultSelector", "ResultPath", "TimeoutSecondsPath",
                             "HeartbeatSecondsPath"},
             {"Arguments", "Output"}),
    "Choice": ({"Choices", "Default", "Assign"}, _IO_JSONPATH, {"Output"}),
    "Wait": ({"Next", "End", "Assign", "Seconds", "Timestamp"},
             _IO_JSONPATH | {"SecondsPath", "TimestampPath"}, {"Output"}),
    "Succeed": (set(), _IO_JSONPATH, {"Output"}),
    "Fail": ({"Error", "Cause"}, {"ErrorPath", "CausePath"}, set()),
    "Parallel": ({"Next", "End", "Assign", "Branches", "Retry", "Catch"},
                 _IO_JSONPATH | {"Parameters", "ResultSelector", "ResultPath"},
                 {"Arguments", "Output"}),
    "Map": ({"Next", "End", "Assign", "ItemProcessor", "Iterator", "ItemSelector", "ItemReader",
             "ResultWriter", "ItemBatcher", "Label", "MaxConcurrency", "ToleratedFailureCount",
             "ToleratedFailurePercentage", "Retry", "Catch"},
            _IO_JSONPATH | {"Parameters", "ResultSelector", "ResultPath", "ItemsPath",
                            "MaxConcurrencyPath", "ToleratedFailureCountPath",
                            "ToleratedFailurePercentagePath"},
            {"Items", "Output"}),
}

# Optimized integrations AWS recognises under arn:<partition>:states:::<service>:<action>. A
# service mapped to None accepts any action name.
_INTEGRATIONS = {
    "lambda": {"invoke"},
    "dynamodb": {"getItem", "putItem", "deleteItem", "updateItem"},
    "sns": {"publish"},
    "sqs": {"sendMessage"},
    "states": {"startExecution"},
    "events": {"putEvents"},
    "http": {"invoke"},
    "apigateway": {"invoke"},
    "ecs": {"runTask"},
    "batch": {"submitJob"},
    "glue": {"startJobRun"},
    "codebuild": None, "athena": None, "sagemaker": None, "elasticmapreduce": None,
    "emr-serverless": None, "emr-containers": None, "eks": None, "mediaconvert": None,
    "bedrock": None, "glue-databrew": None, "s3": None, "redshift-data": None,
    "stepfunctions": None,
}
_RETRY_FIELDS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                 "MaxDelaySeconds", "JitterStrategy", "Comment"}
_CATCH_FIELDS = {"ErrorEquals", "Next", "Comment", "Assign"}


class StateChecks(ChoiceChecks):
    """The per-state-type checks; mixed into the validator, which provides `error`."""

    express = False

    def allowed_fields(self, state: dict, state_type: str, location: str, language: str) -> None:
        """Reports fields the state type does not have, or has only in the other query language."""
        both, jsonpath_only, jsonata_only = STATE_FIELDS[state_type]
        other_only = jsonata_only if language == "JSONPath" else jsonpath_only
        own_only = jsonpath_only if language == "JSONPath" else jsonata_only
        for key in state:
            if key in _COMMON or key in both or key in own_only:
                continue
            if key in other_only:
                self.error(f"The field '{key}' is not supported with QueryLanguage {language}",
                           location)
            else:
                self.error(f"Field '{key}' is not supported", location)

    # --- state types -----------------------------------------------------------------------------

    def check_pass(self, state, location, language, transitions):
        """Checks a Pass state: its transition and input/output fields."""
        self.next_or_end(state, location, transitions)
        self.io_fields(state, location, language, result=True)

    def check_succeed(self, state, location, language, transitions):
        """Checks a Succeed state: its input/output fields."""
        self.io_fields(state, location, language, result=False)

    def check_fail(self, state, location, language, transitions):
        """Checks a Fail state: Error/ErrorPath and Cause/CausePath, each pair exclusive."""
        self.exclusive(state, ("Error", "ErrorPath"), location)
        self.exclusive(state, ("Cause", "CausePath"), location)
        for key in ("Error", "Cause"):
            if language == "JSONata" and is_jsonata(state.get(key)):
                self.jsonata_string(state[key], key, location)
            else:
                self.string_field(state, key, location)
        if language == "JSONPath":
            self.path_field(state, "ErrorPath", location, intrinsic=True)
            self.path_field(state, "CausePath", location, intrinsic=True)

    def check_wait(self, state, location, language, transitions):
        """Checks a Wait state: exactly one of Seconds, Timestamp, SecondsPath, TimestampPath."""
        self.next_or_end(state, location, transitions)
        self.io_fields(state, location, language, result=False)
        waits = [key for key in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
                 if key in state]
        if len(waits) != 1:
            allowed = "[Seconds, Timestamp, SecondsPath, TimestampPath]" if language == "JSONPath" \
                else "[Seconds, Timestamp]"
            self.error(f"Exactly one of these fields is required: {allowed}", location)
        if "Seconds" in state:
            self.integer_field(state, "Seconds", location, 0, MAX_SECONDS, language)
        if "Timestamp" in state:
            value = state["Timestamp"]
            if language == "JSONata" and is_jsonata(value):
                self.jsonata_string(value, "Timestamp", location)
            elif not is_timestamp(value):
                self.error(NOT_RFC3339, child(location, "Timestamp"))
        if language == "JSONPath":
            self.path_field(state, "SecondsPath", location)
            self.path_field(state, "TimestampPath", location)

    def check_task(self, state, location, language, transitions):
        """Checks a Task state: Resource, timeouts, heartbeat, Retry, Catch, Credentials."""
        self.next_or_end(state, location, transitions)
        self.io_fields(state, location, language, result=True)
        self.resource(state, location, language)
        self.error_handlers(state, location, language, transitions)
        self.exclusive(state, ("TimeoutSeconds", "TimeoutSecondsPath"), location)
        self.exclusive(state, ("HeartbeatSeconds", "HeartbeatSecondsPath"), location)
        timeout = heartbeat = None
        if "TimeoutSeconds" in state and self.integer_field(
                state, "TimeoutSeconds", location, 1, MAX_SECONDS, language):
            timeout = state["TimeoutSeconds"]
        if "HeartbeatSeconds" in state and self.integer_field(
                state, "HeartbeatSeconds", location, 1, MAX_SECONDS, language):
            heartbeat = state["HeartbeatSeconds"]
        if timeout is not None and heartbeat is not None and heartbeat >= timeout:
            self.error("The value for the field 'HeartbeatSeconds' must be smaller than the value "
                       "for the field 'TimeoutSeconds'", location)
        if language == "JSONPath":
            self.path_field(state, "TimeoutSecondsPath", location)
            self.path_field(state, "HeartbeatSecondsPath", location)
        if "Credentials" in state:
            self.credentials(state, location, language)

    def credentials(self, state, location, language):
        """Checks a Task's Credentials: an object (a payload) naming the role to assume."""
        self.object_payload(state, "Credentials", location, language)
        credentials = state["Credentials"]
        names = ("RoleArn", "RoleArn.$") if language == "JSONPath" else ("RoleArn",)
        if isinstance(credentials, dict) and not any(name in credentials for name in names):
            self.error("The field 'RoleArn' is required but was missing",
                       child(location, "Credentials"))

    def resource(self, state, location, language):
        """Checks a Task's Resource: an ARN AWS recognises, and no callback or .sync in EXPRESS."""
        if "Resource" not in state:
            self.error("These fields are required: [Resource]", location)
            return
        resource = state["Resource"]
        resource_location = child(location, "Resource")
        if not isinstance(resource, str):
            self.error("The value for the field 'Resource' must be a string", location)
            return
        if not self.known_resource(resource):
            self.error(f"The resource provided {resource} is not recognized. The value is not a "
                       "valid resource ARN, or the resource is not available in this region.",
                       resource_location)
            return
        target = parse_resource(resource)
        if self.express and isinstance(target, Integration) and target.pattern:
            pattern = ".sync" if target.pattern.startswith(".sync") else ".waitForTaskToken"
            self.error(f"Express state machine does not support '{pattern}' service integration ",
                       resource_location)

    @staticmethod
    def known_resource(resource: str) -> bool:
        """Returns whether `resource` is an ARN AWS could run (optimized integrations checked)."""
        target = parse_resource(resource)
        if isinstance(target, Integration):
            if target.service == "aws-sdk":
                sdk_service, _, sdk_action = target.action.partition(":")
                return bool(sdk_service and sdk_action)
            actions = _INTEGRATIONS.get(target.service, ())
            return actions is None or target.action in actions
        if target is not None:
            return True
        # Another service's resource (arn:<partition>:<service>:<region>:<account>:...), which
        # AWS accepts here; a states integration without a service and action it does not.
        parts = resource.split(":", 5)
        return len(parts) == 6 and parts[0] == "arn" and bool(parts[1] and parts[2]) \
            and not (parts[2] == "states" and not parts[3] and not parts[4])

    def check_parallel(self, state, location, language, transitions):
        """Checks a Parallel state (its branches are queued by the validator)."""
        self.next_or_end(state, location, transitions)
        self.io_fields(state, location, language, result=True)
        self.error_handlers(state, location, language, transitions)
        if "Branches" not in state:
            self.error("These fields are required: [Branches]", location)

    def check_map(self, state, location, language, transitions):
        """Checks a Map state: items, selector, concurrency, tolerated failures, reader, writer,
        batcher."""
        self.next_or_end(state, location, transitions)
        self.io_fields(state, location, language, result=True)
        self.error_handlers(state, location, language, transitions)
        self.exclusive(state, ("ItemSelector", "Parameters"), location)
        self.object_payload(state, "ItemSelector", location, language)
        self.exclusive(state, ("MaxConcurrency", "MaxConcurrencyPath"), location)
        self.exclusive(state, ("ToleratedFailureCount", "ToleratedFailureCountPath"), location)
        self.exclusive(state, ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
                       location)
        if "MaxConcurrency" in state:
            self.integer_field(state, "MaxConcurrency", location, 0, MAX_SECONDS, language)
        if "ToleratedFailureCount" in state:
            self.integer_field(state, "ToleratedFailureCount", location, 0, MAX_SECONDS, language)
        if "ToleratedFailurePercentage" in state:
            value = state["ToleratedFailurePercentage"]
            if language == "JSONata" and is_jsonata(value):
                self.jsonata_string(value, "ToleratedFailurePercentage", location)
            elif not is_number(value) or not 0 <= value <= 100:
                self.error("The value for the field 'ToleratedFailurePercentage' must be a number "
                           "between 0 and 100", location)
        if language == "JSONPath":
            for key in ("ItemsPath", "MaxConcurrencyPath", "ToleratedFailureCountPath",
                        "ToleratedFailurePercentagePath"):
                self.path_field(state, key, location, nullable=key == "ItemsPath")
        elif "Items" in state:
            items = state["Items"]
            if is_jsonata(items):
                self.jsonata_string(items, "Items", location)
            elif isinstance(items, list):
                self.payload(items, child(location, "Items"), language, "Items")
            else:
                self.error("The value for the field 'Items' must be an array or a JSONata "
                           "expression", location)
        if "Label" in state and self.string_field(state, "Label", location) \
                and len(state["Label"]) > 40:
            self.error("The value for the field 'Label' must be at most 40 characters", location)
        for key in ("ItemReader", "ResultWriter", "ItemBatcher"):
            if key in state:
                self.map_part(state, key, location, language)

    def map_part(self, state, key, location, language):
        """Checks a distributed Map part (ItemReader, ResultWriter, ItemBatcher): an object of the
        right fields."""
        part = state[key]
        if not isinstance(part, dict):
            self.error(f"The value for the field '{key}' must be an object", location)
            return
        part_location = child(location, key)
        if key == "ItemReader":
            if "Resource" not in part:
                self.error("These fields are required: [Resource]", part_location)
            self.string_field(part, "Resource", part_location)
        if key == "ItemBatcher":
            for field in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
                if field in part:
                    self.integer_field(part, field, part_location, 0, 2**31 - 1, language)
        for field in ("Parameters", "Arguments", "BatchInput"):
            if field in part:
                self.object_payload(part, field, part_location, language)

    def processor_config(self, processor: dict, location: str) -> None:
        """Checks a Map processor's ProcessorConfig: Mode INLINE or DISTRIBUTED, ExecutionType."""
        if "ProcessorConfig" not in processor:
            return
        config = processor["ProcessorConfig"]
        if not isinstance(config, dict):
            self.error("The value for the field 'ProcessorConfig' must be an object", location)
            return
        config_location = child(location, "ProcessorConfig")
        for key in config:
            if key not in ("Mode", "ExecutionType"):
                self.error(f"Field '{key}' is not supported", config_location)
        mode = config.get("Mode", "INLINE")
        if mode not in ("INLINE", "DISTRIBUTED"):
            self.error("The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]",
                       config_location)
        if "ExecutionType" in config and config["ExecutionType"] not in ("STANDARD", "EXPRESS"):
            self.error("The value for the field 'ExecutionType' must be one of [STANDARD, EXPRESS]",
                       config_location)
        if mode == "DISTRIBUTED" and "ExecutionType" not in config:
            self.error("These fields are required: [ExecutionType]", config_location)

    # --- Retry and Catch -------------------------------------------------------------------------

    def error_handlers(self, state, location, language, transitions):
        """Checks Retry and Catch: arrays of objects, each with a valid ErrorEquals."""
        for key in ("Retry", "Catch"):
            if key not in state:
                continue
            handlers = state[key]
            if not isinstance(handlers, list):
                self.error(f"The value for the field '{key}' must be an array", location)
                continue
            last = len(handlers) - 1
            for index, handler in enumerate(handlers):
                handler_location = child(location, key, index)
                if not isinstance(handler, dict):
                    self.error(f"An element of '{key}' must be an object", handler_location)
                    continue
                self.error_equals(handler, handler_location, index == last)
                if key == "Retry":
                    self.retrier(handler, handler_location)
                else:
                    self.catcher(handler, handler_location, language, transitions)

    def error_equals(self, handler: dict, location: str, is_last: bool) -> None:
        """Checks ErrorEquals: non-empty strings; States.ALL alone and in the last handler."""
        if "ErrorEquals" not in handler:
            self.error("These fields are required: [ErrorEquals]", location)
            return
        names = handler["ErrorEquals"]
        if not isinstance(names, list) or not names \
                or not all(isinstance(name, str) for name in names):
            self.error("The value for the field 'ErrorEquals' must be a non-empty array of "
                       "strings", location)
            return
        if "States.ALL" in names:
            if len(names) > 1:
                self.error("States.ALL must appear alone in the field 'ErrorEquals'", location)
            if not is_last:
                self.error("States.ALL must appear in the last element of its array", location)

    def retrier(self, retrier: dict, location: str) -> None:
        """Checks a Retrier: its fields, interval, attempts, backoff rate, max delay, jitter."""
        for key in retrier:
            if key not in _RETRY_FIELDS:
                self.error(f"Field '{key}' is not supported", location)
        if "IntervalSeconds" in retrier:
            self.integer_field(retrier, "IntervalSeconds", location, 1, MAX_SECONDS)
        if "MaxAttempts" in retrier:
            self.integer_field(retrier, "MaxAttempts", location, 0, MAX_SECONDS)
        if "MaxDelaySeconds" in retrier:
            self.integer_field(retrier, "MaxDelaySeconds", location, 1, 31622400)
        if "BackoffRate" in retrier:
            rate = retrier["BackoffRate"]
            if not is_number(rate) or rate < 1.0:
                self.error("The value for the field 'BackoffRate' must be a number greater than "
                           "or equal to 1.0", location)
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in ("FULL", "NONE"):
            self.error("The value for the field 'JitterStrategy' must be one of [FULL, NONE]",
                       location)
        self.string_field(retrier, "Comment", location)

    def catcher(self, catcher: dict, location: str, language: str, transitions: list) -> None:
        """Checks a Catcher: its Next, and ResultPath (JSONPath) or Output (JSONata)."""
        own = {"ResultPath"} if language == "JSONPath" else {"Output"}
        other = {"Output"} if language == "JSONPath" else {"ResultPath"}
        for key in catcher:
            if key in other:
                self.error(f"The field '{key}' is not supported with QueryLanguage {language}",
                           location)
            elif key not in _CATCH_FIELDS and key not in own:
                self.error(f"Field '{key}' is not supported", location)
        if "Next" not in catcher:
            self.error("These fields are required: [Next]", location)
        else:
            self.target(catcher, "Next", location, transitions)
        if language == "JSONPath":
            self.path_field(catcher, "ResultPath", location, nullable=True, reference=True)
        else:
            self.any_payload(catcher, "Output", location, language)
        self.assign(catcher, location, language)
        self.string_field(catcher, "Comment", location)
