"""The checks of Choice states and their rules, for the validator of `validation`."""

from __future__ import annotations

from runtime.asl.choice_operators import OPERATORS
from runtime.asl.timestamps import is_timestamp
from runtime.asl.validation_expressions import check_path, is_jsonata
from runtime.asl.validation_fields import NOT_RFC3339, FieldChecks, is_number, names
from runtime.json_pointer import child

__all__ = ["ChoiceChecks"]

_BOOLEAN_OPERATORS = ("And", "Or", "Not")

class ChoiceChecks(FieldChecks):
    """The Choice state: its rules (JSONPath operators or JSONata conditions) and Default."""

    def check_choice(self, state, location, language, transitions):
        """Checks a Choice state: its rules, each with its Next, and its Default."""
        self.io_fields(state, location, language, result=False)
        if "Default" in state:
            self.target(state, "Default", location, transitions)
        if "Choices" not in state:
            self.error("These fields are required: [Choices]", location)
            return
        choices = state["Choices"]
        if not isinstance(choices, list) or not choices:
            self.error("The value for the field 'Choices' must be a non-empty array", location)
            return
        for index, rule in enumerate(choices):
            rule_location = child(location, "Choices", index)
            if not isinstance(rule, dict):
                self.error("A Choice Rule must be an object", rule_location)
                continue
            if "Next" not in rule:
                self.error("These fields are required: [Next]", rule_location)
            else:
                self.target(rule, "Next", rule_location, transitions)
            self.assign(rule, rule_location, language)
            if language == "JSONata":
                self.jsonata_rule(rule, rule_location)
            else:
                self.choice_rule(rule, rule_location, top=True)

    def jsonata_rule(self, rule: dict, location: str) -> None:
        """Checks a JSONata Choice Rule: a Condition (plus Next, Assign, Output)."""
        for key in rule:
            if key in OPERATORS or key in _BOOLEAN_OPERATORS or key == "Variable":
                self.error(f"The field '{key}' is not supported with QueryLanguage JSONata",
                           location)
            elif key not in ("Condition", "Next", "Comment", "Assign", "Output"):
                self.error(f"Field '{key}' is not supported", location)
        if "Condition" not in rule:
            self.error("These fields are required: [Condition]", location)
            return
        condition = rule["Condition"]
        if is_jsonata(condition):
            self.jsonata_string(condition, "Condition", location)
        elif not isinstance(condition, bool):
            self.error("The value for the field 'Condition' must be a JSONata expression or a "
                       "boolean", location)
        self.any_payload(rule, "Output", location, "JSONata")

    def choice_rule(self, rule: dict, location: str, top: bool) -> None:
        """Checks a JSONPath Choice Rule and, iteratively, the rules nested in And/Or/Not."""
        pending = [(rule, location, top)]
        while pending:
            rule, location, top = pending.pop()
            allowed = {"Variable", "Comment"} | ({"Next", "Assign"} if top else set())
            operators = []
            for key in rule:
                if key in OPERATORS or key in _BOOLEAN_OPERATORS:
                    operators.append(key)
                elif key in ("Condition", "Output"):
                    self.error(f"The field '{key}' is not supported with QueryLanguage JSONPath",
                               location)
                elif key not in allowed:
                    self.error(f"Field '{key}' is not supported", location)
            if not operators:
                self.error("A Choice Rule must have one comparison operator or one of "
                           "[And, Or, Not]", location)
                continue
            if len(operators) > 1:
                self.error(f"A Choice Rule must have only one operator, found {names(operators)}",
                           location)
                continue
            operator = operators[0]
            value = rule[operator]
            if operator in _BOOLEAN_OPERATORS:
                if "Variable" in rule:
                    self.error(f"Field 'Variable' is not supported with '{operator}'", location)
                nested = [value] if operator == "Not" else value
                if operator == "Not" and not isinstance(value, dict):
                    self.error("The value for the field 'Not' must be an object", location)
                    continue
                if operator != "Not" and (not isinstance(value, list) or not value):
                    self.error(f"The value for the field '{operator}' must be a non-empty array",
                               location)
                    continue
                for index, inner in enumerate(nested):
                    inner_location = child(location, operator) if operator == "Not" \
                        else child(location, operator, index)
                    if isinstance(inner, dict):
                        pending.append((inner, inner_location, False))
                    else:
                        self.error("A Choice Rule must be an object", inner_location)
                continue
            if "Variable" not in rule:
                self.error("These fields are required: [Variable]", location)
            else:
                self.path_field(rule, "Variable", location)
            self.comparison(operator, value, location)

    def comparison(self, operator: str, value, location: str) -> None:
        """Checks the value a comparison operator compares with against the operator's kind."""
        kind = OPERATORS[operator].kind
        if kind == "path":
            if not isinstance(value, str) or check_path(value) is not None:
                self.error(f"The value for the field '{operator}' must be a valid JSONPath",
                           location)
        elif kind == "number":
            if not is_number(value):
                self.error(f"The value for the field '{operator}' must be a number", location)
        elif kind in ("boolean", "test"):
            if not isinstance(value, bool):
                self.error(f"The value for the field '{operator}' must be a boolean", location)
        elif not isinstance(value, str):
            self.error(f"The value for the field '{operator}' must be a string", location)
        elif kind == "timestamp" and not is_timestamp(value):
            self.error(NOT_RFC3339, child(location, operator))
