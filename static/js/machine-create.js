// Create state machine: where to start (blank, a template, the seed's football training machine),
// name, type, role (with a shortcut to create one) and description.
import { api, el, showFieldErrors } from "./api.js";

const form = document.getElementById("create-form");
const formError = document.getElementById("form-error");
let chosen = "blank";

function renderTemplates(templates) {
  document.getElementById("templates").replaceChildren(...templates.map((t) => el("label", { class: `template${t.id === chosen ? " active" : ""}`, "data-template": t.id },
    el("input", { type: "radio", name: "template", value: t.id, checked: t.id === chosen, onchange: () => { chosen = t.id; renderTemplates(templates); } }),
    el("b", { text: t.title }), el("span", { class: "muted small-text", text: t.description }))));
}

Promise.all([api("GET", "/api/state-machine-templates"), api("GET", "/api/roles")]).then(([templates, roles]) => {
  renderTemplates(templates.templates);
  const preferred = new URLSearchParams(location.search).get("role");
  const select = document.getElementById("role");
  select.replaceChildren(...(roles.roles.length ? roles.roles.map((r) => el("option", { value: r.name, text: r.name, selected: r.name === preferred }))
    : [el("option", { value: "", text: "No roles yet: create one" })]));
  document.body.dataset.ready = "true";
});

form.addEventListener("input", (event) => {
  const error = form.querySelector(`.field-error[data-field="${event.target.name}"]`);
  if (error) error.textContent = "";
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  const payload = {
    name: form.querySelector("#name").value.trim(), type: form.querySelector('input[name="type"]:checked').value,
    role: form.querySelector("#role").value, description: form.querySelector("#description").value, template: chosen,
  };
  try {
    const created = await api("POST", "/api/state-machines", payload);
    window.location.href = `/state-machines/${encodeURIComponent(created.name)}/`;
  } catch (error) {
    if (!showFieldErrors(form, error)) {
      formError.textContent = error.message;
      formError.hidden = false;
    }
  }
});
