// The Security credentials page: the account id and the access keys (create, with the secret shown
// once in a dialog; deactivate or activate; delete).
import { api, el, timeAgo } from "./api.js";

const $ = (id) => document.getElementById(id);
let state = { access_keys: [], limit: 2 };

function status(message, kind = "") {
  $("status-line").textContent = message;
  $("status-line").className = `status-line pad ${kind}`;
}

function lastUsed(key) {
  if (!key.last_used_at) return "Never";
  return `${timeAgo(key.last_used_at)} (${key.last_used_service}, ${key.last_used_region})`;
}

function render() {
  const keys = state.access_keys;
  $("key-count").textContent = `(${keys.length} of ${state.limit})`;
  $("create-key").disabled = keys.length >= state.limit;
  $("create-key").title = keys.length >= state.limit ? "You have two keys: delete one to create another." : "";
  $("access-keys").querySelector("tbody").replaceChildren(...(keys.length ? keys.map((key) => el("tr", { "data-key": key.id },
    el("td", { class: "mono", text: key.id }),
    el("td", {}, el("span", { class: `badge ${key.status === "Active" ? "ok" : "neutral"}`, text: key.status })),
    el("td", { text: timeAgo(key.created_at), title: key.created_at }),
    el("td", { text: lastUsed(key), title: key.last_used_at || "" }),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "small", "data-action": "toggle",
        text: key.status === "Active" ? "Deactivate" : "Activate", onclick: () => toggle(key) }),
      el("button", { type: "button", class: "small danger", "data-action": "delete", text: "Delete", onclick: () => remove(key) })),
  )) : [el("tr", {}, el("td", { colspan: 5, class: "muted", text: "No access keys. Create one to use the AWS CLI or an SDK." }))]));
}

async function load() {
  state = await api("GET", "/api/access-keys");
  $("account-id").textContent = state.account_id;
  $("account-arn").textContent = state.arn;
  $("usage").textContent = [
    `export AWS_ENDPOINT_URL=${location.origin}`,
    "export AWS_DEFAULT_REGION=us-east-1",
    "export AWS_ACCESS_KEY_ID=<access key ID>",
    "export AWS_SECRET_ACCESS_KEY=<secret access key>",
    "aws sts get-caller-identity",
  ].join("\n");
  render();
}

async function toggle(key) {
  try {
    await api("PUT", `/api/access-keys/${encodeURIComponent(key.id)}`, { status: key.status === "Active" ? "Inactive" : "Active" });
    await load();
    status(`Access key ${key.id} is now ${key.status === "Active" ? "inactive" : "active"}.`, "ok");
  } catch (error) {
    status(error.message, "error");
  }
}

async function remove(key) {
  if (!confirm(`Delete the access key ${key.id}? Requests signed with it will be refused.`)) return;
  try {
    await api("DELETE", `/api/access-keys/${encodeURIComponent(key.id)}`);
    await load();
    status(`Access key ${key.id} deleted.`, "ok");
  } catch (error) {
    status(error.message, "error");
  }
}

$("create-key").addEventListener("click", async () => {
  try {
    const created = await api("POST", "/api/access-keys");
    $("new-key-id").value = created.id;
    $("new-key-secret").value = created.secret;
    $("copied").textContent = "";
    $("secret-dialog").showModal();
    await load();
  } catch (error) {
    status(error.message, "error");
  }
});

document.querySelectorAll("[data-copy]").forEach((button) => button.addEventListener("click", async () => {
  const input = $(button.dataset.copy);
  try {
    await navigator.clipboard.writeText(input.value);
    $("copied").textContent = "Copied.";
  } catch {
    input.select();   // no clipboard access (an insecure origin): select it for Ctrl+C
    $("copied").textContent = "Selected: press Ctrl+C (Cmd+C) to copy.";
  }
}));

// Closing the dialog forgets the secret: the page never shows it again.
$("secret-dialog").addEventListener("close", () => { $("new-key-secret").value = ""; });
$("secret-done").addEventListener("click", () => $("secret-dialog").close());

load().then(() => { document.body.dataset.ready = "true"; }).catch((error) => status(error.message, "error"));
