"""Syntax checks of the strings a definition holds: paths, intrinsic calls, JSONata, timestamps.

Each check returns None when the text is valid, or a short reason when it is not. The parsing itself
belongs to `jsonpath`, `intrinsics` and `jsonata` (imported lazily: the validator works, with
fewer checks, before those modules exist). Results are cached by text, because a definition repeats
the same paths in many states and the editor validates on every keystroke.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

__all__ = [
    "check_path", "check_reference_path", "check_path_or_intrinsic", "check_jsonata",
    "is_jsonata", "is_rfc3339",
]

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _module(name: str):
    """Returns runtime.asl.<name>, or None while that module does not exist (or fails to load)."""
    try:
        return importlib.import_module(f"runtime.asl.{name}")
    except Exception:  # noqa: BLE001 - a broken sibling module must not break validation
        return None


def _syntax_error() -> type[Exception]:
    """Returns ExpressionSyntaxError (imported lazily, like the compilers)."""
    from runtime.asl.diagnostics import ExpressionSyntaxError
    return ExpressionSyntaxError


def _attempt(function, *args, **kwargs) -> str | None:
    """Returns None if `function(*args)` compiles, else the reason it gave."""
    try:
        function(*args, **kwargs)
    except _syntax_error() as error:
        return str(error) or "syntax error"
    except RecursionError:
        return "expression is nested too deeply"
    except Exception as error:  # noqa: BLE001 - a compiler bug still means "cannot be compiled"
        return f"{type(error).__name__}: {error}"
    return None


def is_jsonata(value) -> bool:
    """Returns whether `value` is a JSONata expression string ("{% ... %}")."""
    if not isinstance(value, str):
        return False
    jsonata = _module("jsonata")
    if jsonata is not None and hasattr(jsonata, "is_expression"):
        try:
            return bool(jsonata.is_expression(value))
        except Exception:  # noqa: BLE001
            pass
    stripped = value.strip()
    return stripped.startswith("{%") and stripped.endswith("%}") and len(stripped) >= 4


def _is_intrinsic(text: str) -> bool:
    """Returns whether `text` is written as an intrinsic call (States.Name(...))."""
    intrinsics = _module("intrinsics")
    if intrinsics is not None and hasattr(intrinsics, "is_intrinsic"):
        try:
            return bool(intrinsics.is_intrinsic(text))
        except Exception:  # noqa: BLE001
            return False
    return text.lstrip().startswith("States.")


def _basic_path_problem(text: str) -> str | None:
    """Returns why `text` cannot be a path when no compiler is available (the bare minimum)."""
    return None if text.startswith("$") else "a path starts with '$'"


@lru_cache(maxsize=8192)
def check_path(text: str) -> str | None:
    """Returns None if `text` is a valid JSONPath ($, $$ or $variable path), else why not."""
    jsonpath = _module("jsonpath")
    if jsonpath is None or not hasattr(jsonpath, "compile_path"):
        return _basic_path_problem(text)
    return _attempt(jsonpath.compile_path, text)


@lru_cache(maxsize=8192)
def check_reference_path(text: str) -> str | None:
    """Returns None if `text` is a valid Reference Path (what ResultPath accepts), else why not."""
    jsonpath = _module("jsonpath")
    if jsonpath is None or not hasattr(jsonpath, "compile_result_path"):
        return _basic_path_problem(text)
    return _attempt(jsonpath.compile_result_path, text)


@lru_cache(maxsize=8192)
def check_path_or_intrinsic(text: str) -> str | None:
    """Returns None if `text` is a valid JSONPath or intrinsic function call, else why not."""
    if _is_intrinsic(text):
        problem = _illegal_escape(text)
        if problem is not None:
            return problem
        intrinsics = _module("intrinsics")
        if intrinsics is None or not hasattr(intrinsics, "compile_intrinsic"):
            return None
        return _attempt(intrinsics.compile_intrinsic, text)
    return check_path(text)


_LEGAL_ESCAPES = "'{}\\"


def _illegal_escape(text: str) -> str | None:
    """Returns why a string literal of the intrinsic call `text` holds an escape AWS refuses
    (AWS accepts only \\' \\{ \\} and \\\\ there), or None."""
    in_literal = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_literal and char == "\\":
            following = text[index + 1:index + 2]
            if following not in _LEGAL_ESCAPES or not following:
                return f"illegal escape sequence '\\{following}' in a string literal"
            index += 2
            continue
        if char == "'":
            in_literal = not in_literal
        index += 1
    return None


@lru_cache(maxsize=8192)
def check_jsonata(text: str) -> str | None:
    """Returns None if `text` ("{% ... %}") is a valid JSONata expression, else why not."""
    jsonata = _module("jsonata")
    if jsonata is None or not hasattr(jsonata, "compile_jsonata"):
        return None
    return _attempt(jsonata.compile_jsonata, text, field="value")


def is_rfc3339(text) -> bool:
    """Returns whether `text` is an RFC 3339 date-time as ASL requires (uppercase T and Z)."""
    if not isinstance(text, str):
        return False
    match = _RFC3339.match(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS[month - 1]:
        return False
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    if match.group(9) is not None and (int(match.group(9)) > 23 or int(match.group(10)) > 59):
        return False
    return True
