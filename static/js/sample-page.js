// A sample app's page: Load this sample (what you lack of it), and the crawler's Run now (an
// execution of its state machine with its schedule's input), which opens the execution.
import { api } from "./api.js";

const status = document.getElementById("sample-status");
const failure = document.getElementById("sample-error");

function fail(error) {
  failure.textContent = error.message;
  failure.hidden = false;
}

const load = document.getElementById("sample-load");
if (load) {
  load.addEventListener("click", async () => {
    load.disabled = true;
    failure.hidden = true;
    status.textContent = "Loading the sample…";
    try {
      const done = await api("POST", `/api/samples/${encodeURIComponent(load.dataset.app)}/load`);
      status.textContent = done.created.length ? `Created ${done.created.join(", ")}.` : "You had all of it already.";
      location.reload();
    } catch (error) {
      load.disabled = false;
      status.textContent = "";
      fail(error);
    }
  });
}

const runNow = document.getElementById("crawler-run-now");
if (runNow) {
  const schedule = document.getElementById("crawler-schedule");
  runNow.addEventListener("click", async () => {
    runNow.disabled = true;
    failure.hidden = true;
    try {
      const execution = await api("POST", `/api/state-machines/${encodeURIComponent(schedule.dataset.machine)}/executions`,
        { input: schedule.dataset.input });
      location.assign(`/executions/${execution.id}/`);
    } catch (error) {
      runNow.disabled = false;
      fail(error);
    }
  });
}

document.body.dataset.ready = "true";
