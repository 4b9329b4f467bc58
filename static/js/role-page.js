// Create or edit a role: description, trusted entities and its named inline policies (IAM's), each
// edited as JSON in CodeMirror and validated as you type (each problem shown on the line its pointer
// names). Creating a role gives it its first policy; the role page lists, adds, edits and deletes them.
import { api, el, showFieldErrors, timeAgo, CSP_NONCE } from "./api.js";
import { parseWithPositions, locate } from "./json-positions.js";
import { debounce } from "./ui.js";

const root = document.getElementById("role-app");
const MODE = root.dataset.mode;
const NAME = root.dataset.name;
const $ = (id) => document.getElementById(id);
const cm = await import(root.dataset.codemirror);
const form = $("role-form");
let problems = [];

function status(message, kind = "") {
  const line = $("status-line");
  if (!line) return;
  line.textContent = message;
  line.className = `status-line ${kind}`;
}

const checkSoon = debounce(check, 200);
const policyView = new cm.EditorView({
  parent: $("policy-editor"),
  state: cm.EditorState.create({ doc: "", extensions: [cm.basicSetup, cm.EditorView.cspNonce.of(CSP_NONCE), cm.json(), cm.lintGutter(),
    cm.EditorView.updateListener.of((u) => { if (u.docChanged) checkSoon(); })] }),
});

function setPolicy(policy) {
  policyView.dispatch({ changes: { from: 0, to: policyView.state.doc.length, insert: JSON.stringify(policy, null, 2) } });
}

let ticket = 0;
async function check() {
  const mine = ++ticket;
  const text = policyView.state.doc.toString();
  const parsed = parseWithPositions(text);
  if (parsed.error) {
    problems = [{ code: "InvalidJson", message: parsed.error.message, line: parsed.error.line, column: parsed.error.column, from: parsed.error.offset }];
  } else {
    const result = await api("POST", "/api/policies/validate", { policy: parsed.value }).catch((error) => ({ diagnostics: [{ code: error.code, message: error.message, pointer: "" }] }));
    if (mine !== ticket) return;
    problems = result.diagnostics.map((d) => ({ ...d, ...(locate(parsed, d.pointer || "") || {}) }));
  }
  const doc = policyView.state.doc;
  policyView.dispatch(cm.setDiagnostics(policyView.state, problems.filter((p) => p.from !== undefined).map((p) => ({
    from: Math.min(p.from, doc.length), to: Math.min(Math.max(p.to ?? p.from + 1, p.from), doc.length), severity: "error", message: `${p.code}: ${p.message}` }))));
  $("policy-diagnostics").replaceChildren(...(problems.length ? problems.map((p) => el("li", { class: "diag error" },
    el("span", { class: "where mono", text: p.line ? `line ${p.line}` : "" }), el("code", { text: p.code }), el("span", { text: p.message }),
    p.pointer ? el("span", { class: "ptr mono", text: p.pointer }) : null)) : [el("li", { class: "diag ok", text: "The policy is valid." })]));
  root.dataset.checked = String(mine);
}

$("policy-default").addEventListener("click", async () => setPolicy((await api("GET", "/api/roles/default-policy")).policy));

function trusted() {
  return [...form.querySelectorAll('input[name="trusted"]:checked')].map((i) => i.value);
}

const policyForm = $("policy-form");   // the edit page's policy editor (absent when creating)
let role = null;
let editing = null;   // the name of the policy being edited, or "" for a new one

function readPolicy(where) {
  const parsed = parseWithPositions(policyView.state.doc.toString());
  if (parsed.error) {
    where.querySelector('.field-error[data-field="policy"]').textContent = `The policy is not valid JSON (line ${parsed.error.line}, column ${parsed.error.column}): ${parsed.error.message}`;
    return null;
  }
  return parsed;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("form-error").hidden = true;
  const payload = { description: $("role-description").value, trusted: trusted() };
  try {
    if (MODE === "create") {
      const parsed = readPolicy(form);
      if (!parsed) return;
      Object.assign(payload, { name: $("role-name").value.trim(), policy: parsed.value, policy_name: $("policy-name").value.trim() });
      const created = await api("POST", "/api/roles", payload);
      const back = root.dataset.return === "machine-create" ? `/state-machines/new?role=${encodeURIComponent(created.name)}` : `/roles/${encodeURIComponent(created.name)}/`;
      window.location.href = back;
      return;
    }
    fill(await api("PUT", `/api/roles/${encodeURIComponent(NAME)}`, payload));
    showFieldErrors(form, null);
    status("Role saved.", "ok");
  } catch (error) {
    if (!showFieldErrors(form, error)) {
      $("form-error").textContent = error.message;
      $("form-error").hidden = false;
    }
  }
});

function editPolicy(name, document) {
  editing = name;
  policyForm.hidden = false;
  showFieldErrors(policyForm, null);
  $("policy-name").value = name;
  $("policy-name").readOnly = Boolean(name);
  $("policy-title").textContent = name ? `Edit policy ${name}` : "New inline policy";
  setPolicy(document);
  if (!name) $("policy-name").focus();
}

$("policy-add")?.addEventListener("click", async () => editPolicy("", (await api("GET", "/api/roles/default-policy")).policy));
$("policy-cancel")?.addEventListener("click", () => { policyForm.hidden = true; editing = null; });

policyForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const parsed = readPolicy(policyForm);
  if (!parsed) return;
  const name = $("policy-name").value.trim();
  try {
    await api("PUT", `/api/roles/${encodeURIComponent(NAME)}/policies/${encodeURIComponent(name)}`, { document: parsed.value });
    policyForm.hidden = true;
    fill(await api("GET", `/api/roles/${encodeURIComponent(NAME)}`));
    status(`Policy ${name} saved.`, "ok");
  } catch (error) {
    if (!showFieldErrors(policyForm, error)) status(error.message, "error");
  }
});

async function deletePolicy(name) {
  if (!confirm(`Delete the policy ${name} of ${NAME}?`)) return;
  try {
    await api("DELETE", `/api/roles/${encodeURIComponent(NAME)}/policies/${encodeURIComponent(name)}`);
    if (editing === name) policyForm.hidden = true;
    fill(await api("GET", `/api/roles/${encodeURIComponent(NAME)}`));
    status(`Policy ${name} deleted.`, "ok");
  } catch (error) {
    status(error.message, "error");
  }
}

function statementCount(document) {
  const found = document.Statement;
  return Array.isArray(found) ? found.length : 1;
}

function fill(found) {
  role = found;
  $("role-description").value = role.description || "";
  form.querySelectorAll('input[name="trusted"]').forEach((i) => { i.checked = role.trusted.includes(i.value); });
  $("role-arn").textContent = role.arn || "—";
  $("role-created").textContent = timeAgo(role.created_at);
  $("role-updated").textContent = timeAgo(role.updated_at);
  $("role-machines").querySelector("tbody").replaceChildren(...(role.machines.length ? role.machines.map((m) => el("tr", {},
    el("td", {}, el("a", { href: `/state-machines/${encodeURIComponent(m)}/`, text: m })))) :
    [el("tr", {}, el("td", { class: "muted", text: "No state machine uses this role." }))]));
  $("policy-count").textContent = `(${role.policies.length})`;
  $("role-policies").querySelector("tbody").replaceChildren(...(role.policies.length ? role.policies.map((p) => el("tr", { "data-policy": p.name },
    el("td", { class: "mono", text: p.name }),
    el("td", { text: String(statementCount(p.document)) }),
    el("td", { text: timeAgo(p.updated_at), title: p.updated_at }),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "small", "data-action": "edit", text: "Edit", onclick: () => editPolicy(p.name, p.document) }),
      el("button", { type: "button", class: "small danger", "data-action": "delete", text: "Delete", onclick: () => deletePolicy(p.name) })))) :
    [el("tr", {}, el("td", { colspan: 4, class: "muted", text: "No policy: the role may do nothing. Add an inline policy." }))]));
}

$("role-delete")?.addEventListener("click", async () => {
  if (!confirm(`Delete the role ${NAME}?`)) return;
  try {
    await api("DELETE", `/api/roles/${encodeURIComponent(NAME)}`);
    window.location.href = "/roles/";
  } catch (error) {
    status(error.message, "error");
  }
});

async function start() {
  if (MODE === "create") {
    form.querySelector('input[name="trusted"][value="states"]').checked = true;
    setPolicy((await api("GET", "/api/roles/default-policy")).policy);
  } else {
    fill(await api("GET", `/api/roles/${encodeURIComponent(NAME)}`));
    if (role.policies.length) editPolicy(role.policies[0].name, role.policies[0].document);
  }
  await check();
  root.dataset.ready = "true";
}
start().catch((error) => status(error.message, "error"));
