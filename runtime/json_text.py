"""Where JSON text goes wrong, said as AWS says it: Step Functions reads definitions with Jackson
(Java), whose words and positions its answers carry.

    find_error("not a definition")
      -> JsonTextError("Unrecognized token 'not': was expecting (JSON String, Number, Array, "
                       "Object or token 'null', 'true' or 'false')", line=1, column=4, ...)
    error.location  -> '[Source: (String)"not a definition"; line: 1, column: 4]'
    error.text      -> the message, then "\\n at " and the location, as Jackson writes it

Positions follow Jackson: lines from 1, and the column just after the last character read (for
an unrecognized token, the column after it). The scan is iterative, so no nesting exhausts the
stack; a document nested deeper than MAX_DEPTH is an error at the bracket that goes too deep.
Use it once a parser has refused the text: on valid JSON it returns None.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["JsonTextError", "find_error", "MAX_DEPTH"]

# Deeper than any definition needs, and within what Python's own parser (which stops near the
# interpreter's recursion limit, 1000) reads: text it refuses for its depth is explained here.
MAX_DEPTH = 512
_SOURCE_SNIPPET = 500   # Jackson quotes this much of the text in its locations
_TOKEN_MAX = 256        # and this much of an unrecognized token
_VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_ESCAPES = set('"\\/bfnrt')


@dataclass(frozen=True)
class JsonTextError:
    """What is wrong with a JSON text: Jackson's message and the line and column it names."""

    message: str
    line: int
    column: int
    source: str

    @property
    def location(self) -> str:
        """Returns Jackson's location: `[Source: (String)"..."; line: L, column: C]`."""
        snippet = f'(String)"{self.source[:_SOURCE_SNIPPET]}"'
        if len(self.source) > _SOURCE_SNIPPET:
            snippet += f"[truncated {len(self.source) - _SOURCE_SNIPPET} chars]"
        return f"[Source: {snippet}; line: {self.line}, column: {self.column}]"

    @property
    def text(self) -> str:
        """Returns the message with its location, as Jackson's exception says it."""
        return f"{self.message}\n at {self.location}"


class _Stop(Exception):
    def __init__(self, message: str):
        self.message = message


def _describe(char: str) -> str:
    """Returns how Jackson names a character in a message."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{char}' (code {code} / 0x{code:x})"
    return f"'{char}' (code {code})"


def _identifier_start(char: str) -> bool:
    return char.isalpha() or char in "_$" or unicodedata.category(char) in ("Sc", "Pc", "Nl")


def _identifier_part(char: str) -> bool:
    code = ord(char)
    return (_identifier_start(char) or unicodedata.category(char) in ("Nd", "Mn", "Mc", "Cf")
            or code <= 8 or 0x0E <= code <= 0x1B or 0x7F <= code <= 0x9F)


class _Scanner:
    """Reads one JSON value as Jackson's ReaderBasedJsonParser does, until the first mistake."""

    def __init__(self, text: str, max_depth: int):
        self.text = text
        self.at = 0               # the next character to read
        self.line = 1
        self.line_start = 0
        self.max_depth = max_depth
        # Open containers: (closing character, Jackson's name for it, line, column of opening).
        self.open: list[tuple[str, str, int, int]] = []
        self.opened = False       # the innermost container has no entry yet

    # -- reading ---------------------------------------------------------------------------------

    def peek(self) -> str | None:
        return self.text[self.at] if self.at < len(self.text) else None

    def take(self) -> str | None:
        char = self.peek()
        if char is not None:
            self.at += 1
        return char

    def column(self) -> int:
        return self.at - self.line_start + 1

    def unexpected(self, char: str, comment: str) -> _Stop:
        return _Stop(f"Unexpected character ({_describe(char)}): {comment}")

    def next_token_char(self, at_eof) -> str | None:
        """Skips white space and returns the next character (taken), or calls `at_eof`."""
        while True:
            char = self.take()
            if char is None:
                return at_eof()
            if char == "\n" or char == "\r":
                if char == "\r" and self.peek() == "\n":
                    self.at += 1
                self.line += 1
                self.line_start = self.at
            elif char == "/":
                raise self.unexpected(char, "maybe a (non-standard) comment? (not recognized as "
                                            "one since Feature 'ALLOW_COMMENTS' not enabled for "
                                            "parser)")
            elif char < " " and char != "\t":
                raise _Stop(f"Illegal character ({_describe(char)}): only regular white space "
                            "(\\r, \\n, \\t) is allowed between tokens")
            elif char not in " \t":
                return char

    def eof_inside(self, what: str):
        def report():
            raise _Stop(f"Unexpected end-of-input{what}")
        return report

    def eof_in_container(self):
        if not self.open:
            return None
        _, kind, line, column = self.open[-1]
        raise _Stop(f"Unexpected end-of-input: expected close marker for {kind} (start marker "
                    f"at {JsonTextError('', line, column, self.text).location})")

    # -- the grammar -----------------------------------------------------------------------------

    def scan(self) -> None:
        char = self.next_token_char(lambda: None)
        if char is None:  # what Jackson's ObjectMapper says of blank text
            raise _Stop("No content to map due to end-of-input")
        if char in "]}":
            self.close(char)
        self.value(char)
        while self.open:
            closing, kind, _, _ = self.open[-1]
            char = self.next_token_char(self.eof_in_container)
            if char in "]}":
                self.close(char)
                continue
            if not self.opened:  # after an entry, a comma
                if char != ",":
                    raise self.unexpected(char, f"was expecting comma to separate {kind} entries")
                char = self.next_token_char(self.eof_inside(f" within/between {kind} entries"))
            self.opened = False
            if closing == "}":
                self.member(char)
            else:
                self.value(char)
        char = self.next_token_char(lambda: None)
        if char is not None:
            raise self.unexpected(char, "expected end-of-input after the JSON value")

    def close(self, char: str) -> None:
        closing, kind, line, column = self.open[-1] if self.open else ("", "root", 1, 0)
        if char != closing:
            expected = "}" if char == "]" else "]"
            start = JsonTextError("", line, column, self.text).location
            raise _Stop(f"Unexpected close marker '{char}': expected '{expected}' (for {kind} "
                        f"starting at {start})")
        self.open.pop()

    def member(self, char: str) -> None:
        """Reads `"name": value` of an object, `char` being its first character."""
        if char != '"':
            raise self.unexpected(char, "was expecting double-quote to start field name")
        self.string(" in field name", "name")
        char = self.next_token_char(self.eof_inside(" within/between Object entries"))
        if char != ":":
            raise self.unexpected(char, "was expecting a colon to separate field name and value")
        self.value(self.next_token_char(self.eof_inside(" within/between Object entries")))

    def value(self, char: str) -> None:
        """Reads a value starting with `char`; a container is only opened (`scan` reads on)."""
        if char in "[{":
            if len(self.open) >= self.max_depth:
                raise _Stop(f"Document nesting depth ({len(self.open) + 1}) exceeds the maximum "
                            f"allowed ({self.max_depth})")
            closing, kind = ("]", "Array") if char == "[" else ("}", "Object")
            self.open.append((closing, kind, self.line, self.at - self.line_start))
            self.opened = True
            return
        if char == '"':
            self.string(": was expecting closing quote for a string value", "string value")
        elif char == "}":
            raise self.unexpected(char, "expected a value")
        elif char in "tfn":
            self.literal({"t": "true", "f": "false", "n": "null"}[char])
        elif char == "-" or char.isdigit() and char.isascii():
            self.number(char)
        else:
            self.odd_value(char)

    def odd_value(self, char: str) -> None:
        if char in "NI":
            word = "NaN" if char == "N" else "Infinity"
            self.literal(word)
            raise _Stop(f"Non-standard token '{word}': enable "
                        "JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow")
        if char == "+":
            following = self.take()
            if following is None:
                raise _Stop("Unexpected end-of-input in a Number value")
            raise _Stop(f"Unexpected character ({_describe(following)}) in numeric value: "
                        "expected digit (0-9) to follow minus sign, for valid numeric value")
        if _identifier_start(char):
            self.unrecognized(char)
        raise self.unexpected(char, f"expected a valid value {_VALUES}")

    def unrecognized(self, matched: str):
        """Raises Jackson's "Unrecognized token", the token read on while it looks like a word."""
        while (char := self.peek()) is not None and _identifier_part(char):
            self.at += 1
            matched += char
            if len(matched) >= _TOKEN_MAX:
                matched += "..."
                break
        raise _Stop(f"Unrecognized token '{matched}': was expecting {_VALUES}")

    def literal(self, word: str) -> None:
        for index in range(1, len(word)):
            if self.peek() != word[index]:
                self.unrecognized(word[:index])
            self.at += 1
        following = self.peek()
        # Jackson looks only at what could continue a word (from "0" up), brackets aside.
        if following is not None and following >= "0" and following not in "]}" \
                and _identifier_part(following):
            self.unrecognized(word)

    def string(self, eof_message: str, what: str) -> None:
        while True:
            char = self.take()
            if char is None:
                raise _Stop(f"Unexpected end-of-input{eof_message}")
            if char == '"':
                return
            if char == "\\":
                self.escape()
            elif char < " ":
                raise _Stop(f"Illegal unquoted character ({_describe(char)}): has to be escaped "
                            f"using backslash to be included in {what}")

    def escape(self) -> None:
        char = self.take()
        if char is None:
            raise _Stop("Unexpected end-of-input in character escape sequence")
        if char == "u":
            for _ in range(4):
                digit = self.take()
                if digit is None:
                    raise _Stop("Unexpected end-of-input in character escape sequence")
                if digit not in "0123456789abcdefABCDEF":
                    raise self.unexpected(digit, "expected a hex-digit for character escape "
                                                 "sequence")
        elif char not in _ESCAPES:
            raise _Stop(f"Unrecognized character escape {_describe(char)}")

    def number(self, char: str) -> None:
        if char == "-":
            char = self.take()
            if char is None:
                raise _Stop("Unexpected end-of-input in a Number value")
            if char == "I":
                self.literal("Infinity")
                raise _Stop("Non-standard token '-Infinity': enable "
                            "JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow")
            if not ("0" <= char <= "9"):
                raise _Stop(f"Unexpected character ({_describe(char)}) in numeric value: expected "
                            "digit (0-9) to follow minus sign, for valid numeric value")
        if char == "0" and self.peek() is not None and "0" <= self.peek() <= "9":
            raise _Stop("Invalid numeric value: Leading zeroes not allowed")
        self.digits()
        for mark, what in ((".", "Decimal point"), ("e", "Exponent indicator")):
            if self.peek() is not None and self.peek().lower() == mark:
                self.at += 1
                if mark == "e" and self.peek() in ("+", "-"):
                    self.at += 1
                following = self.take()
                if following is None:
                    raise _Stop("Unexpected end-of-input in a Number value")
                if not ("0" <= following <= "9"):
                    raise _Stop(f"Unexpected character ({_describe(following)}) in numeric value: "
                                f"{what} not followed by a digit")
                self.digits()
        following = self.peek()
        if not self.open and following is not None and following not in " \t\r\n":
            self.at += 1
            raise self.unexpected(following, "Expected space separating root-level values")

    def digits(self) -> None:
        while self.peek() is not None and "0" <= self.peek() <= "9":
            self.at += 1


def find_error(text: str, max_depth: int = MAX_DEPTH) -> JsonTextError | None:
    """Returns the first thing that keeps `text` from being one JSON value (nested at most
    `max_depth` deep), as Jackson reports it; None when the text is such a value."""
    scanner = _Scanner(text, max_depth)
    try:
        scanner.scan()
    except _Stop as stop:
        return JsonTextError(stop.message, scanner.line, scanner.column(), text)
    return None
