"""What a parsed JSONata expression reads, found without evaluating it.

Step Functions evaluates an expression with no context item: the state's input is `$states.input`
and a workflow variable is `$name`. So the only names an expression can read are its `$variables`
(JSONata has no dynamic lookup once `$eval` is gone), and a bare field name at the top level
(`{% phone %}`), `$` at the top level or `$$` anywhere reads nothing. AWS refuses such definitions
with "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported.";
`top_level_references` finds them for the validator.
"""

from __future__ import annotations

from typing import Any

from jsonata import parser as jparser

__all__ = ["variable_names", "top_level_references", "newer_operators"]

_Symbol = jparser.Parser.Symbol

# Attributes of a node whose expressions are evaluated against another context than the node's
# own: filters and predicates (each item), group-by and sort terms (each item), a transform's
# pattern, update and delete clauses (the matched values).
_INNER_CONTEXT = frozenset({"stages", "predicate", "group", "terms", "pattern", "update",
                            "delete"})
# Attributes that are not sub-expressions.
_NOT_EXPRESSIONS = frozenset({"_outer_instance", "signature", "tuple", "slot", "ancestor",
                              "environment", "input", "errors", "next_function", "focus",
                              "label", "index"})


def _children(node: _Symbol):
    for name, value in vars(node).items():
        if name not in _NOT_EXPRESSIONS and value is not None:
            yield name, value


def _symbols(value: Any):
    """Yields the Symbols inside an attribute value (a Symbol, or lists/tuples of them)."""
    if isinstance(value, _Symbol):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _symbols(item)


def variable_names(ast: _Symbol) -> set[str]:
    """Returns the names of every `$variable` in a parsed expression (function names included,
    `$` and `$$` left out)."""
    names: set[str] = set()
    seen: set[int] = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.type == "variable" and isinstance(node.value, str) and node.value \
                and node.value != "$":
            names.add(node.value)
        for _, value in _children(node):
            stack.extend(_symbols(value))
    return names


def top_level_references(ast: _Symbol) -> list[str]:
    """Returns, in order and once each, what the expression reads from the (absent) context
    item: bare field names at the top level, "$" at the top level, and "$$" anywhere."""
    found: list[str] = []

    def note(name: str) -> None:
        if name not in found:
            found.append(name)

    seen: set[int] = set()
    stack: list[tuple[_Symbol, bool]] = [(ast, True)]
    while stack:
        node, top = stack.pop()
        if (id(node), top) in seen:
            continue
        seen.add((id(node), top))
        kind = node.type
        if kind == "name" and top:
            note(str(node.value))
        elif kind == "variable" and node.value == "" and top:
            note("$")
        elif kind == "variable" and node.value == "$":
            note("$$")
        children = []
        for name, value in _children(node):
            if kind == "path" and name == "steps":
                steps = list(_symbols(value))
                children += [(step, top and index == 0) for index, step in enumerate(steps)]
            else:
                inner = top and name not in _INNER_CONTEXT
                children += [(child, inner) for child in _symbols(value)]
        stack.extend(reversed(children))
    return found


# Operators JSONata added in 2.1; Step Functions implements 2.0.6, whose parser reads `a ?? b` as
# `a ?` followed by a second `?` and `a ?: b` as `a ?` followed by `:`.
_NEWER_OPERATORS = {"??": "?", "?:": ":"}


def newer_operators(ast: _Symbol, text: str) -> list[tuple[str, str]]:
    """Returns (operator, the symbol JSONata 2.0.6 stumbles on) for each use in `text` (parsed as
    `ast`) of an operator that JSONata 2.0.6, the version AWS implements, does not have (`??`,
    `?:`). jsonata-python turns both into plain conditions; the operator is read back from the
    text at the node's position (the end of its operator token)."""
    found = []
    seen: set[int] = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.type == "condition" and isinstance(node.position, int):
            operator = text[node.position - 2:node.position]
            if operator in _NEWER_OPERATORS:
                found.append((operator, _NEWER_OPERATORS[operator]))
        for _, value in _children(node):
            stack.extend(_symbols(value))
    return found
