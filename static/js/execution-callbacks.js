// The execution page's callbacks: the Tasks waiting on a task token (the token, and forms to send
// the task's success with an output JSON, or its failure with an error and a cause), the execution
// that started this one ("Started by"; for a Distributed Map's child, its Map Run too), the
// executions its Tasks started (shown in the panel of the Task that started them) and its
// Distributed Maps' runs, each a link to its Map Run page with its counts (a run's children are
// listed there only: there may be thousands). While a run is RUNNING and the page is visible, the
// counts are read again every RUN_POLL_MS. Answers go through the studio's JSON API, which calls
// the same service as the AWS API's SendTaskSuccess / SendTaskFailure.
import { api, el } from "./api.js";
import { itemCountsText, mapRunPath, statusWord, STATUS_LABELS } from "./ui.js";

const RUN_POLL_MS = 2000;

export class Callbacks {
  constructor(box, executionId, { onAnswered, onLoaded } = {}) {
    this.box = box;
    this.executionId = executionId;
    this.path = `/api/executions/${executionId}/callbacks`;
    this.onAnswered = onAnswered;
    this.onLoaded = onLoaded;
    this.data = { waiting: [], parent: null, children: [], mapRuns: [] };
    this.drafts = new Map();   // what the user typed, per token, kept across refreshes
    this.loading = null;
    this.timer = null;
    document.addEventListener("visibilitychange", () => this.poll());
  }

  // Reads the callbacks again (coalescing calls made while a read is under way).
  async load() {
    if (this.loading) { this.again = true; return this.loading; }
    this.loading = api("GET", this.path).then((data) => { this.data = data; this.render(); this.onLoaded?.(); })
      .catch(() => { /* the page goes on without them */ })
      .finally(() => {
        this.loading = null;
        if (this.again) { this.again = false; this.load(); } else this.poll();
      });
    return this.loading;
  }

  // Reads again in a while if a Map Run is still going and the page is seen; else not.
  poll() {
    clearTimeout(this.timer);
    if (document.visibilityState === "visible" && this.data.mapRuns.some((r) => r.status === "RUNNING")) {
      this.timer = setTimeout(() => this.load(), RUN_POLL_MS);
    }
  }

  // The run whose ARN ends in `id`, as last read, or undefined.
  mapRun(id) {
    return this.data.mapRuns.find((r) => r.id === id);
  }

  // A link to a Map Run's page, named as the console names it.
  runLink(id, label) {
    return el("a", { class: "map-run-link", href: mapRunPath(this.executionId, id), text: `Map Run ${label}` });
  }

  runItem(run) {
    return el("li", { "data-map-run": run.id }, this.runLink(run.id, run.label),
      el("span", { class: "muted", text: ` state ${run.state} · ` }),
      el("span", { class: `xstatus small ${statusWord(run.status)}`, text: STATUS_LABELS[run.status] ?? run.status }),
      el("span", { class: "muted run-counts", text: ` ${itemCountsText(run.counts)}` }));
  }

  render() {
    const { waiting, parent, mapRuns } = this.data;
    const parts = [];
    if (parent?.mapRun) {
      const run = parent.mapRun;
      parts.push(el("p", { class: "started-by" }, `Item ${run.index} of `,
        el("a", { class: "map-run-link", href: mapRunPath(parent.id, run.id), text: `Map Run ${run.label}` }),
        " of ", el("a", { class: "parent-link", href: `/executions/${parent.id}/`, text: parent.name }),
        el("span", { class: "muted", text: ` (${parent.machine}, state ${parent.state || "?"})` })));
    } else if (parent) {
      parts.push(el("p", { class: "started-by" }, "Started by ",
        el("a", { class: "parent-link", href: `/executions/${parent.id}/`, text: parent.name }),
        el("span", { class: "muted", text: ` (${parent.machine}, state ${parent.state || "?"})` })));
    }
    if (mapRuns.length) {
      parts.push(el("div", { class: "map-run-summary" }, el("h3", { class: "first", text: "Map Runs" }),
        el("ul", { class: "map-runs" }, ...mapRuns.map((run) => this.runItem(run)))));
    }
    for (const task of waiting) parts.push(this.form(task));
    this.box.hidden = parts.length === 0;
    this.box.replaceChildren(...parts);
    this.box.dataset.waiting = String(waiting.length);
  }

  // The executions the Task named `state` started, or the runs of the Map named `state`, for its
  // panel in the state detail.
  panelFor(state) {
    const started = this.data.children.filter((c) => c.state === state);
    const runs = this.data.mapRuns.filter((r) => r.state === state);
    if (!started.length && !runs.length) return null;
    return el("div", { class: "children" },
      started.length ? el("h4", { text: "Started executions" }) : null,
      started.length ? el("ul", {}, ...started.map((c) => el("li", {},
        el("a", { href: `/executions/${c.id}/`, text: c.name }),
        el("span", { class: "muted", text: ` ${c.machine} · ` }),
        el("span", { class: `pill ${c.status.toLowerCase()}`, text: c.status.toLowerCase() })))) : null,
      runs.length ? el("h4", { text: "Map Runs" }) : null,
      runs.length ? el("ul", { class: "map-runs" }, ...runs.map((run) => this.runItem(run))) : null);
  }

  form(task) {
    const draft = this.drafts.get(task.token) ?? { output: "{}", error: "", cause: "" };
    this.drafts.set(task.token, draft);
    const message = el("div", { class: "alert error", hidden: true });
    const output = el("textarea", { class: "mono callback-output", rows: 4, spellcheck: "false", "aria-label": "Task output (JSON)" });
    output.value = draft.output;
    const error = el("input", { class: "callback-error", placeholder: "Error (e.g. Rejected)", "aria-label": "Error" });
    error.value = draft.error;
    const cause = el("input", { class: "callback-cause", placeholder: "Cause", "aria-label": "Cause" });
    cause.value = draft.cause;
    const success = el("button", { class: "primary send-success", text: "Send task success" });
    const failure = el("button", { class: "danger send-failure", text: "Send task failure" });
    const check = () => {
      draft.output = output.value;
      let valid = true;
      try { JSON.parse(output.value); } catch { valid = false; }
      output.classList.toggle("invalid", !valid);
      success.disabled = !valid;
    };
    output.addEventListener("input", check);
    error.addEventListener("input", () => { draft.error = error.value; });
    cause.addEventListener("input", () => { draft.cause = cause.value; });
    check();
    const send = async (kind, body) => {
      success.disabled = failure.disabled = true;
      try {
        await api("POST", `/api/task-tokens/${kind}`, { taskToken: task.token, ...body });
        this.drafts.delete(task.token);
        this.data.waiting = this.data.waiting.filter((t) => t.token !== task.token);
        this.render();
        this.onAnswered?.();
      } catch (problem) {
        message.hidden = false;
        message.textContent = problem.message;
        failure.disabled = false;
        check();
      }
    };
    success.addEventListener("click", () => send("success", { output: output.value }));
    failure.addEventListener("click", () => send("failure", {
      ...(error.value ? { error: error.value } : {}), ...(cause.value ? { cause: cause.value } : {}) }));
    const deadlines = [task.heartbeat_deadline && `heartbeat due ${new Date(task.heartbeat_deadline).toLocaleString()}`,
      task.timeout_deadline && `times out ${new Date(task.timeout_deadline).toLocaleString()}`].filter(Boolean);
    return el("div", { class: "callback", "data-token": task.token },
      el("h3", { class: "first" }, "Waiting for a callback: ", el("b", { text: task.state }),
        deadlines.length ? el("span", { class: "muted small-text", text: ` · ${deadlines.join(" · ")}` }) : null),
      el("label", { text: "Task token" }),
      el("div", { class: "row" }, el("input", { class: "mono token", readonly: true, value: task.token, "aria-label": "Task token" }),
        el("button", { class: "small", text: "Copy", onclick: () => navigator.clipboard?.writeText(task.token) })),
      el("div", { class: "split even" },
        el("div", {}, el("label", { text: "Output (JSON)" }), output, el("div", { class: "row" }, success)),
        el("div", {}, el("label", { text: "Failure" }), error, cause, el("div", { class: "row" }, failure))),
      message);
  }
}
