"""The JSONata functions AWS Step Functions adds, and the frame every evaluation starts from.

AWS adds `$partition`, `$range`, `$hash`, `$random` (with an optional seed), `$uuid` and `$parse`,
the JSONata counterparts of the States.* intrinsics, and removes `$eval`. `BASE_FRAME` binds them
over jsonata-python's built-ins; it is built once, at import, and only read afterwards, so every
thread can evaluate from it.

Two built-ins are corrected to behave as jsonata-js (which AWS runs): `$number` raises D3030 for a
string that is not a number (jsonata-python raises a Python ValueError), and a T0410 signature
error names the argument jsonata-js names (the first that does not fit, counting extra ones).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import uuid
from typing import Any, Callable

from jsonata import utils as jutils
from jsonata.jexception import JException
from jsonata.signature import Signature
from jsonata.jsonata import Jsonata

__all__ = ["BASE_FRAME", "FunctionArgumentError", "AWS_FUNCTIONS"]

_NULL = jutils.Utils.NULL_VALUE

# States.ArrayRange allows at most 1000 items. AWS's bound for $range is not in the recorded
# cases; we assume it is the same.
MAX_RANGE_ITEMS = 1000
HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
                   "SHA-512": "sha512"}


class FunctionArgumentError(ValueError):
    """An argument one of AWS's functions refuses; its text is the reason."""


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value != int(value):
        raise FunctionArgumentError(f"{what} must be an integer, but was {_show(value)}")
    return int(value)


def _show(value: Any) -> str:
    if value is _NULL or value is None:
        return "null"
    try:
        return json.dumps(value, separators=(",", ":"), default=lambda v: None)
    except (TypeError, ValueError):
        return str(value)


def partition(array: Any, size: Any) -> list:
    """Returns `array` cut into chunks of `size` items (the last one may be shorter)."""
    size = _integer(size, "The chunk size of $partition")
    if size <= 0:
        raise FunctionArgumentError(
            f"The chunk size of $partition must be greater than 0, but was {size}")
    items = list(array) if isinstance(array, list) else [array]
    # A plain list, not a JSONata sequence: [[0]] stays [[0]].
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


def range_(start: Any, end: Any, step: Any) -> list:
    """Returns the integers from `start` to `end` inclusive, `step` apart, as a JSONata sequence
    (so a single item comes back as that item, as on AWS: $range(1, 9, 9) is 1)."""
    start = _integer(start, "The start of $range")
    end = _integer(end, "The end of $range")
    step = _integer(step, "The step of $range")
    if step == 0:
        raise FunctionArgumentError("The step of $range must not be 0")
    count = max(0, (end - start) // step + 1)
    if count > MAX_RANGE_ITEMS:
        raise FunctionArgumentError(
            f"$range would return {count} items; at most {MAX_RANGE_ITEMS} are allowed")
    return jutils.Utils.create_sequence_from_iter(range(start, end + (1 if step > 0 else -1), step))


def hash_(value: Any, algorithm: Any) -> str:
    """Returns the hexadecimal digest of the string `value` with `algorithm` (MD5, SHA-1,
    SHA-256, SHA-384 or SHA-512)."""
    name = HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise FunctionArgumentError(
            f"The hashing algorithm {_show(algorithm)} is not supported; use one of "
            + ", ".join(HASH_ALGORITHMS))
    if not isinstance(value, str):
        raise FunctionArgumentError(f"The value to hash must be a string, but was {_show(value)}")
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def random_(seed: Any = None) -> float:
    """Returns a random number in [0, 1); the same integer `seed` always gives the same number."""
    if seed is None:
        return random.random()
    return random.Random(_integer(seed, "The seed of $random")).random()


def uuid_() -> str:
    """Returns a new version 4 UUID."""
    return str(uuid.uuid4())


def _no_constant(name: str):
    raise ValueError(name)


def parse(text: Any) -> Any:
    """Returns the JSON value the string `text` holds, in jsonata-python's form (null as
    NULL_VALUE)."""
    if not isinstance(text, str):
        raise FunctionArgumentError(f"The argument of $parse must be a string, but was {_show(text)}")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise FunctionArgumentError(f"The argument of $parse is not valid JSON: {text}") from None
    return _nulls(value)


def _nulls(value: Any) -> Any:
    if value is None:
        return _NULL
    if isinstance(value, dict):
        return {key: _nulls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulls(item) for item in value]
    return value


_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?")
_PREFIXED = re.compile(r"0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][01]+")


def number(value: Any = None) -> Any:
    """Returns `value` cast to a number as jsonata-js's $number does (jsonata-python raises a
    Python ValueError for a string that is not a number, where jsonata-js raises D3030)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value):
            result = float(value)
            if math.isfinite(result):
                return jutils.Utils.convert_number(result)
        elif _PREFIXED.fullmatch(value):
            return int(value, 0)
    raise JException("D3030", -1, value)


class _Native(Jsonata.JFunctionCallable):
    """A Python function callable from JSONata (arguments already checked by the signature)."""

    def __init__(self, function: Callable):
        self.function = function

    def call(self, input, args):
        return self.function(*(args or ()))


# name -> (implementation, JSONata signature)
AWS_FUNCTIONS: dict[str, tuple[Callable, str]] = {
    "partition": (partition, "<an:a>"),
    "range": (range_, "<nnn:a>"),
    "hash": (hash_, "<ss:s>"),
    "random": (random_, "<n?:n>"),
    "uuid": (uuid_, "<:s>"),
    "parse": (parse, "<s:x>"),
    "number": (number, "<(nsb)-:n>"),
}


def _throw_validation_error(self, bad_args, bad_sig, function_name):
    """Raises T0410 naming the first argument that does not fit the signature, counted as
    jsonata-js counts it: each parameter's pattern is matched as a prefix of the arguments'
    type letters, so `$boolean(1, 2)` blames argument 2, the extra one (jsonata-python requires
    a full match and so always blames argument 1)."""
    pattern, good_to = "^", 0
    for param in self._params:
        pattern += param.regex
        match = re.match(pattern, bad_sig)
        if match is None:
            raise JException("T0410", -1, good_to + 1, function_name)
        good_to = match.end()
    raise JException("T0410", -1, good_to + 1, function_name)


# jsonata-python's Signature is the library's one; its T0410 index is corrected here once, at
# import, for every expression (the method only builds an error, it changes no state).
Signature.throw_validation_error = _throw_validation_error


def _base_frame() -> Jsonata.Frame:
    # One flat frame holding jsonata-python's built-ins and AWS's: a name is found in at most two
    # steps (the evaluation's own frame, then this one) instead of walking a longer chain.
    frame = Jsonata.Frame(None)
    frame.bindings.update(Jsonata.static_frame.bindings)
    for name, (function, signature) in AWS_FUNCTIONS.items():
        frame.bind(name, Jsonata.JFunction(_Native(function), signature))
    # AWS removes $eval: calling it is "T1006: Attempted to invoke a non-function".
    frame.bind("eval", None)
    return frame


BASE_FRAME = _base_frame()
