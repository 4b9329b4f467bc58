// The Roles page: each role with its trusted entities and the state machines using it.
import { api, el, timeAgo } from "./api.js";

const body = document.querySelector("#roles tbody");
const filter = document.getElementById("filter");
let roles = [];

function render() {
  const term = filter.value.trim().toLowerCase();
  const shown = roles.filter((r) => r.name.toLowerCase().includes(term));
  document.getElementById("role-count").textContent = `(${roles.length})`;
  body.replaceChildren(...(shown.length ? shown.map((r) => el("tr", {},
    el("td", {}, el("a", { href: `/roles/${encodeURIComponent(r.name)}/`, class: "fname", text: r.name })),
    el("td", { class: "desc", text: r.description || "—" }),
    el("td", { text: (r.trusted || []).join(", ") || "—" }),
    el("td", {}, ...(r.machines.length ? r.machines.map((m, i) => [i ? ", " : "", el("a", { href: `/state-machines/${encodeURIComponent(m)}/`, text: m })]).flat() : [el("span", { class: "muted", text: "no state machine" })])),
    el("td", { text: timeAgo(r.updated_at), title: r.updated_at }),
  )) : [el("tr", {}, el("td", { colspan: 5, class: "muted", text: roles.length ? "No role matches." : "No roles yet. Create one." }))]));
}

filter.addEventListener("input", render);
api("GET", "/api/roles").then((data) => { roles = data.roles; render(); document.body.dataset.ready = "true"; });
