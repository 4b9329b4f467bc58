// The machine editor's TestState dialog: one top-level state of the editor's definition run on its
// own (POST /api/state-machines/<name>/test-state, the same service as the AWS API's TestState),
// each step of its input and output processing shown in order, then its output and the next state.
// "Next" carries the output (and the variables) on to the next state and tests it, so a person walks
// through the whole machine state by state; "Back to start" returns to StartAt and the first input.
import { api, el, showFieldErrors } from "./api.js";
import * as model from "./asl-model.js";

// inspectionData's members in the order a state takes them, as the page names them.
const STEP_LABELS = {
  input: ["Input", "the state's raw input"],
  afterInputPath: ["After InputPath", "the part of the input the state reads"],
  afterParameters: ["After Parameters", "the effective input, templates and intrinsic functions applied"],
  afterArguments: ["After Arguments", "the effective input (JSONata)"],
  afterItemsPath: ["After ItemsPath", "the items the Map iterates over"],
  afterItemSelector: ["After ItemSelector", "each iteration's input"],
  result: ["Result", "what the state's work returned"],
  afterResultSelector: ["After ResultSelector", "the result reshaped"],
  afterResultPath: ["After ResultPath", "the result placed into the input"],
  maxConcurrency: ["MaxConcurrency", "iterations at once (0: as many as it can)"],
};
const STATUS_TEXT = {
  SUCCEEDED: ["succeeded", "Succeeded"],
  FAILED: ["failed", "Failed"],
  CAUGHT_ERROR: ["caught", "Caught error"],
  RETRIABLE: ["running", "Retriable"],
};

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text ?? ""; }
}

/** Wires the dialog to the editor: `app` is the editor's state (its text and parsed definition),
 * `select(pointer)` selects a state in the graph, `base` the machine's API path. */
export function setupTestState({ app, select, base }) {
  const $ = (id) => document.getElementById(id);
  const dialog = $("test-state-dialog");
  const form = $("test-state-form");
  const walk = {
    trail: [],          // [{state, status}] of this walk through the machine
    firstInput: null,   // the input the walk started with ("Back to start" returns to it)
    variables: null,    // the workflow variables carried from state to state
    retryCount: 0,      // retries already had by the state shown (RETRIABLE -> Next retries it)
    last: null,         // the last answer
  };
  const topStates = () => Object.keys(app.definition?.States ?? {});
  const stateOf = (name) => app.definition?.States?.[name];

  function fillStates(chosen) {
    const names = topStates();
    $("ts-state").replaceChildren(...names.map((n) => el("option", { value: n, text: `${n} (${stateOf(n).Type})`, selected: n === chosen })));
    showTaskChoice();
  }

  function showTaskChoice() {
    const type = stateOf($("ts-state").value)?.Type;
    $("ts-task").hidden = !["Task", "Map", "Parallel"].includes(type);
    const mode = form.querySelector('input[name="ts-mode"]:checked').value;
    $("ts-mock-result").hidden = mode !== "result";
    $("ts-mock-failure").hidden = mode !== "error";
  }

  function reset() {
    walk.trail = [];
    walk.variables = null;
    walk.retryCount = 0;
    walk.last = null;
    $("ts-trail").replaceChildren();
    $("ts-steps").replaceChildren();
    $("ts-outcome").replaceChildren(el("p", { class: "muted", text: "Choose a state and an input, then Test state." }));
    $("ts-next").disabled = true;
    $("ts-next").textContent = "Next ›";
  }

  function open() {
    if (!app.definition) {
      $("status-line").textContent = "The definition is not valid JSON: fix it in Code mode to test a state.";
      return;
    }
    const selected = app.selected ? model.tokens(app.selected) : [];
    const chosen = selected.length === 2 && selected[0] === "States" ? selected[1] : app.definition.StartAt;
    fillStates(chosen);
    if (!$("ts-input").value.trim()) $("ts-input").value = "{}";
    showFieldErrors(form, null);
    dialog.showModal();
  }

  function mock() {
    const type = stateOf($("ts-state").value)?.Type;
    if (!["Task", "Map", "Parallel"].includes(type)) return undefined;
    const mode = form.querySelector('input[name="ts-mode"]:checked').value;
    if (mode === "result") return { result: $("ts-mock-result").value };
    if (mode === "error") return { error: $("ts-mock-error").value, cause: $("ts-mock-cause").value };
    return undefined;
  }

  async function run() {
    const state = $("ts-state").value;
    const body = { state, input: $("ts-input").value, definition: app.text };
    const mocked = mock();
    if (mocked) body.mock = mocked;
    if (walk.variables) body.variables = JSON.parse(walk.variables);
    if (walk.retryCount) body.retryCount = walk.retryCount;
    showFieldErrors(form, null);
    $("ts-run").disabled = $("ts-next").disabled = true;
    dialog.dataset.busy = "true";
    try {
      const answer = await api("POST", `${base}/test-state`, body);
      if (!walk.trail.length) walk.firstInput = body.input;
      walk.trail.push({ state, status: answer.status });
      walk.last = answer;
      if (answer.variables) walk.variables = answer.variables;
      select(model.pointer("", "States", state));
      render(answer);
    } catch (error) {
      showFieldErrors(form, error);
      $("ts-outcome").replaceChildren(el("p", { class: "field-error", text: error.message }));
      $("ts-steps").replaceChildren();
    } finally {
      $("ts-run").disabled = false;
      delete dialog.dataset.busy;
    }
  }

  function render(answer) {
    $("ts-trail").replaceChildren(...walk.trail.map((t) => el("li", { class: `ts-visit ${STATUS_TEXT[t.status][0]}`, text: t.state })));
    const [kind, label] = STATUS_TEXT[answer.status];
    const outcome = [el("p", {}, el("span", { class: `pill ${kind}`, id: "ts-status", text: label }), " ",
      el("b", { text: answer.state }))];
    if (answer.error !== null) {
      const rule = answer.errorDetails;
      const how = rule?.retryIndex !== undefined ? ` — Retry #${rule.retryIndex} would run it again after ${rule.retryBackoffIntervalSeconds} s`
        : rule?.catchIndex !== undefined ? ` — Catch #${rule.catchIndex} takes it` : "";
      outcome.push(el("pre", { class: "output small error", id: "ts-error", text: `${answer.error ?? ""}${how}\n${answer.cause ?? ""}` }));
    }
    if (answer.nextState) {
      outcome.push(el("p", { class: "ts-next", id: "ts-next-state" }, "Next state: ", el("b", { text: answer.nextState })));
    } else if (answer.status === "SUCCEEDED") {
      outcome.push(el("p", { class: "ts-next", id: "ts-next-state", text: "The machine ends here: its execution would succeed with this output." }));
    } else if (answer.status === "FAILED") {
      outcome.push(el("p", { class: "ts-next", id: "ts-next-state", text: "The machine's execution would fail here." }));
    }
    $("ts-outcome").replaceChildren(...outcome);
    // A step that left the value as it was says so instead of repeating it.
    let previous = null;
    const steps = answer.steps.map(({ step, value }) => {
      const [title, hint] = STEP_LABELS[step] ?? [step, ""];
      const same = previous !== null && value === previous;
      previous = value;
      return el("div", { class: `ts-step${same ? " unchanged" : ""}`, "data-step": step },
        el("h4", {}, title, " ", el("span", { class: "muted", text: same ? "unchanged" : hint })),
        same ? null : el("pre", { class: "output small", text: pretty(value) }));
    });
    if (answer.output !== null) {
      steps.push(el("div", { class: "ts-step", "data-step": "output" }, el("h4", {}, "Output ", el("span", { class: "muted", text: "after OutputPath: what the next state receives" })),
        el("pre", { class: "output small", id: "ts-output", text: pretty(answer.output) })));
    }
    if (answer.variables) {
      steps.push(el("div", { class: "ts-step", "data-step": "variables" }, el("h4", {}, "Variables ", el("span", { class: "muted", text: "after Assign" })),
        el("pre", { class: "output small", text: pretty(answer.variables) })));
    }
    $("ts-steps").replaceChildren(...steps);
    const retriable = answer.status === "RETRIABLE";
    $("ts-next").textContent = retriable ? "Retry ›" : "Next ›";
    $("ts-next").disabled = !(retriable || answer.nextState);
  }

  async function next() {
    const answer = walk.last;
    if (!answer) return;
    if (answer.status === "RETRIABLE") {
      walk.retryCount += 1;
    } else {
      walk.retryCount = 0;
      fillStates(answer.nextState);
      $("ts-input").value = pretty(answer.output);
    }
    await run();
  }

  function restart() {
    reset();
    fillStates(app.definition?.StartAt);
    if (walk.firstInput !== null) $("ts-input").value = walk.firstInput;
    showFieldErrors(form, null);
  }

  $("test-state").addEventListener("click", open);
  $("ts-close").addEventListener("click", () => dialog.close());
  $("ts-state").addEventListener("change", () => { walk.retryCount = 0; showTaskChoice(); });
  form.querySelectorAll('input[name="ts-mode"]').forEach((r) => r.addEventListener("change", showTaskChoice));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    walk.retryCount = 0;
    // Testing another state than the walk's last begins a new walk.
    if (walk.trail.length && walk.trail.at(-1).state !== $("ts-state").value) reset();
    run();
  });
  $("ts-next").addEventListener("click", next);
  $("ts-restart").addEventListener("click", restart);
}
