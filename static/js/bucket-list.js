// The Buckets page: the user's buckets with their object counts and sizes; create one, delete an
// empty one (S3 refuses to delete a bucket that still holds objects, and so does the studio).
import { api, el, showFieldErrors, timeAgo } from "./api.js";
import { byteSize } from "./bytes.js";

const body = document.querySelector("#buckets tbody");
const form = document.getElementById("bucket-form");
const formError = document.getElementById("form-error");

async function remove(bucket) {
  if (!confirm(`Delete the bucket ${bucket.name}?`)) return;
  try {
    await api("DELETE", `/api/buckets/${encodeURIComponent(bucket.name)}`);
    await load();
  } catch (error) {
    alert(error.message);
  }
}

function render(buckets) {
  document.getElementById("bucket-count").textContent = `(${buckets.length})`;
  const rows = buckets.map((b) => el("tr", { "data-bucket": b.name },
    el("td", {}, el("a", { class: "fname", href: `/buckets/${encodeURIComponent(b.name)}/`, text: b.name })),
    el("td", { text: b.region }),
    el("td", { text: String(b.objects) }),
    el("td", { text: byteSize(b.size) }),
    el("td", { text: b.notifications ? `${b.notifications} to functions` : "—" }),
    el("td", { text: timeAgo(b.created_at), title: b.created_at }),
    el("td", {}, el("button", { type: "button", class: "small danger", text: "Delete", onclick: () => remove(b) })),
  ));
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, class: "muted", text: "No buckets yet. Create one below." }))]));
}

async function load() {
  render((await api("GET", "/api/buckets")).buckets);
  document.body.dataset.ready = "true";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  const button = document.getElementById("bucket-create");
  button.disabled = true;
  try {
    const created = await api("POST", "/api/buckets", { name: document.getElementById("bucket-name").value.trim() });
    showFieldErrors(form, null);
    form.reset();
    window.location.href = `/buckets/${encodeURIComponent(created.name)}/`;
  } catch (error) {
    if (!showFieldErrors(form, error)) { formError.textContent = error.message; formError.hidden = false; }
  } finally {
    button.disabled = false;
  }
});

load();
