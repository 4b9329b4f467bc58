"""The state machine editor in a real browser: a machine built in Design mode without typing JSON,
checked in Code mode, published, started and watched; rename, undo and redo; a JSON error shown on
its line; the roles pages."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.e2e.test_function_flow import replace_editor_text


def wait_validated(page):
    """Waits until the validator has answered for the text shown now."""
    page.wait_for_function("() => { const a = window.flowbench; return a && a.validatedText === a.text && !document.querySelector('#unsaved[hidden]') === (a.text !== a.savedText); }")


def definition(page) -> dict:
    return json.loads(page.evaluate("window.flowbench.text"))


def create_machine(page, base, name, template="blank", role="flowbench-sample-role"):
    page.goto(f"{base}/state-machines/new")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator(f'.template[data-template="{template}"]').click()
    page.fill("#name", name)
    if role:
        page.select_option("#role", role)
    page.click("#create")
    page.wait_for_url(f"{base}/state-machines/{name}/")
    expect(page.locator("#machine-app")).to_have_attribute("data-ready", "true")


def test_a_machine_built_in_design_mode_runs_and_turns_green(server, page, shot):
    base = server["base"]
    page.goto(f"{base}/state-machines/")
    expect(page.locator("#machines")).to_contain_text("youth-football-training")

    page.goto(f"{base}/state-machines/new")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.fill("#name", "bad name!")
    page.click("#create")
    expect(page.locator('.field-error[data-field="name"]')).not_to_be_empty()
    shot(page, "2x-machine-create")
    create_machine(page, base, "drill-flow")

    # Pass (from the blank template) -> Wait 0 s -> Succeed, all from the palette and inspector.
    page.locator('.tree-item[data-pointer="/States/Pass"]').click()
    expect(page.locator("#state-name")).to_have_value("Pass")
    page.click('.palette-item[data-type="Wait"]')
    expect(page.locator("#state-name")).to_have_value("Wait")
    page.fill("#wait-value", "0")
    page.locator("#wait-value").press("Tab")
    page.click('.palette-item[data-type="Succeed"]')
    expect(page.locator("#state-name")).to_have_value("Succeed")
    expect(page.locator('#design-graph g.fb-succeed')).to_have_count(1)
    expect(page.locator("#design-graph g.fb-state")).to_have_count(3)
    shot(page, "2x-machine-design")
    with page.expect_download() as svg:
        page.click("#export-svg")
    assert svg.value.suggested_filename == "drill-flow.svg"
    assert "<svg" in open(svg.value.path(), encoding="utf-8").read()
    with page.expect_download() as png:
        page.click("#export-png")
    assert open(png.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    page.click('.modes [data-mode="code"]')
    expect(page.locator("#code-editor .cm-content")).to_contain_text('"Seconds": 0')
    # The graph beside the code, drawn while Code mode was hidden, fits its box once shown.
    expect(page.locator("#code-graph g.fb-state")).to_have_count(3)
    assert page.evaluate("""() => { const box = document.getElementById('code-graph');
      return box.querySelector('svg').getBoundingClientRect().height <= box.clientHeight + 1; }""")
    assert definition(page)["States"] == {
        "Pass": {"Type": "Pass", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 0, "Next": "Succeed"},
        "Succeed": {"Type": "Succeed"},
    }
    expect(page.locator("#diagnostics")).to_contain_text("No problems")
    shot(page, "2x-machine-code")

    page.keyboard.press("Control+s")
    expect(page.locator("#status-line")).to_contain_text("Draft saved")
    page.click("#publish")
    expect(page.locator("#status-line")).to_contain_text("Published version 1")
    page.click("#start")
    expect(page.locator("#start-dialog")).to_be_visible()
    replace_editor_text(page, "#exec-input", '{"player": "김민재",}')
    expect(page.locator("#exec-input-error")).to_contain_text("line 1")
    expect(page.locator("#start-go")).to_be_disabled()
    replace_editor_text(page, "#exec-input", '{"player": "김민재"}')
    expect(page.locator("#exec-input-error")).to_be_empty()
    page.fill("#exec-name", "first-run")
    shot(page, "2x-start-dialog")
    page.click("#start-go")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]+/$"))
    app = page.locator("#execution-app")
    expect(app).to_have_attribute("data-ready", "true")
    expect(app).to_have_attribute("data-status", "SUCCEEDED")
    for name in ["Pass", "Wait", "Succeed"]:
        expect(page.locator(f'#exec-graph g.fb-state[id="state/States/{name}"]')).to_have_class(re.compile("fb-status-succeeded"))
    expect(page.locator("#events")).to_contain_text("ExecutionSucceeded")  # every row drawn
    entered = [t for t in page.locator("#events tbody tr td:nth-child(2)").all_inner_texts() if "StateEntered" in t]
    assert [t.strip("▸ ").strip() for t in entered] == ["PassStateEntered", "WaitStateEntered", "SucceedStateEntered"]
    expect(page.locator("#execution-output")).to_contain_text("김민재")
    shot(page, "2x-execution-succeeded")


def test_rename_follows_every_reference_and_undo_redo_walks_back(server, page, shot):
    base = server["base"]
    create_machine(page, base, "choice-flow", template="choice")
    page.locator('.tree-item[data-pointer="/States/Large"]').click()
    page.fill("#state-name", "큰 공")
    page.locator("#state-name").press("Enter")
    expect(page.locator('.tree-item[data-pointer="/States/큰 공"]')).to_be_visible()
    d = definition(page)
    assert "Large" not in d["States"]
    assert d["States"]["Which size?"]["Choices"][0]["Next"] == "큰 공"
    page.locator('.tree-item[data-pointer="/States/Which size?"]').click()
    page.fill("#state-name", "Size")
    page.locator("#state-name").press("Enter")
    expect(page.locator('.tree-item[data-pointer="/States/Size"]')).to_be_visible()
    assert definition(page)["StartAt"] == "Size"
    expect(page.locator('#design-graph g.fb-state[id="state/States/Size"]')).to_have_class(re.compile("fb-selected"))
    expect(page.locator("#selection-path")).to_have_text("/States/Size")
    shot(page, "2x-machine-choice-inspector")

    page.locator("#design-graph").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(page.locator('.tree-item[data-pointer="/States/Which size?"]')).to_be_visible()
    assert definition(page)["StartAt"] == "Which size?"
    page.keyboard.press("Control+z")
    expect(page.locator('.tree-item[data-pointer="/States/Large"]')).to_be_visible()
    assert definition(page)["States"]["Which size?"]["Choices"][0]["Next"] == "Large"
    page.keyboard.press("Control+Shift+z")
    expect(page.locator('.tree-item[data-pointer="/States/큰 공"]')).to_be_visible()
    page.click("#redo")
    expect(page.locator('.tree-item[data-pointer="/States/Size"]')).to_be_visible()
    assert definition(page)["StartAt"] == "Size"

    page.click('.modes [data-mode="config"]')
    page.select_option("#cfg-type", "EXPRESS")
    page.fill("#cfg-description", "크기에 따라 나누기")
    page.click("#config-save")
    expect(page.locator("#status-line")).to_contain_text("Configuration saved")
    expect(page.locator("#machine-type")).to_have_text("Express")
    shot(page, "2x-machine-config")


DANGLING = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}, indent=2)


def write_a_dangling_next(page, base, name) -> str:
    """Creates a machine and writes, in Code mode, a definition whose Next names no state; returns it."""
    create_machine(page, base, name, template="hello-world")
    page.click('.modes [data-mode="code"]')
    replace_editor_text(page, "#code-editor", DANGLING)
    return DANGLING


def test_broken_json_is_marked_on_its_line_and_design_waits(server, page, shot):
    text = write_a_dangling_next(page, server["base"], "broken-flow")
    # A valid JSON text naming a state that does not exist: the validator's pointer, on line 6.
    marker = page.locator("#code-editor .cm-lint-marker-error")
    expect(marker).to_have_count(1)
    expect(page.locator("#diagnostics")).to_contain_text("line 6")
    gutter_line = page.evaluate("""() => {
      const m = document.querySelector('#code-editor .cm-lint-marker-error');
      const y = m.getBoundingClientRect().top + 4;
      const lines = [...document.querySelectorAll('#code-editor .cm-lineNumbers .cm-gutterElement')];
      const hit = lines.find((l) => { const r = l.getBoundingClientRect(); return r.top <= y && y <= r.bottom; });
      return hit ? hit.textContent : null; }""")
    assert gutter_line == "6"
    shot(page, "2x-machine-code-diagnostic")

    replace_editor_text(page, "#code-editor", '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass" "End": true}\n  }\n}')
    expect(page.locator("#code-state")).to_contain_text("line 4")
    expect(page.locator("#diagnostics")).to_contain_text("Expected ',' or '}'")
    page.click('.modes [data-mode="design"]')
    expect(page.locator("#design-blocked")).to_be_visible()
    expect(page.locator("#design-blocked-reason")).to_contain_text("Line 4, column 26")
    shot(page, "2x-machine-design-blocked")


def test_roles_list_create_and_policy_validation(server, page, shot):
    base = server["base"]
    page.goto(f"{base}/roles/")
    expect(page.locator("#roles")).to_contain_text("flowbench-sample-role")
    shot(page, "2x-role-list")
    page.click("#create-role")
    expect(page.locator("#role-app")).to_have_attribute("data-ready", "true")
    expect(page.locator("#policy-editor .cm-content")).to_contain_text("lambda:InvokeFunction")
    expect(page.locator("#policy-diagnostics")).to_contain_text("The policy is valid")
    page.fill("#role-name", "drills-role")
    page.fill("#role-description", "Runs the 훈련 functions")
    replace_editor_text(page, "#policy-editor", '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Perhaps", "Action": "lambda:InvokeFunction", "Resource": "*"}\n  ]\n}')
    expect(page.locator("#policy-diagnostics .diag.error")).not_to_have_count(0)
    expect(page.locator("#policy-diagnostics")).to_contain_text("line 4")
    shot(page, "2x-role-create")
    page.click("#policy-default")
    expect(page.locator("#policy-diagnostics")).to_contain_text("The policy is valid")
    page.click("#role-save")
    page.wait_for_url(f"{base}/roles/drills-role/")
    expect(page.locator("#role-app")).to_have_attribute("data-ready", "true")
    expect(page.locator("#role-description")).to_have_value("Runs the 훈련 functions")
    shot(page, "2x-role-edit")


def test_a_task_with_retry_catch_and_a_parallel_branch_is_built_from_lists(server, page, shot):
    base = server["base"]
    create_machine(page, base, "task-flow")
    page.locator('.tree-item[data-pointer="/States/Pass"]').click()
    page.click('.palette-item[data-type="Task"]')
    expect(page.locator("#task-function option", has_text="attack-training")).to_have_count(1)
    # The validator's diagnostic for the empty Resource shows under the function picker.
    expect(page.locator('#inspector .field-error[data-field="Resource"]')).not_to_be_empty()
    page.select_option("#task-function", "attack-training")
    expect(page.locator("#inspector .resource")).to_contain_text(":function:attack-training")
    expect(page.locator('#inspector .field-error[data-field="Resource"]')).to_be_empty()
    page.click("#add-retry")
    expect(page.locator("#retry-table tbody tr")).to_have_count(1)
    page.locator("#retry-table tbody tr input").nth(2).fill("5")
    page.locator("#retry-table tbody tr input").nth(2).press("Tab")
    page.click('.palette-item[data-type="Fail"]')
    page.fill("#fail-error", "드릴실패")
    page.locator("#fail-error").press("Tab")
    page.locator('.tree-item[data-pointer="/States/Task"]').click()
    page.click("#add-catch")
    expect(page.locator("#catch-table tbody tr")).to_have_count(1)
    page.locator("#catch-table select").select_option("Fail")
    page.locator('.tree-item[data-pointer="/States/Task"]').click()
    page.select_option("#state-next", "")
    page.click('.palette-item[data-type="Parallel"]')
    expect(page.locator("#add-branch")).to_be_visible()
    page.click("#add-branch")
    page.locator(".add-inside").nth(2).select_option("Wait")
    expect(page.locator("#state-name")).to_have_value("Wait")
    expect(page.locator('#design-graph g.fb-state[id="state/States/Parallel/Branches/2/States/Wait"]')).to_be_visible()
    d = definition(page)
    task = d["States"]["Task"]
    account = re.search(r":(\d{12}):", task["Resource"]).group(1)
    assert task["Resource"] == f"arn:aws:lambda:us-east-1:{account}:function:attack-training"
    assert task["Retry"] == [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2}]
    assert task["Catch"][0]["Next"] == "Fail" and task["Next"] == "Parallel"
    assert d["States"]["Fail"]["Error"] == "드릴실패"
    branch = d["States"]["Parallel"]["Branches"][2]
    assert branch["States"][branch["StartAt"]]["Next"] == "Wait"
    page.locator('.tree-item[data-pointer="/States/Task"]').click()
    expect(page.locator("#design-graph g.fb-state")).to_have_count(8)
    shot(page, "2x-machine-task-inspector")


# Holds Graphviz's WebAssembly until the test calls window.releaseGraphviz(): the page's first
# validation then waits for Graphviz as it does on a slow machine.
HOLD_GRAPHVIZ = """
(() => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  window.releaseGraphviz = release;
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const real = WebAssembly[name].bind(WebAssembly);
    WebAssembly[name] = async (...args) => { await held; return real(...args); };
  }
})();
"""


def test_an_edit_made_while_graphviz_loads_is_drawn_in_the_one_graph(server, page):
    base = server["base"]
    create_machine(page, base, "slow-graph")
    page.add_init_script(HOLD_GRAPHVIZ)
    page.reload()
    # The first validation waits for Graphviz; an edit meanwhile is validated and waits too.
    page.locator('.tree-item[data-pointer="/States/Pass"]').click()
    page.click('.palette-item[data-type="Task"]')
    expect(page.locator("#diagnostics")).to_contain_text("Resource")
    expect(page.locator("#machine-app")).not_to_have_attribute("data-ready", "true")
    page.evaluate("window.releaseGraphviz()")
    expect(page.locator("#machine-app")).to_have_attribute("data-ready", "true")
    wait_validated(page)
    # One drawing of the current definition (Pass -> Task), not the first one's beside it.
    expect(page.locator("#design-graph svg")).to_have_count(1)
    expect(page.locator("#design-graph g.fb-state")).to_have_count(len(definition(page)["States"]))
    expect(page.locator("#code-graph svg")).to_have_count(1)


def test_choice_rules_are_built_with_and_or_not_and_every_operator(server, page, shot):
    base = server["base"]
    create_machine(page, base, "rules-flow", template="choice")
    page.locator('.tree-item[data-pointer="/States/Which size?"]').click()
    first = page.locator('.rule[data-rule="0"]')
    first.locator(".rule-kind").select_option("And")
    rule = page.locator('.rule[data-rule="0"]')
    expect(rule.locator(".comparison")).to_have_count(2)
    rule.locator(".rule-variable").nth(1).fill("$.position")
    rule.locator(".rule-variable").nth(1).press("Tab")
    page.locator('.rule[data-rule="0"] .rule-operator').nth(1).select_option("StringEquals")
    page.locator('.rule[data-rule="0"] .rule-value').nth(1).fill("수비수")
    page.locator('.rule[data-rule="0"] .rule-value').nth(1).press("Tab")
    page.click("#add-rule")
    third = page.locator('.rule[data-rule="2"]')
    third.locator(".rule-kind").select_option("Not")
    page.locator('.rule[data-rule="2"] .rule-operator').select_option("IsTimestamp")
    page.locator('.rule[data-rule="2"] .rule-next').select_option("Unknown")
    page.select_option("#choice-default", "Small")
    expect(page.locator('.rule[data-rule="2"] .rule-next')).to_have_value("Unknown")
    choice = definition(page)["States"]["Which size?"]
    assert choice["Choices"][0] == {"And": [{"Variable": "$.size", "NumericGreaterThan": 10},
                                            {"Variable": "$.position", "StringEquals": "수비수"}], "Next": "Large"}
    assert choice["Choices"][2] == {"Not": {"Variable": "$.value", "IsTimestamp": True}, "Next": "Unknown"}
    assert choice["Default"] == "Small"
    expect(page.locator("#design-graph")).to_contain_text("And($.size > 10")
    shot(page, "2x-machine-choice-rules")


def test_a_pass_inserted_on_one_choice_rules_edge_repoints_only_that_rule_and_undo_restores(server, page, shot):
    base = server["base"]
    create_machine(page, base, "edge-flow", template="choice")
    wait_validated(page)
    before = definition(page)
    choice = before["States"]["Which size?"]
    assert [rule["Next"] for rule in choice["Choices"]] == ["Large", "Small"] and choice["Default"] == "Unknown"

    # The second rule's edge (its label), then a Pass from the transition's inspector.
    edge = page.locator('#design-graph g.edge[id="edge:/States/Which%20size%3F:choice:1"]')
    expect(edge).to_have_count(1)
    edge.locator("text").first.click()
    expect(edge).to_have_class(re.compile("fb-edge-selected"))
    expect(page.locator("#design-graph g.fb-edge-selected")).to_have_count(1)
    expect(page.locator("#edge-inspector")).to_be_visible()
    expect(page.locator("#inspector")).to_be_hidden()
    expect(page.locator("#edge-inspector h2")).to_have_text("Transition from Which size? to Small")
    expect(page.locator("#edge-inspector")).to_contain_text("Choice rule 2")
    shot(page, "2x-machine-edge-selected")
    page.locator('#edge-inspector [data-insert="Pass"]').click()

    expect(page.locator('.tree-item[data-pointer="/States/Pass"]')).to_be_visible()
    expect(page.locator("#state-name")).to_have_value("Pass")
    expect(page.locator('#design-graph g.fb-state[id="state/States/Pass"]')).to_have_class(re.compile("fb-selected"))
    expect(page.locator("#design-graph g.fb-edge-selected")).to_have_count(0)
    expect(page.locator('#design-graph g.edge[id="edge:/States/Pass:next"]')).to_have_count(1)
    wait_validated(page)
    shot(page, "2x-machine-edge-insert")

    page.click('.modes [data-mode="code"]')
    expect(page.locator("#code-editor .cm-content")).to_contain_text('"Next": "Pass"')
    expect(page.locator("#diagnostics")).to_contain_text("No problems")
    after = definition(page)
    choice = after["States"]["Which size?"]
    assert [rule["Next"] for rule in choice["Choices"]] == ["Large", "Pass"]
    assert choice["Default"] == "Unknown"
    assert after["States"]["Pass"] == {"Type": "Pass", "Next": "Small"}
    # Nothing else changed: the other states, the rest of the Choice.
    assert list(after["States"]) == ["Which size?", "Pass", "Large", "Small", "Unknown"]
    for name in ["Large", "Small", "Unknown"]:
        assert after["States"][name] == before["States"][name]
    assert choice["Choices"][0] == before["States"]["Which size?"]["Choices"][0]
    assert {**choice["Choices"][1], "Next": "Small"} == before["States"]["Which size?"]["Choices"][1]

    page.click("#undo")
    expect(page.locator("#code-editor .cm-content")).not_to_contain_text('"Next": "Pass"')
    assert definition(page) == before
    page.click('.modes [data-mode="design"]')
    expect(page.locator('.tree-item[data-pointer="/States/Pass"]')).to_have_count(0)
    page.click("#redo")
    expect(page.locator('.tree-item[data-pointer="/States/Pass"]')).to_be_visible()
    assert definition(page) == after


def selection(page) -> dict:
    """Returns what the page shows as selected: the header, the highlighted nodes of both graphs, the tree."""
    return page.evaluate("""() => ({
      header: document.getElementById('selection-path').textContent,
      design: [...document.querySelectorAll('#design-graph g.fb-selected')].map((g) => g.id),
      code: [...document.querySelectorAll('#code-graph g.fb-selected')].map((g) => g.id),
      tree: [...document.querySelectorAll('.tree-item.active')].map((b) => b.dataset.pointer)})""")


def test_the_highlight_always_matches_the_selection_the_header_names(server, page, shot):
    base = server["base"]
    create_machine(page, base, "select-flow", template="choice")
    page.locator('.tree-item[data-pointer="/States/Large"]').click()
    assert selection(page) == {"header": "/States/Large", "design": ["state/States/Large"],
                               "code": ["state/States/Large"], "tree": ["/States/Large"]}
    # Large goes away in Code mode, then comes back by Undo: it is no longer selected anywhere.
    page.click('.modes [data-mode="code"]')
    without = definition(page)
    del without["States"]["Large"]
    without["States"]["Which size?"]["Choices"][0]["Next"] = "Small"
    replace_editor_text(page, "#code-editor", json.dumps(without, indent=2))
    expect(page.locator('.tree-item[data-pointer="/States/Large"]')).to_have_count(0)
    wait_validated(page)
    page.click("#undo")
    expect(page.locator('#design-graph g.fb-state[id="state/States/Large"]')).to_have_count(1)
    wait_validated(page)
    page.click('.modes [data-mode="design"]')
    page.click("#publish")
    expect(page.locator("#status-line")).to_contain_text("Published version")
    assert selection(page) == {"header": "No state selected", "design": [], "code": [], "tree": []}
    # A state picked in the Code mode's graph is the one Design shows too.
    page.click('.modes [data-mode="code"]')
    page.locator('#code-graph g.fb-state[id="state/States/Small"]').click()
    page.click('.modes [data-mode="design"]')
    assert selection(page) == {"header": "/States/Small", "design": ["state/States/Small"],
                               "code": ["state/States/Small"], "tree": ["/States/Small"]}


def test_a_long_state_name_is_cut_short_and_the_toolbar_stays_in_place(server, page, shot):
    base = server["base"]
    create_machine(page, base, "long-names")
    page.set_viewport_size({"width": 1200, "height": 800})
    long_name = "WarmUpWithPassingDrills_ThenSprints_ThenStretching_BeforeTheMatchDay_12345678901"
    assert len(long_name) == 80
    page.locator('.tree-item[data-pointer="/States/Pass"]').click()
    page.fill("#state-name", long_name)
    page.locator("#state-name").press("Enter")
    pointer = f"/States/{long_name}"
    expect(page.locator("#selection-path")).to_have_text(pointer)
    expect(page.locator("#selection-path")).to_have_attribute("title", pointer)
    bar = page.locator("#design .canvas-bar").bounding_box()
    for button in ["#zoom-in", "#fit", "#export-png"]:
        box = page.locator(button).bounding_box()
        assert bar["x"] <= box["x"] and box["x"] + box["width"] <= bar["x"] + bar["width"], button
        assert box["y"] + box["height"] <= bar["y"] + bar["height"], button
    for selector in ["#save", "#publish", "#start"]:
        box = page.locator(selector).bounding_box()
        assert box["x"] + box["width"] <= page.viewport_size["width"], selector
    item = page.locator(f'.tree-item[data-pointer="{pointer}"]')
    expect(item).to_have_attribute("title", long_name)
    expect(page.locator("#design-graph g.fb-state")).to_contain_text(long_name[:20])
    shot(page, "2x-machine-long-name")


# Holds the page's validation requests, once asked to, until the test releases each one.
HOLD_VALIDATIONS = """
(() => {
  const real = window.fetch.bind(window);
  window.holdValidations = false;
  window.heldValidations = [];
  window.fetch = (url, options) => {
    if (!window.holdValidations || !String(url).endsWith("/api/state-machines/validate")) return real(url, options);
    return new Promise((resolve, reject) => window.heldValidations.push(() => real(url, options).then(resolve, reject)));
  };
})();
"""


def test_start_clicked_right_after_an_edit_plans_with_the_edited_text(server, page):
    """Start's own check of the draft, overtaken by the edit's validation, waits for its answer."""
    base = server["base"]
    create_machine(page, base, "quick-start", template="hello-world")
    page.add_init_script(HOLD_VALIDATIONS)
    page.reload()
    expect(page.locator("#machine-app")).to_have_attribute("data-ready", "true")
    wait_validated(page)
    page.click('.modes [data-mode="code"]')
    page.evaluate("window.holdValidations = true")
    replace_editor_text(page, "#code-editor", DANGLING)
    page.click("#start")   # its check is asked at once; the edit's own one 250 ms after the edit
    page.wait_for_function("() => window.heldValidations.length === 2")
    # The older request (Start's) is answered first, the newer one (the same text) after it.
    with page.expect_response("**/api/state-machines/validate"):
        page.evaluate("window.heldValidations[0]()")
    page.evaluate("window.heldValidations[1]()")
    expect(page.locator("#machine-app")).to_have_attribute("data-start-planned", "true")
    expect(page.locator("#start-note")).to_contain_text("no version is published yet")
    expect(page.locator("#start-note")).to_contain_text("Nowhere")
    expect(page.locator("#start-go")).to_be_disabled()


def test_start_with_a_broken_draft_offers_the_latest_version(server, page, shot):
    base = server["base"]
    text = write_a_dangling_next(page, base, "broken-start")
    wait_validated(page)
    # Nothing published yet: the dialog says what to fix and cannot start.
    page.click("#start")
    expect(page.locator("#machine-app")).to_have_attribute("data-start-planned", "true")
    expect(page.locator("#start-note")).to_contain_text("no version is published yet")
    expect(page.locator("#start-note")).to_contain_text("Nowhere")
    expect(page.locator("#start-go")).to_be_disabled()
    shot(page, "2x-start-broken-unpublished")
    page.click("#start-fix")
    expect(page.locator("#start-dialog")).to_be_hidden()
    expect(page.locator("#diagnostics")).to_contain_text("Nowhere")

    # With version 1 published, the broken draft offers to run version 1 instead of failing.
    fixed = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "v1", "End": True}}}
    replace_editor_text(page, "#code-editor", json.dumps(fixed, indent=2))
    wait_validated(page)
    page.click("#publish")
    expect(page.locator("#status-line")).to_contain_text("Published version 1")
    replace_editor_text(page, "#code-editor", text)
    wait_validated(page)
    page.click("#start")
    expect(page.locator("#machine-app")).to_have_attribute("data-start-planned", "true")
    expect(page.locator("#start-note")).to_contain_text("cannot be published")
    expect(page.locator("#start-go")).to_have_text("Start with version 1")
    shot(page, "2x-start-broken-with-version")
    page.click("#start-go")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]+/$"))
    app = page.locator("#execution-app")
    expect(app).to_have_attribute("data-status", "SUCCEEDED")
    expect(page.locator("#execution-output")).to_contain_text("v1")
    versions = page.evaluate("fetch('/api/state-machines/broken-start').then(r => r.json())")
    assert [v["number"] for v in versions["versions"]] == [1]
    assert "Nowhere" in versions["definition"]   # the draft was saved, not lost
