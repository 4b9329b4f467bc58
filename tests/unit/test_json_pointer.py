"""runtime.json_pointer: the one writer and reader of JSON pointers (RFC 6901)."""

from __future__ import annotations

from pathlib import Path

from runtime import json_pointer
from runtime.json_pointer import child, escape, tokens


def test_tilde_and_slash_are_escaped_tilde_first():
    assert escape("a~/b") == "a~0~1b"
    assert escape("~1") == "~01"
    assert escape(3) == "3"


def test_child_extends_a_pointer_token_by_token():
    assert child("", "States", "공격 훈련") == "/States/공격 훈련"
    assert child("/States/P", "Branches", 0, "States", "a/b") == "/States/P/Branches/0/States/a~1b"
    assert child("/x") == "/x"


def test_tokens_read_back_what_child_wrote():
    for parts in (["States", "a/b", "~1", "", "x~y"], [], ["0"]):
        assert tokens(child("", *parts)) == parts


def test_the_module_exports_its_three_names():
    assert sorted(json_pointer.__all__) == ["child", "escape", "tokens"]


def test_the_escaping_is_written_once_for_python_and_once_for_the_page():
    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "runtime").rglob("*.py"), *(root / "editor").rglob("*.py"),
               *(root / "static" / "js").glob("*.js")]
    writers = sorted(str(path.relative_to(root)) for path in sources
                     if '"~0"' in path.read_text(encoding="utf-8"))
    assert writers == ["runtime/json_pointer.py", "static/js/asl-model.js"]
