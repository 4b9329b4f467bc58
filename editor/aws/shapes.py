"""Reading parameters by their botocore shapes: types, required members and the model's
constraints (length, range, pattern, enum), every problem named as AWS names it.

    read_input(operation.input_shape, {"RoleName": "r"}, text=False)   -> {"RoleName": "r"}
    read_input(shape, {"MaxItems": "abc"}, text=True)
        raises Refusal("validation", "1 validation error detected: Value 'abc' at 'maxItems'
        failed to satisfy constraint: Member must be a number")

`text=True` reads scalars written as text (the Query protocol, REST URIs, query strings and
headers): "12" is an integer there, "true" a boolean. Otherwise scalars are JSON values and must
have their JSON type. Timestamps become aware datetimes, blobs bytes (from base64).
Members the shape does not have are left out, as AWS's services ignore them.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from botocore.model import Shape

from editor.aws.errors import validation_error

__all__ = ["read_input", "member_path", "Problems"]

Problems = list


def member_path(parent: str, name: str) -> str:
    """Returns the member's path as AWS's messages write it: lowerCamel names joined by dots."""
    word = name[:1].lower() + name[1:]
    return f"{parent}.{word}" if parent else word


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else str(value)
    return f"'{text[:200]}{'...' if len(text) > 200 else ''}'"


def _problem(value: Any, path: str, constraint: str) -> str:
    return f"Value {_shown(value)} at '{path}' failed to satisfy constraint: Member must {constraint}"


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None   # a Java-only construct (\p{...}): the pattern is not checked here


def read_input(shape: Shape | None, value: Any, *, text: bool = False, path: str = "") -> dict:
    """Returns `value` read as the input structure `shape`; raises the validation refusal listing
    every problem found."""
    if shape is None:
        return {}
    problems: list[str] = []
    found = read(shape, {} if value is None else value, path, problems, text)
    if problems:
        raise validation_error(problems)
    return found


def read(shape: Shape, value: Any, path: str, problems: list[str], text: bool) -> Any:
    """Returns `value` read as `shape`, adding what is wrong with it to `problems`."""
    kind = shape.type_name
    reader = _READERS.get(kind)
    if reader is None:
        return value
    return reader(shape, value, path, problems, text)


def _structure(shape, value, path, problems, text):
    if not isinstance(value, dict):
        problems.append(_problem(value, path or "input", "be a structure"))
        return None
    found = {}
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            found[name] = read(member, value[name], member_path(path, name), problems, text)
    for name in shape.required_members:
        if found.get(name) is None and name not in found:
            problems.append(_problem(None, member_path(path, name), "not be null"))
    return found


def _bounds(shape, value, measure, path, problems, what="length"):
    """Adds a problem when `measure` (a length, a count, a number) is outside the shape's min/max."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and measure < low:
        problems.append(_problem(value, path, f"have {what} greater than or equal to {low}"))
    if high is not None and measure > high:
        problems.append(_problem(value, path, f"have {what} less than or equal to {high}"))


def _list(shape, value, path, problems, text):
    if not isinstance(value, list):
        problems.append(_problem(value, path, "be a list"))
        return None
    _bounds(shape, value, len(value), path, problems)
    return [read(shape.member, item, f"{path}.{index + 1}.member", problems, text)
            for index, item in enumerate(value)]


def _map(shape, value, path, problems, text):
    if not isinstance(value, dict):
        problems.append(_problem(value, path, "be a map"))
        return None
    _bounds(shape, value, len(value), path, problems)
    return {read(shape.key, key, f"{path}.key", problems, text): read(shape.value, item, f"{path}.{key}", problems, text)
            for key, item in value.items()}


def _string(shape, value, path, problems, text):
    if not isinstance(value, str):
        problems.append(_problem(value, path, "be a string"))
        return None
    _bounds(shape, value, len(value), path, problems)
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        problems.append(_problem(value, path, f"satisfy enum value set: [{', '.join(enum)}]"))
    pattern = shape.metadata.get("pattern")
    if pattern and not enum:
        compiled = _regex(pattern)
        if compiled is not None and not compiled.fullmatch(value):
            problems.append(_problem(value, path, f"satisfy regular expression pattern: {pattern}"))
    return value


def _integer(shape, value, path, problems, text):
    if text and isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(_problem(value, path, "be a whole number"))
        return None
    _bounds(shape, value, value, path, problems, "value")
    return value


def _float(shape, value, path, problems, text):
    if text and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(_problem(value, path, "be a number"))
        return None
    _bounds(shape, value, value, path, problems, "value")
    return value


def _boolean(shape, value, path, problems, text):
    if text and isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool):
        problems.append(_problem(value, path, "be true or false"))
        return None
    return value


def _timestamp(shape, value, path, problems, text):
    if text and isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value):
        value = float(value)
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=timezone.utc)
        if isinstance(value, str):
            from email.utils import parsedate_to_datetime

            try:
                found = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                found = parsedate_to_datetime(value)   # RFC 822, as REST headers write it
            return found if found.tzinfo else found.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError, TypeError):
        pass
    problems.append(_problem(value, path, "be a timestamp"))
    return None


def _blob(shape, value, path, problems, text):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    problems.append(_problem(value, path, "be base64-encoded binary data"))
    return None


_READERS = {
    "structure": _structure, "list": _list, "map": _map, "string": _string, "integer": _integer,
    "long": _integer, "float": _float, "double": _float, "boolean": _boolean, "timestamp": _timestamp,
    "blob": _blob,
}


def read_members(shape: Shape, values: dict[str, tuple[Any, bool]], path: str = "") -> dict:
    """Returns the members of the structure `shape` read from `values` (member name -> (value,
    written as text?)), as REST protocols gather them from the URI, query, headers and body;
    raises the validation refusal listing every problem."""
    problems: list[str] = []
    found = {}
    for name, (value, text) in values.items():
        if value is not None and name in shape.members:
            found[name] = read(shape.members[name], value, member_path(path, name), problems, text)
    for name in shape.required_members:
        if name not in found:
            problems.append(_problem(None, member_path(path, name), "not be null"))
    if problems:
        raise validation_error(problems)
    return found
