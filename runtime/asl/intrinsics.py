"""The intrinsic functions of JSONPath mode (`States.Format(...)` and the 17 others).

A call is parsed once into a tree of nodes (`compile_intrinsic`); evaluating the tree resolves its
path arguments against the state input, the context object (`$$`) or the variables (`$name`) and
calls the function. `FUNCTIONS` is the one table from name to (function, arity, argument types).

Errors, as AWS reports them:
- a call that cannot be parsed, an unknown function or a wrong number of arguments: raised by
  `compile_intrinsic` as ExpressionSyntaxError (the validator reports it);
- arguments of the wrong type or out of range: RuntimeFailure (States.Runtime) with the cause
  "Invalid arguments in States.<Name>";
- a path argument that selects nothing: RuntimeFailure "The JSONPath '<path>' specified for the
  field '<field>' could not be found in the input '<input>'".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid

from runtime.asl.diagnostics import ExpressionSyntaxError
from runtime.asl.errors import RuntimeFailure
from runtime.asl.jsonpath_paths import MISSING, compile_path
from runtime.asl.jsonpath_text import to_java_text, to_json_text

__all__ = ["FUNCTIONS", "Intrinsic", "compile_intrinsic", "is_intrinsic", "json_equal"]

# --- values ------------------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def java_round(value) -> int:
    """Returns `value` rounded as Java's Math.round does (halves go up: -1.5 -> -1)."""
    if isinstance(value, int):
        return value
    whole = math.floor(value)
    # Not floor(value + 0.5): that rounds 0.49999999999999994 up, and Java does not.
    return whole + 1 if value - whole >= 0.5 else whole


def json_equal(left, right) -> bool:
    """Returns whether two JSON values are equal as AWS's JSON nodes (Jackson) compare them:
    of the same kind and value, so true is not 1, and the integer 1 is not the decimal 1.0."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and left == right


class InvalidArguments(Exception):
    """Raised by a function body when its arguments are unusable."""


def _invalid(name: str) -> RuntimeFailure:
    return RuntimeFailure(f"Invalid arguments in {name}", in_state=True)


# --- the functions -----------------------------------------------------------------------------
# Each takes the evaluated arguments (already type-checked by the table) and returns a JSON value.
# They raise InvalidArguments for values of the right type that AWS still refuses.

_MAX_TEXT = 10_000  # Base64Encode/Base64Decode/Hash inputs: "up to 10,000 characters"
_MAX_RANGE = 1_000  # ArrayRange: "the array can contain up to 1000 elements"
_INT_MIN, _INT_MAX = -2 ** 31, 2 ** 31 - 1


def _format_pieces(text: str, escapes: bool) -> tuple:
    """Returns `text` split into text pieces and None for each `{}` placeholder; with `escapes`,
    `text` is the raw text of a literal and AWS's escapes (\\' \\{ \\} \\\\) are resolved."""
    pieces: list = []
    buffer: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if escapes and char == "\\" and index + 1 < len(text):
            buffer.append(_unescape_one(text[index + 1]))
            index += 2
            continue
        if char == "{" and text.startswith("{}", index):
            pieces.append("".join(buffer))
            pieces.append(None)
            buffer = []
            index += 2
            continue
        buffer.append(char)
        index += 1
    pieces.append("".join(buffer))
    return tuple(pieces)


def _fill(pieces: tuple, args: tuple) -> str:
    if pieces.count(None) != len(args):
        raise InvalidArguments()
    out = []
    values = iter(args)
    for piece in pieces:
        out.append(to_java_text(next(values)) if piece is None else piece)
    return "".join(out)


def _states_format(template, *args):
    return _fill(_format_pieces(template, escapes=False), args)


def _string_to_json(text):
    if not text.strip():
        return None  # AWS (recorded 2023): "" and " " parse to null
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidArguments() from None


def _json_to_string(value):
    return to_json_text(value)


def _array(*values):
    return list(values)


def _array_partition(array, size):
    size = java_round(size)
    if size <= 0:
        raise InvalidArguments()
    return [array[start:start + size] for start in range(0, len(array), size)]


def _array_contains(array, value):
    return any(json_equal(item, value) for item in array)


def _array_range(start, end, step):
    start, end, step = java_round(start), java_round(end), java_round(step)
    if step == 0:
        raise InvalidArguments()
    count = (end - start) // step + 1
    if count > _MAX_RANGE:
        raise InvalidArguments()
    if count <= 0:
        return []
    return list(range(start, end + (1 if step > 0 else -1), step))


def _array_get_item(array, index):
    index = java_round(index)
    if not 0 <= index < len(array):
        raise InvalidArguments()
    return array[index]


def _array_length(array):
    return len(array)


def _array_unique(array):
    unique: list = []
    for item in array:
        if not any(json_equal(item, seen) for seen in unique):
            unique.append(item)
    return unique


def _base64_encode(text):
    if len(text) > _MAX_TEXT:
        raise InvalidArguments()
    return base64.b64encode(text.encode("utf-8", "replace")).decode("ascii")


def _base64_decode(text):
    if len(text) > _MAX_TEXT:
        raise InvalidArguments()
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise InvalidArguments() from None
    return data.decode("utf-8", "replace")


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
           "SHA-512": "sha512"}


def _hash(text, algorithm):
    if len(text) > _MAX_TEXT or algorithm not in _HASHES:
        raise InvalidArguments()
    return hashlib.new(_HASHES[algorithm], text.encode("utf-8", "replace")).hexdigest()


def _json_merge(left, right, deep):
    if deep:
        raise InvalidArguments()
    merged = dict(left)
    merged.update(right)
    return merged


def _java_random_int(seed: int, bound: int) -> int:
    """Returns `new java.util.Random(seed).nextInt(bound)`: a seeded call gives what a Java
    service most likely gives (AWS does not document its generator)."""
    mask = (1 << 48) - 1
    state = (seed ^ 0x5DEECE66D) & mask

    def next31() -> int:
        nonlocal state
        state = (state * 0x5DEECE66D + 0xB) & mask
        return state >> 17

    if bound & (bound - 1) == 0:
        return (bound * next31()) >> 31
    while True:
        bits = next31()
        value = bits % bound
        if bits - value + (bound - 1) < 2 ** 31:
            return value


def _math_random(start, end, seed=None):
    start, end = java_round(start), java_round(end)
    if start >= end or end - start >= 2 ** 31:
        raise InvalidArguments()
    if seed is None:
        return random.randrange(start, end)
    return start + _java_random_int(java_round(seed), end - start)


def _math_add(left, right):
    left, right = java_round(left), java_round(right)
    if not (_INT_MIN <= left <= _INT_MAX and _INT_MIN <= right <= _INT_MAX):
        raise InvalidArguments()  # AWS: "values between -2147483648 and 2147483647"
    return left + right


def _string_split(text, delimiters):
    if not delimiters:
        return [text] if text else []
    pattern = "[" + re.escape(delimiters) + "]"
    return [piece for piece in re.split(pattern, text) if piece]


def _uuid():
    return str(uuid.uuid4())


# Argument types: "string", "number", "integer" (a number AWS rounds), "boolean", "array",
# "object", "any". A trailing "*" repeats the last type (variadic); "?" marks it optional.
_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}

FUNCTIONS: dict[str, tuple] = {
    # name: (function, minimum arguments, maximum arguments or None, argument types)
    "States.Format": (_states_format, 1, None, ("string", "any*")),
    "States.StringToJson": (_string_to_json, 1, 1, ("string",)),
    "States.JsonToString": (_json_to_string, 1, 1, ("any",)),
    "States.Array": (_array, 0, None, ("any*",)),
    "States.ArrayPartition": (_array_partition, 2, 2, ("array", "integer")),
    "States.ArrayContains": (_array_contains, 2, 2, ("array", "any")),
    "States.ArrayRange": (_array_range, 3, 3, ("integer", "integer", "integer")),
    "States.ArrayGetItem": (_array_get_item, 2, 2, ("array", "integer")),
    "States.ArrayLength": (_array_length, 1, 1, ("array",)),
    "States.ArrayUnique": (_array_unique, 1, 1, ("array",)),
    "States.Base64Encode": (_base64_encode, 1, 1, ("string",)),
    "States.Base64Decode": (_base64_decode, 1, 1, ("string",)),
    "States.Hash": (_hash, 2, 2, ("string", "string")),
    "States.JsonMerge": (_json_merge, 3, 3, ("object", "object", "boolean")),
    "States.MathRandom": (_math_random, 2, 3, ("integer", "integer", "integer")),
    "States.MathAdd": (_math_add, 2, 2, ("number", "number")),
    "States.StringSplit": (_string_split, 2, 2, ("string", "string")),
    "States.UUID": (_uuid, 0, 0, ()),
}


def _argument_type(types: tuple, position: int) -> str:
    if position < len(types):
        return types[position].rstrip("*")
    return types[-1].rstrip("*") if types and types[-1].endswith("*") else "any"


# --- the tree ----------------------------------------------------------------------------------


class _Literal:
    __slots__ = ("value", "raw")

    def __init__(self, value, raw=None):
        self.value = value
        self.raw = raw  # a string literal's text as written, escapes included

    def evaluate(self, data, context, variables):
        return self.value


class _PathArgument:
    __slots__ = ("path", "find", "field")

    def __init__(self, path, field):
        self.path = path
        self.find = path.find
        self.field = field

    def evaluate(self, data, context, variables):
        value = self.find(data, context, variables)
        if value is MISSING:
            raise RuntimeFailure(
                f"The JSONPath '{self.path.text}' specified for the field '{self.field}' could "
                f"not be found in the input '{to_json_text(data)}'", in_state=True)
        return value


class _Call:
    __slots__ = ("name", "function", "arguments", "types")

    def __init__(self, name, arguments):
        function, _, _, types = FUNCTIONS[name]
        if name == "States.Format" and isinstance(arguments[0], _Literal) \
                and arguments[0].raw is not None:
            # A literal template is split once; its escaped braces are never placeholders.
            pieces = _format_pieces(arguments[0].raw, escapes=True)
            function = lambda _template, *args: _fill(pieces, args)  # noqa: E731
        self.name = name
        self.function = function
        self.arguments = tuple(arguments)
        self.types = tuple(_TYPE_CHECKS[_argument_type(types, index)]
                           for index in range(len(arguments)))

    def evaluate(self, data, context, variables):
        values = [argument.evaluate(data, context, variables) for argument in self.arguments]
        for check, value in zip(self.types, values):
            if not check(value):
                raise _invalid(self.name)
        try:
            return self.function(*values)
        except (InvalidArguments, ValueError, TypeError, OverflowError, MemoryError,
                RecursionError):
            raise _invalid(self.name) from None


# --- parsing -----------------------------------------------------------------------------------

_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_KEYWORD = re.compile(r"(?:true|false|null)(?![A-Za-z0-9_$.])")
_ESCAPES = {"'": "'", "{": "{", "}": "}", "\\": "\\"}
_MAX_NESTING = 10  # AWS: "You can nest up to 10 intrinsic functions within a field"


def _unescape_one(char: str) -> str:
    # Only reached for the four legal escapes: the parser refuses any other.
    return _ESCAPES.get(char, "\\" + char)


def is_intrinsic(text) -> bool:
    """Returns whether `text` is written as an intrinsic function call (starts with "States.")."""
    return isinstance(text, str) and text.startswith("States.")


class _Parser:
    def __init__(self, text: str, field: str):
        self.text = text
        self.field = field
        self.position = 0

    def error(self, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"The intrinsic function call '{self.text}' is invalid: {message} "
            f"(at position {self.position})")

    def skip_spaces(self) -> None:
        text = self.text
        while self.position < len(text) and text[self.position] in " \t\r\n":
            self.position += 1

    def call(self, depth: int = 1) -> _Call:
        if depth > _MAX_NESTING:
            raise self.error(f"more than {_MAX_NESTING} nested intrinsic functions")
        match = _NAME.match(self.text, self.position)
        if not match:
            raise self.error("expected a function name such as States.Format")
        name = match.group()
        if name not in FUNCTIONS:
            raise self.error(f"unknown function '{name}'")
        self.position = match.end()
        self.skip_spaces()
        if not self.text.startswith("(", self.position):
            raise self.error(f"expected '(' after {name}")
        self.position += 1
        arguments = []
        self.skip_spaces()
        if self.text.startswith(")", self.position):
            self.position += 1
        else:
            while True:
                arguments.append(self.argument(depth))
                self.skip_spaces()
                if self.text.startswith(",", self.position):
                    self.position += 1
                    continue
                if self.text.startswith(")", self.position):
                    self.position += 1
                    break
                raise self.error("expected ',' or ')'")
        _, minimum, maximum, _ = FUNCTIONS[name]
        if len(arguments) < minimum or (maximum is not None and len(arguments) > maximum):
            expected = (f"{minimum}" if minimum == maximum else
                        f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}")
            raise ExpressionSyntaxError(
                f"The intrinsic function {name} expects {expected} argument(s) but got "
                f"{len(arguments)} in '{self.text}'")
        return _Call(name, arguments)

    def argument(self, depth: int):
        self.skip_spaces()
        text = self.text
        if self.position >= len(text):
            raise self.error("expected an argument")
        char = text[self.position]
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if text.startswith("States.", self.position):
            return self.call(depth + 1)
        match = _NUMBER.match(text, self.position)
        if match and not (match.end() < len(text) and text[match.end()] in "._$"
                          or match.end() < len(text) and text[match.end()].isalnum()):
            self.position = match.end()
            literal = match.group()
            if any(c in literal for c in ".eE"):
                return _Literal(float(literal))
            return _Literal(int(literal))
        match = _KEYWORD.match(text, self.position)
        if match:
            self.position = match.end()
            return _Literal({"true": True, "false": False, "null": None}[match.group()])
        raise self.error(f"unexpected '{char}'")

    def string(self) -> _Literal:
        text = self.text
        start = self.position + 1
        index = start
        value: list[str] = []
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                escaped = text[index + 1]
                if escaped not in _ESCAPES:
                    # AWS refuses the definition: only \\' \\{ \\} and \\\\ are escapes.
                    self.position = index
                    raise self.error(f"illegal escape sequence '\\{escaped}' in a string literal")
                value.append(_ESCAPES[escaped])
                index += 2
                continue
            if char == "'":
                self.position = index + 1
                return _Literal("".join(value), text[start:index])
            value.append(char)
            index += 1
        raise self.error("unterminated string literal")

    def path(self) -> _PathArgument:
        # A path argument runs up to the next ',' or ')' outside brackets, parentheses and quotes.
        text = self.text
        start = self.position
        index = start
        depth = 0
        quote = None
        while index < len(text):
            char = text[index]
            if quote:
                if char == "\\":
                    index += 1
                elif char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            index += 1
        path_text = text[start:index].rstrip()
        self.position = start + len(path_text)
        try:
            path = compile_path(path_text)
        except ExpressionSyntaxError as error:
            raise self.error(str(error)) from None
        return _PathArgument(path, self.field)


def _paths_of(call: _Call):
    for argument in call.arguments:
        if isinstance(argument, _PathArgument):
            yield argument.path
        elif isinstance(argument, _Call):
            yield from _paths_of(argument)


class Intrinsic:
    """A compiled intrinsic function call."""

    def __init__(self, text: str, field: str | None = None):
        if not isinstance(text, str):
            raise ExpressionSyntaxError(
                f"An intrinsic function call must be a string, not {type(text).__name__}")
        self.text = text
        self.field = field or text
        parser = _Parser(text, self.field)
        parser.skip_spaces()
        if not is_intrinsic(text[parser.position:]):
            raise parser.error("expected a call such as States.Format(...)")
        self.call = parser.call()
        parser.skip_spaces()
        if parser.position != len(text):
            raise parser.error("unexpected text after the call")
        self.name = self.call.name
        # Every path argument, nested calls included, in the order written.
        self.paths = tuple(_paths_of(self.call))

    def __repr__(self) -> str:
        return f"Intrinsic({self.text!r})"

    def evaluate(self, data, context=None, variables=None):
        """Returns the call's result; raises RuntimeFailure (States.Runtime) on bad arguments or
        a path argument that selects nothing."""
        return self.call.evaluate(data, context, variables)


def compile_intrinsic(text: str, *, field: str | None = None) -> Intrinsic:
    """Returns the parsed call `text`; raises ExpressionSyntaxError when it cannot be parsed.
    `field` (such as "value.$") names the field in the causes of errors at run time."""
    return Intrinsic(text, field)
