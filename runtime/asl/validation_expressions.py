"""Syntax checks of the strings a definition holds: paths, intrinsic calls, JSONata.

Each check returns None when the text is valid, or a short reason when it is not. The parsing itself
belongs to `jsonpath`, `intrinsics` and `jsonata`: a check compiles the text with them. Results are
cached by text, because a definition repeats the same paths in many states and the editor
validates on every keystroke.
"""

from __future__ import annotations

from functools import lru_cache

from runtime.asl import intrinsics, jsonata, jsonpath
from runtime.asl.diagnostics import ExpressionSyntaxError

__all__ = [
    "check_path", "check_reference_path", "check_path_or_intrinsic", "check_jsonata",
    "is_jsonata",
]



def _attempt(function, *args, **kwargs) -> str | None:
    """Returns None if `function(*args)` compiles, else the reason it gave."""
    try:
        function(*args, **kwargs)
    except ExpressionSyntaxError as error:
        return str(error) or "syntax error"
    except RecursionError:
        return "expression is nested too deeply"
    except Exception as error:  # noqa: BLE001 - a compiler bug still means "cannot be compiled"
        return f"{type(error).__name__}: {error}"
    return None


def is_jsonata(value) -> bool:
    """Returns whether `value` is a JSONata expression string ("{% ... %}")."""
    return isinstance(value, str) and jsonata.is_expression(value)


@lru_cache(maxsize=8192)
def check_path(text: str) -> str | None:
    """Returns None if `text` is a valid JSONPath ($, $$ or $variable path), else why not."""
    return _attempt(jsonpath.compile_path, text)


@lru_cache(maxsize=8192)
def check_reference_path(text: str) -> str | None:
    """Returns None if `text` is a valid Reference Path (what ResultPath accepts), else why not."""
    return _attempt(jsonpath.compile_result_path, text)


@lru_cache(maxsize=8192)
def check_path_or_intrinsic(text: str) -> str | None:
    """Returns None if `text` is a valid JSONPath or intrinsic function call, else why not."""
    if intrinsics.is_intrinsic(text):
        return _attempt(intrinsics.compile_intrinsic, text)
    return check_path(text)


@lru_cache(maxsize=8192)
def check_jsonata(text: str) -> str | None:
    """Returns None if `text` ("{% ... %}") is a valid JSONata expression, else why not."""
    return _attempt(jsonata.compile_jsonata, text, field="value")
