"""Choice: picks the next state by the first rule that matches its input.

The comparison operators and type tests are one table (`runtime.asl.choice_operators`): each is a
type check and a comparison, and a `...Path` variant reads the right-hand side from the input
instead of the rule.
"""

from __future__ import annotations

from .. import jsonata, jsonpath
from ..choice_operators import OPERATORS
from ..errors import NoChoiceMatched, QueryEvaluationError, RuntimeFailure
from ..executor import JSONATA, State, apply_io_path, states_binding

__all__ = ["ChoiceState", "compile_rule"]


class _Comparison:
    __slots__ = ("variable", "check", "compare", "operand", "operand_path")

    def __init__(self, variable, check, compare, operand=None, operand_path=None):
        self.variable, self.check, self.compare = variable, check, compare
        self.operand, self.operand_path = operand, operand_path

    def __call__(self, value, ctx, variables) -> bool:
        found = self.variable.find(value, ctx, variables)
        if found is jsonpath.MISSING:
            raise _invalid_path(self.variable.text)
        if self.operand_path is not None:
            operand = self.operand_path.find(value, ctx, variables)
            if operand is jsonpath.MISSING:
                raise _invalid_path(self.operand_path.text)
        else:
            operand = self.operand
        check = self.check
        return check(found) and check(operand) and self.compare(found, operand)


class _Test:
    __slots__ = ("variable", "predicate", "expected")

    def __init__(self, variable, predicate, expected):
        self.variable, self.predicate, self.expected = variable, predicate, expected

    def __call__(self, value, ctx, variables) -> bool:
        found = self.variable.find(value, ctx, variables)
        if self.predicate is None:  # IsPresent
            return (found is not jsonpath.MISSING) == self.expected
        if found is jsonpath.MISSING:
            return False
        return self.predicate(found) == self.expected


def _invalid_path(text: str) -> RuntimeFailure:
    return RuntimeFailure(f"Invalid path '{text}': The choice state's condition path references "
                          f"an invalid value.", in_state=True)


def compile_rule(rule: dict):
    """Returns a predicate (value, ctx, variables) -> bool for a JSONPath-mode Choice rule."""
    if "And" in rule:
        parts = [compile_rule(r) for r in rule["And"]]
        return lambda value, ctx, variables: all(p(value, ctx, variables) for p in parts)
    if "Or" in rule:
        parts = [compile_rule(r) for r in rule["Or"]]
        return lambda value, ctx, variables: any(p(value, ctx, variables) for p in parts)
    if "Not" in rule:
        inner = compile_rule(rule["Not"])
        return lambda value, ctx, variables: not inner(value, ctx, variables)
    variable = jsonpath.compile_path(rule["Variable"])
    for name, operand in rule.items():
        found = OPERATORS.get(name)
        if found is None:
            continue
        if found.kind == "test":
            return _Test(variable, found.check, bool(operand))
        if found.kind == "path":
            return _Comparison(variable, found.check, found.compare,
                               operand_path=jsonpath.compile_path(operand))
        return _Comparison(variable, found.check, found.compare, operand=operand)
    raise ValueError(f"no comparison operator in choice rule {rule!r}")


class _JsonataRule:
    __slots__ = ("condition", "next", "output", "assign")

    def __init__(self, rule: dict):
        self.condition = jsonata.compile_jsonata(rule["Condition"], field="Condition")
        self.next = rule["Next"]
        self.output = jsonata.compile_jsonata(rule["Output"], field="Output") \
            if "Output" in rule else None
        self.assign = jsonata.compile_jsonata(rule["Assign"], field="Assign") \
            if "Assign" in rule else None


class ChoiceState(State):
    type_name = "Choice"

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        self.default = spec.get("Default")
        if self.query_language == JSONATA:
            self.rules = [_JsonataRule(rule) for rule in spec.get("Choices", ())]
        else:
            self.rules = [(compile_rule(rule), rule["Next"]) for rule in spec.get("Choices", ())]

    def choose(self, value, ctx, variables) -> str:
        """Returns the next state for the effective input (JSONPath mode)."""
        for predicate, next_name in self.rules:
            if predicate(value, ctx, variables):
                return next_name
        if self.default is not None:
            return self.default
        raise NoChoiceMatched(_NO_MATCH, in_state=False)

    def next_for_input(self, raw_input, variables) -> str:
        """Returns the state this Choice goes to for its raw input and the variables it saw.

        A Choice's pick is not written in its events, so resuming a run cut right after one
        evaluates its rules again (without a context object: `$$` is not available there)."""
        if not self.jsonata:
            value = apply_io_path(self.input_path, raw_input, None, variables)
            return self.choose(value, None, variables)
        states = states_binding(raw_input, None)
        for rule in self.rules:
            if rule.condition.evaluate(states, variables) is True:
                return rule.next
        if self.default is None:
            raise NoChoiceMatched(_NO_MATCH)
        return self.default

    def next_state(self, frame, value, raw_input, ctx):
        return self.choose(value, ctx, frame.variables)

    def attempt(self, frame, raw_input, ctx, entered_id):
        if not self.jsonata:
            return super().attempt(frame, raw_input, ctx, entered_id)
        variables = frame.variables
        states = states_binding(raw_input, ctx)
        for rule in self.rules:
            matched = rule.condition.evaluate(states, variables)
            if not isinstance(matched, bool):
                raise QueryEvaluationError(
                    f"The JSONata expression specified for the field 'Condition' returned a "
                    f"non-boolean result: {matched!r}", in_state=True, location="Condition")
            if matched:
                assign = rule.assign or self.assign
                output = rule.output or self.output
                return self._finish(states, variables, assign, output, raw_input, rule.next)
        if self.default is None:
            raise NoChoiceMatched(_NO_MATCH)
        return self._finish(states, variables, self.assign, self.output, raw_input, self.default)

    @staticmethod
    def _finish(states, variables, assign, output, raw_input, next_name):
        assigned = assign.evaluate(states, variables) if assign else None
        out = output.evaluate(states, variables) if output else raw_input
        return out, assigned, next_name


_NO_MATCH = "No Matches!"
