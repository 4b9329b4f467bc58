"""Amazon States Language definition -> Graphviz DOT: the graph the editor and execution pages draw.

`definition_to_dot(definition)` returns DOT text built with `graphviz.Digraph`; the browser lays it
out with the vendored WebAssembly Graphviz (static/js/graph-view.js), so no `dot` binary is needed.
It never raises: a dict, however broken, becomes a graph (a Next to a state that does not exist
points at a dashed "missing" node, an unknown Type is drawn as such), anything else becomes a graph
with one note saying why.

Node ids map back to the definition. Every state is found by its JSON pointer (RFC 6901) into the
definition, e.g. `/States/공격 훈련` or `/States/P/Branches/0/States/A`, and its node is named
`state` + the pointer, percent-encoded where DOT, SVG ids or CSS would stumble:

    /States/공격 훈련        ->  state/States/공격%20훈련     (state_id / pointer_for)

Letters and digits of any script, `/ - _ . ~` stay as they are; every other ASCII character
(space, `%`, `:` which DOT reads as a port, quotes, backslash) and any Unicode space or control
character is written %XX per UTF-8 byte, so `decodeURIComponent` in the browser and
`urllib.parse.unquote` here read it back. The same text is the node's `id` attribute, hence the
SVG's `<g id="state/States/...">`. Other ids, same encoding:

    fb-start, fb-end         the machine's Start and End (DOT names `start`, `end`)
    fb-note                  the note drawn instead of a definition that is not an object
    join<pointer>            where a Parallel or Map state's branches meet again
    cluster<pointer>         the box around a Parallel or Map state, and around each of its
                             branches (`cluster/States/P/Branches/0`) or item processor
    missing<pointer>         a state that a Next, Default, Catch or StartAt names but that does
                             not exist, at the pointer it would have

Transition edges carry an `id` too, naming the field that makes them: `edge:` + the encoded
pointer of the state the transition leaves + `:` + which transition (a `:` inside a pointer is
always %3A, so the separators are unambiguous):

    edge:/States/A:next             A's Next (for a Parallel or Map, the edge leaves its join)
    edge:/States/C:choice:1         the Next of Choice rule 1 (its index in Choices, from 0)
    edge:/States/C:default          a Choice's Default
    edge:/States/T:catch:0          the Next of Catch 0 (its index in Catch)

    edge_id("/States/공격 훈련", "choice", 1)  ->  edge:/States/공격%20훈련:choice:1
    edge_for("edge:/States/C:catch:0")        ->  ("/States/C", "catch", 0)

Start, End, retry and branch edges have no id: no field of a state makes them.

Every node's SVG `class` says what it is (`fb-state fb-task`, `fb-start`, `fb-missing`, ...),
every edge's what kind of transition (`fb-next`, `fb-choice`, `fb-default`, `fb-catch`,
`fb-retry`, `fb-end`, `fb-branch`).
"""

from __future__ import annotations

import html
import json
import unicodedata
from urllib.parse import unquote

import graphviz

from runtime.arn import Activity, FunctionRef, Integration, parse_function, parse_resource
from runtime.asl.choice_operators import OPERATORS
from runtime.json_pointer import child

__all__ = ["FONTNAME", "definition_to_dot", "edge_for", "edge_id", "pointer_for", "rule_text",
           "state_id"]

# Korean first (the seed's state names); its Latin glyphs are fine for the rest.
FONTNAME = "Noto Sans CJK KR,Noto Sans KR,Noto Sans,Helvetica,Arial,sans-serif"

_PREFIXES = ("state", "join", "cluster", "missing")
_SAFE_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.~")
_LABEL_MAX = 42  # characters of an edge label or a type line before it is cut with "…"

# Colours: (border, fill) per state type. Quiet fills, the border says the type.
_TEXT = "#101828"
_MUTED = "#475467"
_EDGE = "#667085"
_RED = "#d92d20"
_LOOKS = {
    "Task": dict(shape="box", style="rounded,filled", color="#2f6fde", fillcolor="#eef4ff"),
    "Choice": dict(shape="diamond", style="filled", color="#c27803", fillcolor="#fff8e6",
                   margin="0.04,0.02"),
    "Pass": dict(shape="box", style="filled", color="#98a2b3", fillcolor="#f8f9fb"),
    "Wait": dict(shape="note", style="filled", color="#7a5af8", fillcolor="#f4f1ff"),
    "Succeed": dict(shape="box", style="rounded,filled,bold", color="#1f9d55", fillcolor="#ecfdf3"),
    "Fail": dict(shape="box", style="rounded,filled,bold", color=_RED, fillcolor="#fef3f2"),
    "Parallel": dict(shape="box", style="rounded,filled", color="#0e7490", fillcolor="#ecfeff"),
    "Map": dict(shape="box", style="rounded,filled", color="#0e7490", fillcolor="#ecfeff"),
}
_UNKNOWN_LOOK = dict(shape="box", style="rounded,filled,dashed", color="#98a2b3",
                     fillcolor="#ffffff")


# --- ids ------------------------------------------------------------------------------------------

def _encode(pointer: str) -> str:
    out = []
    for char in pointer:
        if char in _SAFE_ASCII or (ord(char) > 127 and not char.isspace()
                                   and unicodedata.category(char)[0] != "C"):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def state_id(pointer: str) -> str:
    """Returns the node id of the state at `pointer` (a JSON pointer such as `/States/Foo`)."""
    return "state" + _encode(pointer)


def pointer_for(node_id: str) -> str | None:
    """Returns the JSON pointer a node or cluster id stands for, or None (Start, End, notes)."""
    for prefix in _PREFIXES:
        if node_id.startswith(prefix + "/"):
            return unquote(node_id[len(prefix):], errors="surrogatepass")
    return None


_EDGE_KINDS = ("next", "choice", "default", "catch")
_INDEXED = ("choice", "catch")


def edge_id(pointer: str, kind: str, index: int | None = None) -> str:
    """Returns the id of a transition edge leaving the state at `pointer` (see the docstring)."""
    if kind not in _EDGE_KINDS or (index is None) == (kind in _INDEXED):
        raise ValueError(f"no edge id for {kind!r} with index {index!r}")
    return f"edge:{_encode(pointer)}:{kind}" + (f":{index}" if index is not None else "")


def edge_for(edge: str) -> tuple[str, str, int | None] | None:
    """Returns (state pointer, kind, index or None) of an edge id, or None if it is not one."""
    parts = edge.split(":")
    if len(parts) not in (3, 4) or parts[0] != "edge" or parts[2] not in _EDGE_KINDS:
        return None
    if (len(parts) == 4) != (parts[2] in _INDEXED):
        return None
    if len(parts) == 4 and not parts[3].isdigit():
        return None
    pointer = unquote(parts[1], errors="surrogatepass")
    return pointer, parts[2], int(parts[3]) if len(parts) == 4 else None


# --- text -----------------------------------------------------------------------------------------

def _visible(text: str) -> str:
    """Returns `text` with control characters (but tab and line breaks), surrogates and
    non-characters written as `\\uXXXX`: Graphviz's labels are XML, which refuses them."""
    return "".join(f"\\u{ord(char):04x}" if (unicodedata.category(char) in ("Cc", "Cs")
                                             and char not in "\t\n\r")
                   or char in "\ufffe\uffff" else char for char in text)


def _trim(text: str, limit: int = _LABEL_MAX) -> str:
    text = " ".join(_visible(str(text)).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _width(text: str, size: float, bold: bool = False) -> float:
    """Returns the text's width in points, estimated for a sans-serif face with CJK glyphs.

    Graphviz in WebAssembly has no font files and measures with Times metrics, which makes Hangul
    half as wide as it is; the labels carry this estimate as a minimum cell width instead.
    """
    ems = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in "WF":
            ems += 1.0
        elif char == " " or char in "il.,:;'|!()[]":
            ems += 0.3
        elif char in "mwMW@%":
            ems += 0.85
        elif char.isupper():
            ems += 0.68
        else:
            ems += 0.57
    return ems * size * (1.08 if bold else 1.0)


def _html_label(lines) -> str:
    """Returns an HTML-like label, one row per (text, size, colour, bold), escaped, CJK-wide."""
    lines = [(_visible(text), size, colour, bold) for text, size, colour, bold in lines]
    width = max((_width(text, size, bold) for text, size, _, bold in lines), default=0)
    rows = []
    for text, size, colour, bold in lines:
        body = html.escape(text, quote=True)
        if bold:
            body = f"<b>{body}</b>"
        rows.append(f'<tr><td width="{width:.0f}"><font point-size="{size}" color="{colour}">'
                    f"{body}</font></td></tr>")
    return ('<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
            + "".join(rows) + "</table>>")


def _state_label(name: str, kind: str) -> str:
    return _html_label([(_trim(name, 60), 12, _TEXT, True), (_trim(kind), 9, _MUTED, False)])


def _edge_label(text: str) -> str:
    return _html_label([(_trim(text), 9, _MUTED, False)])


def _json(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


# --- what a state says about itself ---------------------------------------------------------------

def _function_name(state: dict) -> str | None:
    """Returns what a Task runs: the function's name, a service action, an activity, or its text."""
    resource = state.get("Resource")
    if not isinstance(resource, str):
        return None
    target = parse_resource(resource)
    if isinstance(target, Integration) and (target.service, target.action) == ("lambda", "invoke"):
        arguments = state.get("Arguments", state.get("Parameters"))
        if isinstance(arguments, dict):
            name = arguments.get("FunctionName", arguments.get("FunctionName.$"))
            if isinstance(name, str):
                function = parse_function(name)
                return function.name if function else name
        return "lambda:invoke"
    if isinstance(target, FunctionRef):
        return target.name
    if isinstance(target, Integration):
        return f"{target.service}:{target.action}{target.pattern}"
    if isinstance(target, Activity):
        return "activity " + target.name
    return resource


def _wait_text(state: dict) -> str:
    for field, text in (("Seconds", "{} s"), ("SecondsPath", "{} s"), ("Timestamp", "until {}"),
                        ("TimestampPath", "until {}")):
        if field in state:
            value = state[field]
            return "Wait · " + text.format(value if isinstance(value, str) else _json(value))
    return "Wait"


def _kind_line(kind, state: dict) -> str:
    if kind == "Task":
        function = _function_name(state)
        return f"Task · {function}" if function else "Task"
    if kind == "Wait":
        return _wait_text(state)
    if kind == "Fail":
        error = state.get("Error", state.get("ErrorPath"))
        return f"Fail · {error}" if isinstance(error, str) else "Fail"
    if kind == "Parallel":
        branches = state.get("Branches")
        count = len(branches) if isinstance(branches, list) else 0
        return f"Parallel · {count} branch{'' if count == 1 else 'es'}"
    if kind == "Map":
        limit = state.get("MaxConcurrency")
        return f"Map · at most {limit} at once" if isinstance(limit, int) and limit > 0 else "Map"
    if kind in _LOOKS:
        return kind
    if kind is None:
        return "no Type"
    return f"unknown Type {_json(kind)}"


def rule_text(rule) -> str:
    """Returns a short reading of a Choice rule: `$.n > 3`, `And(…, …)`, a JSONata condition."""
    if not isinstance(rule, dict):
        return "rule"
    condition = rule.get("Condition")
    if isinstance(condition, str):
        text = condition.strip()
        if text.startswith("{%") and text.endswith("%}"):
            text = text[2:-2].strip()
        return text
    if isinstance(condition, bool):
        return _json(condition)
    for combinator in ("And", "Or"):
        if isinstance(rule.get(combinator), list):
            return f"{combinator}({', '.join(rule_text(inner) for inner in rule[combinator])})"
    if "Not" in rule:
        return f"Not({rule_text(rule['Not'])})"
    variable = rule.get("Variable")
    variable = variable if isinstance(variable, str) else "?"
    for name, value in rule.items():
        found = OPERATORS.get(name)
        if found is None:
            continue
        if found.kind == "test":
            return f"{variable} {found.reads if value is not False else found.reads_false}"
        # A ...Path variant compares with the path itself, written as it is.
        return f"{variable} {found.reads} {value if found.kind == 'path' else _json(value)}"
    return "rule"


def _retry_text(retriers: list) -> str:
    attempts = 0
    for retrier in retriers:
        if isinstance(retrier, dict):
            count = retrier.get("MaxAttempts", 3)
            attempts += count if isinstance(count, int) and not isinstance(count, bool) else 0
    return f"retry ×{attempts}"


def _catch_text(catcher: dict) -> str:
    errors = catcher.get("ErrorEquals")
    if isinstance(errors, list) and errors:
        return "Catch " + ", ".join(str(error) for error in errors)
    return "Catch"


# --- drawing --------------------------------------------------------------------------------------

def _new_graph(title) -> graphviz.Digraph:
    graph = graphviz.Digraph(name="state machine")
    graph.attr(rankdir="TB", bgcolor="transparent", pad="0.25", nodesep="0.4", ranksep="0.5",
               newrank="true", fontname=FONTNAME, fontsize="13", fontcolor=_TEXT)
    if title:
        graph.attr(label=_html_label([(str(title), 14, _TEXT, True)]), labelloc="t")
    graph.attr("node", fontname=FONTNAME, fontsize="12", fontcolor=_TEXT, penwidth="1.4",
               margin="0.18,0.07")
    graph.attr("edge", fontname=FONTNAME, fontsize="9", fontcolor=_MUTED, color=_EDGE,
               arrowsize="0.7", penwidth="1.1")
    return graph


# Parallel branches and Map processors nested deeper than this are not drawn (no one reads such a
# graph, and the bound keeps the drawing's recursion far from Python's limit).
MAX_NESTING = 64


class _TooDeep(Exception):
    """The definition nests Parallel/Map states deeper than MAX_NESTING."""


class _Drawing:
    """Draws one definition: nodes go into their clusters, edges are kept for the end.

    An edge written inside a subgraph makes both of its nodes members of that subgraph, so every
    edge is written at the top level once all nodes are placed.
    """

    def __init__(self, graph: graphviz.Digraph):
        self.graph = graph
        self.edges: list[tuple[str, str, dict]] = []
        self.depth = 0

    def edge(self, tail: str, head: str, kind: str, **attrs) -> None:
        self.edges.append((tail, head, {"class": f"fb-{kind}", **attrs}))

    def finish(self) -> str:
        for tail, head, attrs in self.edges:
            self.graph.edge(tail, head, **attrs)
        return self.graph.source

    def machine(self, container, base: str, machine: dict, entry: str, exit: str) -> None:
        """Draws the States of `machine` (the definition, a branch, an item processor)."""
        states = machine.get("States")
        if not isinstance(states, dict):
            states = {}
        missing: set[str] = set()

        def target(name) -> str:
            if isinstance(name, str) and name in states:
                return state_id(child(base, "States", name))
            shown = name if isinstance(name, str) else _json(name)
            node = "missing" + _encode(child(base, "States", shown))
            if node not in missing:
                missing.add(node)
                why = "no such state" if isinstance(name, str) else "not a state name"
                container.node(node, id=node, label=_state_label(shown, why),
                               **{"class": "fb-missing"}, shape="box", style="rounded,dashed",
                               color=_RED, fontcolor=_RED)
            return node

        for name, state in states.items():
            self.state(container, child(base, "States", name), str(name), state)
        start_at = machine.get("StartAt")
        self.edge(entry, target(start_at), "next" if entry == "start" else "branch")
        for name, state in states.items():
            if isinstance(state, dict):
                self.transitions(child(base, "States", name), state, target, exit)

    def state(self, container, pointer: str, name: str, state) -> None:
        node = state_id(pointer)
        if not isinstance(state, dict):
            container.node(node, id=node, label=_state_label(name, "not a JSON object"),
                           **{"class": "fb-state fb-invalid"}, **_UNKNOWN_LOOK)
            return
        kind = state.get("Type")
        look = _LOOKS.get(kind, _UNKNOWN_LOOK) if isinstance(kind, str) else _UNKNOWN_LOOK
        css = f"fb-state fb-{kind.lower()}" if kind in _LOOKS else "fb-state fb-unknown"
        label = _state_label(name, _kind_line(kind, state))
        if kind not in ("Parallel", "Map"):
            container.node(node, id=node, label=label, **{"class": css}, **look)
            return
        # Parallel and Map: a box around the state's own node, its branches and the join.
        box = "cluster" + _encode(pointer)
        join = "join" + _encode(pointer)
        with container.subgraph(name=box) as cluster:
            cluster.attr(id=box, label="", style="rounded,dashed", color=look["color"],
                         penwidth="1.2", margin="12", **{"class": f"fb-cluster fb-{kind.lower()}"})
            cluster.node(node, id=node, label=label, **{"class": css}, **look)
            if kind == "Parallel":
                branches = state.get("Branches")
                for index, branch in enumerate(branches if isinstance(branches, list) else []):
                    self.branch(cluster, child(pointer, "Branches", index),
                                f"Branch {index + 1}", branch, node, join)
            else:
                field = "ItemProcessor" if "ItemProcessor" in state or "Iterator" not in state \
                    else "Iterator"
                self.branch(cluster, child(pointer, field), "Item processor",
                            state.get(field), node, join)
            cluster.node(join, id=join, label="", shape="box", style="filled", fixedsize="true",
                         width="0.9", height="0.06", color=look["color"], fillcolor=look["color"],
                         **{"class": "fb-join"})

    def branch(self, container, pointer: str, title: str, machine, entry: str, join: str) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _TooDeep()
        box = "cluster" + _encode(pointer)
        with container.subgraph(name=box) as cluster:
            cluster.attr(id=box, label=_html_label([(title, 9, _MUTED, False)]), labeljust="l",
                         style="rounded,filled", color="#d0d5dd", fillcolor="#fcfcfd",
                         penwidth="1", margin="10", **{"class": "fb-branch"})
            if isinstance(machine, dict):
                self.machine(cluster, pointer, machine, entry, join)
            else:
                note = "missing" + _encode(pointer)
                cluster.node(note, id=note, label=_state_label(title, "no States here"),
                             shape="note", style="dashed", color=_RED, fontcolor=_RED,
                             **{"class": "fb-missing"})
                self.edge(entry, note, "branch")
        self.depth -= 1

    def transitions(self, pointer: str, state: dict, target, exit: str) -> None:
        kind = state.get("Type")
        source = ("join" + _encode(pointer)) if kind in ("Parallel", "Map") else state_id(pointer)
        if kind == "Choice":
            choices = state.get("Choices")
            for index, rule in enumerate(choices if isinstance(choices, list) else []):
                if isinstance(rule, dict) and "Next" in rule:
                    self.edge(source, target(rule["Next"]), "choice",
                              id=edge_id(pointer, "choice", index),
                              label=_edge_label(rule_text(rule)))
            if "Default" in state:
                self.edge(source, target(state["Default"]), "default",
                          id=edge_id(pointer, "default"),
                          label=_edge_label("Default"), style="bold", penwidth="1.8")
        elif "Next" in state:
            self.edge(source, target(state["Next"]), "next", id=edge_id(pointer, "next"))
        if kind in ("Succeed", "Fail") or state.get("End") is True:
            # A Fail inside a branch ends the Parallel or Map with an error, not at its join.
            if kind != "Fail" or exit == "end":
                self.edge(source, exit, "end", **({"color": _RED} if kind == "Fail" else {}))
        retriers = state.get("Retry")
        if isinstance(retriers, list) and retriers:
            self.edge(source, source, "retry", label=_edge_label(_retry_text(retriers)),
                      style="dotted", dir="forward")
        catchers = state.get("Catch")
        for index, catcher in enumerate(catchers if isinstance(catchers, list) else []):
            if isinstance(catcher, dict) and "Next" in catcher:
                self.edge(source, target(catcher["Next"]), "catch",
                          id=edge_id(pointer, "catch", index),
                          label=_edge_label(_catch_text(catcher)), style="dashed", color=_RED,
                          fontcolor=_RED)


def definition_to_dot(definition, *, title=None) -> str:
    """Returns the DOT text of a States Language definition's graph; never raises."""
    graph = _new_graph(title)
    if not isinstance(definition, dict):
        what = "nothing" if definition is None else f"a {type(definition).__name__}"
        graph.node("note", id="fb-note", shape="note", style="filled", color=_RED,
                   fillcolor="#fef3f2", label=_html_label([("No graph to draw", 12, _TEXT, True),
                                      (f"The definition is {what}, not a JSON object.", 10,
                                       _MUTED, False)]), **{"class": "fb-note"})
        return graph.source
    drawing = _Drawing(graph)
    for name, label in (("start", "Start"), ("end", "End")):
        graph.node(name, id=f"fb-{name}", label=label, shape="circle", style="filled",
                   fixedsize="true", width="0.62", fontsize="10", color="#344054",
                   fillcolor="#344054", fontcolor="white", **{"class": f"fb-{name}"})
    try:
        drawing.machine(graph, "", definition, "start", "end")
    except (_TooDeep, RecursionError):
        graph.node("note", id="fb-note", shape="note", **{"class": "fb-note"},
                   label="The definition nests too deeply to draw.")
    return drawing.finish()
