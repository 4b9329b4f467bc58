"""runtime.asl.graph: States Language definitions drawn as Graphviz DOT, checked as text and as the SVG the
vendored WebAssembly Graphviz lays out (through node, as the browser would; no `dot` binary)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import graphviz
import pytest

from runtime.asl.graph import (FONTNAME, definition_to_dot, edge_for, edge_id, pointer_for, rule_text,
                          state_id)
from tests.unit.asl.seed import seed_definition, seed_definition_text

ROOT = Path(__file__).resolve().parents[3]
BUNDLE = ROOT / "static/vendor/graphviz/wasm-graphviz-1.29.2.js"
SEED_STATES = ["훈련", "공격 훈련", "패스 훈련", "수비 훈련", "프리킥 훈련", "볼 경합 훈련"]

# Reads a JSON list of DOT texts on stdin, prints a JSON list of SVGs (or {"error": message}).
RENDER = """
import { Graphviz } from %s;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const graphviz = await Graphviz.load();
const out = JSON.parse(input).map((dot) => {
  try { return graphviz.dot(dot, "svg"); } catch (error) { return { error: String(error) }; }
});
process.stdout.write(JSON.stringify(out));
"""


def render(*dots: str) -> list[str]:
    """Returns the SVG of each DOT text, laid out by the vendored Graphviz bundle in node."""
    node = shutil.which("node")
    assert node, "node is needed to run the vendored Graphviz (make system-deps installs it)"
    script = RENDER % json.dumps(BUNDLE.as_uri())
    done = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps(dots),
                          capture_output=True, text=True, timeout=120, check=True)
    svgs = json.loads(done.stdout)
    for dot, svg in zip(dots, svgs):
        assert isinstance(svg, str), f"Graphviz refused the DOT: {svg['error']}\n{dot}"
    return svgs


def node_line(dot: str, pointer: str) -> str:
    """Returns the DOT statement declaring the state at `pointer`."""
    name = state_id(pointer)
    for line in dot.splitlines():
        if line.strip().startswith(f'"{name}" [') or line.strip().startswith(f"{name} ["):
            return line
    raise AssertionError(f"no node {name} in\n{dot}")


def edges(dot: str, kind: str | None = None) -> list[str]:
    lines = [line.strip() for line in dot.splitlines() if " -> " in line]
    return [line for line in lines if kind is None or f'class="fb-{kind}"' in line]


def svg_text(svg: str) -> str:
    """Returns the words the SVG shows (its <text> elements), unescaped."""
    return " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def svg_ids(svg: str) -> list[str]:
    """Returns the ids of the SVG's <g> elements, as a browser reads them."""
    return [html.unescape(i) for i in re.findall(r'<g id="([^"]*)"', svg)]


def machine(states: dict, start: str | None = None) -> dict:
    return {"StartAt": start or next(iter(states)), "States": states}


WORKFLOW = machine({
    "Validate": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:validate-order",
                 "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2},
                           {"ErrorEquals": ["States.ALL"]}],
                 "Catch": [{"ErrorEquals": ["OrderInvalid", "States.TaskFailed"], "Next": "Reject"}],
                 "Next": "Route"},
    "Route": {"Type": "Choice", "Choices": [
        {"Variable": "$.total", "NumericGreaterThan": 3, "Next": "Approve"},
        {"And": [{"Variable": "$.vip", "BooleanEquals": True},
                 {"Variable": "$.country", "StringEquals": "KR"}], "Next": "Approve"},
        {"Not": {"Variable": "$.coupon", "IsPresent": True}, "Next": "Hold"},
        {"Variable": "$.limit", "NumericLessThanEqualsPath": "$.total", "Next": "Hold"}],
        "Default": "Reject"},
    "Hold": {"Type": "Wait", "Seconds": 30, "Next": "Approve"},
    "Approve": {"Type": "Pass", "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Reject": {"Type": "Fail", "Error": "OrderRejected", "Cause": "the order was rejected"},
})


# --- ids ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pointer", [
    "/States/Foo", "/States/공격 훈련", "/States/P/Branches/0/States/a~1b", "/States/100%", "/States/x:y",
    '/States/say "hi"\\', "/States/tab\there", "/States/\u3000full width space", "/States/é",
    "/States/M/ItemProcessor/States/<&>"])
def test_a_state_id_maps_back_to_its_pointer(pointer):
    node = state_id(pointer)
    assert pointer_for(node) == pointer
    assert node.startswith("state/")
    # Nothing DOT reads as a port, nothing that ends an SVG id or a quoted string.
    assert not re.search(r'[\s:"\\<>&]', node)


def test_state_ids_keep_korean_and_encode_spaces_readably():
    assert state_id("/States/공격 훈련") == "state/States/공격%20훈련"
    assert state_id("/States/Foo") == "state/States/Foo"


def test_ids_that_are_not_states_have_no_pointer_unless_they_stand_for_one():
    assert pointer_for("fb-start") is None
    assert pointer_for("fb-end") is None
    assert pointer_for("fb-note") is None
    assert pointer_for("join/States/P") == "/States/P"
    assert pointer_for("cluster/States/P/Branches/1") == "/States/P/Branches/1"
    assert pointer_for("missing/States/Nowhere") == "/States/Nowhere"


def test_every_node_carries_its_id_as_the_svg_id():
    dot = definition_to_dot(WORKFLOW)
    svg = render(dot)[0]
    for name in WORKFLOW["States"]:
        node = state_id(f"/States/{name}")
        assert f'id="{node}"' in node_line(dot, f"/States/{name}")
        assert f'<g id="{node}" class="node fb&#45;state' in svg
    assert {"fb-start", "fb-end"} <= set(svg_ids(svg))


# --- shapes and labels ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, shape, extra", [
    ("Validate", "shape=box", 'style="rounded,filled"'),
    ("Route", "shape=diamond", 'class="fb-state fb-choice"'),
    ("Approve", "shape=box", "style=filled"),
    ("Hold", "shape=note", 'class="fb-state fb-wait"'),
    ("Done", "shape=box", 'color="#1f9d55"'),
    ("Reject", "shape=box", 'color="#d92d20"'),
])
def test_each_state_type_has_its_shape(name, shape, extra):
    line = node_line(definition_to_dot(WORKFLOW), f"/States/{name}")
    assert shape in line and extra in line


def test_labels_give_the_name_and_a_small_line_with_the_type():
    dot = definition_to_dot(WORKFLOW)
    assert "<b>Validate</b>" in node_line(dot, "/States/Validate")
    assert 'point-size="9"' in node_line(dot, "/States/Validate")
    assert "Task · validate-order" in node_line(dot, "/States/Validate")
    assert "Wait · 30 s" in node_line(dot, "/States/Hold")
    assert "Fail · OrderRejected" in node_line(dot, "/States/Reject")
    assert ">Succeed<" in node_line(dot, "/States/Done")


@pytest.mark.parametrize("state, shown", [
    ({"Type": "Task", "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:resize:live"}, "resize"),
    ({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:crawl",
                     "Payload.$": "$"}}, "crawl"),
    ({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Arguments": {"FunctionName": "notify"}}, "notify"),
    ({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage"}, "sqs:sendMessage"),
    ({"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:approve"}, "activity approve"),
    ({"Type": "Task", "Resource": "공격 훈련 람다 모듈 arn"}, "공격 훈련 람다 모듈 arn"),
])
def test_a_task_shows_the_function_it_runs(state, shown):
    dot = definition_to_dot(machine({"T": {**state, "End": True}}))
    assert f"Task · {shown}<" in node_line(dot, "/States/T")


def test_fontname_lists_a_korean_face_for_graph_nodes_and_edges():
    assert "Noto Sans CJK KR" in FONTNAME.split(",")
    dot = definition_to_dot(WORKFLOW)
    assert dot.count(f'fontname="{FONTNAME}"') == 3   # graph, node and edge defaults


def test_a_title_heads_the_graph():
    dot = definition_to_dot(WORKFLOW, title="주문 <처리>")
    assert "주문 &lt;처리&gt;" in dot and "labelloc=t" in dot


# --- edges ----------------------------------------------------------------------------------------

def test_next_and_end_edges_join_start_states_and_end():
    dot = definition_to_dot(WORKFLOW)
    nexts = edges(dot, "next")
    assert f'start -> {state_id("/States/Validate")}' in nexts[0].replace('"', "")
    assert any(e.startswith(f'"{state_id("/States/Hold")}" -> "{state_id("/States/Approve")}"') for e in nexts)
    ends = edges(dot, "end")
    assert any(e.startswith(f'"{state_id("/States/Done")}" -> end') for e in ends)
    assert any(e.startswith(f'"{state_id("/States/Reject")}" -> end') and "#d92d20" in e for e in ends)


def test_choice_rules_label_their_edges():
    svg = render(definition_to_dot(WORKFLOW))[0]
    shown = svg_text(svg)
    for label in ["$.total > 3", '$.vip == true, $.country == "KR"', "Not($.coupon is present)",
                  "$.limit <= $.total"]:
        assert label in shown
    assert len(edges(definition_to_dot(WORKFLOW), "choice")) == 4


def test_the_default_edge_is_marked_and_bold():
    [default] = edges(definition_to_dot(WORKFLOW), "default")
    assert default.startswith(f'"{state_id("/States/Route")}" -> "{state_id("/States/Reject")}"')
    assert ">Default<" in default and "style=bold" in default


def test_catch_edges_are_dashed_and_name_their_errors():
    [catch] = edges(definition_to_dot(WORKFLOW), "catch")
    assert catch.startswith(f'"{state_id("/States/Validate")}" -> "{state_id("/States/Reject")}"')
    assert "style=dashed" in catch and "Catch OrderInvalid, States.TaskFailed" in catch


def edge_ids(dot: str, kind: str) -> list[str]:
    """Returns the ids of the DOT's edges of `kind` that have one, in order."""
    return [m.group(1) for e in edges(dot, kind) if (m := re.search(r'id="([^"]*)"', e))]


def test_transition_edges_carry_ids_naming_their_field():
    dot = definition_to_dot(WORKFLOW)
    assert edge_ids(dot, "choice") == [f"edge:/States/Route:choice:{i}" for i in range(4)]
    assert edge_ids(dot, "default") == ["edge:/States/Route:default"]
    assert edge_ids(dot, "catch") == ["edge:/States/Validate:catch:0"]
    nexts = [e for e in edges(dot, "next") if not e.startswith("start ")]
    assert sorted(re.search(r'id="([^"]*)"', e).group(1) for e in nexts) == [
        "edge:/States/Approve:next", "edge:/States/Hold:next", "edge:/States/Validate:next"]
    # Start, End and retry edges are made by no field of a state: no id.
    for kind in ("end", "retry"):
        assert all("id=" not in e for e in edges(dot, kind))
    assert "id=" not in edges(dot, "next")[0]


def test_edge_ids_skip_rules_without_next_but_keep_their_index_and_show_in_the_svg():
    dot = definition_to_dot(machine({
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True},
                                            {"Variable": "$.b", "IsPresent": True, "Next": "공격 훈련"}]},
        "공격 훈련": {"Type": "Task", "Resource": "x", "Catch": [
            {"ErrorEquals": ["A"]}, {"ErrorEquals": ["B"], "Next": "C"}], "End": True}}))
    assert edge_ids(dot, "choice") == ["edge:/States/C:choice:1"]
    assert edge_ids(dot, "catch") == ["edge:/States/공격%20훈련:catch:1"]
    ids = re.findall(r'<g id="(edge:[^"]*)"', render(dot)[0])
    assert sorted(html.unescape(i) for i in ids) == ["edge:/States/C:choice:1",
                                                     "edge:/States/공격%20훈련:catch:1"]


def test_edges_of_parallel_states_and_nested_states_leave_from_the_join_with_the_states_id():
    dot = definition_to_dot(machine({
        "P": {"Type": "Parallel", "Next": "Done", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}}}]},
        "Done": {"Type": "Succeed"}}))
    [edge] = [e for e in edges(dot, "next") if 'id="edge:/States/P:next"' in e]
    assert edge.startswith('"join/States/P" -> "state/States/Done"')
    assert "edge:/States/P/Branches/0/States/A:next" in edge_ids(dot, "next")


@pytest.mark.parametrize("pointer, kind, index", [
    ("/States/A", "next", None), ("/States/공격 훈련", "choice", 1), ("/States/x:y", "default", None),
    ("/States/P/Branches/0/States/a~1b", "catch", 12), ('/States/say "hi"\\', "next", None)])
def test_an_edge_id_maps_back_to_its_transition(pointer, kind, index):
    edge = edge_id(pointer, kind, index)
    assert edge_for(edge) == (pointer, kind, index)
    assert edge.count(":") == (3 if index is not None else 2)
    assert not re.search(r'[\s"\\<>&]', edge)


def test_edge_id_text_and_what_is_not_an_edge_id():
    assert edge_id("/States/공격 훈련", "choice", 1) == "edge:/States/공격%20훈련:choice:1"
    assert edge_id("/States/T", "catch", 0) == "edge:/States/T:catch:0"
    with pytest.raises(ValueError):
        edge_id("/States/A", "next", 0)
    with pytest.raises(ValueError):
        edge_id("/States/A", "choice")
    for text in ["edge1", "state/States/A", "edge:/States/A:next:0", "edge:/States/A:choice",
                 "edge:/States/A:choice:x", "edge:/States/A:retry"]:
        assert edge_for(text) is None


def test_retry_is_a_self_loop_counting_the_attempts():
    [retry] = edges(definition_to_dot(WORKFLOW), "retry")
    node = state_id("/States/Validate")
    assert retry.startswith(f'"{node}" -> "{node}"') and "retry ×5" in retry


@pytest.mark.parametrize("rule, text", [
    ({"Variable": "$.TraningType", "StringEquals": "공격수"}, '$.TraningType == "공격수"'),
    ({"Variable": "$.n", "NumericGreaterThan": 3}, "$.n > 3"),
    ({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.m"}, "$.n >= $.m"),
    ({"Variable": "$.name", "StringMatches": "log-*.txt"}, '$.name matches "log-*.txt"'),
    ({"Variable": "$.at", "TimestampLessThan": "2026-01-01T00:00:00Z"}, '$.at < "2026-01-01T00:00:00Z"'),
    ({"Variable": "$.x", "IsNull": False}, "$.x is not null"),
    ({"Or": [{"Variable": "$.a", "IsNumeric": True}, {"Not": {"Variable": "$.b", "IsString": True}}]},
     "Or($.a is numeric, Not($.b is a string))"),
    ({"Condition": "{% $states.input.n > 3 %}"}, "$states.input.n > 3"),
    ({"Condition": True}, "true"),
    ({"Variable": "$.x", "Frobnicates": 1}, "rule"),
    ("not a rule", "rule"),
])
def test_rules_read_as_short_expressions(rule, text):
    assert rule_text(rule) == text


def test_long_rules_are_cut_on_the_edge():
    condition = "{% " + " and ".join(f"$states.input.field{i} > {i}" for i in range(20)) + " %}"
    dot = definition_to_dot(machine({"C": {"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [
        {"Condition": condition, "Next": "S"}], "Default": "S"}, "S": {"Type": "Succeed"}}))
    [choice] = edges(dot, "choice")
    label = html.unescape(re.search(r'color="#475467">([^<]*)<', choice).group(1))
    assert label.startswith("$states.input.field0 > 0 and") and label.endswith("…")
    assert len(label) <= 42


# --- Parallel and Map -----------------------------------------------------------------------------

NESTED = machine({
    "Fan out": {"Type": "Parallel", "Next": "Each", "Branches": [
        machine({"Resize": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:resize",
                            "End": True}}),
        machine({"Tag": {"Type": "Pass", "Next": "Store"}, "Store": {"Type": "Task",
                 "Resource": "arn:aws:states:::dynamodb:putItem", "End": True}}),
    ], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
    "Each": {"Type": "Map", "MaxConcurrency": 5, "Next": "Done", "ItemProcessor": machine({
        "Inner": {"Type": "Parallel", "End": True, "Branches": [
            machine({"Check": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:check",
                               "End": True}}),
            machine({"Give up": {"Type": "Fail", "Error": "Nope"}}),
        ]}})},
    "Legacy": {"Type": "Map", "Iterator": machine({"Step": {"Type": "Pass", "End": True}}), "End": True},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail"},
})


def subgraphs(dot: str) -> list[str]:
    return re.findall(r'subgraph "(cluster[^"]*)"', dot)


def test_parallel_and_map_become_clusters_with_a_cluster_per_branch_nested_as_written():
    dot = definition_to_dot(NESTED)
    assert subgraphs(dot) == [
        "cluster/States/Fan%20out",
        "cluster/States/Fan%20out/Branches/0",
        "cluster/States/Fan%20out/Branches/1",
        "cluster/States/Each",
        "cluster/States/Each/ItemProcessor",
        "cluster/States/Each/ItemProcessor/States/Inner",
        "cluster/States/Each/ItemProcessor/States/Inner/Branches/0",
        "cluster/States/Each/ItemProcessor/States/Inner/Branches/1",
        "cluster/States/Legacy",
        "cluster/States/Legacy/Iterator",
    ]
    inner = "/States/Each/ItemProcessor/States/Inner/Branches/0/States/Check"
    assert pointer_for(state_id(inner)) == inner
    # Each state is declared inside its own cluster, i.e. after that cluster opens.
    opened = dot.index('subgraph "cluster/States/Each/ItemProcessor/States/Inner/Branches/0"')
    assert dot.index(f'"{state_id(inner)}" [') > opened


def test_a_parallel_fans_out_to_each_branch_start_and_joins_from_each_branch_end():
    dot = definition_to_dot(NESTED)
    entry = state_id("/States/Fan out")
    join = "join/States/Fan%20out"
    branch = edges(dot, "branch")
    assert f'"{entry}" -> "{state_id("/States/Fan out/Branches/0/States/Resize")}"' in "\n".join(branch)
    assert f'"{entry}" -> "{state_id("/States/Fan out/Branches/1/States/Tag")}"' in "\n".join(branch)
    ends = "\n".join(edges(dot, "end"))
    assert f'"{state_id("/States/Fan out/Branches/0/States/Resize")}" -> "{join}"' in ends
    assert f'"{state_id("/States/Fan out/Branches/1/States/Store")}" -> "{join}"' in ends
    # The Parallel moves on, and catches, from where its branches meet.
    assert f'"{join}" -> "{state_id("/States/Each")}"' in "\n".join(edges(dot, "next"))
    assert f'"{join}" -> "{state_id("/States/Failed")}"' in "\n".join(edges(dot, "catch"))


def test_a_fail_inside_a_branch_does_not_lead_to_the_join():
    dot = definition_to_dot(NESTED)
    give_up = state_id("/States/Each/ItemProcessor/States/Inner/Branches/1/States/Give up")
    assert not [e for e in edges(dot) if e.startswith(f'"{give_up}" ->')]


def test_nested_clusters_render_with_all_their_states():
    svg = render(definition_to_dot(NESTED))[0]
    assert svg.count('class="cluster') == 10
    for name in ["Fan out", "Resize", "Tag", "Store", "Each", "Inner", "Check", "Give up", "Legacy",
                 "Step", "Done", "Failed", "Branch 1", "Branch 2", "Item processor"]:
        assert name in svg_text(svg)
    assert "Map · at most 5 at once" in svg_text(svg)
    assert "Parallel · 2 branches" in svg_text(svg)


# --- the seed -------------------------------------------------------------------------------------

def test_the_seeds_training_machine_draws_six_states_and_three_labelled_choices():
    definition = json.loads(seed_definition_text())
    dot = definition_to_dot(definition, title=definition["Comment"])
    choices = edges(dot, "choice")
    assert len(choices) == 3
    for kind, target in [("공격수", "공격 훈련"), ("미드필더", "패스 훈련"), ("수비수", "수비 훈련")]:
        [edge] = [e for e in choices if f'"{state_id("/States/" + target)}"' in e]
        assert f"$.TraningType == &quot;{kind}&quot;" in edge
    svg = render(dot)[0]
    shown = svg_text(svg)
    for name in SEED_STATES:
        assert f'<g id="{state_id("/States/" + name)}"' in svg
        assert name in shown
    for kind in ["공격수", "미드필더", "수비수"]:
        assert f'$.TraningType == "{kind}"' in shown
    assert "축구 유소년 자동 훈련 시스템" in shown
    assert 'font-family="Noto Sans CJK KR,' in svg


def test_the_seed_with_its_training_functions_names_them():
    dot = definition_to_dot(seed_definition())
    assert "Task · attack-training<" in node_line(dot, "/States/공격 훈련")
    assert "Task · ball-contest-training<" in node_line(dot, "/States/볼 경합 훈련")


def test_korean_and_markup_in_names_are_quoted_and_escaped():
    names = ['공격 "훈련"', "a<b>&c", "back\\slash", "{% x %}", "줄\n바꿈"]
    definition = machine({name: {"Type": "Pass", "Next": names[(i + 1) % len(names)]}
                          for i, name in enumerate(names)})
    dot = definition_to_dot(definition)
    assert "공격 &quot;훈련&quot;" in dot and "a&lt;b&gt;&amp;c" in dot
    graphviz.Source(dot)  # the package accepts it as DOT text
    shown = svg_text(render(dot)[0])
    for name in ['공격 "훈련"', "a<b>&c", "back\\slash", "{% x %}", "줄 바꿈"]:
        assert name in shown


def test_control_characters_in_names_and_rules_are_drawn_visibly():
    # The validator refuses such names; a draft still holds them and its graph must draw.
    names = ["nul\x00here", "esc\x1b", "del\x7f", "c1\x85", "lone\ud800", "no\uffff"]
    states = {name: {"Type": "Pass", "Next": names[(i + 1) % len(names)]}
              for i, name in enumerate(names)}
    states["C"] = {"Type": "Choice", "Choices": [
        {"Variable": "$.a", "StringEquals": "\x00", "Next": names[0]}], "Default": "gone\x01"}
    dot = definition_to_dot(machine(states, start="C"))
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\uffff]", dot)
    shown = svg_text(render(dot)[0])
    for text in ["nul\\u0000here", "esc\\u001b", "del\\u007f", "c1\\u0085", "lone\\ud800",
                 "no\\uffff", '$.a == "\\u0000"', "gone\\u0001"]:
        assert text in shown, text
    assert pointer_for(state_id("/States/nul\x00here")) == "/States/nul\x00here"


# --- whatever comes in ----------------------------------------------------------------------------

GARBAGE = [
    {},
    {"States": None},
    {"StartAt": "Nowhere", "States": {}},
    {"StartAt": 7, "States": {"A": {"Type": "Pass", "End": True}}},
    machine({"A": {"Type": "Pass", "Next": "B"}}),
    machine({"A": {"Type": "Teleport", "Next": "A"}}),
    machine({"A": {"Next": None}}),
    machine({"A": "not a state", "B": None, "C": []}),
    machine({"A": {"Type": "Choice", "Choices": "all of them", "Default": ["x"]}}),
    machine({"A": {"Type": "Choice", "Choices": [None, 3, {"Next": "Gone"}, {"And": "x", "Next": "A"}]}}),
    machine({"A": {"Type": "Parallel", "Branches": [None, {"States": 1}, {}], "End": True}}),
    machine({"A": {"Type": "Parallel", "Branches": "two", "Catch": [{"Next": "Z"}, "x", None],
                   "Retry": "often"}}),
    machine({"A": {"Type": "Map", "End": True}}),
    machine({"A": {"Type": "Map", "ItemProcessor": {"StartAt": "Q", "States": {"Q": {"Type": "Map"}}}}}),
    machine({"A": {"Type": "Wait", "Seconds": {"huge": [1, 2]}, "Next": "A"}}),
    machine({"A": {"Type": "Task", "Resource": 42, "Retry": [{"MaxAttempts": "lots"}, None], "End": True}}),
    machine({"A": {"Type": "Fail", "Error": {"no": "string"}}}),
    machine({"": {"Type": "Pass", "End": True}}),
    {"StartAt": "A", "States": {1: {"Type": "Pass"}, "A": {"Type": "Pass", "Next": 1}}},
]


@pytest.mark.parametrize("definition", GARBAGE, ids=[json.dumps(g, default=str)[:50] for g in GARBAGE])
def test_any_dict_becomes_a_graph_graphviz_accepts(definition):
    dot = definition_to_dot(definition)
    assert dot.startswith('digraph "state machine" {')
    [svg] = render(dot)
    assert "fb-start" in svg_ids(svg)


def test_a_missing_target_is_drawn_as_a_dashed_missing_node():
    dot = definition_to_dot(machine({"A": {"Type": "Pass", "Next": "B"}}))
    missing = [line for line in dot.splitlines() if line.strip().startswith('"missing/States/B"')]
    assert len(missing) == 1 and "dashed" in missing[0] and "no such state" in missing[0]
    assert f'"{state_id("/States/A")}" -> "missing/States/B"' in dot


def test_unknown_types_are_drawn_and_say_so():
    dot = definition_to_dot(machine({"A": {"Type": "Teleport", "End": True}}))
    line = node_line(dot, "/States/A")
    assert "unknown Type &quot;Teleport&quot;" in line and "dashed" in line and "fb-unknown" in line


@pytest.mark.parametrize("definition, what", [
    (None, "nothing"), ([1, 2], "a list"), ("{\"StartAt\": 1}", "a str"), (3.5, "a float")])
def test_anything_but_a_dict_is_one_note_saying_why(definition, what):
    dot = definition_to_dot(definition)
    assert f"The definition is {what}, not a JSON object." in dot
    [svg] = render(dot)
    assert svg.count('class="node') == 1


def test_absurdly_deep_nesting_still_returns_a_graph():
    deep = {"Type": "Pass", "End": True}
    for _ in range(2000):
        deep = {"Type": "Parallel", "End": True, "Branches": [machine({"P": deep})]}
    dot = definition_to_dot(machine({"Top": deep}))
    assert "nests too deeply" in dot


def test_the_graph_module_needs_no_django():
    probe = ("import sys; import runtime.asl.graph; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'editor', 'flowbench')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"
