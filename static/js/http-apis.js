// The HTTP APIs page: each API's invoke URLs, its routes and what each calls (a function or a state
// machine, linked), its integrations, its stages with their deployments and the last requests its
// functions answered; quick create (name, target, route key, and a role for a state machine), add
// a route, deploy a stage that is not deployed automatically, delete an API.
import { api, el, showFieldErrors, timeAgo } from "./api.js";

const root = document.getElementById("apis");
const createForm = document.getElementById("create-form");
let choices = { functions: [], machines: [], roles: [] };

function table(id, headings, rows, empty) {
  const body = rows.length ? rows : [el("tr", {}, el("td", { colspan: headings.length, class: "muted", text: empty }))];
  return el("table", { class: "grid bordered", id },
    el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { text: h })))),
    el("tbody", {}, ...body));
}

// Fills a target <select> (functions and state machines by ARN) and a role <select>.
function fillTargets(select) {
  const chosen = select.value;
  const group = (label, items, kind) => el("optgroup", { label },
    ...items.map((item) => el("option", { value: item.arn, "data-kind": kind, text: kind === "machine" ? `${item.name} (${item.type.toLowerCase()})` : item.name,
      selected: item.arn === chosen })));
  select.replaceChildren(group("Functions", choices.functions, "function"), group("State machines", choices.machines, "machine"));
}

function fillRoles(select) {
  const chosen = select.value;
  const roles = [...choices.roles].sort((a, b) => Number(b.trusts_apigateway) - Number(a.trusts_apigateway));
  select.replaceChildren(...roles.map((r) => el("option", { value: r.arn, selected: r.arn === chosen,
    text: r.trusts_apigateway ? r.name : `${r.name} (does not trust API Gateway)` })));
}

// Shows the role field of a form only when its target is a state machine.
function followTarget(form) {
  const target = form.querySelector(".target-select");
  const option = target.selectedOptions[0];
  form.querySelector(".role-field").hidden = !option || option.dataset.kind !== "machine";
}

function body(form) {
  const target = form.querySelector(".target-select");
  const isMachine = target.selectedOptions[0]?.dataset.kind === "machine";
  const route = form.querySelector("[name=RouteKey]").value.trim();
  return { Target: target.value, ...(route ? { RouteKey: route } : {}),
    ...(isMachine ? { CredentialsArn: form.querySelector(".role-select").value } : {}) };
}

function integrationText(integration) {
  if (!integration) return el("span", { class: "muted", text: "no integration" });
  if (integration.missing) {
    return el("span", { class: "target-missing" },
      `${integration.subtype ? "state machine" : "function"} ${integration.machine || integration.function} `,
      el("span", { class: "badge danger tiny", text: "Target deleted" }),
      el("div", { class: "trigger-reason", text: integration.missing }));
  }
  if (integration.subtype) {
    const name = integration.machine || integration.request_parameters?.StateMachineArn || "?";
    return el("span", {}, "state machine ",
      integration.link ? el("a", { href: integration.link, text: name, class: "target-machine" }) : el("span", { text: name }),
      el("span", { class: "muted", text: ` (${integration.subtype.replace("StepFunctions-", "")})` }));
  }
  return el("span", {}, "function ",
    integration.link ? el("a", { href: integration.link, text: integration.function, class: "target-function" })
      : el("span", { class: "bad", text: integration.uri }),
    el("span", { class: "muted", text: ` (payload ${integration.payload_format_version})` }));
}

function routeRow(route) {
  return el("tr", { "data-route": route.route_key },
    el("td", { class: "mono", text: route.route_key }), el("td", {}, integrationText(route.integration)),
    el("td", { class: "mono", text: route.integration ? route.integration.integration_id : "—" }));
}

function integrationRow(i) {
  const details = i.subtype
    ? el("div", {}, ...Object.entries(i.request_parameters || {}).map(([k, v]) => el("div", { class: "mono", text: `${k} = ${v}` })),
      el("div", { class: "muted", text: `role ${i.credentials_arn}` }))
    : el("div", { class: "mono", text: i.uri });
  return el("tr", { "data-integration": i.integration_id },
    el("td", { class: "mono", text: i.integration_id }), el("td", { text: i.subtype || `${i.type} (Lambda proxy)` }),
    el("td", {}, details), el("td", { text: i.payload_format_version }));
}

function stageRow(a, s) {
  const deploy = s.auto_deploy ? null : el("button", { type: "button", class: "small", text: "Deploy", onclick: async (event) => {
    const cell = event.target.closest("td");
    try {
      await api("POST", `/api/http-apis/${a.api_id}/deployments`, { StageName: s.name });
      await load();
    } catch (error) {
      cell.append(el("div", { class: "bad", text: error.message }));
    }
  } });
  return el("tr", { "data-stage": s.name },
    el("td", { text: s.name }), el("td", {}, el("a", { href: s.url + "/", class: "mono invoke-url", text: s.url + "/" })),
    el("td", { text: s.auto_deploy ? "yes" : "no" }),
    el("td", { class: "mono", text: s.deployment_id || "not deployed" }),
    el("td", { text: s.deployed_at ? timeAgo(s.deployed_at) : "—", title: s.deployed_at || "" }),
    el("td", {}, deploy));
}

function requestRow(r) {
  return el("tr", { "data-request": r.id },
    el("td", { text: timeAgo(r.at), title: r.at }), el("td", { class: "mono", text: `${r.method || ""} ${r.path || ""}` }),
    el("td", { class: "mono", text: r.route_key || "—" }), el("td", { text: r.stage || "—" }),
    el("td", {}, el("a", { href: r.link, text: r.function })),
    el("td", {}, el("span", { class: `badge ${r.status === "succeeded" ? "ok" : r.status === "failed" ? "bad" : "neutral"}`, text: r.status })));
}

function routeForm(a) {
  const form = el("form", { class: "inline-form route-form", novalidate: true, "data-api": a.api_id },
    el("label", { text: "Route key", for: `route-key-${a.api_id}` }),
    el("input", { id: `route-key-${a.api_id}`, name: "RouteKey", class: "mono", placeholder: "GET /items/{id}", autocomplete: "off" }),
    el("label", { text: "Target", for: `route-target-${a.api_id}` }),
    el("select", { id: `route-target-${a.api_id}`, class: "target-select" }),
    el("span", { class: "role-field", hidden: true },
      el("label", { text: "Role", for: `route-role-${a.api_id}` }),
      el("select", { id: `route-role-${a.api_id}`, class: "role-select" })),
    el("button", { type: "submit", class: "small", text: "Add route" }),
    el("p", { class: "field-error", "data-field": "RouteKey" }), el("p", { class: "field-error", "data-field": "Target" }),
    el("p", { class: "field-error", "data-field": "CredentialsArn" }),
    el("div", { class: "alert error", hidden: true }));
  fillTargets(form.querySelector(".target-select"));
  fillRoles(form.querySelector(".role-select"));
  followTarget(form);
  form.querySelector(".target-select").addEventListener("change", () => followTarget(form));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const alert = form.querySelector(".alert");
    alert.hidden = true;
    try {
      await api("POST", `/api/http-apis/${a.api_id}/routes`, body(form));
      await load();
    } catch (error) {
      if (!showFieldErrors(form, error)) { alert.textContent = error.message; alert.hidden = false; }
    }
  });
  return form;
}

function section(a) {
  const remove = el("button", { type: "button", class: "small danger", text: "Delete API", onclick: async () => {
    if (!confirm(`Delete the HTTP API ${a.name} (${a.api_id})?`)) return;
    await api("DELETE", `/api/http-apis/${a.api_id}`);
    await load();
  } });
  return el("section", { class: "card http-api", id: a.api_id, "data-api": a.api_id },
    el("div", { class: "pagehead" }, el("h2", { text: `${a.name} ` }, el("span", { class: "muted mono", text: a.api_id })), remove),
    el("p", {}, "Invoke URL ", el("a", { href: a.endpoint + "/", class: "mono endpoint", text: a.endpoint + "/" }),
      el("span", { class: "muted" }, " or ", el("span", { class: "mono", text: a.host_endpoint }))),
    el("h3", { text: "Routes" }),
    table(`routes-${a.api_id}`, ["Route key", "Target", "Integration"], a.routes.map(routeRow), "No routes yet."),
    routeForm(a),
    el("h3", { text: "Integrations" }),
    table(`integrations-${a.api_id}`, ["Integration", "Type", "Calls", "Payload"], a.integrations.map(integrationRow), "No integrations yet."),
    el("h3", { text: "Stages" }),
    table(`stages-${a.api_id}`, ["Stage", "Invoke URL", "Auto-deploy", "Deployment", "Deployed", ""], a.stages.map((s) => stageRow(a, s)),
      "No stage yet: nothing is served."),
    el("h3", { text: "Recent requests" }),
    table(`requests-${a.api_id}`, ["When", "Request", "Route", "Stage", "Function", "Status"], a.requests.map(requestRow),
      "No request has reached a function of this API yet."));
}

async function load() {
  const data = await api("GET", "/api/http-apis");
  choices = data.choices;
  fillTargets(createForm.querySelector(".target-select"));
  fillRoles(createForm.querySelector(".role-select"));
  followTarget(createForm);
  document.getElementById("api-count").textContent = `(${data.apis.length})`;
  root.replaceChildren(...(data.apis.length ? data.apis.map(section)
    : [el("p", { class: "muted", text: "No HTTP APIs yet. Create one above, or with apigatewayv2's CreateApi." })]));
  document.body.dataset.ready = "true";
}

createForm.querySelector(".target-select").addEventListener("change", () => followTarget(createForm));
createForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const formError = document.getElementById("form-error");
  formError.hidden = true;
  const button = document.getElementById("api-create");
  button.disabled = true;
  try {
    await api("POST", "/api/http-apis", { Name: document.getElementById("api-name").value.trim(), ...body(createForm) });
    createForm.reset();
    showFieldErrors(createForm, null);
    await load();
  } catch (error) {
    if (!showFieldErrors(createForm, error)) { formError.textContent = error.message; formError.hidden = false; }
  } finally {
    button.disabled = false;
  }
});

// A link to one API (the function page's trigger box: /http-apis/#<api-id>) shows it once drawn.
load().then(() => {
  const wanted = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  if (wanted) wanted.scrollIntoView();
});
