// The state machine editor: Design (graph, palette, inspector), Code (ASL JSON with lint markers and
// a live graph) and Config; Save, Publish, Start execution. The definition text is the one source of
// truth: Design edits go through asl-model.js and are written back as text; Code edits are parsed
// with positions so the validator's pointers land on their lines.
import { api, el, showFieldErrors, timeAgo, CSP_NONCE } from "./api.js";
import { renderGraph } from "./graph-view.js";
import * as model from "./asl-model.js";
import { parseWithPositions, locate } from "./json-positions.js";
import { inspector } from "./machine-inspector.js";
import { download, debounce } from "./ui.js";
import { setupTestState } from "./test-state.js";

const root = document.getElementById("machine-app");
// Choice operators: the engine's own table (runtime/asl/choice_operators.py), carried by the page.
model.setOperators(JSON.parse(document.getElementById("choice-operators").textContent));
const NAME = root.dataset.name;
const BASE = `/api/state-machines/${encodeURIComponent(NAME)}`;
const $ = (id) => document.getElementById(id);
const cm = await import(root.dataset.codemirror);

const app = {
  machine: null,        // as the API last returned it
  text: "",             // the definition text (the draft being edited)
  savedText: "",        // the text the server has
  publishedText: null,  // the latest version's definition, normalised, or null
  parsed: null,         // parseWithPositions(text)
  definition: null,     // the parsed definition, or null while the JSON is invalid
  history: null,
  selected: null,       // pointer of the selected state
  selectedEdge: null,   // the selected transition, as graph-view.js's edgeFor reads its id, or null
  diagnostics: [],
  functions: [],
  account: root.dataset.account,   // the owner's account: every Lambda ARN the editor writes names it
  mode: "design",
};
window.flowbench = app;   // for the browser tests and the curious

const isWarning = (d) => String(d.severity).toUpperCase() === "WARNING";

function status(message, kind = "") {
  $("status-line").textContent = message;
  $("status-line").className = `status-line ${kind}`;
}

// ---- modes ----------------------------------------------------------------------------------
function showMode(mode) {
  app.mode = mode;
  document.querySelectorAll(".modes [data-mode]").forEach((b) => b.classList.toggle("active", b.dataset.mode === mode));
  document.querySelectorAll(".modepanel").forEach((p) => { p.hidden = p.dataset.panel !== mode; });
  if (mode === "design") refit(designView);
  if (mode === "code") { refit(codeGraph); codeView.requestMeasure(); }
}

// A graph drawn while its panel was hidden keeps its own proportions (graph-view.js sizes it so);
// once the panel shows, it fills its box again.
function refit(view) {
  if (!view?.svg || !view.container.clientHeight) return;
  view.svg.style.height = "";
  view.svg.style.aspectRatio = "";
  view.fit();
}
document.querySelectorAll(".modes [data-mode]").forEach((b) => b.addEventListener("click", () => showMode(b.dataset.mode)));

// ---- the definition: text <-> model ---------------------------------------------------------
function setText(text, { fromCode = false, record = true, label = "edit" } = {}) {
  app.text = text;
  app.parsed = parseWithPositions(text);
  app.definition = app.parsed.error ? null : app.parsed.value;
  if (!fromCode && codeView.state.doc.toString() !== text) {
    codeView.dispatch({ changes: { from: 0, to: codeView.state.doc.length, insert: text } });
  }
  if (app.definition && record && app.history) app.history.push(app.definition, label);
  renderDirty();
  renderBlocked();
  renderUndo();
  validateSoon();
  if (app.definition) renderDesign();
}

/** Applies a Design edit: `change(definition)` returns the new definition (or {definition, pointer}). */
function edit(label, change) {
  if (!app.definition) return;
  try {
    const result = change(app.definition);
    const definition = result && result.definition ? result.definition : result;
    if (result && result.pointer) { app.selected = result.pointer; app.selectedEdge = null; }
    setText(JSON.stringify(definition, null, 2), { label });
  } catch (error) {
    if (error instanceof model.ModelError) status(error.message, "error");
    else throw error;
  }
}

function undo() {
  if (!app.history?.canUndo) return;
  const label = app.history.undoLabel;
  setText(JSON.stringify(app.history.undo(), null, 2), { record: false });
  status(`Undid: ${label}`);
}
function redo() {
  if (!app.history?.canRedo) return;
  const label = app.history.redoLabel;
  setText(JSON.stringify(app.history.redo(), null, 2), { record: false });
  status(`Redid: ${label}`);
}
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
function renderUndo() {
  $("undo").disabled = !app.history?.canUndo;
  $("redo").disabled = !app.history?.canRedo;
  $("undo").title = app.history?.canUndo ? `Undo ${app.history.undoLabel} (Ctrl+Z)` : "Nothing to undo";
  $("redo").title = app.history?.canRedo ? `Redo ${app.history.redoLabel} (Shift+Ctrl+Z)` : "Nothing to redo";
}

function normalised(text) {
  try { return JSON.stringify(JSON.parse(text)); } catch { return text; }
}
function renderDirty() {
  $("unsaved").hidden = app.text === app.savedText;
  $("unpublished").hidden = app.publishedText !== null && normalised(app.text) === app.publishedText;
  $("unpublished").textContent = app.publishedText === null ? "Not published yet" : "Draft differs from latest version";
}

function renderBlocked() {
  const error = app.parsed.error;
  $("design-blocked").hidden = !error;
  $("design-graph").hidden = !!error;
  $("design").classList.toggle("blocked", !!error);
  if (error) $("design-blocked-reason").textContent = `Line ${error.line}, column ${error.column}: ${error.message}`;
  $("code-state").textContent = error ? `Invalid JSON at line ${error.line}, column ${error.column}` : "";
}

// ---- validation and graphs ------------------------------------------------------------------
let validation = 0;
let validating = null;   // the newest validation's promise
const validateSoon = debounce(validate, 250);
/** Validates the text now; resolves once the diagnostics shown are those of the newest text
 *  (a caller whose validation a later edit overtook waits for that later one's answer). */
function validate() {
  validating = validateTicket(++validation);
  return validating;
}
async function validateTicket(ticket) {
  const text = app.text;
  let result;
  try {
    result = await api("POST", "/api/state-machines/validate", { definition: text, type: app.machine?.type });
  } catch (error) {
    status(error.message, "error");
    return;
  }
  if (ticket !== validation) return validating;   // a newer text is being validated
  app.diagnostics = result.diagnostics || [];
  renderDiagnostics();
  if (result.dot) await drawGraphs(result.dot);
  if (app.definition) renderInspector();
  app.validatedText = text;   // the answer about `text` is all shown
}

let designView = null;
let codeGraph = null;
// The two views, made once. A promise: while the first validation waits for Graphviz to load, the
// next one (an edit made meanwhile) must wait for the same views, not make a second pair drawn
// over the first (the first one's graph then stayed on the page beside the current one).
let views = null;
async function drawGraphs(dot) {
  const onSelect = (ptr) => select(ptr, { fromGraph: true });
  const onSelectEdge = (info) => selectEdge(info);
  const made = !views;
  views ??= Promise.all([
    renderGraph($("design-graph"), dot, { onSelect, onSelectEdge }),
    renderGraph($("code-graph"), dot, { onSelect: (ptr) => { onSelect(ptr); revealPointer(ptr); }, onSelectEdge }),
  ]).catch((error) => { views = null; throw error; });
  [designView, codeGraph] = await views;
  if (!made) {   // the views drew their first DOT; a later call (awaiting in call order) draws its own
    designView.update(dot);
    codeGraph.update(dot);
  }
  markSelection();
  for (const view of [designView, codeGraph]) {
    for (const d of app.diagnostics) {
      const ptr = statePointerOf(d.location);
      if (ptr && !isWarning(d)) view.nodeFor(ptr)?.classList.add("fb-has-error");
    }
  }
}

/** Returns the pointer of the state a location is inside (`/States/A/Next` -> `/States/A`). */
function statePointerOf(location) {
  if (!location) return null;
  const parts = model.tokens(location);
  let best = null;
  for (let k = 1; k < parts.length; k++) {
    if (parts[k - 1] === "States") best = model.pointer("", ...parts.slice(0, k + 1));
  }
  return best;
}

function lintDiagnostics() {
  const out = [];
  const doc = codeView.state.doc;
  if (app.parsed.error) {
    const at = Math.min(app.parsed.error.offset, doc.length);
    out.push({ from: at, to: Math.min(at + 1, doc.length), severity: "error", message: app.parsed.error.message });
    return out;
  }
  for (const d of app.diagnostics) {
    const where = locate(app.parsed, d.location || "");
    if (!where) continue;
    out.push({ from: Math.min(where.from, doc.length), to: Math.min(where.to, doc.length),
      severity: isWarning(d) ? "warning" : "error", message: `${d.code}: ${d.message}` });
  }
  return out;
}

function renderDiagnostics() {
  codeView.dispatch(cm.setDiagnostics(codeView.state, lintDiagnostics()));
  const list = $("diagnostics");
  const items = app.parsed.error
    ? [{ severity: "error", code: "InvalidJson", message: app.parsed.error.message, line: app.parsed.error.line, column: app.parsed.error.column }]
    : app.diagnostics.map((d) => ({ ...d, ...(locate(app.parsed, d.location || "") || {}) }));
  $("diagnostic-count").textContent = `(${items.length})`;
  list.replaceChildren(...(items.length ? items.map((d) => el("li", { class: `diag ${isWarning(d) ? "warning" : "error"}`, onclick: () => revealPointer(d.location, d.from) },
    el("span", { class: "sev", text: isWarning(d) ? "Warning" : "Error" }),
    el("span", { class: "where mono", text: d.line ? `line ${d.line}` : "" }),
    el("code", { text: d.code }), el("span", { text: d.message }),
    d.location ? el("span", { class: "ptr mono", text: d.location }) : null)) :
    [el("li", { class: "diag ok", text: "No problems: the definition is valid." })]));
}

function revealPointer(ptr, from) {
  const at = from ?? locate(app.parsed, ptr || "")?.from;
  if (at === undefined) return;
  showMode("code");
  codeView.dispatch({ selection: { anchor: at }, scrollIntoView: true });
  codeView.focus();
}

// ---- Code mode ------------------------------------------------------------------------------
const fromCode = debounce(() => setText(codeView.state.doc.toString(), { fromCode: true, label: "code edit" }), 300);
const codeView = new cm.EditorView({
  parent: $("code-editor"),
  state: cm.EditorState.create({
    doc: "",
    extensions: [cm.basicSetup, cm.EditorView.cspNonce.of(CSP_NONCE), cm.keymap.of([cm.indentWithTab]), cm.json(), cm.lintGutter(),
      cm.keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { save(); return true; } }]),
      cm.EditorView.updateListener.of((u) => { if (u.docChanged && u.state.doc.toString() !== app.text) { $("unsaved").hidden = false; fromCode(); } })],
  }),
});
$("format").addEventListener("click", () => {
  if (app.definition) setText(JSON.stringify(app.definition, null, 2), { label: "format" });
});

// ---- Design mode: palette, states tree, selection -------------------------------------------
const PALETTE = [
  ["Pass", "Passes its input on, optionally shaped"], ["Task", "Runs a function"], ["Choice", "Branches on a rule"],
  ["Wait", "Waits some seconds or until a time"], ["Succeed", "Ends successfully"], ["Fail", "Ends with an error"],
  ["Parallel", "Runs branches at once"], ["Map", "Runs steps for each item"],
];
$("palette").replaceChildren(...PALETTE.map(([type, hint]) => el("button", {
  type: "button", class: `palette-item t-${type.toLowerCase()}`, "data-type": type, title: hint,
  onclick: () => addFromPalette(type),
}, el("span", { class: "glyph", "aria-hidden": "true" }), el("span", { class: "pname", text: type }), el("span", { class: "phint", text: hint }))));

function addFromPalette(type, machine = null) {
  if (machine === null && edgeTransition()) { insertOnEdge(type); return; }
  const selected = app.selected && model.getAt(app.definition, app.selected) ? app.selected : null;
  const terminal = selected && ["Succeed", "Fail"].includes(model.getAt(app.definition, selected).Type);
  edit(`add ${type}`, (d) => model.addState(d, machine !== null ? { type, machine } : { type, after: terminal ? null : selected }));
}

// ---- Design mode: a selected transition (an edge of the graph) --------------------------------
/** Returns the selected edge's transition {from, name, kind, index, target}, or null if gone. */
function edgeTransition() {
  const edge = app.selectedEdge;
  if (!edge || !app.definition) return null;
  const state = model.getAt(app.definition, edge.from);
  let name;
  try { name = model.splitState(edge.from).name; } catch { return null; }
  const t = model.transitionsOf(state, edge.from).find((x) => x.kind === edge.kind && (x.index ?? null) === edge.index);
  return t ? { ...edge, name, target: t.target } : null;
}

function selectEdge(info) {
  app.selectedEdge = info;
  app.selected = null;
  renderDesign();
}

function insertOnEdge(type) {
  const t = edgeTransition();
  if (!t) return;
  edit(`insert ${type} on ${t.name} → ${t.target}`, (d) => model.insertOnTransition(d, t.from, t.kind, t.index, type));
}

const TRANSITION_WORDS = { next: () => "Next", default: () => "Default", choice: (i) => `Choice rule ${i + 1}`, catch: (i) => `Catch ${i + 1}` };
function renderEdgeInspector(t) {
  const box = $("edge-inspector");
  const key = JSON.stringify(t);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(
    el("h2", { class: "edge-title", text: `Transition from ${t.name} to ${t.target}` }),
    el("p", { class: "muted small-text", text: `${TRANSITION_WORDS[t.kind](t.index)} of ${t.name}` }),
    el("h3", { text: "Insert a state here" }),
    el("p", { class: "hint", text: `The new state goes to ${t.target}; this transition goes to the new state.` }),
    el("div", { class: "edge-insert", style: "display:flex;flex-wrap:wrap;gap:6px" }, ...PALETTE.map(([type, hint]) => el("button", {
      type: "button", class: "small", "data-insert": type, title: hint, text: type, onclick: () => insertOnEdge(type),
    }))));
}

function select(ptr, { fromGraph = false } = {}) {
  app.selected = ptr && model.getAt(app.definition, ptr) ? ptr : null;
  if (app.selected || !fromGraph) app.selectedEdge = null;
  renderDesign();
}

/** Marks app.selected (or the selected transition) in both graphs, and nothing else: the
 * highlight, the header, the tree and the inspector always show the same selection. */
function markSelection() {
  for (const view of [designView, codeGraph]) {
    if (!view) continue;
    view.select(app.selected);
    view.selectEdge(app.selected ? null : app.selectedEdge?.id ?? null);
  }
}

function renderTree() {
  let tree = $("states-tree");
  if (!tree) {
    tree = el("div", { id: "states-tree", class: "states-tree" });
    document.querySelector(".palette").append(el("h3", { class: "pad", text: "States" }), tree);
  }
  const all = app.definition ? model.allStates(app.definition) : [];
  tree.replaceChildren(...all.map((s) => el("button", {
    type: "button", class: `tree-item${s.pointer === app.selected ? " active" : ""}`, style: `padding-left:${12 + s.depth * 14}px`,
    "data-pointer": s.pointer, title: s.name, onclick: () => select(s.pointer),
  }, el("span", { class: `dot t-${String(s.state?.Type || "").toLowerCase()}` }), el("span", { class: "tree-name", text: s.name }))));
}

function renderDesign() {
  if (app.selected && !model.getAt(app.definition, app.selected)) app.selected = null;
  const t = edgeTransition();
  const path = $("selection-path");
  path.textContent = app.selected ?? (t ? `${t.name} → ${t.target}` : "No state selected");
  path.title = path.textContent;
  renderTree();
  renderInspector();
  markSelection();
}

function renderInspector() {
  if (!app.definition) return;
  const t = edgeTransition();
  if (app.selectedEdge && !t) {
    app.selectedEdge = null;
    markSelection();
  }
  $("edge-inspector").hidden = !t;
  $("inspector").hidden = !!t;
  if (t) { renderEdgeInspector(t); return; }
  inspector($("inspector"), {
    definition: app.definition, selected: app.selected, diagnostics: app.diagnostics,
    functions: app.functions, account: app.account, edit, select, addFromPalette,
  });
}

// ---- keyboard -------------------------------------------------------------------------------
document.addEventListener("keydown", (event) => {
  const mod = event.ctrlKey || event.metaKey;
  if (mod && event.key.toLowerCase() === "s") { event.preventDefault(); save(); return; }
  const inCode = event.target.closest?.(".cm-editor");
  const inField = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
  if (mod && event.key.toLowerCase() === "z" && !inCode && !inField) {
    event.preventDefault();
    if (event.shiftKey) redo(); else undo();
  } else if (mod && event.key.toLowerCase() === "y" && !inCode && !inField) {
    event.preventDefault();
    redo();
  } else if ((event.key === "Delete" || event.key === "Backspace") && !inCode && !inField && app.selected && app.mode === "design") {
    event.preventDefault();
    const ptr = app.selected;
    edit(`delete ${model.splitState(ptr).name}`, (d) => model.deleteState(d, ptr));
    select(null);
  }
});

// ---- save, publish, start -------------------------------------------------------------------
async function save() {
  const text = codeView.state.doc.toString();
  if (text !== app.text) setText(text, { fromCode: true, label: "code edit" });
  try {
    const saved = await api("PUT", BASE, { definition: app.text });
    app.savedText = app.text;
    app.machine = { ...app.machine, ...saved };
    renderDirty();
    const problems = (saved.diagnostics || []).filter((d) => !isWarning(d)).length;
    status(problems ? `Draft saved, with ${problems} problem${problems === 1 ? "" : "s"} to fix before publishing.` : "Draft saved.", problems ? "warn" : "ok");
    return true;
  } catch (error) {
    status(error.message, "error");
    return false;
  }
}
$("save").addEventListener("click", save);

async function publish() {
  if (app.text !== app.savedText && !(await save())) return null;
  try {
    const version = await api("POST", `${BASE}/versions`);
    app.publishedText = normalised(app.text);
    renderDirty();
    status(`Published version ${version.number}.`, "ok");
    loadVersions();
    return version;
  } catch (error) {
    status(error.message, "error");
    if (error.field) revealPointer(error.field);
    return null;
  }
}
$("publish").addEventListener("click", publish);

$("export-svg").addEventListener("click", () => designView && download(`${NAME}.svg`, new Blob([designView.exportSvg()], { type: "image/svg+xml" })));
$("export-png").addEventListener("click", async () => designView && download(`${NAME}.png`, await designView.exportPng()));
$("zoom-in").addEventListener("click", () => designView?.zoomBy(1.25));
$("zoom-out").addEventListener("click", () => designView?.zoomBy(0.8));
$("fit").addEventListener("click", () => designView?.fit());

// Start execution: the input is checked as you type; recent inputs are offered. A draft that
// changed is published first; one that does not validate cannot be, so the dialog says why and
// offers the latest published version instead (or, with none, what to fix).
let inputView = null;
const startPlan = { version: null, blocked: true };   // version: start that one, not the draft
function inputError() {
  const parsed = parseWithPositions(inputView.state.doc.toString());
  const message = parsed.error ? `Invalid JSON at line ${parsed.error.line}, column ${parsed.error.column}: ${parsed.error.message}` : "";
  $("exec-input-error").textContent = message;
  $("start-go").disabled = !!parsed.error || startPlan.blocked;
  return message;
}

/** Returns the draft's errors as sentences: its JSON's, or the validator's for the text now. */
async function draftErrors() {
  if (app.parsed.error) return [`line ${app.parsed.error.line}, column ${app.parsed.error.column}: ${app.parsed.error.message}`];
  await validate();
  return app.diagnostics.filter((d) => !isWarning(d)).map((d) => `${d.message}${d.location ? ` (at ${d.location})` : ""}`);
}

async function planStart() {
  startPlan.blocked = true;
  startPlan.version = null;
  $("start-note").className = "hint";
  $("start-note").textContent = "Checking the draft…";
  $("start-fix").hidden = true;
  $("start-go").textContent = "Start execution";
  const errors = await draftErrors();
  const latest = latestVersion();
  const changed = app.publishedText === null || normalised(app.text) !== app.publishedText;
  const problems = `${errors.length} error${errors.length === 1 ? "" : "s"}`;
  if (errors.length && latest !== null) {
    startPlan.version = latest;
    $("start-note").className = "hint warn";
    $("start-note").textContent = `The draft has ${problems} and cannot be published (first: ${errors[0]}). ` +
      `You can start version ${latest}, the latest published one, and fix the draft later.`;
    $("start-go").textContent = `Start with version ${latest}`;
  } else if (errors.length) {
    $("start-note").className = "hint warn";
    $("start-note").textContent = `The draft has ${problems} and no version is published yet, so there is nothing to run. ` +
      `Fix the draft first (first: ${errors[0]}).`;
    $("start-fix").hidden = false;
    inputError();
    return;
  } else {
    $("start-note").textContent = changed ? "The draft differs from the latest version: it is published as a new version first." : `Runs version ${latest}.`;
  }
  $("start-fix").hidden = !errors.length;
  startPlan.blocked = false;
  inputError();
}

async function openStart() {
  const dialog = $("start-dialog");
  if (!inputView) {
    inputView = new cm.EditorView({ parent: $("exec-input"), state: cm.EditorState.create({ doc: "{\n  \n}",
      extensions: [cm.basicSetup, cm.EditorView.cspNonce.of(CSP_NONCE), cm.json(), cm.EditorView.updateListener.of((u) => { if (u.docChanged) inputError(); })] }) });
  }
  showFieldErrors($("start-form"), null);
  dialog.showModal();
  inputView.focus();
  const planned = planStart();
  try {
    const data = await api("GET", `${BASE}/recent-inputs`);
    $("recent-inputs").replaceChildren(el("option", { value: "", text: data.inputs.length ? "Recent inputs…" : "No recent inputs" }),
      ...data.inputs.map((text, i) => el("option", { value: String(i), text: oneLine(text) })));
    $("recent-inputs").onchange = () => {
      const chosen = data.inputs[Number($("recent-inputs").value)];
      if (chosen !== undefined) inputView.dispatch({ changes: { from: 0, to: inputView.state.doc.length, insert: pretty(chosen) } });
    };
    if (data.inputs.length && inputView.state.doc.toString().replace(/\s/g, "") === "{}") {
      inputView.dispatch({ changes: { from: 0, to: inputView.state.doc.length, insert: pretty(data.inputs[0]) } });
    }
  } catch { /* recent inputs are a convenience */ }
  await planned;
  root.dataset.startPlanned = "true";
}
function oneLine(text) {
  const flat = normalised(text);
  return flat.length > 70 ? flat.slice(0, 69) + "…" : flat;
}
function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}
function latestVersion() {
  return app.machine?.versions?.length ? Math.max(...app.machine.versions.map((v) => v.number)) : null;
}
$("start").addEventListener("click", () => { delete root.dataset.startPlanned; openStart(); });
$("start-cancel").addEventListener("click", () => $("start-dialog").close());
$("start-fix").addEventListener("click", () => { $("start-dialog").close(); showMode("code"); });
$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (inputError()) return;
  $("start-go").disabled = true;
  try {
    if (app.text !== app.savedText && !(await save())) return;
    const body = { input: inputView.state.doc.toString() };
    if (startPlan.version !== null) {
      body.version = startPlan.version;   // the draft does not validate: the chosen published version runs
    } else if (app.publishedText === null || normalised(app.text) !== app.publishedText) {
      if (!(await publish())) { $("start-dialog").close(); return; }
    }
    const name = $("exec-name").value.trim();
    if (name) body.name = name;
    const execution = await api("POST", `${BASE}/executions`, body);
    window.location.href = `/executions/${execution.id}/`;
  } catch (error) {
    if (!showFieldErrors($("start-form"), error)) $("exec-input-error").textContent = error.message;
  } finally {
    $("start-go").disabled = startPlan.blocked;
  }
});
if (location.hash === "#start") window.addEventListener("flowbench:ready", openStart, { once: true });

// ---- Config mode ----------------------------------------------------------------------------
async function loadRoles() {
  const data = await api("GET", "/api/roles");
  $("cfg-role").replaceChildren(...data.roles.map((r) => el("option", { value: r.name, text: r.name, selected: r.name === app.machine.role })));
  $("cfg-role-link").href = `/roles/${encodeURIComponent(app.machine.role)}/`;
}
function fillConfig() {
  $("cfg-type").value = app.machine.type;
  $("cfg-description").value = app.machine.description || "";
  $("machine-type").textContent = app.machine.type === "EXPRESS" ? "Express" : "Standard";
}
$("config-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const saved = await api("PUT", BASE, { type: $("cfg-type").value, role: $("cfg-role").value, description: $("cfg-description").value });
    app.machine = { ...app.machine, ...saved };
    showFieldErrors($("config-form"), null);
    fillConfig();
    $("cfg-role-link").href = `/roles/${encodeURIComponent(app.machine.role)}/`;
    status("Configuration saved.", "ok");
  } catch (error) {
    if (!showFieldErrors($("config-form"), error)) status(error.message, "error");
  }
});
async function loadVersions() {
  const data = await api("GET", BASE);
  app.machine.versions = data.versions || [];
  $("versions").querySelector("tbody").replaceChildren(...(app.machine.versions.length ? app.machine.versions.map((v) => el("tr", {},
    el("td", { text: `Version ${v.number}` }), el("td", { text: timeAgo(v.created_at), title: v.created_at }))) :
    [el("tr", {}, el("td", { colspan: 2, class: "muted", text: "Nothing published yet." }))]));
}

// ---- start ----------------------------------------------------------------------------------
window.addEventListener("beforeunload", (event) => { if (app.text !== app.savedText) event.preventDefault(); });

async function start() {
  const [machine, functions] = await Promise.all([api("GET", BASE), api("GET", "/api/functions")]);
  app.machine = machine;
  app.functions = functions.functions.map((f) => f.name);
  app.savedText = machine.definition;
  const latest = latestVersion();
  if (latest !== null) {
    const version = await api("GET", `${BASE}/versions/${latest}`);
    app.publishedText = JSON.stringify(typeof version.definition === "string" ? JSON.parse(version.definition) : version.definition);
  }
  fillConfig();
  loadVersions();
  await loadRoles().catch(() => {});
  const parsed = parseWithPositions(machine.definition);
  app.history = new model.History(parsed.error ? { StartAt: "", States: {} } : parsed.value);
  setText(machine.definition, { record: false });
  await validate();
  root.dataset.ready = "true";
  window.dispatchEvent(new Event("flowbench:ready"));
}
setupTestState({ app, select, base: BASE });
start().catch((error) => status(error.message, "error"));
