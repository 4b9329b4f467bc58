"""The checks of each state type, mixed into the validator of `validation`.

`StateChecks` expects `self.error(message, location, code=SCHEMA)` and `self.express`. Every
`check_<type>` method receives the state, its JSON pointer, the query language in force and a list
to which it appends the state's transitions as (field, target name, pointer); the validator then
resolves them within the state's scope.

Messages name a field ("The value for the field 'X' ...") at the pointer of the object holding it,
as AWS does ("... 'parsed.$' ... at /States/S/Parameters"); messages about a value alone ("String
does not match RFC3339 timestamp") point at the value.
"""

from __future__ import annotations

import re

from runtime.asl.validation_expressions import (
    check_jsonata, check_path, check_path_or_intrinsic, check_reference_path, is_jsonata,
    is_rfc3339,
)

__all__ = ["StateChecks", "child", "at", "COMPARISON_OPERATORS"]

ERROR = "ERROR"
WARNING = "WARNING"
SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"
INVALID_JSON = "INVALID_JSON_DESCRIPTION"
DUPLICATE_NAME = "DUPLICATE_STATE_NAME"

MAX_SECONDS = 99999999
MAX_VARIABLE_NAME = 80
NOT_RFC3339 = "String does not match RFC3339 timestamp"


def child(base: str, *parts) -> str:
    """Returns the JSON pointer `base` extended by `parts` (RFC 6901 escaping)."""
    for part in parts:
        base += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return base


def at(location: str) -> str:
    """Returns `location`, with the whole document written "/" as AWS writes it."""
    return location or "/"


# Fields per state type: (both query languages, JSONPath only, JSONata only).
_COMMON = {"Type", "Comment", "QueryLanguage"}
_IO_JSONPATH = {"InputPath", "OutputPath"}
_FIELDS = {
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

# Choice comparison operators: name -> the kind of value it compares with. Each has a ...Path
# variant whose value is a path; the Is* tests take a boolean.
_COMPARED = {
    "StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
    "StringLessThanEquals": "string", "StringGreaterThanEquals": "string",
    "NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
    "NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
    "BooleanEquals": "boolean",
    "TimestampEquals": "timestamp", "TimestampLessThan": "timestamp",
    "TimestampGreaterThan": "timestamp", "TimestampLessThanEquals": "timestamp",
    "TimestampGreaterThanEquals": "timestamp",
}
COMPARISON_OPERATORS = {
    **_COMPARED,
    **{f"{name}Path": "path" for name in _COMPARED},
    "StringMatches": "string",
    "IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
    "IsBoolean": "boolean", "IsTimestamp": "boolean",
}
_BOOLEAN_OPERATORS = ("And", "Or", "Not")
_KIND_TEXT = {"string": "a string", "number": "a number", "boolean": "a boolean",
              "timestamp": "a string"}

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
_RESOURCE_SUFFIX = re.compile(r"\.(sync(?::\d+)?|waitForTaskToken)$")
_RETRY_FIELDS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                 "MaxDelaySeconds", "JitterStrategy", "Comment"}
_CATCH_FIELDS = {"ErrorEquals", "Next", "Comment", "Assign"}


def _is_integer(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _names(keys) -> str:
    return "[" + ", ".join(keys) + "]"


class StateChecks:
    """The per-state-type checks; mixed into the validator, which provides `error`."""

    express = False

    def error(self, message: str, location: str, code: str = SCHEMA) -> None:  # pragma: no cover
        raise NotImplementedError

    # --- field shapes ----------------------------------------------------------------------------

    def allowed_fields(self, state: dict, state_type: str, location: str, language: str) -> None:
        both, jsonpath_only, jsonata_only = _FIELDS[state_type]
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

    def string_field(self, obj: dict, key: str, location: str) -> bool:
        """Returns whether obj[key] is a string, reporting it when present and not one."""
        if key not in obj:
            return False
        if not isinstance(obj[key], str):
            self.error(f"The value for the field '{key}' must be a string", location)
            return False
        return True

    def integer_field(self, obj: dict, key: str, location: str, minimum: int,
                      maximum: int = MAX_SECONDS, language: str = "JSONPath") -> bool:
        """Returns whether obj[key] is an integer within bounds (or, in JSONata, an expression)."""
        value = obj.get(key)
        if language == "JSONata" and is_jsonata(value):
            self.jsonata_string(value, key, location)
            return False
        if not _is_integer(value):
            self.error(f"The value for the field '{key}' must be an integer", location)
            return False
        if not minimum <= value <= maximum:
            self.error(f"The value for the field '{key}' must be between {minimum} and {maximum}",
                       location)
            return False
        return True

    def exclusive(self, obj: dict, keys, location: str) -> None:
        present = [key for key in keys if key in obj]
        if len(present) > 1:
            self.error(f"These fields cannot be used together: {_names(present)}", location)

    # --- paths, templates and expressions --------------------------------------------------------

    def path_field(self, obj: dict, key: str, location: str, *, nullable: bool = False,
                   reference: bool = False, intrinsic: bool = False) -> None:
        """Checks that obj[key] is a JSONPath (or Reference Path, or intrinsic call) if present."""
        if key not in obj:
            return
        value = obj[key]
        if value is None and nullable:
            return
        if reference:
            what, check = "a valid Reference Path", check_reference_path
        elif intrinsic:
            what, check = "a valid JSONPath or a valid intrinsic function call", \
                check_path_or_intrinsic
        else:
            what, check = "a valid JSONPath", check_path
        if not isinstance(value, str) or check(value) is not None:
            self.error(f"The value for the field '{key}' must be {what}", location)

    def jsonata_string(self, text: str, field: str, location: str) -> None:
        if check_jsonata(text, field) is not None:
            self.error(f"The value for the field '{field}' must be a valid JSONata expression",
                       location)

    def payload(self, value, location: str, language: str, field: str) -> None:
        """Checks a payload template (Parameters, ItemSelector, ResultSelector, Assign, Output,
        Arguments): `key.$` values in JSONPath, `{% %}` strings in JSONata. Iterative, so any depth
        of nesting is fine."""
        pending = [(value, location, field)]
        while pending:
            value, location, field = pending.pop()
            if isinstance(value, dict):
                for key, item in value.items():
                    key_text = str(key)
                    if language == "JSONPath" and key_text.endswith(".$"):
                        if not isinstance(item, str) or check_path_or_intrinsic(item) is not None:
                            self.error(f"The value for the field '{key_text}' must be a valid "
                                       "JSONPath or a valid intrinsic function call", location)
                    elif isinstance(item, (dict, list)):
                        pending.append((item, child(location, key_text), key_text))
                    elif language == "JSONata" and is_jsonata(item):
                        self.jsonata_string(item, key_text, location)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, (dict, list)):
                        pending.append((item, child(location, index), field))
                    elif language == "JSONata" and is_jsonata(item):
                        self.jsonata_string(item, field, location)
            elif language == "JSONata" and is_jsonata(value):
                self.jsonata_string(value, field, location)

    def object_payload(self, obj: dict, key: str, location: str, language: str) -> None:
        """Checks obj[key], a payload that must be a JSON object (Parameters, ItemSelector...)."""
        if key not in obj:
            return
        value = obj[key]
        if language == "JSONata" and is_jsonata(value):
            self.jsonata_string(value, key, location)
        elif not isinstance(value, dict):
            self.error(f"The value for the field '{key}' must be an object", location)
        else:
            self.payload(value, child(location, key), language, key)

    def any_payload(self, obj: dict, key: str, location: str, language: str) -> None:
        """Checks obj[key], any JSON value (Output, Arguments, Result)."""
        if key in obj:
            value = obj[key]
            if isinstance(value, (dict, list)):
                self.payload(value, child(location, key), language, key)
            else:
                self.payload(value, location, language, key)

    def assign(self, obj: dict, location: str, language: str) -> None:
        if "Assign" not in obj:
            return
        value = obj["Assign"]
        if not isinstance(value, dict):
            self.error("The value for the field 'Assign' must be an object", location)
            return
        assign_location = child(location, "Assign")
        for key in value:
            name = str(key)
            if language == "JSONPath" and name.endswith(".$"):
                name = name[:-2]
            if not name.isidentifier() or len(name) > MAX_VARIABLE_NAME:
                self.error(f"The variable name '{name}' is invalid: a name starts with a letter "
                           f"or '_', holds only letters, digits and '_', and has at most "
                           f"{MAX_VARIABLE_NAME} characters", assign_location)
        self.payload(value, assign_location, language, "Assign")

    def io_fields(self, state: dict, location: str, language: str, *, result: bool) -> None:
        """Checks the input/output processing fields every state type shares."""
        if language == "JSONPath":
            self.path_field(state, "InputPath", location, nullable=True)
            self.path_field(state, "OutputPath", location, nullable=True)
            if result:
                self.path_field(state, "ResultPath", location, nullable=True, reference=True)
                self.object_payload(state, "Parameters", location, language)
                self.object_payload(state, "ResultSelector", location, language)
        else:
            self.any_payload(state, "Output", location, language)
            self.any_payload(state, "Arguments", location, language)
        self.assign(state, location, language)

    # --- transitions -----------------------------------------------------------------------------

    def next_or_end(self, state: dict, location: str, transitions: list) -> None:
        """Checks that a state has exactly one of Next and End, recording its Next."""
        has_next = "Next" in state
        end = state.get("End")
        if "End" in state and not isinstance(end, bool):
            self.error("The value for the field 'End' must be a boolean", location)
        if has_next and end is True:
            self.error("These fields cannot be used together: [Next, End]", location)
        elif not has_next and end is not True:
            self.error("Exactly one of these fields is required: [Next, End]", location)
        if has_next:
            self.target(state, "Next", location, transitions)

    def target(self, obj: dict, key: str, location: str, transitions: list) -> None:
        value = obj[key]
        if isinstance(value, str):
            transitions.append((key, value, child(location, key)))
        else:
            self.error(f"The value for the field '{key}' must be a string", location)

    # --- state types -----------------------------------------------------------------------------

    def check_pass(self, state, location, language, transitions):
        self.next_or_end(state, location, transitions)
        self.io_fields(state, location, language, result=True)

    def check_succeed(self, state, location, language, transitions):
        self.io_fields(state, location, language, result=False)

    def check_fail(self, state, location, language, transitions):
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
            elif not is_rfc3339(value):
                self.error(NOT_RFC3339, child(location, "Timestamp"))
        if language == "JSONPath":
            self.path_field(state, "SecondsPath", location)
            self.path_field(state, "TimestampPath", location)

    def check_task(self, state, location, language, transitions):
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
            self.object_payload(state, "Credentials", location, language)

    def resource(self, state, location, language):
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
        suffix = _RESOURCE_SUFFIX.search(resource)
        if self.express and suffix is not None:
            pattern = ".sync" if suffix.group(1).startswith("sync") else ".waitForTaskToken"
            self.error(f"Express state machine does not support '{pattern}' service integration ",
                       resource_location)

    @staticmethod
    def known_resource(resource: str) -> bool:
        """Returns whether `resource` is an ARN AWS could run (optimized integrations checked)."""
        parts = resource.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
            return False
        if parts[2] != "states" or parts[3] or parts[4]:
            return True
        service, _, action = parts[5].partition(":")
        action = _RESOURCE_SUFFIX.sub("", action)
        if service == "aws-sdk":
            sdk_service, _, sdk_action = action.partition(":")
            return bool(sdk_service and sdk_action)
        if service not in _INTEGRATIONS or not action:
            return False
        actions = _INTEGRATIONS[service]
        return actions is None or action in actions

    def check_parallel(self, state, location, language, transitions):
        self.next_or_end(state, location, transitions)
        self.io_fields(state, location, language, result=True)
        self.error_handlers(state, location, language, transitions)
        if "Branches" not in state:
            self.error("These fields are required: [Branches]", location)

    def check_map(self, state, location, language, transitions):
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
            elif not _is_number(value) or not 0 <= value <= 100:
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
            if not _is_number(rate) or rate < 1.0:
                self.error("The value for the field 'BackoffRate' must be a number greater than "
                           "or equal to 1.0", location)
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in ("FULL", "NONE"):
            self.error("The value for the field 'JitterStrategy' must be one of [FULL, NONE]",
                       location)
        self.string_field(retrier, "Comment", location)

    def catcher(self, catcher: dict, location: str, language: str, transitions: list) -> None:
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

    # --- Choice ----------------------------------------------------------------------------------

    def check_choice(self, state, location, language, transitions):
        self.io_fields(state, location, language, result=False)
        if "Default" in state:
            self.target(state, "Default", location, transitions)
        if "Choices" not in state:
            self.error("These fields are required: [Choices]", location)
            return
        choices = state["Choices"]
        if not isinstance(choices, list) or not choices:
            self.error("The value for the field 'Choices' must be a non-empty array", location)
            return
        for index, rule in enumerate(choices):
            rule_location = child(location, "Choices", index)
            if not isinstance(rule, dict):
                self.error("A Choice Rule must be an object", rule_location)
                continue
            if "Next" not in rule:
                self.error("These fields are required: [Next]", rule_location)
            else:
                self.target(rule, "Next", rule_location, transitions)
            self.assign(rule, rule_location, language)
            if language == "JSONata":
                self.jsonata_rule(rule, rule_location)
            else:
                self.choice_rule(rule, rule_location, top=True)

    def jsonata_rule(self, rule: dict, location: str) -> None:
        for key in rule:
            if key in COMPARISON_OPERATORS or key in _BOOLEAN_OPERATORS or key == "Variable":
                self.error(f"The field '{key}' is not supported with QueryLanguage JSONata",
                           location)
            elif key not in ("Condition", "Next", "Comment", "Assign", "Output"):
                self.error(f"Field '{key}' is not supported", location)
        if "Condition" not in rule:
            self.error("These fields are required: [Condition]", location)
            return
        condition = rule["Condition"]
        if is_jsonata(condition):
            self.jsonata_string(condition, "Condition", location)
        elif not isinstance(condition, bool):
            self.error("The value for the field 'Condition' must be a JSONata expression or a "
                       "boolean", location)
        self.any_payload(rule, "Output", location, "JSONata")

    def choice_rule(self, rule: dict, location: str, top: bool) -> None:
        """Checks a JSONPath Choice Rule and, iteratively, the rules nested in And/Or/Not."""
        pending = [(rule, location, top)]
        while pending:
            rule, location, top = pending.pop()
            allowed = {"Variable", "Comment"} | ({"Next", "Assign"} if top else set())
            operators = []
            for key in rule:
                if key in COMPARISON_OPERATORS or key in _BOOLEAN_OPERATORS:
                    operators.append(key)
                elif key in ("Condition", "Output"):
                    self.error(f"The field '{key}' is not supported with QueryLanguage JSONPath",
                               location)
                elif key not in allowed:
                    self.error(f"Field '{key}' is not supported", location)
            if not operators:
                self.error("A Choice Rule must have one comparison operator or one of "
                           "[And, Or, Not]", location)
                continue
            if len(operators) > 1:
                self.error(f"A Choice Rule must have only one operator, found {_names(operators)}",
                           location)
                continue
            operator = operators[0]
            value = rule[operator]
            if operator in _BOOLEAN_OPERATORS:
                if "Variable" in rule:
                    self.error(f"Field 'Variable' is not supported with '{operator}'", location)
                nested = [value] if operator == "Not" else value
                if operator == "Not" and not isinstance(value, dict):
                    self.error("The value for the field 'Not' must be an object", location)
                    continue
                if operator != "Not" and (not isinstance(value, list) or not value):
                    self.error(f"The value for the field '{operator}' must be a non-empty array",
                               location)
                    continue
                for index, inner in enumerate(nested):
                    inner_location = child(location, operator) if operator == "Not" \
                        else child(location, operator, index)
                    if isinstance(inner, dict):
                        pending.append((inner, inner_location, False))
                    else:
                        self.error("A Choice Rule must be an object", inner_location)
                continue
            if "Variable" not in rule:
                self.error("These fields are required: [Variable]", location)
            else:
                self.path_field(rule, "Variable", location)
            self.comparison(operator, value, location)

    def comparison(self, operator: str, value, location: str) -> None:
        kind = COMPARISON_OPERATORS[operator]
        if kind == "path":
            if not isinstance(value, str) or check_path(value) is not None:
                self.error(f"The value for the field '{operator}' must be a valid JSONPath",
                           location)
        elif kind == "number":
            if not _is_number(value):
                self.error(f"The value for the field '{operator}' must be a number", location)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.error(f"The value for the field '{operator}' must be a boolean", location)
        elif not isinstance(value, str):
            self.error(f"The value for the field '{operator}' must be {_KIND_TEXT[kind]}",
                       location)
        elif kind == "timestamp" and not is_rfc3339(value):
            self.error(NOT_RFC3339, child(location, operator))
