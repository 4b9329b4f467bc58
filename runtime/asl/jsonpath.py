"""JSONPath-mode expressions: paths, ResultPath, payload templates and ".$" values.

Everything here is compiled once, when a definition is loaded, and evaluated many times:

- `compile_path(text)` -> `Path` (from `jsonpath_paths`): `$...` on the state input, `$$...` on
  the context object, `$name...` on a variable; `find` returns MISSING, `select` raises.
- `compile_result_path(text)` -> `ResultPath`: puts a state's result into a copy of its input.
- `compile_template(value, field=...)` -> `Template`: Parameters, ResultSelector, ItemSelector,
  Assign and Arguments payloads, where keys ending in ".$" take a path or an intrinsic call.
- `compile_value(text, field=...)` -> `Value`: one ".$"-style value (Fail ErrorPath/CausePath).

Missing data never raises from `Path.find` (it returns `MISSING`); the other evaluators raise
`RuntimeFailure(in_state=True)` (States.Runtime) with AWS's wording, or `ResultPathMatchFailure`.
"""

from __future__ import annotations

from runtime.asl.diagnostics import ExpressionSyntaxError
from runtime.asl.errors import ResultPathMatchFailure, RuntimeFailure
from runtime.asl.intrinsics import compile_intrinsic, is_intrinsic
from runtime.asl.jsonpath_paths import MISSING, ROOT_INPUT, Path, compile_path, render_keys
from runtime.asl.jsonpath_text import to_json_text

__all__ = [
    "MISSING", "Path", "ResultPath", "Template", "Value",
    "compile_path", "compile_result_path", "compile_template", "compile_value", "render_keys",
    "to_json_text",
]


class ResultPath:
    """Where a state's result goes in its input: `None` keeps the input, `$` replaces it."""

    def __init__(self, text: str | None):
        self.text = text
        self.keys = None
        if text is None:
            return
        path = compile_path(text)
        if path.root != ROOT_INPUT:
            raise ExpressionSyntaxError(
                f"The ResultPath '{text}' must start with '$.' (not a context object or variable)")
        if not path.is_reference:
            raise ExpressionSyntaxError(f"The ResultPath '{text}' must be a Reference Path")
        self.keys = path.keys

    def __repr__(self) -> str:
        return f"ResultPath({self.text!r})"

    @property
    def discards_result(self) -> bool:
        """Returns whether the result is dropped and the input passed on (ResultPath null)."""
        return self.text is None

    def _failure(self, state_input) -> ResultPathMatchFailure:
        # The wording is our best recollection of AWS's; the corpus holds no such failure.
        return ResultPathMatchFailure(
            f"Unable to apply ReferencePath {self.text} to input {to_json_text(state_input)}",
            in_state=True)

    def apply(self, state_input, result):
        """Returns `state_input` with `result` placed at the path, copying only the containers
        along the path and creating missing objects; raises ResultPathMatchFailure when a
        container on the way is not an object (or an index is out of range)."""
        keys = self.keys
        if keys is None:
            return state_input
        if not keys:
            return result
        if len(keys) == 1 and type(state_input) is dict and type(keys[0]) is str:
            root = state_input.copy()  # the common "$.name": one copy, no walk
            root[keys[0]] = result
            return root
        root = _copy_container(state_input, keys[0])
        if root is None:
            raise self._failure(state_input)
        node = root
        last = len(keys) - 1
        for position in range(last):
            key = keys[position]
            child = _child(node, key)
            if child is MISSING:
                if isinstance(key, int):
                    raise self._failure(state_input)
                copy = {}
            else:
                copy = _copy_container(child, keys[position + 1])
                if copy is None:
                    raise self._failure(state_input)
            node[key] = copy
            node = copy
        key = keys[last]
        if isinstance(key, int) and _child(node, key) is MISSING:
            raise self._failure(state_input)
        node[key] = result
        return root


def _copy_container(value, key):
    """Returns a shallow copy of `value` if `key` can be set in it, else None."""
    if isinstance(key, int):
        return list(value) if isinstance(value, list) else None
    return dict(value) if isinstance(value, dict) else None


def _child(node, key):
    if isinstance(key, int):
        return node[key] if -len(node) <= key < len(node) else MISSING
    return node.get(key, MISSING)


_DISCARD = ResultPath(None)


def compile_result_path(text: str | None) -> ResultPath:
    """Returns the compiled ResultPath; None discards the result (the input passes on)."""
    if text is None:
        return _DISCARD
    return ResultPath(text)


def _not_found(text: str, field: str, data) -> RuntimeFailure:
    return RuntimeFailure(
        f"The JSONPath '{text}' specified for the field '{field}' could not be found in the "
        f"input '{to_json_text(data)}'", in_state=True)


class Value:
    """One ".$" value: a path or an intrinsic call, evaluated against input, context, variables."""

    def __init__(self, text: str, field: str):
        if not isinstance(text, str):
            raise ExpressionSyntaxError(
                f"The value of the field '{field}' must be a path or an intrinsic function call, "
                f"not {type(text).__name__}")
        self.text = text
        self.field = field
        if is_intrinsic(text):
            self.intrinsic = compile_intrinsic(text, field=field)
            self.path = None
            self.paths = self.intrinsic.paths
            self.evaluate = self.intrinsic.evaluate
        elif text.startswith("$"):
            self.intrinsic = None
            self.path = path = compile_path(text)
            self.paths = (path,)
            self.evaluate = _value_getter(path, field)
        else:
            raise ExpressionSyntaxError(
                f"The value of the field '{field}' must be a path ($...) or an intrinsic "
                f"function call (States....), not '{text}'")

    def __repr__(self) -> str:
        return f"Value({self.text!r}, field={self.field!r})"

    def evaluate(self, data, context=None, variables=None):  # replaced per instance in __init__
        """Returns the value; raises RuntimeFailure when a path in it selects nothing."""
        raise NotImplementedError


def _value_getter(path: Path, field: str):
    """Returns a function (data, context, variables) -> the value `path` selects, raising
    RuntimeFailure when it selects nothing; input paths of names only index inline (the hot path
    of every Parameters template)."""
    text = path.text
    keys = path.keys
    if path.root == ROOT_INPUT and keys and all(isinstance(key, str) for key in keys):
        if len(keys) == 1:
            (first,) = keys

            def get_one(data, context=None, variables=None):
                try:
                    return data[first]
                except (KeyError, TypeError, IndexError):
                    raise _not_found(text, field, data) from None
            return get_one
        if len(keys) == 2:
            first, second = keys

            def get_two(data, context=None, variables=None):
                try:
                    return data[first][second]
                except (KeyError, TypeError, IndexError):
                    raise _not_found(text, field, data) from None
            return get_two
    find = path.find

    def get(data, context=None, variables=None):
        value = find(data, context, variables)
        if value is MISSING:
            raise _not_found(text, field, data)
        return value
    return get


def compile_value(text: str, *, field: str) -> Value:
    """Returns the compiled ".$" value `text` of the field named `field` (used in causes)."""
    return Value(text, field)


class Template:
    """A payload template compiled into a flat list of (key, constant or getter)."""

    def __init__(self, value, field: str):
        self.field = field
        self.source = value
        self.is_constant = True
        paths: list[Path] = []
        if isinstance(value, dict):
            constants = {}
            dynamic = []
            entries = []
            seen_dynamic = False
            ordered = True
            for key, item in value.items():
                if isinstance(key, str) and key.endswith(".$"):
                    compiled = compile_value(item, field=key)
                    paths.extend(compiled.paths)
                    getter = compiled.evaluate
                    out_key = key[:-2]
                    entries.append((out_key, False, getter))
                    dynamic.append((out_key, getter))
                    constants.pop(out_key, None)
                    seen_dynamic = True
                    continue
                sub = compile_template(item, field=key)
                paths.extend(sub.paths)
                if sub.is_constant:
                    entries.append((key, True, item))
                    constants[key] = item
                    if seen_dynamic:
                        ordered = False
                else:
                    getter = sub.evaluate
                    entries.append((key, False, getter))
                    dynamic.append((key, getter))
                    seen_dynamic = True
            self.is_constant = not dynamic
            if self.is_constant:
                self.evaluate = lambda data, context=None, variables=None: value
            elif ordered and len({key for key, _, _ in entries}) == len(entries):
                # Constants first, then getters: copy the constants and fill in the rest.
                dynamic_entries = tuple(dynamic)

                def evaluate_object(data, context=None, variables=None):
                    out = constants.copy()
                    for key, getter in dynamic_entries:
                        out[key] = getter(data, context, variables)
                    return out
                self.evaluate = evaluate_object
            else:
                all_entries = tuple(entries)

                def evaluate_ordered(data, context=None, variables=None):
                    out = {}
                    for key, constant, item in all_entries:
                        out[key] = item if constant else item(data, context, variables)
                    return out
                self.evaluate = evaluate_ordered
        elif isinstance(value, list):
            items = [compile_template(item, field=field) for item in value]
            for item in items:
                paths.extend(item.paths)
            self.is_constant = all(item.is_constant for item in items)
            if self.is_constant:
                self.evaluate = lambda data, context=None, variables=None: value
            else:
                getters = tuple(item.evaluate for item in items)
                self.evaluate = lambda data, context=None, variables=None: [
                    getter(data, context, variables) for getter in getters]
        else:
            self.evaluate = lambda data, context=None, variables=None: value
        # Every path the template reads, intrinsic arguments included (the validator checks
        # the variables they name).
        self.paths: tuple[Path, ...] = tuple(paths)

    def __repr__(self) -> str:
        return f"Template(field={self.field!r}, constant={self.is_constant})"

    def evaluate(self, data, context=None, variables=None):  # replaced per instance in __init__
        """Returns the payload built from the template; a constant template returns the shared
        constant itself. Raises RuntimeFailure when a path selects nothing."""
        raise NotImplementedError


def compile_template(value, *, field: str) -> Template:
    """Returns the compiled payload template `value` of the field named `field`."""
    return Template(value, field)
