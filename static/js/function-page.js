// The function page: code editor (tabs of files), Deploy, Test with streaming logs, configuration,
// versions and monitor. Everything goes through the JSON API; logs arrive over a WebSocket.
import { api, el, fmtMs, showFieldErrors, timeAgo, upload, CSP_NONCE } from "./api.js";
import { drawChart } from "./charts.js";
import { startTriggers } from "./function-triggers.js";
import { LogView } from "./log-view.js";
import { download } from "./ui.js";
import {
  EditorView, EditorState, Compartment, basicSetup, keymap, indentWithTab,
  python, javascript, json, jsonParseLinter, linter, lintGutter,
} from "../vendor/codemirror/codemirror-6.0.2.js";

const root = document.getElementById("function-app");
const NAME = root.dataset.name;
const BASE = `/api/functions/${encodeURIComponent(NAME)}`;
const $ = (id) => document.getElementById(id);

let fn = null;          // the function as the API last returned it
let files = {};         // draft files being edited
let states = {};        // file name -> EditorState
let active = null;      // file shown in the editor
let unsaved = false;    // edits not yet saved as the draft
let testEvents = [];
let templates = {};

function status(message, kind = "") {
  const line = $("status-line");
  line.textContent = message;
  line.className = `status-line ${kind}`;
}

// ---- tabs -----------------------------------------------------------------------------------
const loaders = { versions: loadVersions, monitor: loadMonitor };
function showTab(name) {
  document.querySelectorAll(".tabs [data-tab]").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tabpanel").forEach((p) => { p.hidden = p.dataset.panel !== name; });
  if (loaders[name]) loaders[name]();
}
document.querySelectorAll(".tabs [data-tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));

// ---- code editor ----------------------------------------------------------------------------
function languageFor(name) {
  if (/\.py$/.test(name)) return python();
  if (/\.(m|c)?js$/.test(name)) return javascript();
  if (/\.json$/.test(name)) return json();
  return [];
}

// A file is its text, or (binary, or executable) an object: {text} or {base64}, and executable.
function textOf(content) {
  return typeof content === "string" ? content : (content.text ?? null);
}
function binaryNote(content) {
  const bytes = Math.floor(content.base64.length * 3 / 4) - (content.base64.match(/=*$/)[0].length);
  return `This is a binary file (${bytes.toLocaleString()} bytes${content.executable ? ", executable" : ""}): ` +
    "the editor shows text files only. It is kept as it is and deployed with the others.";
}

const saveKeys = keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { saveDraft(); return true; } }]);

function makeState(name, content) {
  const text = textOf(content);
  if (text === null) {
    return EditorState.create({ doc: binaryNote(content), extensions: [EditorView.cspNonce.of(CSP_NONCE),
      EditorState.readOnly.of(true), EditorView.editable.of(false), EditorView.lineWrapping] });
  }
  return EditorState.create({
    doc: text,
    extensions: [basicSetup, EditorView.cspNonce.of(CSP_NONCE), keymap.of([indentWithTab]), saveKeys, languageFor(name),
      EditorView.updateListener.of((update) => {
        if (update.docChanged && active === name) {
          const doc = update.state.doc.toString();
          files[name] = typeof files[name] === "string" ? doc : { ...files[name], text: doc };
          markUnsaved();
        }
      })],
  });
}

const codeView = new EditorView({ parent: $("code-editor"),
  state: EditorState.create({ doc: "", extensions: [EditorView.cspNonce.of(CSP_NONCE)] }) });

function markUnsaved() {
  unsaved = true;
  $("save-state").textContent = "Unsaved changes — Ctrl+S to save";
  renderDeployState();
}

function renderFileTabs() {
  $("file-tabs").replaceChildren(...Object.keys(files).sort().map((name) => el("button", {
    class: `filetab${name === active ? " active" : ""}`, "data-file": name, text: name,
    onclick: () => openFile(name),
  })));
}

function openFile(name) {
  if (active && states[active]) states[active] = codeView.state;
  active = name;
  if (!states[name]) states[name] = makeState(name, files[name]);
  codeView.setState(states[name]);
  renderFileTabs();
}

function loadFiles(newFiles) {
  const editable = newFiles !== null;
  $("code-notice").hidden = editable;
  $("code-notice").textContent = editable ? "" : "The deployment package of this function is too large to " +
    "enable inline code editing (over 3 MB). You can still test and invoke it, download it, and upload a new .zip file.";
  for (const id of ["file-add", "file-rename", "file-delete"]) $(id).disabled = !editable;
  $("code-editor").hidden = !editable;
  if (!editable) { files = {}; states = {}; active = null; renderFileTabs(); return; }
  files = { ...newFiles };
  states = {};
  const names = Object.keys(files).sort();
  const handlerFile = fn.handler.split(".").slice(0, -1).join(".");
  const first = names.find((n) => n.replace(/\.[^.]+$/, "") === handlerFile) || names[0];
  active = null;
  openFile(first);
}

async function saveDraft() {
  if (active) states[active] = codeView.state;
  try {
    fn = await api("PUT", `${BASE}/code`, { files });
    unsaved = false;
    $("save-state").textContent = "Draft saved";
    renderDeployState();
    return true;
  } catch (error) {
    status(error.message, "error");
    return false;
  }
}
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "s") { event.preventDefault(); saveDraft(); }
});

$("file-add").addEventListener("click", () => {
  const name = prompt("New file name (e.g. util.py or lib/helpers.js)");
  if (!name) return;
  if (files[name] !== undefined) { status(`${name} already exists.`, "error"); return; }
  files[name] = "";
  markUnsaved();
  openFile(name);
});
$("file-rename").addEventListener("click", () => {
  if (!active) return;
  const name = prompt("Rename file to", active);
  if (!name || name === active) return;
  if (files[name] !== undefined) { status(`${name} already exists.`, "error"); return; }
  states[active] = codeView.state;
  const moved = files[active];
  delete files[active]; delete states[active];
  files[name] = moved;
  active = null;
  markUnsaved();
  openFile(name);
});
$("file-delete").addEventListener("click", () => {
  if (!active) return;
  if (Object.keys(files).length === 1) { status("A function needs at least one file.", "error"); return; }
  if (!confirm(`Delete ${active}?`)) return;
  delete files[active]; delete states[active];
  active = null;
  markUnsaved();
  openFile(Object.keys(files).sort()[0]);
});

// ---- zip upload / download ---------------------------------------------------------------------
$("zip-upload").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  if (unsaved && !confirm("Uploading replaces the draft's files, with your unsaved changes. Go on?")) return;
  status(`Uploading ${file.name}…`);
  try {
    fn = await upload("PUT", `${BASE}/code.zip`, file, "application/zip");
    unsaved = false;
    loadFiles(fn.files);
    $("save-state").textContent = "Draft replaced by the upload";
    renderDeployState();
    status(`Uploaded ${file.name}: Deploy to run its code.`, "ok");
  } catch (error) {
    status(`${file.name}: ${error.message}`, "error");
  }
});
$("zip-download").addEventListener("click", (event) => {
  if (!fn || !fn.deployed) {
    event.preventDefault();
    status("Nothing is deployed yet: the download is the deployed code.", "error");
  }
});
$("zip-download").href = `${BASE}/code.zip`;

// ---- deploy / publish -----------------------------------------------------------------------
function installing() {
  return Boolean(fn && fn.last_update && fn.last_update.status === "InProgress");
}
function renderDeployState() {
  const pending = unsaved || (fn && fn.undeployed_changes);
  $("undeployed").hidden = !pending;
  $("deployed-state").hidden = pending || !(fn && fn.deployed) || installing();
  // A Deploy whose dependencies install in the background: no second one until it ends.
  $("deploy").disabled = installing();
  $("deploy").textContent = installing() ? "Installing…" : "Deploy";
  $("deploy").title = installing() ? "The last Deploy's dependencies are installing: Deploy again once it ends." : "";
}

// The install log of a Deploy (pip / npm) streams into its panel; a Deploy whose install runs in
// the background ends with an "end" message on the same socket.
const deployLog = new LogView($("deploy-log"), document.createElement("p"));
let deployStream = null;
function openDeployStream() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/functions/${encodeURIComponent(NAME)}/deploy/`);
  let ended;
  const end = new Promise((resolve) => { ended = resolve; });
  // Lines are held back while `held` is an array (the page is catching up from the stored log).
  const stream = { socket, end, held: null };
  stream.ready = new Promise((resolve, reject) => {
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "ready") resolve();
      else if (data.type === "log" && stream.held) stream.held.push(data.line);
      else if (data.type === "log") { $("deploy-log-panel").hidden = false; deployLog.append([data.line]); }
      else if (data.type === "end") ended(data);
    });
    socket.addEventListener("close", () => { reject(new Error("The deploy log stream closed.")); ended(null); });
    socket.addEventListener("error", () => reject(new Error("The deploy log stream could not open.")));
  });
  return stream;
}

// Shows the log an install stored so far, then the lines the socket brought meanwhile that it
// does not end with (the two overlap by the lines both saw).
function catchUp(stored, held) {
  let overlap = Math.min(stored.length, held.length);
  while (overlap > 0 && stored.slice(stored.length - overlap).join("\n") !== held.slice(0, overlap).join("\n")) overlap -= 1;
  const lines = stored.concat(held.slice(overlap));
  if (lines.length) { $("deploy-log-panel").hidden = false; deployLog.append(lines); }
}

// Follows a Deploy installing in the background until it ends (the page may have been opened
// while it ran: the log so far comes from the function, the rest from the socket).
async function followInstall(stream) {
  status("Deploying: installing the dependencies…");
  renderDeployState();
  // The end comes over the socket; the page also asks now and then, in case that message is lost
  // (the socket closed, or the installer's process died just after it deployed).
  let waiting = true;
  const asked = (async () => {
    while (waiting) {
      await new Promise((resolve) => { setTimeout(resolve, 5000); });
      const now = waiting ? await api("GET", BASE).catch(() => null) : null;
      if (now && !(now.last_update && now.last_update.status === "InProgress")) return;
    }
  })();
  await Promise.race([stream.end, asked]);
  waiting = false;
  stream.socket.close();
  fn = await api("GET", BASE);
  while (installing()) {   // the socket closed early: ask until the install ends
    await new Promise((resolve) => { setTimeout(resolve, 2000); });
    fn = await api("GET", BASE);
  }
  renderDeployState();
  const update = fn.last_update;
  if (update && update.status === "Failed") {
    status(`Deploy failed: ${update.reason}`, "error");
  } else {
    status(`Deployed: $LATEST now runs code ${fn.deployed_version.code_sha256.slice(0, 12)}.`, "ok");
  }
  if (!$("versions").closest(".tabpanel").hidden) loadVersions();
}

$("deploy").addEventListener("click", async () => {
  if (unsaved && !(await saveDraft())) return;
  status("Deploying…");
  deployLog.clear();
  $("deploy-log-panel").hidden = true;
  $("deploy").disabled = true;
  const stream = openDeployStream();
  let background = false;
  try {
    // Without the stream the Deploy still works; only its live log is missing.
    await stream.ready.catch(() => {});
    const result = await api("POST", `${BASE}/deploy`);
    fn = result.function;
    if (!result.version) {
      background = true;
      await followInstall(stream);
      return;
    }
    renderDeployState();
    status(`Deployed: $LATEST now runs code ${result.version.code_sha256.slice(0, 12)}.`, "ok");
  } catch (error) {
    status(error.message, "error");
  } finally {
    if (!background) stream.socket.close();
    renderDeployState();
  }
});

$("publish").addEventListener("click", () => {
  $("publish-description").value = "";
  showFieldErrors($("publish-form"), null);
  $("publish-dialog").showModal();
  $("publish-description").focus();
});
$("publish-cancel").addEventListener("click", () => $("publish-dialog").close());
$("publish-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("publish-go").disabled = true;
  try {
    const version = await api("POST", `${BASE}/versions`, { description: $("publish-description").value.trim() });
    $("publish-dialog").close();
    status(`Published version ${version.version}.`, "ok");
    showTab("versions");
  } catch (error) {
    if (!showFieldErrors($("publish-form"), error)) {
      $("publish-dialog").close();
      status(error.message, "error");
    }
  } finally {
    $("publish-go").disabled = false;
  }
});

// ---- test events ----------------------------------------------------------------------------
let eventError = null;
function eventLint(view) {
  const text = view.state.doc.toString();
  eventError = null;
  try { JSON.parse(text); $("event-json-error").textContent = ""; return []; } catch (error) {
    const diagnostics = jsonParseLinter()(view);
    const pos = diagnostics.length ? diagnostics[0].from : 0;
    const line = view.state.doc.lineAt(Math.min(pos, view.state.doc.length));
    eventError = `Invalid JSON at line ${line.number}, column ${pos - line.from + 1}: ${error.message.replace(/^JSON\.parse: /, "")}`;
    $("event-json-error").textContent = eventError;
    return diagnostics;
  }
}
const eventView = new EditorView({
  parent: $("event-editor"),
  state: EditorState.create({ doc: "{}", extensions: [basicSetup, EditorView.cspNonce.of(CSP_NONCE), json(), lintGutter(), linter(eventLint, { delay: 150 }),
    EditorView.updateListener.of((u) => { if (u.docChanged) validateEventNow(); })] }),
});
function validateEventNow() {
  const text = eventView.state.doc.toString();
  try { JSON.parse(text); eventError = null; $("event-json-error").textContent = ""; } catch (error) {
    const match = /position (\d+)/.exec(error.message);
    const pos = match ? Number(match[1]) : text.length;
    const line = eventView.state.doc.lineAt(Math.min(pos, text.length));
    eventError = `Invalid JSON at line ${line.number}, column ${pos - line.from + 1}: ${error.message}`;
    $("event-json-error").textContent = eventError;
  }
}
function setEventText(value) {
  eventView.dispatch({ changes: { from: 0, to: eventView.state.doc.length, insert: JSON.stringify(value, null, 2) } });
}

// As in the Lambda console: "Create new event" (a name and a template) or "Edit saved event" (the
// chosen event's JSON; Save updates that event and never renames it, so no event is lost).
function eventAction() {
  return $("event-action-saved").checked ? "saved" : "new";
}

function setEventAction(action) {
  const saved = action === "saved" && testEvents.length > 0;
  $("event-action-saved").checked = saved;
  $("event-action-new").checked = !saved;
  $("event-action-saved").disabled = testEvents.length === 0;
  $("event-new-fields").hidden = saved;
  $("event-saved-fields").hidden = !saved;
  $("event-delete").hidden = !saved;
  showFieldErrors(document.querySelector('[data-panel="test"]'), null);
  if (saved) selectEvent($("event-select").value);
  else setEventText(templates[$("event-template").value] || {});
}
document.querySelectorAll('input[name="event-action"]').forEach((radio) => radio.addEventListener("change", () => setEventAction(eventAction())));

async function loadTestEvents(selectedId) {
  const data = await api("GET", `${BASE}/test-events`);
  testEvents = data.test_events;
  templates = data.templates;
  $("event-template").replaceChildren(...Object.keys(templates).map((t) => el("option", { value: t, text: t })));
  const chosen = testEvents.find((e) => String(e.id) === String(selectedId)) || testEvents[0];
  $("event-select").replaceChildren(...testEvents.map((e) => el("option", { value: e.id, text: e.name, selected: e === chosen })));
  setEventAction(chosen ? "saved" : "new");
}

function selectEvent(id) {
  const event = testEvents.find((e) => String(e.id) === String(id));
  if (event) setEventText(event.body);
}
$("event-select").addEventListener("change", () => selectEvent($("event-select").value));
$("event-template").addEventListener("change", () => setEventText(templates[$("event-template").value]));

function currentEventBody() {
  validateEventNow();
  if (eventError) return undefined;
  return JSON.parse(eventView.state.doc.toString());
}

$("event-save").addEventListener("click", async () => {
  const panel = document.querySelector('[data-panel="test"]');
  const body = currentEventBody();
  if (body === undefined) return;
  try {
    let saved;
    if (eventAction() === "saved") {
      saved = await api("PUT", `${BASE}/test-events/${$("event-select").value}`, { body });
    } else {
      const name = $("event-name").value.trim();
      if (!name) { showFieldErrors(panel, { field: "name", message: "Give the new event a name." }); return; }
      saved = await api("POST", `${BASE}/test-events`, { name, body });
      $("event-name").value = "";
    }
    showFieldErrors(panel, null);
    await loadTestEvents(saved.id);
    status(`Saved test event ${saved.name}.`, "ok");
  } catch (error) {
    if (showFieldErrors(panel, error)) status("");
    else status(error.message, "error");
  }
});
$("event-delete").addEventListener("click", async () => {
  const event = testEvents.find((e) => String(e.id) === $("event-select").value);
  if (!event || !confirm(`Delete the test event ${event.name}?`)) return;
  try {
    await api("DELETE", `${BASE}/test-events/${event.id}`);
    await loadTestEvents();
    status(`Deleted test event ${event.name}.`, "ok");
  } catch (error) {
    status(error.message, "error");
  }
});

// ---- test run with streaming logs -----------------------------------------------------------
function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function openLogStream(invocationId, onLines) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/functions/${encodeURIComponent(NAME)}/invocations/${invocationId}/`);
  const ready = new Promise((resolve, reject) => {
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "ready") resolve();
      else if (data.type === "log") onLines(data.seq, data.lines);
    });
    socket.addEventListener("close", () => reject(new Error("The log stream closed.")));
    socket.addEventListener("error", () => reject(new Error("The log stream could not open.")));
  });
  return { socket, ready };
}

function renderSummary(inv) {
  const rows = [
    ["Request ID", inv.request_id || "—"], ["Duration", fmtMs(inv.duration_ms)],
    ["Billed duration", inv.billed_ms === null ? "—" : `${inv.billed_ms} ms`],
    ["Memory size", `${inv.memory_mb} MB`],
    ["Max memory used", inv.max_memory_mb === null ? "—" : `${Math.round(inv.max_memory_mb)} MB`],
    ["Init duration", fmtMs(inv.init_ms)], ["Version", inv.version],
  ];
  $("result-summary").querySelector("tbody").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v }))));
}

function renderResult(inv) {
  const failed = inv.status === "failed";
  $("result").dataset.status = inv.status;
  $("result-head").className = `result-head ${failed ? "failed" : "succeeded"}`;
  $("result-status").textContent = failed ? "Execution result: failed" : "Execution result: succeeded";
  $("result-response").textContent = JSON.stringify(failed ? inv.error : inv.response, null, 2);
  if (inv.logs) logView.show(inv.logs);
  renderSummary(inv);
}

const logView = new LogView($("result-logs"), $("result-logs-note"));
logView.onDownload = (text) => download(`${NAME}-log.txt`, new Blob([text], { type: "text/plain" }));

let running = false;
async function runTest() {
  if (running) return;
  showTab("test");
  const body = currentEventBody();
  if (body === undefined) { status("Fix the test event's JSON first.", "error"); return; }
  if (fn.undeployed_changes || unsaved) status("Testing the deployed code: your latest changes are not deployed yet.", "warn");
  running = true;
  $("run-test").disabled = true; $("test-button").disabled = true;
  logView.clear();
  $("result-response").textContent = "Waiting for the function to return…";
  $("result-summary").querySelector("tbody").replaceChildren();
  $("result").hidden = false;
  $("result").dataset.status = "running";
  $("result-head").className = "result-head running";
  $("result-status").textContent = "Running…";
  const invocationId = newId();
  let lastSeq = 0;
  const stream = openLogStream(invocationId, (seq, lines) => {
    // Lines numbered up to lastSeq are shown already (a batch sent twice).
    const fresh = lines.slice(Math.max(0, lastSeq + 1 - seq));
    lastSeq = Math.max(lastSeq, seq + lines.length - 1);
    logView.append(fresh);
  });
  try {
    await stream.ready;
    // What runs is the event shown, edited or not, as in the console.
    const inv = await api("POST", `${BASE}/test`, { invocation_id: invocationId, event: body });
    renderResult(inv);
    if (!(fn.undeployed_changes || unsaved)) status("");
  } catch (error) {
    $("result-head").className = "result-head failed";
    $("result-status").textContent = error.message;
    status(error.message, "error");
  } finally {
    stream.socket.close();
    running = false;
    $("run-test").disabled = false; $("test-button").disabled = false;
  }
}
$("run-test").addEventListener("click", runTest);
$("test-button").addEventListener("click", runTest);

// ---- configuration --------------------------------------------------------------------------
const ENV_KEY = /^[A-Za-z][A-Za-z0-9_]+$/;
function envRow(key = "", value = "") {
  const row = el("tr", {},
    el("td", {}, el("input", { class: "env-key", value: key, placeholder: "KEY", "aria-label": "Key" })),
    el("td", {}, el("input", { class: "env-value", value: value, placeholder: "value", "aria-label": "Value" })),
    el("td", {}, el("button", { type: "button", class: "small", text: "Remove", onclick: () => { row.remove(); checkEnv(); } })));
  row.addEventListener("input", checkEnv);
  return row;
}
function envItems() {
  return [...document.querySelectorAll("#env-table tbody tr")].map((row) => ({
    key: row.querySelector(".env-key").value.trim(), value: row.querySelector(".env-value").value,
  }));
}
function checkEnv() {
  const seen = new Set();
  let size = 0, problem = "";
  document.querySelectorAll("#env-table tbody tr").forEach((row, i) => {
    const { key, value } = envItems()[i];
    const bad = !ENV_KEY.test(key) || seen.has(key);
    row.querySelector(".env-key").classList.toggle("invalid", bad);
    if (bad && !problem) problem = seen.has(key) ? `${key} is set twice.` : `Row ${i + 1}: a key starts with a letter and has at least 2 letters, digits or underscores.`;
    seen.add(key);
    size += new TextEncoder().encode(key + value).length;
  });
  if (!problem && size > 4096) problem = "Environment variables are limited to 4 KB in total.";
  $("env-size").textContent = `${size} / 4096 bytes`;
  document.querySelector('#config-form .field-error[data-field="env"]').textContent = problem;
  return !problem;
}
$("env-add").addEventListener("click", () => { $("env-table").querySelector("tbody").append(envRow()); checkEnv(); });

function fillConfig(config) {
  $("cfg-description").value = config.description;
  $("cfg-handler").value = config.handler;
  $("cfg-timeout").value = config.timeout;
  $("cfg-memory").value = config.memory;
  $("cfg-concurrency").value = config.reserved_concurrency ?? "";
  $("cfg-network").checked = config.network;
  $("cfg-layers").value = (config.layers || []).join("\n");
  $("env-table").querySelector("tbody").replaceChildren(...config.env.map((e) => envRow(e.key, e.value)));
  checkEnv();
}

$("config-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("config-form");
  if (!checkEnv()) return;
  const number = (id) => { const v = $(id).value.trim(); return v === "" ? null : Number(v); };
  const payload = {
    description: $("cfg-description").value, handler: $("cfg-handler").value.trim(),
    timeout: number("cfg-timeout"), memory: number("cfg-memory"),
    reserved_concurrency: number("cfg-concurrency"), network: $("cfg-network").checked, env: envItems(),
    layers: $("cfg-layers").value.split("\n").map((line) => line.trim()).filter(Boolean),
  };
  try {
    fn = await api("PUT", `${BASE}/configuration`, payload);
    showFieldErrors(form, null);
    renderDeployState();
    status(fn.undeployed_changes ? "Configuration saved and applied to the deployed code. Your code edits are still not deployed." : "Configuration saved and applied.", "ok");
  } catch (error) {
    if (!showFieldErrors(form, error)) status(error.message, "error");
  }
});

// ---- versions -------------------------------------------------------------------------------
async function loadVersions() {
  const data = await api("GET", `${BASE}/versions`);
  const body = $("versions").querySelector("tbody");
  body.replaceChildren(...(data.versions.length ? data.versions.map((v) => el("tr", { class: "clickable", onclick: () => showVersion(v.version) },
    el("td", {}, el("a", { href: "#", "data-version": v.version, text: v.version, onclick: (e) => e.preventDefault() })),
    el("td", { text: v.description || "—" }), el("td", { text: v.runtime }), el("td", { text: v.handler }),
    el("td", { class: "mono", text: v.code_sha256.slice(0, 16) }), el("td", { text: timeAgo(v.created_at) }),
    el("td", {}, v.install_log ? el("a", { href: "#", class: "install-log-link", "data-version": v.version, text: "Install log",
      onclick: (e) => { e.preventDefault(); e.stopPropagation(); showInstallLog(v); } }) : el("span", { class: "muted", text: "—" })))) :
    [el("tr", {}, el("td", { colspan: 7, class: "muted", text: "Nothing deployed yet." }))]));
}
function showInstallLog(v) {
  $("version-view").hidden = false;
  $("version-title").textContent = `Install log of version ${v.version}`;
  $("version-files").replaceChildren();
  $("version-code").textContent = v.install_log;
}
async function showVersion(label) {
  const version = await api("GET", `${BASE}/versions/${encodeURIComponent(label)}`);
  $("version-view").hidden = false;
  $("version-title").textContent = `Version ${version.version} (read-only)`;
  const names = Object.keys(version.files).sort();
  const show = (name) => {
    const content = version.files[name];
    $("version-code").textContent = textOf(content) ?? binaryNote(content);
    document.querySelectorAll("#version-files .filetab").forEach((b) => b.classList.toggle("active", b.textContent === name));
  };
  $("version-files").replaceChildren(...names.map((n) => el("button", { class: "filetab", text: n, onclick: () => show(n) })));
  show(names[0]);
}

// ---- monitor --------------------------------------------------------------------------------
// An asynchronous invocation's place in its queue: queued, running (attempt n), retrying at a
// time, succeeded or failed after n attempts; a synchronous one's status as it is.
function deliveryText(i) {
  const d = i.delivery;
  if (!d) return i.status;
  const attempts = `${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`;
  switch (d.state) {
    case "queued": return d.attempts ? `queued (after ${attempts})` : "queued";
    case "running": return `running (attempt ${d.attempts})`;
    case "retrying": return `retrying at ${new Date(d.retry_at).toLocaleTimeString()}`;
    case "succeeded": return d.attempts > 1 ? `succeeded after ${attempts}` : "succeeded";
    default: return `failed after ${attempts}`;
  }
}

async function loadMonitor() {
  const [metrics, recent] = await Promise.all([
    api("GET", `${BASE}/metrics?window=${$("metrics-window").value}`),
    api("GET", `${BASE}/invocations`),
  ]);
  const labels = metrics.buckets.map((b) => b.start);
  drawChart($("chart-invocations"), labels, [{ label: "Invocations", kind: "bar", color: "#3b82f6", values: metrics.buckets.map((b) => b.invocations) }]);
  drawChart($("chart-errors"), labels, [{ label: "Errors", kind: "bar", color: "#dc2626", values: metrics.buckets.map((b) => b.errors) }]);
  drawChart($("chart-duration"), labels, [
    { label: "p50", kind: "line", color: "#0d9488", values: metrics.buckets.map((b) => b.p50_ms) },
    { label: "p99", kind: "line", color: "#d97706", values: metrics.buckets.map((b) => b.p99_ms) },
  ]);
  // A link to one invocation (a schedule's fire: #invocation-<id>) marks its row.
  const linked = location.hash.startsWith("#invocation-") ? location.hash.slice("#invocation-".length) : null;
  $("invocations").querySelector("tbody").replaceChildren(...(recent.invocations.length ? recent.invocations.map((i) => el("tr", {
    id: `invocation-${i.id}`, class: i.id === linked ? "linked" : null },
    el("td", { text: timeAgo(i.started_at), title: i.started_at }),
    el("td", {}, el("span", { class: `status ${i.status}`, text: deliveryText(i) })),
    el("td", { text: i.source }), el("td", { text: i.version }), el("td", { class: "mono", text: i.request_id || "—" }),
    el("td", { text: fmtMs(i.duration_ms) }), el("td", { text: i.billed_ms === null ? "—" : `${i.billed_ms} ms` }),
    el("td", { text: i.max_memory_mb === null ? "—" : `${Math.round(i.max_memory_mb)} / ${i.memory_mb} MB` }),
    el("td", { text: fmtMs(i.init_ms) }))) :
    [el("tr", {}, el("td", { colspan: 9, class: "muted", text: "No invocations yet." }))]));
  if (linked) document.getElementById(`invocation-${linked}`)?.scrollIntoView({ block: "center" });
}
$("metrics-window").addEventListener("change", loadMonitor);
$("metrics-refresh").addEventListener("click", loadMonitor);

$("delete-function").addEventListener("click", async () => {
  if (!confirm(`Delete ${NAME} with its versions, test events and invocations?`)) return;
  try {
    await api("DELETE", BASE);
    window.location.href = "/";
  } catch (error) {
    status(error.message, "error");
  }
});

// ---- start ----------------------------------------------------------------------------------
// A Deploy still installing when the page opens (started here before, or from the Lambda API):
// the socket first, then the log stored so far, then the rest live, until it ends.
async function followOpenedInstall() {
  deployLog.clear();
  const stream = openDeployStream();
  stream.held = [];
  await stream.ready.catch(() => {});
  const now = await api("GET", BASE);
  const stored = now.last_update && now.last_update.log ? now.last_update.log.split("\n") : [];
  catchUp(stored, stream.held);
  stream.held = null;
  if (!(now.last_update && now.last_update.status === "InProgress")) stream.socket.close();   // ended meanwhile
  await followInstall(stream);
}

window.addEventListener("beforeunload", (event) => { if (unsaved) event.preventDefault(); });

async function start() {
  fn = await api("GET", BASE);
  loadFiles(fn.files);
  fillConfig(fn.configuration);
  renderDeployState();
  if (installing()) followOpenedInstall();
  await Promise.all([loadTestEvents(), startTriggers(BASE, status)]);
  root.dataset.ready = "true";
  if (location.hash.startsWith("#invocation-")) {
    showTab("monitor");
  }
}
start().catch((error) => status(error.message, "error"));
