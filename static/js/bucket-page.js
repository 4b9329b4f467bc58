// One bucket: browse it folder by folder (keys split at "/", as the S3 console shows them), upload
// files dropped on the page (each with its progress bar), preview images and text, download and
// delete objects; the bucket's notifications and their last deliveries below.
import { api, el, timeAgo } from "./api.js";
import { byteSize } from "./bytes.js";

const bucket = document.getElementById("bucket-name").dataset.bucket;
const base = `/api/buckets/${encodeURIComponent(bucket)}`;
const table = document.querySelector("#objects tbody");
const more = document.getElementById("more");
const uploads = document.getElementById("uploads");
const preview = document.getElementById("preview");
let prefix = new URLSearchParams(location.search).get("prefix") || "";
let next = null;

const objectUrl = (key) => `${base}/objects/${key.split("/").map(encodeURIComponent).join("/")}`;
const leaf = (key) => key.slice(prefix.length);

function crumbs() {
  const parts = prefix.split("/").filter(Boolean);
  const links = [el("a", { href: "?", text: bucket, onclick: (e) => { e.preventDefault(); open(""); } })];
  parts.forEach((part, i) => {
    const to = parts.slice(0, i + 1).join("/") + "/";
    links.push(" / ", el("a", { href: `?prefix=${encodeURIComponent(to)}`, text: part,
      onclick: (e) => { e.preventDefault(); open(to); } }));
  });
  document.getElementById("crumbs").replaceChildren(...links);
  document.getElementById("drop-prefix").textContent = `${bucket}/${prefix}`;
}

function folderRow(common) {
  return el("tr", { class: "folder", "data-prefix": common },
    el("td", {}, el("a", { href: `?prefix=${encodeURIComponent(common)}`, class: "fname folder-name", text: leaf(common),
      onclick: (e) => { e.preventDefault(); open(common); } })),
    el("td", { class: "muted", text: "—" }), el("td", { class: "muted", text: "folder" }), el("td", {}), el("td", {}));
}

function objectRow(object) {
  return el("tr", { "data-key": object.key },
    el("td", {}, el("a", { href: "#", class: "fname", text: leaf(object.key),
      onclick: (e) => { e.preventDefault(); show(object); } })),
    el("td", { text: byteSize(object.size) }),
    el("td", { class: "mono", text: object.content_type }),
    el("td", { text: timeAgo(object.last_modified), title: object.last_modified }),
    el("td", { class: "nowrap" },
      el("a", { class: "button small", href: objectUrl(object.key), download: leaf(object.key), text: "Download" }), " ",
      el("button", { type: "button", class: "small danger", text: "Delete", onclick: () => remove(object) })));
}

async function load(append = false) {
  const query = new URLSearchParams({ prefix });
  if (append && next) query.set("after", next);
  const page = await api("GET", `${base}/objects?${query}`);
  const rows = [...page.prefixes.map(folderRow), ...page.objects.map(objectRow)];
  if (append) table.append(...rows);
  else table.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5, class: "muted",
    text: prefix ? "This folder is empty." : "No objects yet. Drop files above to upload them." }))]));
  next = page.next;
  more.hidden = !page.truncated;
  document.body.dataset.ready = "true";
}

function open(to) {
  prefix = to;
  history.replaceState(null, "", to ? `?prefix=${encodeURIComponent(to)}` : location.pathname);
  crumbs();
  load();
}

async function remove(object) {
  if (!confirm(`Delete ${object.key}?`)) return;
  await api("DELETE", objectUrl(object.key));
  if (preview.dataset.key === object.key) preview.hidden = true;
  await load();
}

async function show(object) {
  preview.hidden = false;
  preview.dataset.key = object.key;
  document.getElementById("preview-title").textContent = leaf(object.key);
  const facts = [["Key", object.key], ["Size", byteSize(object.size)], ["Type", object.content_type],
    ["ETag", object.etag], ...Object.entries(object.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])];
  document.getElementById("preview-facts").replaceChildren(...facts.map(([k, v]) =>
    el("div", { class: "preview-fact" }, el("span", { class: "muted", text: k }), el("span", { class: "mono", text: v }))));
  const target = document.getElementById("preview-body");
  const url = `${objectUrl(object.key)}?inline=1`;
  if (/^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(object.content_type)) {
    target.replaceChildren(el("img", { src: url, alt: object.key, class: "preview-image" }));
  } else if (object.content_type.startsWith("text/") || object.content_type === "application/json") {
    const text = await (await fetch(url, { credentials: "same-origin" })).text();
    target.replaceChildren(el("pre", { class: "preview-text", text: object.size > text.length ? `${text}\n…` : text }));
  } else {
    target.replaceChildren(el("p", { class: "muted", text: "No preview for this type: download it instead." }));
  }
}

function uploadOne(file) {
  // XMLHttpRequest, not fetch: it reports the upload's progress.
  const bar = el("progress", { max: String(file.size || 1), value: "0" });
  const status = el("span", { class: "muted", text: "0%" });
  const item = el("li", { "data-name": file.name }, el("span", { class: "mono", text: prefix + file.name }), bar, status);
  uploads.append(item);
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("PUT", objectUrl(prefix + file.name));
    request.setRequestHeader("X-CSRFToken", document.querySelector('meta[name="csrf-token"]').content);
    request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    request.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      bar.value = e.loaded;
      bar.max = e.total;
      status.textContent = `${Math.round((100 * e.loaded) / e.total)}%`;
    };
    request.onload = () => {
      const ok = request.status === 201;
      let message = "uploaded";
      if (!ok) {
        try { message = JSON.parse(request.responseText).error.message; } catch { message = `failed (${request.status})`; }
      }
      bar.value = bar.max;
      status.textContent = message;
      item.classList.add(ok ? "done" : "failed");
      resolve(ok);
    };
    request.onerror = () => { status.textContent = "the connection failed"; item.classList.add("failed"); resolve(false); };
    request.send(file);
  });
}

async function uploadAll(files) {
  await Promise.all([...files].map(uploadOne));
  await load();
}

const zone = document.getElementById("dropzone");
["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); }));
["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
zone.addEventListener("drop", (e) => { e.preventDefault(); uploadAll(e.dataTransfer.files); });
document.getElementById("file-input").addEventListener("change", (e) => { uploadAll(e.target.files); e.target.value = ""; });
more.addEventListener("click", () => load(true));
document.getElementById("preview-close").addEventListener("click", () => { preview.hidden = true; });

function filterText(configuration) {
  const rules = configuration.Filter?.Key?.FilterRules || [];
  return rules.map((r) => `${r.Name}: ${r.Value}`).join(", ") || "every key";
}

let functionConfigurations = [];
let machineConfigurations = [];

// Saves one list ("functions" or "state_machines") as the page shows it; a refusal is said
// beside that list's form.
async function save(field, configurations) {
  const error = document.getElementById(field === "functions" ? "function-error" : "machine-error");
  error.textContent = "";
  try {
    render(await api("PUT", `${base}/notifications`, { [field]: configurations }));
    return true;
  } catch (failure) {
    error.textContent = failure.message;
    return false;
  }
}

// A configuration's state: a red badge and the reason when its target was deleted.
function stateCell(c) {
  if (!c.Disabled) return el("span", { class: "badge ok tiny flush-left", text: "Enabled" });
  return el("div", { class: "disabled-reason" }, el("span", { class: "badge danger tiny flush-left", text: "Disabled" }),
    " ", el("span", { class: "small-text", text: c.Disabled.Reason }));
}

function configurationRows(configurations, member, field, empty) {
  const rows = configurations.map((c, index) => el("tr", { "data-target": c[member], class: c.Disabled ? "disabled" : "" },
    el("td", { class: "mono", text: c.Id }), el("td", {}, el("div", { class: "mono", text: c[member] }), stateCell(c)),
    el("td", { text: c.Events.join(", ") }), el("td", { text: filterText(c) }),
    el("td", {}, el("button", { type: "button", class: "small danger", text: "Remove",
      onclick: () => save(field, configurations.filter((_, i) => i !== index)) }))));
  return rows.length ? rows : [el("tr", {}, el("td", { colspan: 5, class: "muted", text: empty }))];
}

function formConfiguration(prefix, member) {
  const rules = [["prefix", `${prefix}-prefix`], ["suffix", `${prefix}-suffix`]]
    .map(([name, id]) => ({ Name: name, Value: document.getElementById(id).value }))
    .filter((rule) => rule.Value);
  const added = { [member]: document.getElementById(`${prefix}-name`).value,
    Events: [document.getElementById(`${prefix}-events`).value] };
  if (rules.length) added.Filter = { Key: { FilterRules: rules } };
  return added;
}

function target(d) {
  if (d.invocation_id) {
    return el("a", { href: `/functions/${encodeURIComponent(d.function)}/`, text: `function: ${d.status}` });
  }
  if (d.execution_id) return el("a", { href: `/executions/${d.execution_id}/`, text: `execution: ${d.status}` });
  return el("span", { class: d.error ? "delivery-error" : "muted", text: d.error || d.status });
}

function render(data) {
  functionConfigurations = data.configurations;
  machineConfigurations = data.state_machines;
  document.querySelector("#configurations tbody").replaceChildren(
    ...configurationRows(functionConfigurations, "LambdaFunctionArn", "functions", "No functions notified."));
  document.querySelector("#machine-configurations tbody").replaceChildren(
    ...configurationRows(machineConfigurations, "StateMachineArn", "state_machines", "No state machines started."));
  const deliveries = data.deliveries.map((d) => el("tr", {},
    el("td", { text: timeAgo(d.created_at), title: d.created_at }), el("td", { text: d.event_name }),
    el("td", { class: "mono", text: d.key }), el("td", { class: "mono", text: d.configuration_id }),
    el("td", {}, target(d))));
  document.querySelector("#deliveries tbody").replaceChildren(...(deliveries.length ? deliveries :
    [el("tr", {}, el("td", { colspan: 5, class: "muted", text: "Nothing delivered yet." }))]));
}

async function notifications() {
  render(await api("GET", `${base}/notifications`));
  const [machineList, functionList] = await Promise.all([api("GET", "/api/state-machines"), api("GET", "/api/functions")]);
  const options = (rows) => rows.map((r) => el("option", { value: r.name, text: r.name }));
  document.getElementById("machine-name").replaceChildren(...options(machineList.state_machines));
  document.getElementById("function-name").replaceChildren(...options(functionList.functions));
  document.getElementById("notifications").dataset.ready = "true";
}

document.getElementById("function-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const added = formConfiguration("function", "LambdaFunctionArn");
  if (await save("functions", [...functionConfigurations, added])) event.target.reset();
});

document.getElementById("machine-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const added = formConfiguration("machine", "StateMachineArn");
  if (await save("state_machines", [...machineConfigurations, added])) event.target.reset();
});

crumbs();
load();
notifications();
