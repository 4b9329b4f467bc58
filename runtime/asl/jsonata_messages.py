"""JSONata error messages as jsonata-js (and so AWS Step Functions) words them.

jsonata-python carries jsonata-java's catalogue, in which the word "function" became "Object" and
whose inserts are not JSON-quoted. AWS runs jsonata-js and reports `<CODE>: <message>`, for example
`T0410: Argument 1 of function "abs" does not match function signature`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from jsonata.jexception import JException

__all__ = ["describe", "js_number", "js_json"]

# jsonata-js's insert names, in the order jsonata-python passes them (current, expected, extra).
# "{{x}}" is JSON-encoded, "{{{x}}}" is inserted as it is, as in jsonata-js.
_CATALOGUE = dict(JException.error_codes)
_CATALOGUE.update({
    code: text.replace("Object", "function") for code, text in JException.error_codes.items()
    if "Object" in text
})
_CATALOGUE.update({
    "S0208": "Parameter {{value}} of function definition must be a variable name (start with $)",
    "D3140": "Malformed URL passed to ${{{functionName}}}(): {{value}}",
})

# jsonata-js names the element type of an array signature in the plural (signature.js).
_ARRAY_TYPES = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers",
                "o": "objects", "s": "strings"}

_INSERT = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")
_CODE = re.compile(r"[A-Z]\d{4}")

# jsonata-python raises a few errors with the catalogue's text in place of the code
# ("Second argument of replace function cannot be an empty string"); find their codes back.
_CODE_OF_TEXT = {text: code for code, text in JException.error_codes.items() if "{{" not in text}
_CODE_OF_TEXT.update({text: code for code, text in _CATALOGUE.items() if "{{" not in text})


def describe(err: Any) -> str:
    """Returns `<CODE>: <message>` for a jsonata-python JException, in jsonata-js's words."""
    code = getattr(err, "error", None)
    if isinstance(code, str) and not _CODE.fullmatch(code) and code in _CODE_OF_TEXT:
        code = _CODE_OF_TEXT[code]
    template = _CATALOGUE.get(code) if code else None
    if template is None:
        text = str(err) or type(err).__name__
        return f"{code}: {text}" if code else text
    if template == "{{{message}}}":
        return f"{code}: {err.current if err.current is not None else ''}"
    inserts = [err.current, err.expected, getattr(err, "extra", None)]
    if code == "D1002":  # jsonata-python passes the operator first, then the value
        inserts = [err.expected]
    if code == "T0412" and isinstance(inserts[2], str):
        inserts[2] = _ARRAY_TYPES.get(inserts[2], inserts[2])
    position = iter(range(len(inserts)))

    def fill(match: re.Match) -> str:
        value = inserts[next(position, len(inserts) - 1)]
        if match.group(1):  # triple braces: as it is
            return "" if value is None else str(value)
        return js_json(value)

    return f"{code}: {_INSERT.sub(fill, template)}"


def js_number(value: float | int) -> str:
    """Returns a number as JavaScript prints it: 3 not 3.0, 1e+21, Infinity, NaN."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def js_json(value: Any) -> str:
    """Returns JSON.stringify(value) as jsonata-js would insert it into a message."""
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return js_number(value) if math.isfinite(value) else "null"
    if isinstance(value, (bool, int)):
        return js_number(value)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_opaque)
    except (TypeError, ValueError):
        return str(value)


def _opaque(value: Any):
    if repr(value) == "null":  # jsonata-python's NULL_VALUE
        return None
    return ""
