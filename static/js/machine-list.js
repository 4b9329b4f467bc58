// The State machines page: name, type, role, latest version, last execution, last change.
import { api, el, timeAgo } from "./api.js";
import { statusWord, STATUS_LABELS } from "./ui.js";

const body = document.querySelector("#machines tbody");
const filter = document.getElementById("filter");
let machines = [];

function render() {
  const term = filter.value.trim().toLowerCase();
  const shown = machines.filter((m) => m.name.toLowerCase().includes(term));
  document.getElementById("machine-count").textContent = `(${machines.length})`;
  body.replaceChildren(...(shown.length ? shown.map((m) => el("tr", {},
    el("td", {}, el("a", { href: `/state-machines/${encodeURIComponent(m.name)}/`, class: "fname", text: m.name }),
      m.description ? el("div", { class: "muted small-text", text: m.description }) : null),
    el("td", { text: m.type === "EXPRESS" ? "Express" : "Standard" }),
    el("td", {}, el("a", { href: `/roles/${encodeURIComponent(m.role)}/`, text: m.role })),
    el("td", { text: m.latest_version ? `Version ${m.latest_version}` : "—" }),
    el("td", {}, m.last_execution
      ? el("a", { href: `/executions/${m.last_execution.id}/`, class: `xstatus small ${statusWord(m.last_execution.status)}`, title: m.last_execution.started_at },
        STATUS_LABELS[m.last_execution.status] ?? m.last_execution.status, " · ", timeAgo(m.last_execution.started_at))
      : el("span", { class: "muted", text: "never run" })),
    el("td", { text: timeAgo(m.updated_at), title: m.updated_at }),
  )) : [el("tr", {}, el("td", { colspan: 6, class: "muted", text: machines.length ? "No state machine matches." : "No state machines yet. Create one." }))]));
}

filter.addEventListener("input", render);
api("GET", "/api/state-machines").then((data) => { machines = data.state_machines; render(); document.body.dataset.ready = "true"; });
