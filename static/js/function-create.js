// Create function: name, runtime (those installed) and a starting point (hello world or a sample).
import { api, el, showFieldErrors } from "./api.js";

const form = document.getElementById("create-form");
const runtimeSelect = document.getElementById("runtime");
const startSelect = document.getElementById("starting-point");
const formError = document.getElementById("form-error");
let runtimes = [];

function fillStartingPoints() {
  const runtime = runtimes.find((r) => r.id === runtimeSelect.value);
  startSelect.replaceChildren(...(runtime ? runtime.starting_points : []).map((p) => el("option", { value: p.id, text: p.label })));
}

api("GET", "/api/runtimes").then((data) => {
  runtimes = data.runtimes;
  runtimeSelect.replaceChildren(...runtimes.map((r) => el("option", { value: r.id, text: r.version ? `${r.label} (${r.version})` : r.label })));
  fillStartingPoints();
  // Create is offered once the runtimes are known (a click before would send no runtime).
  document.getElementById("create").disabled = false;
}).catch((error) => {
  formError.textContent = error.message;
  formError.hidden = false;
});
runtimeSelect.addEventListener("change", fillStartingPoints);
form.addEventListener("input", (event) => {
  const error = form.querySelector(`.field-error[data-field="${event.target.name}"]`);
  if (error) error.textContent = "";
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  const payload = {
    name: form.name.value.trim(), runtime: runtimeSelect.value,
    starting_point: startSelect.value, description: form.description.value,
  };
  try {
    const created = await api("POST", "/api/functions", payload);
    window.location.href = `/functions/${encodeURIComponent(created.name)}/`;
  } catch (error) {
    if (!showFieldErrors(form, error)) {
      formError.textContent = error.message;
      formError.hidden = false;
    }
  }
});
