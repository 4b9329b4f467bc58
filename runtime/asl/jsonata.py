"""JSONata mode: the `{% ... %}` expressions of a state's fields, parsed once and evaluated often.

A field value in a JSONata state is any JSON. Every string of the exact form `{% expr %}` inside it
(the value itself, an object member, an array item, at any depth) is a JSONata expression; every
other value is a literal. `compile_jsonata` parses the expressions once into a `Template`;
`Template.evaluate` binds `$states` and the workflow variables and returns plain JSON.

Errors are AWS's, worded as AWS words them, with `in_state=True` (the executor adds the
"An error occurred while executing the state ..." prefix):

    ExpressionSyntaxError                an expression that does not parse (at compile time)
    QueryEvaluationError                 at run time:
        "... returned nothing (undefined)."                     the value is undefined
        "... returned an unsupported result type."              a function, regex, ...
        "... returned an unexpected result type. Expected ..."  `evaluate_as` got another type
        "... threw an error during evaluation. T2002: ..."      a JSONata error, code and message

Each QueryEvaluationError raised here carries `location`, the field path inside the template
("Output/result"), which AWS also reports in the EvaluationFailed history event.

Thread safety: jsonata-python keeps evaluation state (current frame, input, timestamp) on a
`Jsonata` object that it looks up per thread. We never evaluate through a shared `Jsonata` object:
each thread gets its own runner, and the parsed tree (which evaluation only reads) is shared.
"""

from __future__ import annotations

import functools
import json
import math
import re
import threading
import time
from typing import Any

from jsonata import jexception, parser as jparser, utils as jutils
from jsonata.jsonata import Jsonata
from jsonata.regex_engine import default_regex_engine

from .diagnostics import ExpressionSyntaxError
from .errors import QueryEvaluationError, StatesError
from . import jsonata_analysis, jsonata_functions, jsonata_messages

__all__ = ["is_expression", "compile_jsonata", "Template", "json_type_name"]

_NULL = jutils.Utils.NULL_VALUE
_JList = jutils.Utils.JList
_RangeList = jutils.Utils.RangeList
_Symbol = jparser.Parser.Symbol
_Pattern = type(re.compile(""))
_Callable = Jsonata.JFunctionCallable


def is_expression(value: Any) -> bool:
    """Returns whether `value` is a JSONata expression string: it starts with `{%` and ends with
    `%}`, with nothing before or after (AWS treats `" {% x %} "` as a literal string)."""
    return (isinstance(value, str) and len(value) >= 4
            and value.startswith("{%") and value.endswith("%}"))


# ---------------------------------------------------------------------------------------------
# Compiling


def compile_jsonata(value: Any, *, field: str) -> "Template":
    """Returns the Template of a JSONata-mode field value, every expression in it parsed once.

    Raises ExpressionSyntaxError (with `field`, `expression`, `code` and `position` attributes)
    naming the first expression that does not parse.
    """
    return Template(_compile(value, field), field)


def _compile(value: Any, path: str):
    if isinstance(value, str):
        if is_expression(value):
            return _Expression(value[2:-2].strip(), path)
        return _Literal(value)
    if isinstance(value, dict):
        members = [(key, _compile(item, f"{path}/{key}")) for key, item in value.items()]
        if all(isinstance(node, _Literal) for _, node in members):
            return _Literal(value)
        return _Object(members)
    if isinstance(value, list):
        items = [_compile(item, f"{path}[{index}]") for index, item in enumerate(value)]
        if all(isinstance(node, _Literal) for node in items):
            return _Literal(value)
        return _Array(items)
    return _Literal(value)


def _parse(text: str, path: str) -> _Symbol:
    """Returns the parsed tree of one expression; raises ExpressionSyntaxError."""
    if not text:
        raise _syntax_error(text, path, None, "The expression is empty.")
    try:
        ast = _parsed(text)
    except jexception.JException as err:
        raise _syntax_error(text, path, err.error, jsonata_messages.describe(err), err.location)
    except RecursionError:
        raise _syntax_error(text, path, None, "The expression is nested too deeply.")
    except Exception as err:  # the parser's own bugs on odd input: still a syntax error to us
        raise _syntax_error(text, path, None, f"The expression cannot be parsed ({err}).")
    if getattr(ast, "errors", None):
        first = ast.errors[0]
        raise _syntax_error(text, path, getattr(first, "error", None),
                            jsonata_messages.describe(first), getattr(first, "location", None))
    if "??" in text or "?:" in text:
        for _, symbol in jsonata_analysis.newer_operators(ast, text):
            raise _syntax_error(text, path, "S0211",
                                f'S0211: The symbol "{symbol}" cannot be used as a unary operator')
    return ast


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> _Symbol:
    """Returns the parsed tree of `text`, shared by every Template that holds the same text (the
    validator and the executor compile the same definition; evaluation only reads the tree)."""
    return Jsonata.get_parser().parse(text, default_regex_engine)


def _syntax_error(text, path, code, message, position=None) -> ExpressionSyntaxError:
    """Returns the ExpressionSyntaxError of one expression. Besides its text it carries `field`
    (the path in the template), `expression`, `code` (S0202...), `position` and `detail`, the
    parser's message without its code, which is what AWS's validator prints:
    "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/S/Output"."""
    err = ExpressionSyntaxError(
        f"The JSONata expression '{text}' specified for the field '{path}' is invalid: {message}")
    err.field, err.expression, err.code, err.position = path, text, code, position
    err.detail = message[len(code) + 2:] if code and message.startswith(f"{code}: ") else message
    return err


# ---------------------------------------------------------------------------------------------
# The template tree


class _Literal:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def evaluate(self, scope):
        return self.value


class _Expression:
    __slots__ = ("text", "path", "ast", "names")

    def __init__(self, text: str, path: str):
        self.text = text
        self.path = path
        self.ast = _parse(text, path)
        # The variables the expression can read. JSONata has no dynamic variable lookup ($eval is
        # removed), so only these need binding: a large workflow variable the expression does not
        # name is never converted.
        self.names = tuple(sorted(jsonata_analysis.variable_names(self.ast)))

    def evaluate(self, scope):
        return _to_json(self._raw(scope), self)

    def _raw(self, scope):
        """Returns the expression's JSONata value (not yet JSON); raises if it is undefined."""
        try:
            value = _run(self.ast, scope.bindings(self.names))
        except StatesError:
            raise
        except jexception.JException as err:
            raise self.error(f"threw an error during evaluation. {jsonata_messages.describe(err)}")
        except jsonata_functions.FunctionArgumentError as err:
            raise self.error(f"threw an error during evaluation: {err}")
        except EvaluationTimeLimitExceeded:
            raise self.error("threw an error during evaluation. D1012: Evaluation timeout after "
                             f"{int(EVALUATION_TIME_LIMIT * 1000)} milliseconds. Check for "
                             "infinite loop")
        except RecursionError:
            raise self.error("threw an error during evaluation. U1001: Stack overflow error: "
                             "Check for non-terminating recursive function.  "
                             "Consider rewriting as tail-recursive.")
        except ZeroDivisionError:
            raise self.error("threw an error during evaluation. "
                             "D1001: Number out of range: Infinity")
        except MemoryError:
            raise self.error("threw an error during evaluation: memory limit exceeded")
        except Exception:  # a defect of the library on odd input; AWS reports its own the same way
            raise self.error("threw an internal error during evaluation.")
        if value is None:
            raise self.error("returned nothing (undefined).")
        return value

    def error(self, what: str) -> QueryEvaluationError:
        """Returns AWS's QueryEvaluationError for this expression: "The JSONata expression ..."."""
        return QueryEvaluationError(
            f"The JSONata expression '{self.text}' specified for the field '{self.path}' {what}",
            in_state=True, location=self.path)


class _Object:
    __slots__ = ("members",)

    def __init__(self, members):
        self.members = members

    def evaluate(self, scope):
        return {key: node.evaluate(scope) for key, node in self.members}


class _Array:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def evaluate(self, scope):
        return [node.evaluate(scope) for node in self.items]


class Template:
    """A compiled JSONata-mode field value.

    `is_constant` says it holds no expression; `evaluate` then returns the one shared value (do not
    mutate it). `expressions` lists the expression texts with their field paths.
    """

    __slots__ = ("field", "is_constant", "_root")

    def __init__(self, root, field: str):
        self.field = field
        self._root = root
        self.is_constant = isinstance(root, _Literal)

    @property
    def constant(self) -> Any:
        """Returns the literal value of a constant Template (None for one with expressions)."""
        return self._root.value if self.is_constant else None

    @property
    def expressions(self) -> list[tuple[str, str]]:
        """Returns (field path, expression text) for every expression, in document order."""
        out: list[tuple[str, str]] = []

        def walk(node):
            if isinstance(node, _Expression):
                out.append((node.path, node.text))
            elif isinstance(node, _Object):
                for _, child in node.members:
                    walk(child)
            elif isinstance(node, _Array):
                for child in node.items:
                    walk(child)

        walk(self._root)
        return out

    def top_level_references(self) -> list[tuple[str, str]]:
        """Returns (field path, name) for what each expression reads from the context item that
        Step Functions does not provide: a bare field name or `$` at the top level, `$$`
        anywhere. AWS refuses such a definition: "UNSUPPORTED_JSONATA_EXPRESSION: Reference to
        'phone' at the top level is not supported." """
        out = []
        for node in self._expression_nodes():
            out += [(node.path, name) for name in jsonata_analysis.top_level_references(node.ast)]
        return out

    def _expression_nodes(self) -> list[_Expression]:
        out: list[_Expression] = []
        stack = [self._root]
        while stack:
            node = stack.pop()
            if isinstance(node, _Expression):
                out.append(node)
            elif isinstance(node, _Object):
                stack.extend(reversed([child for _, child in node.members]))
            elif isinstance(node, _Array):
                stack.extend(reversed(node.items))
        return out

    def evaluate(self, states: dict, variables: dict | None = None) -> Any:
        """Returns the field's JSON value, with `states` bound as `$states` and each workflow
        variable as `$name`. Raises QueryEvaluationError (in_state=True) as AWS does."""
        root = self._root
        if type(root) is _Literal:
            return root.value
        return root.evaluate(_Scope(states, variables))

    def evaluate_as(self, states: dict, variables: dict | None, expected: str) -> Any:
        """Returns the field's JSON value if it has the `expected` JSON type ("array", "object",
        "string", "number", "integer", "boolean", "null"); raises AWS's QueryEvaluationError
        "... returned an unexpected result type. Expected 'array', but was 'object' ..." if not."""
        root = self._root
        if type(root) is _Literal:
            value = root.value
        else:
            value = root.evaluate(_Scope(states, variables))
        if _has_type(value, expected):
            return value
        actual = json_type_name(value)
        text = (f"returned an unexpected result type. Expected '{expected}', but was '{actual}' "
                f"for value: {json.dumps(value, separators=(',', ':'), ensure_ascii=False)}")
        if isinstance(root, _Expression):
            raise root.error(text)
        raise QueryEvaluationError(
            f"The value specified for the field '{self.field}' {text}", in_state=True,
            location=self.field)

    def __repr__(self):
        return f"Template({self.field!r}, constant={self.is_constant})"


def json_type_name(value: Any) -> str:
    """Returns the JSON type name of a JSON value: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _has_type(value: Any, expected: str) -> bool:
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return json_type_name(value) == expected


# ---------------------------------------------------------------------------------------------
# Evaluating


class _Thread(threading.local):
    runner: Jsonata | None = None


_thread = _Thread()


def _runner() -> Jsonata:
    """Returns this thread's own Jsonata object, the one that holds evaluation state."""
    runner = _thread.runner
    if runner is None:
        previous = Jsonata.CURRENT.__dict__.get("jsonata", _ABSENT)
        runner = Jsonata("$")  # built in this thread, so it gets this thread's parser
        _restore(previous)
        _thread.runner = runner
    return runner


_ABSENT = object()


def _restore(previous) -> None:
    """Puts back the thread's current Jsonata object as it was (or as absent) before we ran."""
    if previous is _ABSENT:
        Jsonata.CURRENT.__dict__.pop("jsonata", None)
    else:
        Jsonata.CURRENT.jsonata = previous


class _Scope:
    """What one evaluation of a Template can read: `$states` and the workflow variables, each
    converted to jsonata-python's form the first time an expression of the Template names it."""

    __slots__ = ("states", "variables", "converted")

    def __init__(self, states: dict, variables: dict | None):
        self.states = states
        self.variables = variables
        self.converted: dict[str, Any] = {}

    def bindings(self, names: tuple[str, ...]) -> dict:
        """Returns the bindings for the variables `names` that exist (others stay undefined)."""
        out = {}
        converted = self.converted
        for name in names:
            if name in converted:
                out[name] = converted[name]
                continue
            if name == "states":
                source = self.states
            elif self.variables and name in self.variables:
                source = self.variables[name]
            else:
                continue
            out[name] = converted[name] = _from_json(source)
        return out


def _run(ast: _Symbol, bindings: dict) -> Any:
    """Returns the raw JSONata value of a parsed expression evaluated with `bindings` (a dict of
    its own: the expression may bind its variables in it, `$x := 1`)."""
    runner = _runner()
    current = Jsonata.CURRENT
    previous = current.__dict__.get("jsonata", _ABSENT)
    current.jsonata = runner
    frame = Jsonata.Frame(jsonata_functions.BASE_FRAME)
    # jsonata-python looks both hook names up for every node it evaluates; bound here, the search
    # stops at once. The entry hook is the time limit's watch.
    bindings["__evaluate_entry"] = _Watch(time.monotonic() + EVALUATION_TIME_LIMIT)
    bindings["__evaluate_exit"] = None
    frame.bindings = bindings
    runner.timestamp = int(time.time() * 1000)  # what $now() and $millis() return
    try:
        return runner.eval(ast, None, frame)
    finally:
        if previous is not runner:
            _restore(previous)


_BIG = 10 ** 21
# Seconds one expression may run. JSONata has no loops, but tail calls and ranges can still keep
# a thread busy for hours ($f(1e9) with $f tail-recursive), and a thread cannot be stopped.
EVALUATION_TIME_LIMIT = 10.0


class EvaluationTimeLimitExceeded(Exception):
    """An expression ran longer than EVALUATION_TIME_LIMIT."""


class _Watch:
    """The entry hook of one evaluation: every 1024 nodes, checks the clock."""

    __slots__ = ("countdown", "deadline")

    def __init__(self, deadline: float):
        self.countdown = 1024
        self.deadline = deadline

    def __call__(self, expr, input, environment) -> None:
        self.countdown -= 1
        if self.countdown:
            return
        self.countdown = 1024
        if time.monotonic() > self.deadline:
            raise EvaluationTimeLimitExceeded()
_SCALARS = frozenset({str, int, bool, float})


def _from_json(value: Any) -> Any:
    """Returns `value` with JSON null as jsonata-python's NULL_VALUE (Python None means
    undefined there); containers without a null inside are returned as they are, not copied."""
    if value is None:
        return _NULL
    kind = type(value)
    if kind is dict:
        copy = None
        for key, item in value.items():
            if type(item) in _SCALARS:
                continue
            converted = _from_json(item)
            if converted is not item:
                if copy is None:
                    copy = dict(value)
                copy[key] = converted
        return value if copy is None else copy
    if kind is list:
        copy = None
        for index, item in enumerate(value):
            if type(item) in _SCALARS:
                continue
            converted = _from_json(item)
            if converted is not item:
                if copy is None:
                    copy = list(value)
                copy[index] = converted
        return value if copy is None else copy
    return value


def _to_json(value: Any, expression: _Expression) -> Any:
    """Returns the plain JSON form of a JSONata value, sharing nothing with it: NULL_VALUE ->
    None, integral floats -> int, sequences -> lists; raises "returned an unsupported result
    type." for functions and regexes. Members whose value is undefined are left out (as
    JSON.stringify does); undefined array items become null."""
    kind = type(value)
    if kind is str or kind is bool:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is str or item_kind is bool:
                out[key] = item
            elif item is not None:
                out[key] = _to_json(item, expression)
        return out
    if kind is list or kind is _JList:
        out = []
        append = out.append
        for item in value:
            item_kind = type(item)
            if item_kind is str or item_kind is bool:
                append(item)
            else:
                append(None if item is None else _to_json(item, expression))
        return out
    if kind is int:
        # JSONata numbers are doubles: from 1e21 on they print as 1e+21, as AWS prints them.
        return value if -_BIG < value < _BIG else float(value)
    if kind is float:
        if not math.isfinite(value):
            raise expression.error("threw an error during evaluation. "
                                   f"D1001: Number out of range: {jsonata_messages.js_number(value)}")
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value
    if value is _NULL:
        return None
    if isinstance(value, _RangeList):
        return [value.a + index for index in range(len(value))]
    if isinstance(value, (list, tuple)):
        return _to_json(list(value), expression)
    if isinstance(value, dict):
        return _to_json(dict(value), expression)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return _to_json(int(value), expression)
    if isinstance(value, float):
        return _to_json(float(value), expression)
    if isinstance(value, str):
        return str(value)
    raise expression.error("returned an unsupported result type.")
