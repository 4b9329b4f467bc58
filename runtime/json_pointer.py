"""JSON pointers (RFC 6901): where a diagnostic, a graph node or a policy problem sits in a document.

    child("/States", "a/b")        ->  "/States/a~1b"
    tokens("/States/a~1b")         ->  ["States", "a/b"]

The one place `~` and `/` are escaped: the validator, the graph and the editor's policy checks all
build their pointers here (static/js/asl-model.js does the same for the page).
"""

from __future__ import annotations

__all__ = ["child", "escape", "tokens"]


def escape(token) -> str:
    """Returns `token` (any value, as text) escaped for a pointer: `~` as `~0`, `/` as `~1`."""
    return str(token).replace("~", "~0").replace("/", "~1")


def child(base: str, *tokens) -> str:
    """Returns the pointer `base` ("" for the whole document) extended by `tokens`."""
    return base + "".join("/" + escape(token) for token in tokens)


def tokens(pointer: str) -> list[str]:
    """Returns the unescaped tokens of `pointer` ("" has none)."""
    if not pointer:
        return []
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]
