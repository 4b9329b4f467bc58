"""Checks of user input that mirror Lambda's rules; each failure is an ApiError naming its field."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from editor.errors import ApiError
from runtime import json_pointer
from runtime.functions.spec import file_content
from runtime.json_text import MAX_DEPTH, find_error

FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TEST_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,25}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")
HANDLER = re.compile(r"^[A-Za-z0-9_./-]+\.[A-Za-z_$][A-Za-z0-9_$]*$")
# Keys Lambda sets itself and refuses in a function's configuration.
RESERVED_ENV_KEYS = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}
ENV_LIMIT_BYTES = 4 * 1024
CODE_LIMIT_BYTES = 3 * 1024 * 1024     # what the studio's editor holds (the console's inline limit)
# What a function's stored code may hold when it comes as a zip (binary files included): Lambda's
# zipped limit, counted unzipped here, since Flowbench keeps each version's files in its database.
STORED_CODE_LIMIT = 50 * 1024 * 1024
MAX_FILES = 100
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
TIMEOUT_RANGE = (1, 900)
MEMORY_RANGE = (128, 10240)


def function_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not FUNCTION_NAME.match(value):
        raise ApiError("InvalidName", "A function name has 1 to 64 letters, digits, hyphens or underscores.",
                       field=field)
    return value


def test_event_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not TEST_EVENT_NAME.match(value):
        raise ApiError("InvalidName", "An event name has 1 to 25 letters, digits, periods, hyphens or underscores.",
                       field=field)
    return value


def text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ApiError("InvalidType", f"{field} must be a string.", field=field)
    if required and not value.strip():
        raise ApiError("Required", f"{field} is required.", field=field)
    if len(value) > max_length:
        raise ApiError("TooLong", f"{field} has at most {max_length} characters.", field=field)
    return value


def integer(value: Any, field: str, low: int, high: int) -> int:
    # bool is an int in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError("InvalidType", f"{field} must be a whole number.", field=field)
    if not low <= value <= high:
        raise ApiError("OutOfRange", f"{field} must be between {low} and {high}.", field=field)
    return value


def number(value: Any, field: str, low: float, high: float) -> float:
    """Returns a JSON number (whole or not) within [low, high] as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError("InvalidType", f"{field} must be a number.", field=field)
    # NaN compares false both ways, so it is refused as out of range; so is Infinity (json.loads reads both).
    if not low <= value <= high:
        raise ApiError("OutOfRange", f"{field} must be between {low:g} and {high:g}.", field=field)
    return float(value)


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ApiError("InvalidType", f"{field} must be true or false.", field=field)
    return value


def handler(value: Any, field: str = "handler") -> str:
    value = text(value, field, max_length=128, required=True)
    if not HANDLER.match(value):
        raise ApiError("InvalidHandler",
                       "A handler is <file without extension>.<function>, e.g. index.handler or lambda_function.lambda_handler.",
                       field=field)
    return value


def files(value: Any, field: str = "files", limit: int = CODE_LIMIT_BYTES) -> dict:
    """Returns the files map after checking names, types, count and total size (`limit` bytes).

    A file is its text, or the stored form of a binary or executable one (runtime.functions.spec's
    `file_content`): {"base64": "..."} or {"text": "..."}, with "executable": true when it is."""
    if not isinstance(value, dict):
        raise ApiError("InvalidType", "files must be an object of file name to source text.", field=field)
    if not value:
        raise ApiError("Required", "A function needs at least one file.", field=field)
    if len(value) > MAX_FILES:
        raise ApiError("TooManyFiles", f"A function has at most {MAX_FILES} files.", field=field)
    total = 0
    for name, source in value.items():
        where = f"{field}/{name}"
        if not FILE_NAME.match(name) or ".." in name.split("/") or len(name) > 200:
            raise ApiError("InvalidFileName",
                           f"{name!r} is not a valid file name: use letters, digits, '.', '-', '_' and '/' between folders.",
                           field=where)
        total += _file_size(source, name, where)
    if total > limit:
        raise ApiError("CodeTooLarge", f"Code is limited to {limit // (1024 * 1024)} MB in total.",
                       status=413, field=field)
    return dict(value)


def code_size(value: dict) -> int:
    """Returns the bytes of a (valid) files map's content, as a zip of it would unpack to."""
    return sum(len(file_content(content)[0]) for content in value.values())


def _file_size(source: Any, name: str, where: str) -> int:
    """Returns the size in bytes of one file's content, refusing a content of no known form."""
    if isinstance(source, str):
        return len(source.encode("utf-8"))
    if isinstance(source, dict) and set(source) in ({"text"}, {"text", "executable"}, {"base64"},
                                                    {"base64", "executable"}):
        if not isinstance(source.get("executable", False), bool):
            raise ApiError("InvalidType", f"The executable flag of {name} is true or false.", field=where)
        if "text" in source:
            if isinstance(source["text"], str):
                return len(source["text"].encode("utf-8"))
        elif isinstance(source["base64"], str):
            try:
                return len(base64.b64decode(source["base64"], validate=True))
            except ValueError:
                raise ApiError("InvalidType", f"The content of {name} is not valid base64.", field=where) from None
    raise ApiError("InvalidType", f"The content of {name} must be text, or {{\"base64\": ...}} for a binary file.",
                   field=where)


def environment(value: Any, field: str = "env") -> dict[str, str]:
    """Returns env vars from {"K": "V"} or [{"key", "value"}], checked as Lambda checks them."""
    if isinstance(value, dict):
        items = [{"key": k, "value": v} for k, v in value.items()]
    elif isinstance(value, list):
        items = value
    else:
        raise ApiError("InvalidType", "env must be a list of {key, value} or an object.", field=field)
    result: dict[str, str] = {}
    size = 0
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) - {"key", "value"}:
            raise ApiError("InvalidType", "Each variable is {key, value}.", field=f"{field}/{index}")
        key, val = item.get("key"), item.get("value", "")
        if not isinstance(key, str) or not ENV_KEY.match(key):
            raise ApiError("InvalidEnvKey",
                           "A key starts with a letter and has at least 2 letters, digits or underscores.",
                           field=f"{field}/{index}/key")
        if key in RESERVED_ENV_KEYS:
            raise ApiError("ReservedEnvKey", f"{key} is reserved by the runtime.", field=f"{field}/{index}/key")
        if key in result:
            raise ApiError("DuplicateEnvKey", f"{key} is set twice.", field=f"{field}/{index}/key")
        if not isinstance(val, str):
            raise ApiError("InvalidType", "A value must be a string.", field=f"{field}/{index}/value")
        size += len(key.encode()) + len(val.encode())
        result[key] = val
    if size > ENV_LIMIT_BYTES:
        raise ApiError("EnvTooLarge", "Environment variables are limited to 4 KB in total.", field=field)
    return result


def json_text(raw: bytes | str, field: str | None = None) -> Any:
    """Returns the parsed JSON document, or refuses it with the line and column of the mistake."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError("InvalidJson", "The body is not UTF-8 text.", field=field) from None
    return parse_json(raw, field, "Invalid JSON")


def parse_json(text: str, field: str | None, what: str) -> Any:
    """Returns the JSON value of `text`; refuses it (400) saying `what` and where it went wrong,
    where it nests deeper than the parser goes, or that a string in it holds a lone surrogate."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError("InvalidJson", f"{what}: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                       field=field) from None
    except RecursionError:
        found = find_error(text)
        where = f" at line {found.line}, column {found.column}" if found else ""
        raise ApiError("InvalidJson", f"{what}: arrays and objects are nested too deeply (at most {MAX_DEPTH} "
                                      f"levels){where}.", field=field) from None
    where = lone_surrogate_in(text, value)
    if where is not None:
        place = f"{field}{where}" if field else (where or "the body")
        raise ApiError("InvalidUnicode", f"The string at {place} {LONE_SURROGATE_SENTENCE}", field=field or where)
    return value


LONE_SURROGATE_SENTENCE = "has a lone surrogate (an unpaired \\uD800-\\uDFFF escape): it is not Unicode text."


def lone_surrogate_in(text: str, value: Any) -> str | None:
    """Returns the JSON pointer of the first lone surrogate in `value`, the JSON value of `text`,
    else None (at once when the text has no surrogate escape at all)."""
    return lone_surrogate_at(value) if SURROGATE_ESCAPE.search(text) else None


# JSON can spell a lone surrogate only as an escape; UTF-8 text cannot hold one at all.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate_at(value: Any) -> str | None:
    """Returns the JSON pointer of the first string or key in `value` that holds a lone surrogate
    (json.loads lets one through; it cannot be stored or sent as UTF-8), else None. Iterative: the
    parser's nesting limit is deeper than a recursive walk could go from inside a request."""
    pending = [("", value)]
    while pending:
        pointer, item = pending.pop()
        if isinstance(item, str):
            if LONE_SURROGATE.search(item):
                return pointer
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                where = f"{pointer}/{_pointer_segment(key)}"
                if LONE_SURROGATE.search(key):
                    return where
                pending.append((where, child))
        elif isinstance(item, list):
            pending.extend((f"{pointer}/{index}", child) for index, child in reversed(list(enumerate(item))))
    return None


def without_lone_surrogates(value: Any) -> Any:
    """Returns `value` (a JSON value) with every lone surrogate in its strings and keys replaced by
    U+FFFD, as a UTF-8 decoder replaces what it cannot read: for what a function returns, which is
    stored and sent on rather than refused. Through JSON text, so no depth is too deep for it."""
    text = json.dumps(value, ensure_ascii=False)   # lone surrogates stay characters, unescaped
    if not LONE_SURROGATE.search(text):
        return value
    return json.loads(LONE_SURROGATE.sub("\ufffd", text))


def _pointer_segment(key: str) -> str:
    # A lone surrogate in the key itself is shown as U+FFFD.
    return LONE_SURROGATE.sub("\ufffd", json_pointer.escape(key))
