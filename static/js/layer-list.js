// The Layers page: every version of the user's layers with the functions using it; upload a zip as
// a new version; delete a version (functions that list it keep running with it, as on Lambda).
import { api, ApiError, el, showFieldErrors, timeAgo } from "./api.js";

const body = document.querySelector("#layers tbody");
const form = document.getElementById("layer-form");
const formError = document.getElementById("form-error");

function size(bytes) {
  return bytes < 1024 ? `${bytes} B` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

function usedBy(names) {
  if (!names.length) return [el("span", { class: "muted", text: "no function" })];
  return names.map((n, i) => [i ? ", " : "", el("a", { href: `/functions/${encodeURIComponent(n)}/`, text: n })]).flat();
}

async function remove(layer, version) {
  if (!confirm(`Delete version ${version.version} of ${layer.name}? Functions that list it keep running with it.`)) return;
  await api("DELETE", `/api/layers/${encodeURIComponent(layer.name)}/versions/${version.version}`);
  await load();
}

function render(layers) {
  document.getElementById("layer-count").textContent = `(${layers.length})`;
  const rows = layers.flatMap((layer) => layer.versions.map((v) => el("tr", { "data-arn": v.arn },
    el("td", {}, el("span", { class: "fname", text: layer.name })),
    el("td", { class: "mono", text: String(v.version), title: v.arn }),
    el("td", { class: "desc", text: v.description || "—" }),
    el("td", { text: v.compatible_runtimes.join(", ") || "—" }),
    el("td", { text: size(v.code_size) }),
    el("td", {}, ...usedBy(v.used_by)),
    el("td", { text: timeAgo(v.created_at), title: v.created_at }),
    el("td", {}, el("button", { type: "button", class: "small danger", text: "Delete", onclick: () => remove(layer, v) })),
  )));
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 8, class: "muted", text: "No layers yet. Create one below." }))]));
}

async function load() {
  const data = await api("GET", "/api/layers");
  render(data.layers);
  document.body.dataset.ready = "true";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  const name = document.getElementById("layer-name").value.trim();
  const file = document.getElementById("layer-zip").files[0];
  if (!name) { showFieldErrors(form, { field: "name", message: "Name the layer." }); return; }
  if (!file) { showFieldErrors(form, { field: "zip", message: "Choose a .zip file." }); return; }
  const query = new URLSearchParams({
    description: document.getElementById("layer-description").value,
    compatible_runtimes: document.getElementById("layer-runtimes").value,
    license_info: document.getElementById("layer-license").value,
  });
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const button = document.getElementById("layer-create");
  button.disabled = true;
  try {
    // The body is the zip itself: up to 50 MB, more than a JSON body may hold.
    const response = await fetch(`/api/layers/${encodeURIComponent(name)}/versions?${query}`, {
      method: "POST", credentials: "same-origin", body: file,
      headers: { "Content-Type": "application/zip", "X-CSRFToken": token, Accept: "application/json" },
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    showFieldErrors(form, null);
    form.reset();
    await load();
  } catch (error) {
    if (!showFieldErrors(form, error)) { formError.textContent = error.message; formError.hidden = false; }
  } finally {
    button.disabled = false;
  }
});

load();
