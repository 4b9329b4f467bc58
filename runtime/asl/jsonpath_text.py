"""JSON text and Java-style value text, as AWS Step Functions (a Java service) writes them.

`to_json_text` is what AWS prints when it quotes an input in an error cause or when
States.JsonToString serialises a value: compact (`,` and `:` without spaces), non-ASCII kept as is,
and floating-point numbers in Java's `Double.toString` form (`1.0`, `1.0E20`).
`to_java_text` is how States.Format renders an argument: strings bare, objects as `{a=1, b=[]}`.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

__all__ = ["to_json_text", "to_java_text", "java_number_text"]

_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def java_number_text(number) -> str:
    """Returns `number` as Java prints it: ints as digits, floats as `Double.toString` does."""
    if isinstance(number, bool):
        return "true" if number else "false"
    if isinstance(number, int):
        return str(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "-0.0" if math.copysign(1.0, number) < 0 else "0.0"
    sign = "-" if number < 0 else ""
    magnitude = abs(number)
    if 1e-3 <= magnitude < 1e7:
        text = format(Decimal(repr(magnitude)), "f")
        if "." not in text:
            text += ".0"
        return sign + text
    _, digits, exponent = Decimal(repr(magnitude)).as_tuple()
    digit_text = "".join(map(str, digits)).rstrip("0") or "0"
    scientific_exponent = len(digits) + exponent - 1
    return f"{sign}{digit_text[0]}.{digit_text[1:] or '0'}E{scientific_exponent}"


def to_json_text(value) -> str:
    """Returns `value` as compact JSON text, numbers formatted as AWS formats them."""
    parts: list[str] = []
    _write_json(value, parts.append)
    return "".join(parts)


def _write_json(value, write) -> None:
    if value is None:
        write("null")
    elif value is True:
        write("true")
    elif value is False:
        write("false")
    elif isinstance(value, str):
        write(_encode_string(value))
    elif isinstance(value, (int, float)):
        write(java_number_text(value))
    elif isinstance(value, dict):
        write("{")
        first = True
        for key, item in value.items():
            if not first:
                write(",")
            first = False
            write(_encode_string(str(key)))
            write(":")
            _write_json(item, write)
        write("}")
    elif isinstance(value, (list, tuple)):
        write("[")
        for index, item in enumerate(value):
            if index:
                write(",")
            _write_json(item, write)
        write("]")
    else:
        write(_encode_string(str(value)))


def to_java_text(value) -> str:
    """Returns `value` as Java's `toString` renders it: `{a=1, b=[x, y]}`, strings unquoted."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return java_number_text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={to_java_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_java_text(item) for item in value) + "]"
    return str(value)
