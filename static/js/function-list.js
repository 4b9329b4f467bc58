// The Functions page: the user's functions with runtime, description, last change and last invocation.
import { api, el, timeAgo } from "./api.js";

const body = document.querySelector("#functions tbody");
const filter = document.getElementById("filter");
let functions = [];

function statusCell(last) {
  if (!last) return el("span", { class: "muted", text: "never invoked" });
  return el("span", { class: `status ${last.status}`, title: last.started_at }, last.status, " · ", timeAgo(last.started_at));
}

function render() {
  const term = filter.value.trim().toLowerCase();
  const shown = functions.filter((f) => f.name.toLowerCase().includes(term));
  document.getElementById("function-count").textContent = `(${functions.length})`;
  body.replaceChildren(...(shown.length ? shown.map((f) => el("tr", {},
    el("td", {}, el("a", { href: `/functions/${encodeURIComponent(f.name)}/`, class: "fname" }, f.name),
      f.undeployed_changes ? el("span", { class: "badge warn tiny", text: "not deployed" }) : null),
    el("td", { class: "desc", text: f.description || "—" }),
    el("td", { text: f.runtime === "nodejs" ? "Node.js" : "Python" }),
    el("td", { text: timeAgo(f.updated_at), title: f.updated_at }),
    el("td", {}, statusCell(f.last_invocation)),
  )) : [el("tr", {}, el("td", { colspan: 5, class: "muted", text: functions.length ? "No function matches." : "No functions yet. Create one." }))]));
}

filter.addEventListener("input", render);
api("GET", "/api/functions").then((data) => { functions = data.functions; render(); });
