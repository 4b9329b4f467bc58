// A Distributed Map's run (the console's Map Run page): its ARN and settings, its items by how far
// they got (a progress bar and the counts) and its child executions, a page of them at a time,
// filterable by status. While the run is RUNNING and the page is visible, it reads the run again
// every POLL_MS; once the run ended, it stops. While it runs, Edit changes its maximum concurrency
// and tolerated failures (UpdateMapRun, as the API's PATCH).
import { api, el, showFieldErrors, timeAgo } from "./api.js";
import { fmtDuration, statusWord, STATUS_LABELS } from "./ui.js";

const root = document.getElementById("map-run-app");
const PARENT = root.dataset.execution;
const PATH = `/api/executions/${PARENT}/map-runs/${root.dataset.id}`;
const POLL_MS = 1500;
const $ = (id) => document.getElementById(id);

// The counts in the order the bar and the boxes show them; `pending` is items not started yet.
const COUNTS = [["succeeded", "Succeeded"], ["failed", "Failed"], ["timed_out", "Timed out"], ["aborted", "Aborted"],
  ["running", "Running"], ["pending", "Pending"]];

const query = new URLSearchParams(location.search);
const select = $("status-filter");
select.value = query.get("status") ?? "";
let page = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
let run = null;
let timer = null;
let asked = 0;   // the latest read's number: an older answer arriving late is dropped

// The run with the page of children shown: GET's and PATCH's query.
function runPath() {
  const params = new URLSearchParams({ page: String(page), ...(select.value ? { status: select.value } : {}) });
  return `${PATH}?${params}`;
}

async function load() {
  clearTimeout(timer);
  const mine = ++asked;
  try {
    const data = await api("GET", runPath());
    if (mine !== asked) return;
    run = data;
    render();
  } catch (error) {
    if (mine !== asked) return;
    $("map-run-error").hidden = false;
    $("map-run-error").textContent = error.message;
  }
  poll();
}

function poll() {
  clearTimeout(timer);
  if (run?.status === "RUNNING" && document.visibilityState === "visible") timer = setTimeout(load, POLL_MS);
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && run?.status === "RUNNING") load();
  else clearTimeout(timer);
});

function render() {
  const word = statusWord(run.status);
  $("map-run-status").className = `xstatus ${word}`;
  $("map-run-status").textContent = STATUS_LABELS[run.status] ?? run.status;
  root.dataset.status = run.status;
  $("edit-run").hidden = run.status !== "RUNNING";
  $("map-run-arn").textContent = run.arn;
  const started = Date.parse(run.started_at);
  const stopped = run.stopped_at ? Date.parse(run.stopped_at) : null;
  const percentage = run.tolerated_failure_percentage;
  const facts = [
    ["Status", el("span", { class: `xstatus ${word}`, text: STATUS_LABELS[run.status] ?? run.status })],
    ["Parent execution", el("a", { href: `/executions/${run.execution.id}/`, text: run.execution.name, id: "parent-link" })],
    ["Map state", run.state],
    ["Started", new Date(started).toLocaleString()],
    ["Ended", stopped ? new Date(stopped).toLocaleString() : "—"],
    ["Duration", fmtDuration((stopped ?? Date.now()) - started) + (stopped ? "" : " so far")],
    ["Max concurrency", run.max_concurrency ? String(run.max_concurrency) : "No limit"],
    ["Tolerated failure count", String(run.tolerated_failure_count)],
    ["Tolerated failure %", `${Number.isInteger(percentage) ? percentage : percentage.toFixed(2)}%`],
  ];
  $("facts").replaceChildren(...facts.map(([k, v]) => el("div", { class: "fact" }, el("span", { class: "k", text: k }), el("span", { class: "v" }, v))));
  const errorBox = $("map-run-error");
  errorBox.hidden = !(run.error || run.cause);
  errorBox.replaceChildren(...[run.error ? el("b", { text: run.error }) : null,
    run.cause ? el("div", { class: "mono cause", text: run.cause }) : null].filter(Boolean));
  renderCounts();
  renderChildren();
  root.dataset.ready = "true";
}

function renderCounts() {
  const counts = run.counts;
  const total = Math.max(1, counts.total);
  const done = counts.total - counts.running - counts.pending;
  $("progress").replaceChildren(...COUNTS.filter(([key]) => counts[key]).map(([key, label]) =>
    el("span", { class: `seg ${key}`, style: `width:${(counts[key] / total) * 100}%`, title: `${label}: ${counts[key]}` })));
  $("progress").setAttribute("aria-label", `${done} of ${counts.total} items processed`);
  $("item-counts").replaceChildren(
    ...COUNTS.map(([key, label]) => el("div", { class: `item-count ${key}`, "data-count": key },
      el("span", { class: "k" }, el("i", { class: `seg ${key}` }), label), el("span", { class: "v", text: String(counts[key]) }))),
    el("div", { class: "item-count total", "data-count": "total" }, el("span", { class: "k", text: "Total" }),
      el("span", { class: "v", text: String(counts.total) })));
}

function renderChildren() {
  const { children, matching, pages } = run;
  $("child-count").textContent = `(${matching})`;
  $("page-of").textContent = `Page ${run.page} of ${pages}`;
  $("prev-page").disabled = run.page <= 1;
  $("next-page").disabled = run.page >= pages;
  const empty = select.value ? "No child execution with this status." : "No child execution started yet.";
  $("children").querySelector("tbody").replaceChildren(...(children.length ? children.map((c) => el("tr", { "data-index": c.index },
    el("td", { class: "mono", text: String(c.index) }),
    el("td", {}, el("a", { href: `/executions/${c.id}/`, class: "fname mono", text: c.name })),
    el("td", {}, el("span", { class: `xstatus small ${statusWord(c.status)}`, text: STATUS_LABELS[c.status] ?? c.status })),
    el("td", { text: timeAgo(c.started_at), title: c.started_at }),
    el("td", { text: c.stopped_at ? timeAgo(c.stopped_at) : "—", title: c.stopped_at || "" }),
    el("td", { class: "mono", text: fmtDuration((c.stopped_at ? Date.parse(c.stopped_at) : Date.now()) - Date.parse(c.started_at)) }),
  )) : [el("tr", {}, el("td", { colspan: 6, class: "muted", text: empty }))]));
}

// The filter and the page are in the address, so that a reload or a shared link shows the same.
function go(toPage) {
  page = toPage;
  const params = new URLSearchParams({ ...(select.value ? { status: select.value } : {}), ...(page > 1 ? { page: String(page) } : {}) });
  history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
  load();
}
select.addEventListener("change", () => go(1));
$("prev-page").addEventListener("click", () => go(page - 1));
$("next-page").addEventListener("click", () => go(page + 1));
$("copy-arn").addEventListener("click", () => navigator.clipboard?.writeText(run?.arn ?? ""));

// ---- Edit (a running run only; one that ends meanwhile is refused by the API, and the form says so)
const form = $("edit-form");
$("edit-run").addEventListener("click", () => {
  $("edit-max-concurrency").value = run.max_concurrency;
  $("edit-tolerated-count").value = run.tolerated_failure_count;
  $("edit-tolerated-percentage").value = run.tolerated_failure_percentage;
  showFieldErrors(form, null);
  $("edit-error").hidden = true;
  $("edit-dialog").showModal();
  $("edit-max-concurrency").focus();
});
$("edit-cancel").addEventListener("click", () => $("edit-dialog").close());
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  // What is typed goes as is (an empty box as null): the API says what is wrong, by field.
  const number = (id) => { const v = $(id).value.trim(); return v === "" ? null : Number(v); };
  $("edit-save").disabled = true;
  $("edit-error").hidden = true;
  try {
    const data = await api("PATCH", runPath(), {
      max_concurrency: number("edit-max-concurrency"), tolerated_failure_count: number("edit-tolerated-count"),
      tolerated_failure_percentage: number("edit-tolerated-percentage"),
    });
    ++asked;   // a read sent before the save would show the old settings: drop it
    run = data;
    $("edit-dialog").close();
    render();
    poll();
  } catch (error) {
    if (!showFieldErrors(form, error)) { $("edit-error").textContent = error.message; $("edit-error").hidden = false; }
  } finally {
    $("edit-save").disabled = false;
  }
});
load();
