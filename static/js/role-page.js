// Create or edit a role: description, trusted entities and the permissions policy, edited as JSON
// in CodeMirror and validated as you type (each problem shown on the line its pointer names).
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

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("form-error").hidden = true;
  const parsed = parseWithPositions(policyView.state.doc.toString());
  if (parsed.error) {
    form.querySelector('.field-error[data-field="policy"]').textContent = `The policy is not valid JSON (line ${parsed.error.line}, column ${parsed.error.column}): ${parsed.error.message}`;
    return;
  }
  const payload = { description: $("role-description").value, trusted: trusted(), policy: parsed.value };
  try {
    if (MODE === "create") {
      payload.name = $("role-name").value.trim();
      const role = await api("POST", "/api/roles", payload);
      const back = root.dataset.return === "machine-create" ? `/state-machines/new?role=${encodeURIComponent(role.name)}` : `/roles/${encodeURIComponent(role.name)}/`;
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

function fill(role) {
  $("role-description").value = role.description || "";
  form.querySelectorAll('input[name="trusted"]').forEach((i) => { i.checked = role.trusted.includes(i.value); });
  $("role-arn").textContent = role.arn || "—";
  $("role-created").textContent = timeAgo(role.created_at);
  $("role-updated").textContent = timeAgo(role.updated_at);
  $("role-machines").querySelector("tbody").replaceChildren(...(role.machines.length ? role.machines.map((m) => el("tr", {},
    el("td", {}, el("a", { href: `/state-machines/${encodeURIComponent(m)}/`, text: m })))) :
    [el("tr", {}, el("td", { class: "muted", text: "No state machine uses this role." }))]));
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
    const role = await api("GET", `/api/roles/${encodeURIComponent(NAME)}`);
    fill(role);
    setPolicy(role.policy);
  }
  await check();
  root.dataset.ready = "true";
}
start().catch((error) => status(error.message, "error"));
