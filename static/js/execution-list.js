// A state machine's executions, newest first, filterable by status.
import { api, el, timeAgo } from "./api.js";
import { fmtDuration, statusWord, STATUS_LABELS } from "./ui.js";

const root = document.getElementById("executions-app");
const NAME = root.dataset.name;
const select = document.getElementById("status-filter");
select.value = new URLSearchParams(location.search).get("status") ?? "";

async function load() {
  const query = select.value ? `?status=${encodeURIComponent(select.value)}` : "";
  const data = await api("GET", `/api/state-machines/${encodeURIComponent(NAME)}/executions${query}`);
  document.getElementById("execution-count").textContent = `(${data.executions.length})`;
  document.querySelector("#executions tbody").replaceChildren(...(data.executions.length ? data.executions.map((e) => el("tr", {},
    el("td", {}, el("a", { href: `/executions/${e.id}/`, class: "fname", text: e.name })),
    el("td", {}, el("span", { class: `xstatus small ${statusWord(e.status)}`, text: STATUS_LABELS[e.status] ?? e.status })),
    el("td", { text: `Version ${e.version}` }),
    el("td", { text: timeAgo(e.started_at), title: e.started_at }),
    el("td", { text: e.stopped_at ? timeAgo(e.stopped_at) : "—", title: e.stopped_at || "" }),
    el("td", { class: "mono", text: fmtDuration((e.stopped_at ? Date.parse(e.stopped_at) : Date.now()) - Date.parse(e.started_at)) }),
  )) : [el("tr", {}, el("td", { colspan: 6, class: "muted", text: select.value ? "No execution with this status." : "No executions yet." }))]));
  root.dataset.ready = "true";
}
select.addEventListener("change", () => {
  history.replaceState(null, "", select.value ? `?status=${select.value}` : location.pathname);
  load();
});
document.getElementById("refresh").addEventListener("click", load);
load();
