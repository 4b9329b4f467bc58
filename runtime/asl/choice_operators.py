"""The Choice comparison operators (JSONPath rules): one table, read by the engine (what each does),
the validator (what value each takes), the graph (how each reads) and the machine page (the names
and operand kinds, serialised by `page_table`).

Each comparison of two values has a `...Path` variant, derived here, that compares with a value
read from the input instead of one written in the rule; StringMatches has none. The type tests
(`Is...`) take a boolean: whether the variable should pass the test.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Callable

from .timestamps import is_timestamp, parse_timestamp

__all__ = ["Operator", "OPERATORS", "page_table"]


@dataclass(frozen=True)
class Operator:
    """One Choice operator.

    `kind` is what the rule's value is: "string", "number", "boolean" or "timestamp" (the value
    compared with), "path" (a `...Path` variant: a path to it), or "test" (a type test: a
    boolean). `check` is the type both compared values must have (for a test, the test itself;
    None for IsPresent, which looks at presence), `compare` the comparison. `reads` is how the
    graph writes it (`==`, `matches`, `is null`), `reads_false` how a test reads when its value is
    false. A `...Path` variant names the operator it derives from in `base`.
    """

    name: str
    kind: str
    check: Callable | None
    compare: Callable | None
    reads: str
    reads_false: str = ""
    base: str | None = None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_string(value) -> bool:
    return isinstance(value, str)


def _is_bool(value) -> bool:
    return isinstance(value, bool)


def _timestamps(compare):
    return lambda a, b: compare(parse_timestamp(a), parse_timestamp(b))


_WILDCARDS: dict[str, re.Pattern] = {}


def _string_matches(value: str, pattern: str) -> bool:
    """Returns whether `value` matches a StringMatches pattern: `*` is any text, `\\*` and `\\\\`
    are literal."""
    compiled = _WILDCARDS.get(pattern)
    if compiled is None:
        out, i = [], 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\\" and i + 1 < len(pattern):
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            out.append(".*" if ch == "*" else re.escape(ch))
            i += 1
        compiled = _WILDCARDS[pattern] = re.compile("".join(out) + r"\Z", re.DOTALL)
    return compiled.match(value) is not None


_ORDER = (("Equals", operator.eq, "=="), ("LessThan", operator.lt, "<"),
          ("GreaterThan", operator.gt, ">"), ("LessThanEquals", operator.le, "<="),
          ("GreaterThanEquals", operator.ge, ">="))
_FAMILIES = (("String", "string", _is_string, lambda compare: compare),
             ("Numeric", "number", _is_number, lambda compare: compare),
             ("Timestamp", "timestamp", is_timestamp, _timestamps))
_TESTS = (("IsNull", lambda value: value is None, "is null", "is not null"),
          ("IsPresent", None, "is present", "is absent"),
          ("IsNumeric", _is_number, "is numeric", "is not numeric"),
          ("IsString", _is_string, "is a string", "is not a string"),
          ("IsBoolean", _is_bool, "is a boolean", "is not a boolean"),
          ("IsTimestamp", is_timestamp, "is a timestamp", "is not a timestamp"))


def _with_path_variant(compared: Operator) -> list[Operator]:
    return [compared, Operator(f"{compared.name}Path", "path", compared.check, compared.compare,
                               compared.reads, base=compared.name)]


def _table() -> dict[str, Operator]:
    """Returns every operator by name, in the order the page lists them."""
    rows: list[Operator] = []
    for family, kind, check, comparing in _FAMILIES:
        for suffix, compare, reads in _ORDER:
            rows += _with_path_variant(Operator(family + suffix, kind, check, comparing(compare),
                                                reads))
    rows.append(Operator("StringMatches", "string", _is_string, _string_matches, "matches"))
    rows += _with_path_variant(Operator("BooleanEquals", "boolean", _is_bool, operator.eq, "=="))
    rows += [Operator(name, "test", check, None, reads, reads_false)
             for name, check, reads, reads_false in _TESTS]
    return {row.name: row for row in rows}


OPERATORS: dict[str, Operator] = _table()


def page_table() -> list[dict]:
    """Returns what the machine page needs of each operator, as JSON-ready data: its name, the
    kind of value it takes and, for a `...Path` variant, the operator it derives from."""
    return [{"name": row.name, "kind": row.kind, **({"base": row.base} if row.base else {})}
            for row in OPERATORS.values()]
