// The WebSocket APIs page: each API's stages (the addresses clients connect to), its routes and the
// functions they call, its live connections and the messages of its last minutes, asked for again
// every two seconds.
import { api, el, timeAgo } from "./api.js";

const root = document.getElementById("apis");
const REFRESH_MS = 2000;

function table(id, headings, rows, empty) {
  const body = rows.length ? rows : [el("tr", {}, el("td", { colspan: headings.length, class: "muted", text: empty }))];
  return el("table", { class: "grid bordered", id },
    el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { text: h })))),
    el("tbody", {}, ...body));
}

function routeRow(route) {
  const target = route.missing
    ? el("span", { class: "target-missing" }, `${route.function} `, el("span", { class: "badge danger tiny", text: "Target deleted" }),
      el("div", { class: "trigger-reason", text: route.missing }))
    : route.function
    ? el("a", { href: `/functions/${encodeURIComponent(route.function)}/`, text: route.function })
    : el("span", { class: "muted", text: "no integration" });
  return el("tr", { "data-route": route.route_key },
    el("td", { class: "mono", text: route.route_key }), el("td", {}, target),
    el("td", { text: route.two_way ? "two-way (route response)" : "one-way" }));
}

function connectionRow(c) {
  return el("tr", { "data-connection": c.connection_id },
    el("td", { class: "mono", text: c.connection_id }), el("td", { text: c.stage }),
    el("td", { text: c.source_ip }), el("td", { class: "desc", text: c.user_agent || "—" }),
    el("td", { text: timeAgo(c.connected_at), title: c.connected_at }),
    el("td", { text: timeAgo(c.last_active_at), title: c.last_active_at }));
}

const ARROWS = { in: "→ in", out: "← out", connect: "connect", disconnect: "disconnect" };

function messageRow(m) {
  return el("tr", { class: `message ${m.direction}` },
    el("td", { text: new Date(m.at).toLocaleTimeString(), title: m.at }),
    el("td", { text: ARROWS[m.direction] || m.direction }), el("td", { class: "mono", text: m.connection_id }),
    el("td", { class: "mono", text: m.route_key || "—" }), el("td", { text: `${m.size} B` }),
    el("td", { class: "mono desc", text: m.excerpt }));
}

function section(a) {
  return el("section", { class: "card", id: a.api_id, "data-api": a.api_id },
    el("h2", { text: `${a.name} ` }, el("span", { class: "muted mono", text: a.api_id })),
    el("p", { class: "hint" }, "Route selection expression ", el("code", { text: a.route_selection_expression })),
    el("h3", { text: "Stages" }),
    table(`stages-${a.api_id}`, ["Stage", "Connect to"], a.stages.map((s) => el("tr", {},
      el("td", { text: s.name }), el("td", { class: "mono", text: s.url }))), "No stage yet: clients cannot connect."),
    el("h3", { text: "Routes" }),
    table(`routes-${a.api_id}`, ["Route key", "Function", "Response"], a.routes.map(routeRow), "No routes yet."),
    el("h3", { text: `Live connections (${a.connections.length})` }),
    table(`connections-${a.api_id}`, ["Connection id", "Stage", "Source IP", "User agent", "Connected", "Last active"],
      a.connections.map(connectionRow), "Nobody is connected."),
    el("h3", { text: "Messages of the last 5 minutes" }),
    table(`messages-${a.api_id}`, ["Time", "Direction", "Connection", "Route", "Size", "Data"],
      a.messages.map(messageRow), "No messages in the last 5 minutes."));
}

async function load() {
  try {
    const data = await api("GET", "/api/websocket-apis");
    document.getElementById("api-count").textContent = `(${data.apis.length})`;
    root.replaceChildren(...(data.apis.length ? data.apis.map(section)
      : [el("p", { class: "muted", text: "No WebSocket APIs yet. Create one with apigatewayv2's CreateApi (ProtocolType WEBSOCKET)." })]));
  } finally {
    setTimeout(load, REFRESH_MS);
  }
}

load();
