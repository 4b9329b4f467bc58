// The execution page: header, input/output, the graph coloured live from the event stream, the
// selected state's runs (input, output, error, retries, function invocations), the event table and
// a timeline. Events come over a WebSocket that resumes from the last event id after a reconnect.
import { api, el, fmtMs } from "./api.js";
import { renderGraph, STATUSES } from "./graph-view.js";
import { pointersByName } from "./asl-model.js";
import { History, detailsOf } from "./execution-history.js";
import { Callbacks } from "./execution-callbacks.js";
import { download, fmtDuration, itemCountsText, mapRunPath, statusWord, STATUS_LABELS } from "./ui.js";

const root = document.getElementById("execution-app");
const ID = root.dataset.id;
const BASE = `/api/executions/${ID}`;
const $ = (id) => document.getElementById(id);

let execution = null;
let history = null;
let graph = null;
let selected = null;
let invocations = [];
let iteration = "";
const expanded = new Set();
// The tasks waiting on a token (with forms to answer them), "Started by", started executions and
// Map Runs (whose counts the history's MapRunStarted rows show as well).
const callbacks = new Callbacks($("callbacks"), ID, {
  onAnswered: () => { if (selected) renderDetail(); },
  onLoaded: () => { renderRunCounts(); if (selected && history) renderDetail(); },
});

// ---- header ---------------------------------------------------------------------------------
function renderHeader() {
  const e = execution;
  const word = statusWord(e.status);
  $("execution-status").className = `xstatus ${word}`;
  $("execution-status").textContent = STATUS_LABELS[e.status] ?? e.status;
  root.dataset.status = e.status;
  const started = Date.parse(e.started_at);
  const stopped = e.stopped_at ? Date.parse(e.stopped_at) : null;
  const facts = [
    ["Status", el("span", { class: `xstatus ${word}`, text: STATUS_LABELS[e.status] ?? e.status })],
    ["Started", new Date(started).toLocaleString()],
    ["Ended", stopped ? new Date(stopped).toLocaleString() : "—"],
    ["Duration", fmtDuration((stopped ?? Date.now()) - started) + (stopped ? "" : " so far")],
    ["State transitions", String(Math.max(e.transitions ?? 0, history ? history.runs.length : 0))],
    ["Version", el("a", { href: `/state-machines/${encodeURIComponent(e.machine)}/`, text: `Version ${e.version}` })],
    ["Type", e.type === "EXPRESS" ? "Express" : "Standard"],
    ["Role", el("a", { href: `/roles/${encodeURIComponent(e.role)}/`, text: e.role })],
    ["Redrives", String(e.redrive_count ?? 0)],
  ];
  $("execution-arn").textContent = e.arn;
  $("facts").replaceChildren(...facts.map(([k, v]) => el("div", { class: "fact" }, el("span", { class: "k", text: k }), el("span", { class: "v" }, v))));
  $("stop").hidden = e.status !== "RUNNING";
  $("redrive").hidden = !["FAILED", "TIMED_OUT", "ABORTED"].includes(e.status);
  $("execution-input").textContent = pretty(e.input);
  $("execution-output").textContent = e.status === "RUNNING" ? "Not finished yet." : (e.output === null || e.output === undefined ? "No output" : pretty(e.output));
  // As the console shows it: the error and the cause, each only when the execution has one.
  const errorBox = $("execution-error");
  errorBox.hidden = !(e.error || e.cause);
  errorBox.replaceChildren(...[e.error ? el("b", { text: e.error }) : null,
    e.cause ? el("div", { class: "mono cause", text: e.cause }) : null].filter(Boolean));
}

function pretty(text) {
  if (text === null || text === undefined) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return String(text); }
}

$("stop").addEventListener("click", async () => {
  if (!confirm("Stop this execution? States still running are cancelled.")) return;
  try { execution = await api("POST", `${BASE}/stop`); renderHeader(); } catch (error) { alert(error.message); }
});
$("redrive").addEventListener("click", async () => {
  try {
    execution = await api("POST", `${BASE}/redrive`);
    renderHeader();
    connect();
  } catch (error) { alert(error.message); }
});

// ---- the graph ------------------------------------------------------------------------------
const LEGEND = [["running", "In progress"], ["succeeded", "Succeeded"], ["failed", "Failed"], ["caught", "Caught error"], ["cancelled", "Cancelled"], ["not-run", "Not run"]];
$("legend").replaceChildren(...LEGEND.map(([s, label]) => el("span", { class: "lg" }, el("i", { class: `sw ${s}` }), label)));

function paint() {
  if (!graph) return;
  // An iteration picked: its states show that iteration's status, the others their overall one.
  const statuses = history.statuses(iteration);
  const overall = iteration ? history.statuses("") : statuses;
  const finished = execution.status !== "RUNNING";
  for (const ptr of pointersByName(execution.definition).values()) {
    const status = statuses.get(ptr) ?? overall.get(ptr) ?? (finished ? "not-run" : null);
    if (status === null || STATUSES.includes(status)) graph.highlight(ptr, status);
  }
}
$("copy-arn").addEventListener("click", () => navigator.clipboard?.writeText(execution?.arn ?? ""));
$("zoom-in").addEventListener("click", () => graph?.zoomBy(1.25));
$("zoom-out").addEventListener("click", () => graph?.zoomBy(0.8));
$("fit").addEventListener("click", () => graph?.fit());
$("export-svg").addEventListener("click", () => graph && download(`${execution.name}.svg`, new Blob([graph.exportSvg()], { type: "image/svg+xml" })));
$("export-png").addEventListener("click", async () => graph && download(`${execution.name}.png`, await graph.exportPng()));

// ---- the selected state ---------------------------------------------------------------------
// Until the user picks a state, the panel follows the state running now (or the one that failed).
let picked = false;
function follow() {
  if (picked) return;
  const run = [...history.runs].reverse().find((r) => r.pointer && (r.status === "running" || r.status === "failed"));
  if (run && run.pointer !== selected) selectState(run.pointer, false);
}

function selectState(ptr, byUser = true) {
  if (byUser) picked = true;
  selected = ptr;
  graph?.select(ptr);
  renderDetail();
  document.querySelectorAll("#state-runs tbody tr").forEach((r) => r.classList.toggle("active", r.dataset.pointer === ptr));
}

function block(title, text, cls = "") {
  return [el("h4", { text: title }), el("pre", { class: `output small ${cls}`, text })];
}

function renderDetail() {
  const box = $("state-detail");
  if (!selected) return;
  const name = [...pointersByName(execution.definition)].find(([, p]) => p === selected)?.[0] ?? selected;
  const runs = history.runs.filter((r) => r.pointer === selected && (!iteration || r.iteration.startsWith(iteration)));
  const children = [el("h2", { class: "ihead" }, name, el("span", { class: "muted small-text", text: ` · ${runs.length ? `${runs.length} run${runs.length === 1 ? "" : "s"}` : "not run"}` })),
    callbacks.panelFor(name)].filter(Boolean);
  runs.forEach((run, k) => {
    const invs = invocations.filter((i) => i.state === run.name && Date.parse(i.started_at) >= run.start - 1000 && (run.end === null || Date.parse(i.started_at) <= run.end + 1000));
    children.push(el("div", { class: `run ${run.status}`, "data-run": run.id },
      el("div", { class: "run-head" }, el("span", { class: `pill ${run.status}`, text: run.status }),
        run.iteration ? el("span", { class: "muted", text: run.iteration }) : null,
        el("span", { class: "muted", text: `${run.type} · ${fmtDuration((run.end ?? Date.now()) - run.start)}` }), runs.length > 1 ? el("span", { class: "muted", text: `run ${k + 1}` }) : null),
      ...block("Input", pretty(run.input)),
      ...(run.output !== null ? block("Output", pretty(run.output)) : []),
      ...(run.error || run.cause ? block("Error", [run.error, run.cause && pretty(run.cause)].filter(Boolean).join("\n"), "error") : []),
      run.attempts.length ? el("div", {}, el("h4", { text: "Attempts" }), el("table", { class: "mini attempts" },
        el("thead", {}, el("tr", {}, ...["#", "Status", "Duration", "Error"].map((h) => el("th", { text: h })))),
        el("tbody", {}, ...run.attempts.map((a, i) => el("tr", {}, el("td", { text: String(i + 1) }), el("td", {}, el("span", { class: `pill ${a.status}`, text: a.status })),
          el("td", { text: fmtDuration((a.end ?? Date.now()) - a.start) }), el("td", { class: "mono", text: a.error ? `${a.error}` : "—" })))))) : null,
      ...invs.map((inv) => el("div", { class: "invocation" },
        el("h4", {}, `Function ${inv.function} `, el("span", { class: `status ${inv.status}`, text: inv.status })),
        el("div", { class: "figures" }, ...[["Duration", fmtMs(inv.duration ?? inv.duration_ms)], ["Billed", inv.billed_ms != null ? `${inv.billed_ms} ms` : "—"],
          ["Memory", inv.max_memory_mb != null ? `${Math.round(inv.max_memory_mb)} / ${inv.memory_mb} MB` : "—"], ["Init", fmtMs(inv.init_ms)], ["Request", inv.request_id || "—"]]
          .map(([k, v]) => el("span", {}, el("b", { text: k }), " ", v))),
        el("pre", { class: "output small logs", text: inv.logs || "(no logs)" })))));
  });
  box.replaceChildren(...children);
}

// ---- events table ---------------------------------------------------------------------------
function stepOf(event) {
  if (event.type.startsWith("Execution")) return "";
  const d = detailsOf(event);
  if (d.name) return d.name;
  return history.runFor(event)?.name ?? "";
}
function resourceOf(event) {
  const d = detailsOf(event);
  return d.resource ?? d.resourceType ?? "";
}
// A MapRunStarted event's cell: a link to its Map Run's page (…:mapRun:MACHINE/LABEL:ID), and the
// run's counts once the callbacks are read (renderRunCounts).
function resourceCell(event) {
  const arn = event.type === "MapRunStarted" ? detailsOf(event).mapRunArn : null;
  if (!arn) return el("td", { class: "mono small-text", text: resourceOf(event) });
  const id = arn.slice(arn.lastIndexOf(":") + 1);
  const label = arn.slice(arn.lastIndexOf("/") + 1, arn.lastIndexOf(":"));
  return el("td", { class: "small-text" },
    el("a", { class: "map-run-link", href: mapRunPath(ID, id), text: `Map Run ${label}`, onclick: (ev) => ev.stopPropagation() }),
    el("span", { class: "muted run-counts", "data-map-run": id }));
}
function renderRunCounts() {
  document.querySelectorAll("#events .run-counts[data-map-run]").forEach((span) => {
    const run = callbacks.mapRun(span.dataset.mapRun);
    span.textContent = run ? ` · ${itemCountsText(run.counts)}` : "";
  });
}

let renderedEvents = 0;
function renderEvents() {
  const body = $("events").querySelector("tbody");
  const term = $("event-filter").value.trim().toLowerCase();
  const type = $("event-type-filter").value;
  const types = [...new Set(history.events.map((e) => e.type))].sort();
  const select = $("event-type-filter");
  if (select.options.length - 1 !== types.length) {
    select.replaceChildren(el("option", { value: "", text: "All types" }), ...types.map((t) => el("option", { value: t, text: t, selected: t === type })));
  }
  const shown = history.events.filter((e) => (!type || e.type === type) &&
    (!term || `${e.id} ${e.type} ${stepOf(e)} ${resourceOf(e)} ${JSON.stringify(detailsOf(e))}`.toLowerCase().includes(term)));
  body.replaceChildren(...shown.flatMap((e) => {
    const row = el("tr", { class: `clickable ev ${/Failed|TimedOut|Aborted/.test(e.type) ? "bad" : /Succeeded|Exited/.test(e.type) ? "good" : ""}`, "data-event": e.id,
      onclick: () => { if (expanded.has(e.id)) expanded.delete(e.id); else expanded.add(e.id); renderEvents(); } },
      el("td", { class: "mono", text: String(e.id) }), el("td", {}, el("span", { class: "caret", text: expanded.has(e.id) ? "▾ " : "▸ " }), e.type),
      el("td", {}, stepOf(e) ? el("a", { href: "#", text: stepOf(e), onclick: (ev) => { ev.preventDefault(); ev.stopPropagation(); const p = history.runFor(e)?.pointer ?? pointersByName(execution.definition).get(stepOf(e)); if (p) selectState(p); } }) : ""),
      resourceCell(e),
      el("td", { class: "mono", text: history.start !== null ? `${Math.max(0, e.at - history.start)} ms` : "" }),
      el("td", { class: "mono small-text", text: e.timestamp }));
    if (!expanded.has(e.id)) return [row];
    const details = Object.fromEntries(Object.entries(detailsOf(e)).map(([k, v]) => [k, typeof v === "string" && /^(input|output|cause|parameters)$/.test(k) ? tryParse(v) : v]));
    return [row, el("tr", { class: "details" }, el("td", { colspan: 6 }, el("pre", { class: "output small", text: JSON.stringify(details, null, 2) })))];
  }));
  renderRunCounts();
  $("event-count").textContent = `${shown.length} of ${history.events.length} events`;
  renderedEvents = history.events.length;
  root.dataset.events = String(history.events.length);
}
function tryParse(text) {
  try { return JSON.parse(text); } catch { return text; }
}
$("event-filter").addEventListener("input", renderEvents);
$("event-type-filter").addEventListener("change", renderEvents);

// ---- states table, iterations, timeline -----------------------------------------------------
function renderStates() {
  const picker = $("iteration-filter");
  const iterations = [...history.iterations].sort();
  if (picker.options.length - 1 !== iterations.length) {
    picker.replaceChildren(el("option", { value: "", text: "All" }), ...iterations.map((it) => el("option", { value: it, text: it, selected: it === iteration })));
  }
  const runs = history.runs.filter((r) => !iteration || r.iteration.startsWith(iteration));
  $("state-runs").querySelector("tbody").replaceChildren(...(runs.length ? runs.map((r) => el("tr", { class: `clickable${r.pointer === selected ? " active" : ""}`, "data-pointer": r.pointer ?? "", onclick: () => r.pointer && selectState(r.pointer) },
    el("td", { class: "sname", text: r.name }), el("td", { text: r.type }), el("td", {}, el("span", { class: `pill ${r.status}`, text: r.status })),
    el("td", { class: "muted", text: r.iteration || "—" }), el("td", { text: String(Math.max(1, r.attempts.length)) }),
    el("td", { class: "mono", text: history.start !== null ? `${r.start - history.start} ms` : "" }), el("td", { class: "mono", text: fmtDuration((r.end ?? Date.now()) - r.start) }))) :
    [el("tr", {}, el("td", { colspan: 7, class: "muted", text: "No state has run yet." }))]));
}
$("iteration-filter").addEventListener("change", () => { iteration = $("iteration-filter").value; paint(); renderStates(); renderTimeline(); renderDetail(); });

function renderTimeline() {
  const box = $("timeline");
  const runs = history.runs.filter((r) => !iteration || r.iteration.startsWith(iteration));
  if (!runs.length || history.start === null) { box.replaceChildren(el("p", { class: "muted", text: "No state has run yet." })); return; }
  const end = history.end ?? Math.max(Date.now(), ...runs.map((r) => r.end ?? r.start));
  const span = Math.max(1, end - history.start);
  const pct = (t) => `${((t - history.start) / span) * 100}%`;
  const width = (a, b) => `${Math.max(0.4, ((b - a) / span) * 100)}%`;
  box.replaceChildren(el("div", { class: "tl-axis" }, el("span", { text: "0 ms" }), el("span", { text: fmtDuration(span) })),
    ...runs.map((r) => el("div", { class: "tl-row", onclick: () => r.pointer && selectState(r.pointer) },
      el("div", { class: "tl-label", title: r.iteration }, r.name, r.iteration ? el("span", { class: "muted", text: ` ${r.iteration}` }) : null),
      el("div", { class: "tl-track" },
        el("div", { class: `tl-bar ${r.status} ${r.type === "Wait" ? "wait" : ""}`, style: `left:${pct(r.start)};width:${width(r.start, r.end ?? end)}`, title: `${r.name}: ${fmtDuration((r.end ?? end) - r.start)}` }),
        ...r.attempts.map((a, i) => el("div", { class: `tl-attempt ${a.status}`, style: `left:${pct(a.start)};width:${width(a.start, a.end ?? end)}`, title: `attempt ${i + 1}: ${a.status}` }))))));
}

// ---- the stream -----------------------------------------------------------------------------
let socket = null;
let retryDelay = 500;
const MAX_RETRY_DELAY = 15000;
let frame = 0;
function scheduleRender() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    paint();
    renderEvents();
    renderStates();
    renderTimeline();
    follow();
    if (selected) renderDetail();
  });
}

function lastId() {
  return history.events.length ? history.events[history.events.length - 1].id : 0;
}

function connect() {
  if (socket && socket.readyState <= 1) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/executions/${ID}/`);
  window.flowbench.socket = socket;
  window.flowbench.connections += 1;
  socket.addEventListener("open", () => {
    retryDelay = 500;
    $("live").hidden = false;
    $("live-paused").hidden = true;
    socket.send(JSON.stringify({ type: "subscribe", after: lastId() }));
  });
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "events") {
      if (history.add(data.events)) scheduleRender();
      // A task submitted, answered or timed out; an execution started: the callbacks changed.
      // A Map Run started or ended: so did the runs' list.
      if (data.events.some((e) => /^(Task(Submitted|Succeeded|Failed|TimedOut)|MapRun(Started|Succeeded|Failed))$/.test(e.type))) callbacks.load();
    } else if (data.type === "execution") {
      const wasRunning = execution.status === "RUNNING";
      execution = { ...execution, ...data.execution };
      renderHeader();
      scheduleRender();
      if (execution.status !== "RUNNING") {
        $("live").hidden = true;
        loadInvocations();
        callbacks.load();
        if (wasRunning) socket.close();
      }
    }
  });
  socket.addEventListener("close", (event) => {
    $("live").hidden = true;
    // 4401 signed out, 4404 no such execution of yours: reconnecting cannot help.
    if (execution.status !== "RUNNING" || [4401, 4404].includes(event.code)) return;
    // 4429: this user has too many execution pages open; one may close, so try again slowly.
    $("live-paused").hidden = event.code !== 4429;
    if (event.code === 4429) retryDelay = MAX_RETRY_DELAY;
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_DELAY);
  });
}

async function loadInvocations() {
  try {
    invocations = (await api("GET", `${BASE}/invocations`)).invocations;
    if (selected) renderDetail();
  } catch { /* figures are extra */ }
}

document.querySelectorAll(".tabs [data-tab]").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll(".tabs [data-tab]").forEach((x) => x.classList.toggle("active", x === b));
  document.querySelectorAll(".tabpanel").forEach((p) => { p.hidden = p.dataset.panel !== b.dataset.tab; });
}));
setInterval(() => { if (execution?.status === "RUNNING") { renderHeader(); renderTimeline(); } }, 1000);

// For the curious and the browser tests: the history read so far and the live socket.
window.flowbench = { history: null, socket: null, connections: 0 };

async function start() {
  execution = await api("GET", BASE);
  history = new History(pointersByName(execution.definition));
  window.flowbench.history = history;
  renderHeader();
  graph = await renderGraph($("exec-graph"), execution.dot, { onSelect: selectState });
  // The stored history first (one request), then the stream from the last id we have.
  const stored = await api("GET", `${BASE}/events?after=0`);
  history.add(stored.events);
  scheduleRender();
  if (execution.status === "RUNNING") connect();
  loadInvocations();
  await callbacks.load();
  root.dataset.ready = "true";
}
start().catch((error) => { $("execution-error").hidden = false; $("execution-error").textContent = error.message; });
