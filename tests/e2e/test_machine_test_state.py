"""TestState in the machine editor, in a real browser: the seed's sample machine (Korean names)
walked through state by state with Next, each step of each state shown, to its end; then back to
the start, and a Task tested with a mocked error that its Catch-less definition fails on."""

from __future__ import annotations

import json

from playwright.sync_api import expect


def open_sample(page, base):
    page.goto(f"{base}/state-machines/youth-football-training/")
    expect(page.locator("#machine-app")).to_have_attribute("data-ready", "true")
    page.click("#test-state")
    expect(page.locator("#test-state-dialog")).to_be_visible()


def shows_answer(page, state: str, status: str):
    """Waits until the dialog shows the answer for `state` with `status`."""
    expect(page.locator("#ts-status")).to_have_text(status)
    expect(page.locator("#ts-outcome b").first).to_have_text(state)


def run_with_mocked_error(page, input_text: str, error: str, cause: str):
    """Tests the chosen state on `input_text` with its work mocked as failing with `error`, `cause`."""
    page.fill("#ts-input", input_text)
    page.check('input[name="ts-mode"][value="error"]')
    page.fill("#ts-mock-error", error)
    page.fill("#ts-mock-cause", cause)
    page.click("#ts-run")


def test_the_sample_machine_is_walked_through_with_next_to_its_end(server, page, shot):
    open_sample(page, server["base"])
    expect(page.locator("#ts-state")).to_have_value("훈련")
    page.fill("#ts-input", json.dumps({"TraningType": "공격수", "name": "민준"}, ensure_ascii=False))
    page.click("#ts-run")
    shows_answer(page, "훈련", "Succeeded")
    expect(page.locator("#ts-next-state")).to_contain_text("공격 훈련")
    expect(page.locator(".ts-step[data-step='input'] pre")).to_contain_text("민준")
    # A Choice changes nothing of its input: its steps say so rather than repeat it.
    expect(page.locator(".ts-step[data-step='afterInputPath']")).to_contain_text("unchanged")
    shot(page, "ts-1-choice")

    page.click("#ts-next")   # the Task calls the sample function for real, with the machine's role
    shows_answer(page, "공격 훈련", "Succeeded")
    expect(page.locator("#ts-state")).to_have_value("공격 훈련")
    expect(page.locator(".ts-step[data-step='result'] pre")).to_contain_text("공격 훈련")
    expect(page.locator("#ts-next-state")).to_contain_text("볼 경합 훈련")
    shot(page, "ts-2-task")

    page.click("#ts-next")
    shows_answer(page, "볼 경합 훈련", "Succeeded")
    output = json.loads(page.locator("#ts-output").text_content())
    assert [t["drill"] for t in output["trainings"]] == ["공격 훈련", "볼 경합 훈련"]
    assert output["name"] == "민준" and output["totalMinutes"] == 70
    expect(page.locator("#ts-next-state")).to_contain_text("ends here")
    expect(page.locator("#ts-next")).to_be_disabled()
    expect(page.locator("#ts-trail li")).to_have_text(["훈련", "공격 훈련", "볼 경합 훈련"])
    # The graph shows the state being tested.
    expect(page.locator("#selection-path")).to_contain_text("볼 경합 훈련")
    shot(page, "ts-3-end")

    page.click("#ts-restart")
    expect(page.locator("#ts-state")).to_have_value("훈련")
    assert json.loads(page.input_value("#ts-input"))["TraningType"] == "공격수"
    expect(page.locator("#ts-trail li")).to_have_count(0)


def test_a_task_with_a_mocked_error_fails_and_a_bad_input_is_named(server, page, shot):
    open_sample(page, server["base"])
    page.select_option("#ts-state", "패스 훈련")
    expect(page.locator("#ts-task")).to_be_visible()
    page.fill("#ts-input", "{oops")
    page.click("#ts-run")
    expect(page.locator('#test-state-form .field-error[data-field="input"]')).to_contain_text("not JSON")

    run_with_mocked_error(page, "{}", "Drill.Cancelled", "비가 온다")
    shows_answer(page, "패스 훈련", "Failed")
    expect(page.locator("#ts-error")).to_contain_text("Drill.Cancelled")
    expect(page.locator("#ts-error")).to_contain_text("비가 온다")
    expect(page.locator("#ts-next")).to_be_disabled()

    page.check('input[name="ts-mode"][value="result"]')
    page.fill("#ts-mock-result", '{"mocked": "예"}')
    page.click("#ts-run")
    shows_answer(page, "패스 훈련", "Succeeded")
    assert json.loads(page.locator("#ts-output").text_content()) == {"mocked": "예"}
    expect(page.locator("#ts-next-state")).to_contain_text("프리킥 훈련")
    shot(page, "ts-4-mock")


def test_a_failing_task_is_retried_then_caught_and_walked_on(server, page, shot):
    from tests.e2e.test_machine_design import create_machine

    create_machine(page, server["base"], "ts-retry", template="retry-and-catch")
    page.click("#test-state")
    expect(page.locator("#ts-state")).to_have_value("Call function")
    run_with_mocked_error(page, '{"선수": "지우"}', "States.TaskFailed", "부상")
    shows_answer(page, "Call function", "Retriable")
    expect(page.locator("#ts-error")).to_contain_text("Retry #0 would run it again after 1 s")
    expect(page.locator("#ts-next")).to_have_text("Retry ›")

    page.click("#ts-next")   # the second attempt: its backoff doubled
    expect(page.locator("#ts-error")).to_contain_text("after 2 s")
    page.click("#ts-next")   # retries spent: the Catch takes the error
    shows_answer(page, "Call function", "Caught error")
    expect(page.locator("#ts-error")).to_contain_text("Catch #0 takes it")
    expect(page.locator("#ts-next-state")).to_contain_text("Handle failure")
    expect(page.locator("#ts-next")).to_have_text("Next ›")

    page.click("#ts-next")
    shows_answer(page, "Handle failure", "Succeeded")
    output = json.loads(page.locator("#ts-output").text_content())
    assert output == {"선수": "지우", "error": {"Error": "States.TaskFailed", "Cause": "부상"}, "recovered": "handled"}
    expect(page.locator("#ts-trail li")).to_have_text(["Call function"] * 3 + ["Handle failure"])
    shot(page, "ts-5-retry-catch")
