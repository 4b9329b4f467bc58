// The Design mode's inspector: a form for the selected state (or the machine when none is), built
// from asl-model.js operations. Every transition is chosen from a list; Choice rules, Retry and
// Catch are tables; the validator's diagnostics are shown under the field their pointer names.
import { el } from "./api.js";
import * as model from "./asl-model.js";

let lastKey = null;
let lastSelected;

/** Fills `box` with the form for ctx.selected; keeps the form (and focus) when nothing changed. */
export function inspector(box, ctx) {
  const state = ctx.selected ? model.getAt(ctx.definition, ctx.selected) : null;
  const key = `${ctx.selected}\u0000${JSON.stringify(state ?? ctx.definition)}\u0000${ctx.functions.length}`;
  if (key !== lastKey) {
    lastKey = key;
    box.replaceChildren(...(state ? stateForm(ctx, state) : machineForm(ctx)).filter(Boolean));
    if (ctx.selected !== lastSelected) box.scrollTop = 0;
    lastSelected = ctx.selected;
  }
  showErrors(box, ctx);
}

function showErrors(box, ctx) {
  const base = ctx.selected ?? "";
  box.querySelectorAll(".field-error[data-field]").forEach((n) => { n.textContent = ""; });
  const general = [];
  for (const d of ctx.diagnostics) {
    const loc = d.location ?? "";
    if (!(loc === base || loc.startsWith(base + "/"))) continue;
    const rest = model.tokens(loc.slice(base.length));
    if (!ctx.selected && rest[0] === "States" && rest.length > 1) continue;   // a state's own problem
    let target = null;
    for (let n = rest.length; n > 0 && !target; n--) {
      target = box.querySelector(`.field-error[data-field="${CSS.escape(rest.slice(0, n).join("/"))}"]`);
    }
    if (target) target.textContent = target.textContent ? `${target.textContent} ${d.message}` : d.message;
    else general.push(d);
  }
  const list = box.querySelector(".state-problems");
  if (list) list.replaceChildren(...general.map((d) => el("li", { class: String(d.severity).toUpperCase() === "WARNING" ? "warning" : "", text: `${d.code}: ${d.message}` })));
}

// ---- small form pieces ----------------------------------------------------------------------
function field(label, input, name, hint) {
  return el("div", { class: "ifield" }, el("label", {}, label, input), hint ? el("p", { class: "hint", text: hint }) : null,
    el("p", { class: "field-error", "data-field": name }));
}

function text(value, onChange, attrs = {}) {
  return el("input", { value: value ?? "", ...attrs, onchange: (e) => onChange(e.target.value) });
}

function number(value, onChange, attrs = {}) {
  return el("input", { type: "number", value: value ?? "", ...attrs, onchange: (e) => onChange(e.target.value === "" ? undefined : Number(e.target.value)) });
}

function choose(options, value, onChange, attrs = {}) {
  return el("select", { ...attrs, onchange: (e) => onChange(e.target.value) },
    ...options.map(([v, label]) => el("option", { value: v, text: label, selected: v === value })));
}

/** A JSON field: shows the value pretty-printed, commits parsed JSON, says why text does not parse. */
function jsonArea(value, onChange, name) {
  const area = el("textarea", { class: "mono", rows: 4, spellcheck: "false", "data-json": name });
  area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
  area.addEventListener("input", () => {
    const error = area.closest(".ifield")?.querySelector(".field-error");
    try { if (area.value.trim()) JSON.parse(area.value); area.classList.remove("invalid"); if (error) error.textContent = ""; } catch (e) {
      area.classList.add("invalid");
      if (error) error.textContent = `Not JSON yet: ${e.message}`;
    }
  });
  area.addEventListener("change", () => {
    if (!area.value.trim()) { onChange(undefined); return; }
    try { onChange(JSON.parse(area.value)); } catch { /* stays marked invalid until it parses */ }
  });
  return area;
}

function section(title, ...children) {
  return el("details", { class: "isection", open: true }, el("summary", { text: title }), ...children);
}

// ---- the machine ----------------------------------------------------------------------------
function machineForm(ctx) {
  const d = ctx.definition;
  const set = (fieldName, label) => (value) => ctx.edit(label, (def) => {
    const out = structuredClone(def);
    if (value === undefined || value === "") delete out[fieldName]; else out[fieldName] = value;
    return out;
  });
  const names = model.stateNames(d, "");
  return [
    el("h2", { class: "ihead" }, "State machine", el("span", { class: "muted small-text", text: " · select a state to edit it" })),
    el("ul", { class: "state-problems" }),
    field("Comment", text(d.Comment, set("Comment", "comment")), "Comment"),
    field("Start at", choose([["", "—"], ...names.map((n) => [n, n])], d.StartAt, set("StartAt", "start state"), { id: "machine-start" }), "StartAt"),
    field("Query language", choose([["", "JSONPath (default)"], ["JSONata", "JSONata"]], d.QueryLanguage ?? "", set("QueryLanguage", "query language")), "QueryLanguage"),
    field("Timeout (seconds)", number(d.TimeoutSeconds, set("TimeoutSeconds", "timeout"), { min: 1 }), "TimeoutSeconds"),
    names.length ? null : el("p", { class: "hint", text: "Empty machine: pick a state type in the palette to add the first state." }),
  ];
}

// ---- a state --------------------------------------------------------------------------------
function stateForm(ctx, state) {
  const ptr = ctx.selected;
  const { machine, name } = model.splitState(ptr);
  const names = model.stateNames(ctx.definition, machine);
  const setF = (fieldName) => (value) => ctx.edit(`${fieldName} of ${name}`, (d) => model.setField(d, ptr, fieldName, value));
  const isStart = model.getAt(ctx.definition, machine).StartAt === name;
  const jsonata = (state.QueryLanguage ?? ctx.definition.QueryLanguage) === "JSONata";
  const out = [
    el("div", { class: "ihead-row" },
      el("h2", { class: "ihead" }, el("span", { class: `dot t-${String(state.Type).toLowerCase()}` }), name),
      isStart ? el("span", { class: "badge ok tiny", text: "Start" }) : null),
    el("ul", { class: "state-problems" }),
    field("State name", text(name, (value) => ctx.edit(`rename ${name}`, (d) => model.renameState(d, ptr, value.trim())),
      { id: "state-name", maxlength: model.NAME_MAX }), "name", "Renaming updates every transition to this state."),
    field("Type", choose(model.STATE_TYPES.map((t) => [t, t]), state.Type, (t) => ctx.edit(`${name} to ${t}`, (d) => model.changeType(d, ptr, t)), { id: "state-type" }), "Type"),
    el("div", { class: "irow" },
      el("button", { type: "button", class: "small", id: "set-start", disabled: isStart, onclick: () => ctx.edit(`start at ${name}`, (d) => model.setStart(d, ptr)) }, "Set as start"),
      ["Succeed", "Fail"].includes(state.Type) ? null : el("button", { type: "button", class: "small", id: "insert-after", title: "Insert a Pass state between this one and its next", onclick: () => ctx.addFromPalette("Pass") }, "Insert after"),
      el("button", { type: "button", class: "small danger", id: "delete-state", onclick: () => { ctx.edit(`delete ${name}`, (d) => model.deleteState(d, ptr)); ctx.select(null); } }, "Delete")),
    field("Comment", text(state.Comment, setF("Comment")), "Comment"),
  ];
  const kind = { Task: taskFields, Pass: passFields, Wait: waitFields, Fail: failFields, Choice: choiceFields, Parallel: parallelFields, Map: mapFields }[state.Type];
  if (kind) out.push(...kind(ctx, state, ptr, setF, names));
  if (!["Choice", "Succeed", "Fail"].includes(state.Type)) {
    out.push(section("Transition", field("Next state", choose([["", "(End of execution)"], ...names.filter((n) => n !== name).map((n) => [n, n])],
      typeof state.Next === "string" ? state.Next : "", (next) => ctx.edit(`next of ${name}`, (d) => model.setNext(d, ptr, next || null)), { id: "state-next" }), "Next")));
  }
  if (!["Succeed", "Fail", "Choice"].includes(state.Type)) {
    out.push(ioSection(state, setF, jsonata));
  } else if (state.Type !== "Fail") {
    out.push(section("Input and output", field("InputPath", text(state.InputPath, setF("InputPath")), "InputPath"),
      field("OutputPath", text(state.OutputPath, setF("OutputPath")), "OutputPath")));
  }
  if (["Task", "Parallel", "Map"].includes(state.Type)) out.push(retrySection(ctx, state, ptr, name), catchSection(ctx, state, ptr, name, names));
  return out;
}

function ioSection(state, setF, jsonata) {
  if (jsonata) {
    return section("Input and output (JSONata)",
      field("Arguments", jsonArea(state.Arguments, setF("Arguments"), "Arguments"), "Arguments", "JSON; strings in {% … %} are JSONata."),
      field("Output", jsonArea(state.Output, setF("Output"), "Output"), "Output"),
      field("Assign", jsonArea(state.Assign, setF("Assign"), "Assign"), "Assign", "Variables to set: {\"name\": value}"));
  }
  const io = [field("InputPath", text(state.InputPath, setF("InputPath"), { placeholder: "$" }), "InputPath")];
  if (state.Type !== "Wait") io.push(field("Parameters", jsonArea(state.Parameters, setF("Parameters"), "Parameters"), "Parameters", "JSON; keys ending in .$ take a path."));
  if (["Task", "Parallel", "Map"].includes(state.Type)) io.push(field("ResultSelector", jsonArea(state.ResultSelector, setF("ResultSelector"), "ResultSelector"), "ResultSelector"));
  if (state.Type !== "Wait") io.push(field("ResultPath", text(state.ResultPath, setF("ResultPath"), { placeholder: "$" }), "ResultPath"));
  io.push(field("OutputPath", text(state.OutputPath, setF("OutputPath"), { placeholder: "$" }), "OutputPath"));
  io.push(field("Assign", jsonArea(state.Assign, setF("Assign"), "Assign"), "Assign"));
  return section("Input and output", ...io);
}

function taskFields(ctx, state, ptr, setF) {
  const current = model.functionOf(state);
  const options = [["", "— choose a function —"], ...ctx.functions.map((f) => [f, f])];
  if (current && !ctx.functions.includes(current)) options.push([current, `${current} (not found)`]);
  return [section("Function",
    field("Function", choose(options, current ?? "", (fn) => ctx.edit(`function of ${model.splitState(ptr).name}`,
      (d) => model.setField(d, ptr, "Resource", fn ? model.lambdaArn(fn, ctx.account) : "")), { id: "task-function" }), "Resource",
    "Your functions; the Task invokes the deployed code ($LATEST)."),
    el("p", { class: "mono small-text resource", text: state.Resource || "no Resource yet" }),
    el("div", { class: "cols2" },
      field("Timeout (s)", number(state.TimeoutSeconds, setF("TimeoutSeconds"), { min: 1 }), "TimeoutSeconds"),
      field("Heartbeat (s)", number(state.HeartbeatSeconds, setF("HeartbeatSeconds"), { min: 1 }), "HeartbeatSeconds")))];
}

function passFields(ctx, state, ptr, setF) {
  return [section("Result", field("Result", jsonArea(state.Result, setF("Result"), "Result"), "Result", "Optional fixed result (JSON) instead of the input."))];
}

const WAIT_MODES = [["Seconds", "Seconds"], ["Timestamp", "Until a timestamp"], ["SecondsPath", "Seconds from a path"], ["TimestampPath", "Timestamp from a path"]];
function waitFields(ctx, state, ptr) {
  const mode = WAIT_MODES.map(([m]) => m).find((m) => m in state) ?? "Seconds";
  const name = model.splitState(ptr).name;
  const setWait = (m, value) => ctx.edit(`wait of ${name}`, (d) => model.updateState(d, ptr, (s) => {
    for (const [k] of WAIT_MODES) delete s[k];
    s[m] = value;
  }));
  const value = state[mode];
  const input = mode === "Seconds"
    ? el("input", { type: "number", min: 0, id: "wait-value", value: value ?? 0, onchange: (e) => setWait("Seconds", e.target.value === "" ? 0 : Number(e.target.value)) })
    : el("input", { id: "wait-value", value: value ?? "", placeholder: mode === "Timestamp" ? "2026-01-01T00:00:00Z" : "$.seconds", onchange: (e) => setWait(mode, e.target.value) });
  return [section("Wait",
    field("Wait for", choose(WAIT_MODES, mode, (m) => setWait(m, m === "Seconds" ? 0 : (m === "Timestamp" ? new Date(Date.now() + 60000).toISOString().replace(/\.\d+Z$/, "Z") : "$.wait")), { id: "wait-mode" }), "mode"),
    field(WAIT_MODES.find(([m]) => m === mode)[1], input, mode))];
}

function failFields(ctx, state, ptr, setF) {
  return [section("Error",
    field("Error", text(state.Error, setF("Error"), { id: "fail-error" }), "Error"),
    field("Cause", text(state.Cause, setF("Cause"), { id: "fail-cause" }), "Cause"))];
}

// ---- Choice rules ---------------------------------------------------------------------------
function choiceFields(ctx, state, ptr, setF, names) {
  const name = model.splitState(ptr).name;
  const rules = Array.isArray(state.Choices) ? state.Choices : [];
  const targets = [["", "— choose —"], ...names.filter((n) => n !== name).map((n) => [n, n])];
  const setRules = (label, change) => ctx.edit(label, (d) => model.updateState(d, ptr, (s) => { s.Choices = Array.isArray(s.Choices) ? s.Choices : []; change(s.Choices, s); }));
  const jsonata = (state.QueryLanguage ?? ctx.definition.QueryLanguage) === "JSONata";
  const list = rules.map((rule, i) => el("div", { class: "rule", "data-rule": i },
    el("div", { class: "rule-head" }, el("b", { text: `Rule ${i + 1}` }),
      jsonata ? null : choose([["simple", "Comparison"], ["And", "All of (And)"], ["Or", "Any of (Or)"], ["Not", "Not"]], rule.And ? "And" : rule.Or ? "Or" : rule.Not ? "Not" : "simple",
        (kind) => setRules(`rule ${i + 1} of ${name}`, (list) => { list[i] = { ...convertRule(rule, kind), Next: rule.Next }; }), { class: "rule-kind" }),
      el("button", { type: "button", class: "small link-danger", title: "Remove rule", onclick: () => setRules(`remove rule ${i + 1}`, (list) => list.splice(i, 1)) }, "Remove")),
    jsonata
      ? field("Condition", text(rule.Condition, (v) => setRules("condition", (list) => { list[i].Condition = v; }), { placeholder: "{% $states.input.n > 3 %}" }), `Choices/${i}/Condition`)
      : ruleEditor(rule, (next) => setRules(`rule ${i + 1} of ${name}`, (list) => { list[i] = { ...next, Next: list[i].Next }; }), `Choices/${i}`),
    field("Then go to", choose(targets, rule.Next ?? "", (next) => setRules(`rule ${i + 1} target`, (list) => { list[i].Next = next; }), { class: "rule-next" }), `Choices/${i}/Next`)));
  return [section("Choice rules", el("p", { class: "field-error", "data-field": "Choices" }), ...list,
    el("button", { type: "button", class: "small", id: "add-rule", onclick: () => setRules("add rule", (list) => list.push(jsonata
      ? { Condition: "{% true %}", Next: names.find((n) => n !== name) ?? "" }
      : { Variable: "$.value", StringEquals: "", Next: names.find((n) => n !== name) ?? "" })) }, "+ Add rule"),
    field("Default (no rule matched)", choose([["", "(none: the execution fails with States.NoChoiceMatched)"], ...targets.slice(1)], state.Default ?? "",
      (v) => ctx.edit(`default of ${name}`, (d) => model.setField(d, ptr, "Default", v)), { id: "choice-default" }), "Default"))];
}

function convertRule(rule, kind) {
  const simple = model.ruleOperator(rule) ? strip(rule) : { Variable: "$.value", StringEquals: "" };
  if (kind === "simple") return rule.And?.[0] ?? rule.Or?.[0] ?? rule.Not ?? simple;
  if (kind === "Not") return { Not: simple };
  return { [kind]: [simple, { Variable: "$.value", IsPresent: true }] };
}

function strip(rule) {
  const { Next, ...rest } = rule;
  return rest;
}

/** The builder of one rule: a comparison, or And/Or/Not over comparisons (one level). */
function ruleEditor(rule, onChange, base) {
  if (Array.isArray(rule.And) || Array.isArray(rule.Or)) {
    const kind = rule.And ? "And" : "Or";
    const inner = rule[kind];
    return el("div", { class: "rule-group" },
      ...inner.map((sub, k) => el("div", { class: "rule-sub" }, comparison(sub, (next) => { const list = inner.slice(); list[k] = next; onChange({ [kind]: list }); }, `${base}/${kind}/${k}`),
        inner.length > 1 ? el("button", { type: "button", class: "small link-danger", title: "Remove condition", onclick: () => onChange({ [kind]: inner.filter((_, j) => j !== k) }) }, "×") : null)),
      el("button", { type: "button", class: "small", onclick: () => onChange({ [kind]: [...inner, { Variable: "$.value", IsPresent: true }] }) }, "+ Condition"));
  }
  if (rule.Not) return el("div", { class: "rule-group not" }, comparison(rule.Not, (next) => onChange({ Not: next }), `${base}/Not`));
  return comparison(rule, onChange, base);
}

function comparison(rule, onChange, base) {
  const op = model.ruleOperator(rule) ?? model.OPERATORS[0];
  const value = rule[op.name];
  const build = (variable, opName, raw) => onChange(model.simpleRule(variable, opName, raw));
  const variable = el("input", { class: "rule-variable mono", value: rule.Variable ?? "", placeholder: "$.field", onchange: (e) => build(e.target.value, op.name, valueInput.value) });
  const operator = choose(model.OPERATORS.map((o) => [o.name, o.name]), op.name, (name) => {
    const next = model.OPERATORS.find((o) => o.name === name);
    build(variable.value, name, next.kind === op.kind ? valueInput.value : (next.kind === "test" || next.kind === "boolean" ? "true" : ""));
  }, { class: "rule-operator" });
  let valueInput;
  if (op.kind === "test" || op.kind === "boolean") {
    valueInput = choose([["true", "true"], ["false", "false"]], String(value !== false), (v) => build(variable.value, op.name, v), { class: "rule-value" });
  } else {
    valueInput = el("input", { class: "rule-value", value: value ?? "", type: op.kind === "number" ? "number" : "text",
      placeholder: op.kind === "path" ? "$.other" : op.kind === "timestamp" ? "2026-01-01T00:00:00Z" : "value",
      onchange: (e) => build(variable.value, op.name, e.target.value) });
  }
  return el("div", { class: "comparison" }, variable, operator, valueInput, el("p", { class: "field-error", "data-field": base }));
}

// ---- Parallel and Map -----------------------------------------------------------------------
function innerList(ctx, machinePtr, title) {
  const states = model.stateNames(ctx.definition, machinePtr);
  return el("div", { class: "branch" },
    el("div", { class: "branch-head" }, el("b", { text: title }),
      el("select", { class: "add-inside", "aria-label": `Add a state to ${title}`, onchange: (e) => { if (e.target.value) ctx.addFromPalette(e.target.value, machinePtr); } },
        el("option", { value: "", text: "+ Add state…" }), ...model.STATE_TYPES.map((t) => el("option", { value: t, text: t })))),
    el("div", { class: "branch-states" }, ...states.map((n) => el("button", { type: "button", class: "chip", onclick: () => ctx.select(model.pointer(machinePtr, "States", n)) }, n))));
}

function parallelFields(ctx, state, ptr) {
  const branches = Array.isArray(state.Branches) ? state.Branches : [];
  return [section("Branches", el("p", { class: "field-error", "data-field": "Branches" }),
    ...branches.map((_, i) => el("div", { class: "branch-wrap" }, innerList(ctx, model.pointer(ptr, "Branches", i), `Branch ${i + 1}`),
      branches.length > 1 ? el("button", { type: "button", class: "small link-danger", onclick: () => ctx.edit(`remove branch ${i + 1}`, (d) => model.removeBranch(d, ptr, i)) }, "Remove branch") : null)),
    el("button", { type: "button", class: "small", id: "add-branch", onclick: () => ctx.edit("add branch", (d) => model.addBranch(d, ptr).definition) }, "+ Add branch"))];
}

function mapFields(ctx, state, ptr, setF) {
  const field_ = state.ItemProcessor || !state.Iterator ? "ItemProcessor" : "Iterator";
  return [section("Items",
    field("ItemsPath", text(state.ItemsPath, setF("ItemsPath"), { placeholder: "$" }), "ItemsPath", "Where the array of items is in the input."),
    field("Max concurrency", number(state.MaxConcurrency, setF("MaxConcurrency"), { min: 0 }), "MaxConcurrency", "0 or empty: as many as possible."),
    field("ItemSelector", jsonArea(state.ItemSelector, setF("ItemSelector"), "ItemSelector"), "ItemSelector"),
    el("p", { class: "field-error", "data-field": field_ }),
    innerList(ctx, model.pointer(ptr, field_), "Item processor"))];
}

// ---- Retry and Catch ------------------------------------------------------------------------
function errorsText(list) {
  return Array.isArray(list) ? list.join(", ") : "";
}
function errorsList(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function retrySection(ctx, state, ptr, name) {
  const rows = Array.isArray(state.Retry) ? state.Retry : [];
  const change = (label, fn) => ctx.edit(label, (d) => model.updateState(d, ptr, (s) => {
    s.Retry = Array.isArray(s.Retry) ? s.Retry : [];
    fn(s.Retry);
    if (!s.Retry.length) delete s.Retry;
  }));
  const cell = (i, key, input) => el("td", {}, input, el("p", { class: "field-error", "data-field": `Retry/${i}/${key}` }));
  const num = (i, key, step) => el("input", { type: "number", step: step ?? 1, min: 0, value: rows[i][key] ?? "", placeholder: { IntervalSeconds: "1", MaxAttempts: "3", BackoffRate: "2" }[key],
    onchange: (e) => change(`retry of ${name}`, (r) => { if (e.target.value === "") delete r[i][key]; else r[i][key] = Number(e.target.value); }) });
  return section("Retry",
    el("p", { class: "field-error", "data-field": "Retry" }),
    rows.length ? el("table", { class: "mini", id: "retry-table" },
      el("thead", {}, el("tr", {}, ...["Errors", "Interval s", "Attempts", "Backoff", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...rows.map((row, i) => el("tr", {},
        cell(i, "ErrorEquals", el("input", { class: "mono", value: errorsText(row.ErrorEquals), placeholder: "States.ALL", onchange: (e) => change(`retry of ${name}`, (r) => { r[i].ErrorEquals = errorsList(e.target.value); }) })),
        cell(i, "IntervalSeconds", num(i, "IntervalSeconds")), cell(i, "MaxAttempts", num(i, "MaxAttempts")), cell(i, "BackoffRate", num(i, "BackoffRate", 0.1)),
        el("td", {}, el("button", { type: "button", class: "small link-danger", title: "Remove retrier", onclick: () => change("remove retrier", (r) => r.splice(i, 1)) }, "×")))))) : el("p", { class: "hint", text: "No retries: a failure goes to Catch, or fails the execution." }),
    el("button", { type: "button", class: "small", id: "add-retry", onclick: () => change("add retrier", (r) => r.push({ ErrorEquals: ["States.ALL"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 })) }, "+ Add retrier"));
}

function catchSection(ctx, state, ptr, name, names) {
  const rows = Array.isArray(state.Catch) ? state.Catch : [];
  const change = (label, fn) => ctx.edit(label, (d) => model.updateState(d, ptr, (s) => {
    s.Catch = Array.isArray(s.Catch) ? s.Catch : [];
    fn(s.Catch);
    if (!s.Catch.length) delete s.Catch;
  }));
  const targets = [["", "— choose —"], ...names.filter((n) => n !== name).map((n) => [n, n])];
  const cell = (i, key, input) => el("td", {}, input, el("p", { class: "field-error", "data-field": `Catch/${i}/${key}` }));
  return section("Catch",
    el("p", { class: "field-error", "data-field": "Catch" }),
    rows.length ? el("table", { class: "mini", id: "catch-table" },
      el("thead", {}, el("tr", {}, ...["Errors", "ResultPath", "Go to", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...rows.map((row, i) => el("tr", {},
        cell(i, "ErrorEquals", el("input", { class: "mono", value: errorsText(row.ErrorEquals), placeholder: "States.ALL", onchange: (e) => change(`catcher of ${name}`, (c) => { c[i].ErrorEquals = errorsList(e.target.value); }) })),
        cell(i, "ResultPath", el("input", { class: "mono", value: row.ResultPath ?? "", placeholder: "$", onchange: (e) => change(`catcher of ${name}`, (c) => { if (e.target.value) c[i].ResultPath = e.target.value; else delete c[i].ResultPath; }) })),
        cell(i, "Next", choose(targets, row.Next ?? "", (v) => change(`catcher of ${name}`, (c) => { c[i].Next = v; }))),
        el("td", {}, el("button", { type: "button", class: "small link-danger", title: "Remove catcher", onclick: () => change("remove catcher", (c) => c.splice(i, 1)) }, "×")))))) : el("p", { class: "hint", text: "No catchers." }),
    el("button", { type: "button", class: "small", id: "add-catch", onclick: () => change("add catcher", (c) => c.push({ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: names.find((n) => n !== name) ?? "" })) }, "+ Add catcher"));
}
