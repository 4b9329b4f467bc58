"""runtime.json_text: where text that is not JSON goes wrong, in the words and positions of AWS's
parser (Jackson), without ever raising or recursing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.json_text import MAX_DEPTH, find_error

TOKENS = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


def test_it_words_a_bare_word_as_aws_recorded_it():
    # ValidateStateMachineDefinition's recorded answer for "not a definition".
    found = find_error("not a definition")
    assert found.text == (f"Unrecognized token 'not': was expecting {TOKENS}\n at [Source: "
                          '(String)"not a definition"; line: 1, column: 4]')
    assert found.location == '[Source: (String)"not a definition"; line: 1, column: 4]'


@pytest.mark.parametrize("text, message, line, column", [
    ("{", "Unexpected end-of-input: expected close marker for Object (start marker at "
          '[Source: (String)"{"; line: 1, column: 1])', 1, 2),
    ('{"a":1,}', "Unexpected character ('}' (code 125)): was expecting double-quote to start "
                 "field name", 1, 9),
    ("{'a': 1}", "Unexpected character (''' (code 39)): was expecting double-quote to start field "
                 "name", 1, 3),
    ('{"a" 1}', "Unexpected character ('1' (code 49)): was expecting a colon to separate field "
                "name and value", 1, 7),
    ("[1 2]", "Unexpected character ('2' (code 50)): was expecting comma to separate Array "
              "entries", 1, 5),
    ("[1,]", f"Unexpected character (']' (code 93)): expected a valid value {TOKENS}", 1, 5),
    ('{"a": 1]', "Unexpected close marker ']': expected '}' (for Object starting at [Source: "
                 '(String)"{"a": 1]"; line: 1, column: 1])', 1, 9),
    ('{\n  "a": yes\n}', f"Unrecognized token 'yes': was expecting {TOKENS}", 2, 11),
    ("[tru]", f"Unrecognized token 'tru': was expecting {TOKENS}", 1, 5),
    ('{"a": NaN}', "Non-standard token 'NaN': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS "
                   "to allow", 1, 10),
    ("[01]", "Invalid numeric value: Leading zeroes not allowed", 1, 3),
    ("[1.]", "Unexpected character (']' (code 93)) in numeric value: Decimal point not followed "
             "by a digit", 1, 5),
    ('"a\tb"', "Illegal unquoted character ((CTRL-CHAR, code 9)): has to be escaped using "
               "backslash to be included in string value", 1, 4),
    ('"\\q"', "Unrecognized character escape 'q' (code 113)", 1, 4),
    ('"open', "Unexpected end-of-input: was expecting closing quote for a string value", 1, 6),
    ("// note\n{}", "Unexpected character ('/' (code 47)): maybe a (non-standard) comment? (not "
                    "recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)",
     1, 2),
    ("\r\n\r\n  @", f"Unexpected character ('@' (code 64)): expected a valid value {TOKENS}", 3, 4),
])
def test_it_says_what_jackson_says_where_jackson_says_it(text, message, line, column):
    found = find_error(text)
    assert (found.message, found.line, found.column) == (message, line, column)


def test_a_long_text_is_quoted_up_to_500_characters():
    text = "x" * 600
    location = find_error(text).location
    assert location.startswith('[Source: (String)"' + "x" * 500 + '"[truncated 100 chars]; ')
    assert find_error(text).message == f"Unrecognized token '{'x' * 256}...': was expecting {TOKENS}"


def test_nesting_beyond_the_maximum_is_an_error_where_it_goes_too_deep():
    found = find_error("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert found.message == (f"Document nesting depth ({MAX_DEPTH + 1}) exceeds the maximum "
                             f"allowed ({MAX_DEPTH})")
    assert (found.line, found.column) == (1, MAX_DEPTH + 2)
    assert find_error("[" * MAX_DEPTH + "]" * MAX_DEPTH) is None
    assert find_error("[" * 200_000) is not None   # no recursion, whatever the depth


def _strict_json(text: str) -> bool:
    def refuse(name):
        raise ValueError(name)
    try:
        json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


JSONISH = st.lists(st.sampled_from(list('{}[]:," \n\t\\0123456789.-+eEtrufalsnNI/x\'é\u0001')
                                   + ["true", "null", '"a"', '"\\u00e9"', "1.5e3"]),
                   max_size=30).map("".join)


@settings(max_examples=1000, deadline=None)
@given(JSONISH | st.text(max_size=40))
def test_it_finds_an_error_exactly_when_python_refuses_the_text(text):
    assert (find_error(text) is None) == _strict_json(text)
