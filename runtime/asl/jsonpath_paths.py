"""JSONPath paths: `$...` (the state input), `$$...` (the context object), `$name...` (a variable).

`compile_path(text)` parses a path once. A Reference Path (names and indices only) compiles to a
tuple of keys walked with plain indexing; any other JSONPath (wildcards, slices, filters,
recursive descent) is handed to jsonpath-ng and always yields a list, as AWS's Jayway engine does.
`Path.find` returns `MISSING` when nothing is selected; `Path.select` raises RuntimeFailure with
Jayway's wording ("Invalid path '$.x' : No results for path: $['x']").

`runtime.asl.jsonpath` re-exports all of this; import from there.
"""

from __future__ import annotations

import re

from runtime.asl.diagnostics import ExpressionSyntaxError
from runtime.asl.errors import RuntimeFailure
from runtime.asl.jsonpath_text import to_json_text

__all__ = [
    "MISSING", "Path", "ROOT_CONTEXT", "ROOT_INPUT", "ROOT_VARIABLE", "compile_path", "render_keys",
]


class _Missing:
    """The type of `MISSING`: what a path that selects nothing returns."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return "MISSING"


MISSING = _Missing()

# What a path starts from: `Path.root` is one of these.
ROOT_INPUT, ROOT_CONTEXT, ROOT_VARIABLE = "data", "context", "variable"
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A name after a dot runs up to the next dot or bracket (AWS accepts "$.delivery-partner").
# A Jayway function call such as ".length()" is not supported by AWS: it reads it as a property
# named "length()" ("Invalid path '$.list.length()' : Property ['length()'] not found ...").
_DOT_NAME = re.compile(r"[^.\[\]\s'\"()]+(?:\(\))?")
_INDEX = re.compile(r"\s*(-?\d+)\s*\Z")
_QUOTED = re.compile(r"""\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\Z""", re.S)
_QUOTED_ITEM = r"""\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*"""
_QUOTED_LIST = re.compile(rf"{_QUOTED_ITEM}(?:,{_QUOTED_ITEM})+\Z", re.S)
_QUOTED_NAME = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", re.S)


def _quoted_name(match: re.Match) -> str:
    """Returns the property name a quoted bracket item (`'...'` or `"..."`, a match of _QUOTED
    or _QUOTED_NAME) stands for. Only the quote that delimits it is escaped: AWS reads
    `$['Test\\""Name"']` as the key `Test\\""Name"`, and `$['a\\'b']` as `a'b`."""
    if match.group(1) is not None:
        return match.group(1).replace("\\'", "'")
    return match.group(2).replace('\\"', '"')


def _closing_bracket(text: str, start: int) -> int:
    """Returns the index of the "]" closing the "[" at `start`, skipping quoted text."""
    depth = 0
    quote = None
    index = start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise ExpressionSyntaxError(f"The path '{text}' has an unclosed '['")


def _parse(text: str):
    """Returns (root kind, variable name, keys, rest): for a Reference Path, its keys and None;
    otherwise the keys of its leading names and indices, and either the rest of the path as
    JSONPath text starting with "$" (the part only jsonpath-ng can evaluate) or, for a path
    ending in ['a','b'], the tuple of those names."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"A path must be a string, not {type(text).__name__}")
    if not text.startswith("$"):
        raise ExpressionSyntaxError(f"The path '{text}' must start with '$'")
    if text.startswith("$$"):
        kind, name, position = ROOT_CONTEXT, None, 2
    else:
        match = _VARIABLE_NAME.match(text, 1)
        if match:
            kind, name, position = ROOT_VARIABLE, match.group(), match.end()
        else:
            kind, name, position = ROOT_INPUT, None, 1
    keys: list = []
    definite = True
    index = position
    while index < len(text):
        char = text[index]
        start = index
        if char == ".":
            if text.startswith("..", index):
                definite = False
                break
            match = _DOT_NAME.match(text, index + 1)
            if not match:
                raise ExpressionSyntaxError(f"The path '{text}' has an empty or invalid name "
                                            f"at position {index + 1}")
            name_text = match.group()
            if "*" in name_text or "?" in name_text:
                definite = False  # a wildcard: jsonpath-ng parses (or refuses) the rest
                break
            keys.append(name_text)
            index = match.end()
        elif char == "[":
            end = _closing_bracket(text, index)
            inner = text[index + 1:end]
            quoted = _QUOTED.match(inner)
            number = _INDEX.match(inner)
            if quoted:
                keys.append(_quoted_name(quoted))
            elif number:
                keys.append(int(number.group(1)))
            elif _QUOTED_LIST.match(inner) and end + 1 == len(text):
                # Jayway merges a last ['a','b'] into one object of the properties present.
                names = tuple(_quoted_name(match) for match in _QUOTED_NAME.finditer(inner))
                return kind, name, tuple(keys), names
            else:
                definite = False
                break
            index = end + 1
        else:
            raise ExpressionSyntaxError(f"The path '{text}' has an unexpected '{char}' "
                                        f"at position {index}")
    if definite:
        return kind, name, tuple(keys), None
    return kind, name, tuple(keys), "$" + text[start:]


def _parse_jsonpath_ng(text: str, rest: str):
    try:
        from jsonpath_ng.ext import parse
    except ImportError as error:  # pragma: no cover - jsonpath-ng is a pinned dependency
        raise ExpressionSyntaxError(f"The path '{text}' needs jsonpath-ng") from error
    # Quoted names as AWS reads them (see _quoted_name), quoted again as jsonpath-ng reads them.
    rest = _QUOTED_NAME.sub(
        lambda match: "'" + _quoted_name(match).replace("\\", "\\\\").replace("'", "\\'") + "'",
        rest)
    try:
        return parse(rest)
    except Exception as error:  # jsonpath-ng raises bare Exceptions for some syntax errors
        raise ExpressionSyntaxError(f"The path '{text}' is not valid JSONPath: {error}") from None


def render_keys(keys) -> str:
    """Returns a Reference Path's keys as Jayway prints a path: `$['a']['b'][0]`."""
    return "$" + "".join(f"[{key}]" if isinstance(key, int) else f"['{key}']" for key in keys)


_JAVA_TYPES = {str: "java.lang.String", bool: "java.lang.Boolean", int: "java.lang.Integer",
               float: "java.lang.Double", list: "net.minidev.json.JSONArray",
               dict: "net.minidev.json.JSONObject"}


def _java_class(value) -> str:
    """Returns the class Jayway's default JSON provider (json-smart) holds `value` in."""
    if value is None:
        return "null"
    if type(value) is int and not -2 ** 31 <= value < 2 ** 31:
        return "java.lang.Long"
    return _JAVA_TYPES.get(type(value), type(value).__name__)


def _java_model_text(value) -> str:
    """Returns `value` as json-smart's toString prints it (JSON for containers, raw strings)."""
    if isinstance(value, str):
        return value
    return to_json_text(value)


def _walk_failure(root, keys) -> str:
    """Returns Jayway's message for a Reference Path that selects nothing in `root`."""
    node = root
    for position, key in enumerate(keys):
        current = render_keys(keys[:position])
        leaf = position == len(keys) - 1
        if isinstance(key, int):
            if node is None:
                return f"The path {current} is null"
            if not isinstance(node, list):
                return (f"Filter: [{key}] can only be applied to arrays. "
                        f"Current context is: {_java_model_text(node)}")
            if -len(node) <= key < len(node):
                node = node[key]
                continue
            return f"No results for path: {render_keys(keys)}"
        if not isinstance(node, dict):
            return (f"Expected to find an object with property ['{key}'] in path {current} "
                    f"but found '{_java_class(node)}'. This is not a json object according to the "
                    f"JsonProvider: 'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.")
        if key not in node:
            if leaf:
                return f"No results for path: {render_keys(keys)}"
            return f"Missing property in path {render_keys(keys[:position + 1])}"
        node = node[key]
    return f"No results for path: {render_keys(keys)}"


def _make_walker(keys: tuple):
    """Returns a function walking `keys` down a value: the value found, or MISSING."""
    if any(isinstance(key, int) for key in keys):
        def walk(node):
            for key in keys:
                if isinstance(key, int):
                    if not isinstance(node, list):
                        return MISSING
                    try:
                        node = node[key]
                    except IndexError:
                        return MISSING
                elif isinstance(node, dict):
                    node = node.get(key, MISSING)
                    if node is MISSING:
                        return MISSING
                else:
                    return MISSING
            return node
        return walk
    if not keys:
        return lambda node: node
    if len(keys) == 1:
        (first,) = keys

        def walk_one(node):
            try:
                return node[first]
            except (KeyError, TypeError, IndexError):
                return MISSING
        return walk_one
    if len(keys) == 2:
        first, second = keys

        def walk_two(node):
            try:
                return node[first][second]
            except (KeyError, TypeError, IndexError):
                return MISSING
        return walk_two

    def walk_many(node):
        try:
            for key in keys:
                node = node[key]
        except (KeyError, TypeError, IndexError):
            return MISSING
        return node
    return walk_many


class Path:
    """A compiled JSONPath: `$...` on the state input, `$$...` on the context object, `$name...`
    on a variable. `is_reference` tells a Reference Path (names and indices: one value at most)."""

    def __init__(self, text: str):
        kind, variable, keys, rest = _parse(text)
        self.text = text
        self.root = kind
        self.variable = variable
        self.is_reference = rest is None
        # A Reference Path's keys; None for a path only jsonpath-ng can evaluate.
        self.keys = keys if rest is None else None
        self._prefix_keys = keys
        self._merged_names = rest if isinstance(rest, tuple) else None
        self._jsonpath = _parse_jsonpath_ng(text, rest) if isinstance(rest, str) else None
        if rest is None:
            walk = _make_walker(keys)
        elif isinstance(rest, tuple):
            walk_prefix = _make_walker(keys)
            names = rest

            def walk(node):
                node = walk_prefix(node)
                if not isinstance(node, dict):
                    return MISSING
                return {name: node[name] for name in names if name in node}
        else:
            # The leading names and indices are walked here; jsonpath-ng takes the rest.
            expression = self._jsonpath
            walk_prefix = _make_walker(keys)

            def walk(node):
                node = walk_prefix(node)
                if node is MISSING:
                    return []
                try:
                    return [match.value for match in expression.find(node)]
                except Exception:  # a filter comparing unlike types: Jayway selects nothing
                    return []
        self._walk = walk
        # Specialise find for the common cases: one closure call per lookup, no branching.
        if kind == ROOT_INPUT:
            self.find = lambda data, context=None, variables=None: walk(data)
        elif kind == ROOT_CONTEXT:
            self.find = lambda data, context=None, variables=None: walk(
                context if context is not None else {})
        else:
            def find_variable(data, context=None, variables=None):
                if not variables or variable not in variables:
                    return [] if isinstance(rest, str) else MISSING
                return walk(variables[variable])
            self.find = find_variable

    def __repr__(self) -> str:
        return f"Path({self.text!r})"

    def find(self, data, context=None, variables=None):  # replaced per instance in __init__
        """Returns the value the path selects, or MISSING; a non-reference path returns a list."""
        raise NotImplementedError

    def root_value(self, data, context=None, variables=None):
        """Returns the value the path starts from (input, context object, variable) or MISSING."""
        if self.root == ROOT_INPUT:
            return data
        if self.root == ROOT_CONTEXT:
            return context if context is not None else {}
        if not variables or self.variable not in variables:
            return MISSING
        return variables[self.variable]

    def failure_message(self, data, context=None, variables=None) -> str:
        """Returns why the path selects nothing, in Jayway's words (as AWS reports it)."""
        root = self.root_value(data, context, variables)
        if root is MISSING:
            return f"The variable '{self.variable}' is not defined"
        if self._merged_names is not None:
            prefix = self._prefix_keys
            node = _make_walker(prefix)(root)
            if node is MISSING:
                return _walk_failure(root, prefix)
            fragment = ",".join(f"'{name}'" for name in self._merged_names)
            return (f"Expected to find an object with property [{fragment}] in path "
                    f"{render_keys(prefix)} but found '{_java_class(node)}'. This is not a json "
                    f"object according to the JsonProvider: "
                    f"'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.")
        return _walk_failure(root, self.keys or ())

    def select(self, data, context=None, variables=None):
        """Returns the value the path selects (InputPath, OutputPath, ItemsPath...); raises
        RuntimeFailure "Invalid path '<path>' : <why>" when it selects nothing."""
        value = self.find(data, context, variables)
        if value is MISSING:
            raise RuntimeFailure(
                f"Invalid path '{self.text}' : {self.failure_message(data, context, variables)}",
                in_state=True)
        return value


_path_cache: dict[str, Path] = {}


def compile_path(text: str) -> Path:
    """Returns the compiled Path for `text`; raises ExpressionSyntaxError when it is not one."""
    path = _path_cache.get(text) if isinstance(text, str) else None
    if path is None:
        path = Path(text)
        if len(_path_cache) < 10_000:
            _path_cache[text] = path
    return path
