// The Schedules page: every schedule with its expression, state (and why Flowbench disabled it),
// next three runs, target and last fires (each linked to its invocation's function or its
// execution); create, edit (a full replace, as UpdateSchedule), enable/disable and delete.
import { api, el, showFieldErrors, timeAgo } from "./api.js";

const body = document.querySelector("#schedules tbody");
const form = document.getElementById("schedule-form");
const formError = document.getElementById("form-error");
const field = (id) => document.getElementById(id);
let editing = null;   // {group, name} of the schedule the form edits, or null to create

const when = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—");

function options(select, groups, chosen) {
  select.replaceChildren(...groups.map(([label, items]) => el("optgroup", { label },
    ...items.map((item) => el("option", { value: item.arn, text: item.name, selected: item.arn === chosen })))));
}

function fireItem(fire) {
  // A fire its RetryPolicy tried more than once says on which attempt it started (or failed).
  const label = fire.attempts > 1 ? `${when(fire.tick_at)} (attempt ${fire.attempts})` : `${when(fire.tick_at)}`;
  if (fire.error) return el("li", { class: "bad", title: fire.error }, label, " — ", el("span", { text: fire.error }));
  const what = fire.execution ? "execution" : "invocation";
  return el("li", {}, label, " — ", fire.link ? el("a", { href: fire.link, text: `${what} ${(fire.execution || fire.invocation).slice(0, 8)}` }) : what);
}

async function act(schedule, method, suffix = "", body) {
  await api(method, `/api/schedules/${encodeURIComponent(schedule.group)}/${encodeURIComponent(schedule.name)}${suffix}`, body);
  await load();
}

function edit(schedule) {
  editing = { group: schedule.group, name: schedule.name };
  field("form-title").textContent = `Edit ${schedule.name}`;
  field("schedule-name").value = schedule.name;
  field("schedule-name").disabled = true;
  field("schedule-group").value = schedule.group;
  field("schedule-group").disabled = true;
  field("schedule-window").value = schedule.FlexibleTimeWindow.Mode;
  field("schedule-window-minutes").value = schedule.FlexibleTimeWindow.MaximumWindowInMinutes ?? "";
  field("schedule-expression").value = schedule.ScheduleExpression;
  field("schedule-timezone").value = schedule.ScheduleExpressionTimezone;
  field("schedule-target").value = schedule.Target.Arn;
  field("schedule-role").value = schedule.Target.RoleArn;
  field("schedule-input").value = schedule.Target.Input ?? "";
  field("schedule-start").value = schedule.StartDate ?? "";
  field("schedule-end").value = schedule.EndDate ?? "";
  field("schedule-after").value = schedule.ActionAfterCompletion;
  field("schedule-enabled").checked = schedule.State === "ENABLED";
  field("schedule-save").textContent = "Save";
  field("schedule-cancel").hidden = false;
  form.scrollIntoView();
}

function reset() {
  editing = null;
  form.reset();
  field("schedule-name").disabled = false;
  field("schedule-group").disabled = false;
  field("form-title").textContent = "Create a schedule";
  field("schedule-save").textContent = "Create";
  field("schedule-cancel").hidden = true;
  showFieldErrors(form, null);
  formError.hidden = true;
}

function row(s) {
  const enabled = s.State === "ENABLED";
  const named = `${s.group}/${s.name}`;
  return el("tr", { "data-name": s.name, id: named, class: location.hash === `#${named}` ? "targeted" : "" },
    el("td", {}, el("span", { class: "fname", text: s.name }), el("div", { class: "muted", text: `group ${s.group}` })),
    el("td", { class: "mono" }, s.ScheduleExpression, el("div", { class: "muted", text: s.ScheduleExpressionTimezone })),
    el("td", {}, el("span", { class: `badge ${enabled ? "ok" : "neutral"}`, text: s.State }),
      s.disabled_reason ? el("div", { class: "bad reason", text: s.disabled_reason }) : null),
    el("td", { class: "next-runs" }, s.next_runs.length
      ? el("ol", { class: "plain" }, ...s.next_runs.map((t) => el("li", { text: when(t) })))
      : el("span", { class: "muted", text: "none" })),
    el("td", {}, s.target_link ? el("a", { href: s.target_link, text: s.Target.Arn.split(":").slice(5).join(":") })
      : el("span", { class: "bad", text: s.Target.Arn })),
    el("td", { class: "fires" }, s.fires.length ? el("ul", { class: "plain" }, ...s.fires.slice(0, 5).map(fireItem))
      : el("span", { class: "muted", text: "not fired yet" })),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "small", text: "Edit", onclick: () => edit(s) }),
      el("button", { type: "button", class: "small", text: enabled ? "Disable" : "Enable",
        onclick: () => act(s, "POST", "/state", { State: enabled ? "DISABLED" : "ENABLED" }).catch(alertError) }),
      el("button", { type: "button", class: "small danger", text: "Delete",
        onclick: () => confirm(`Delete the schedule ${s.name}?`) && act(s, "DELETE").catch(alertError) })));
}

function alertError(error) { formError.textContent = error.message; formError.hidden = false; }

async function load() {
  const data = await api("GET", "/api/schedules");
  document.getElementById("schedule-count").textContent = `(${data.schedules.length})`;
  const target = field("schedule-target").value, role = field("schedule-role").value;
  options(field("schedule-target"), [["Functions", data.choices.functions], ["State machines", data.choices.machines]], target);
  options(field("schedule-role"), [["Roles", data.choices.roles]], role);
  field("schedule-groups").replaceChildren(...data.choices.groups.map((g) => el("option", { value: g })));
  body.replaceChildren(...(data.schedules.length ? data.schedules.map(row)
    : [el("tr", {}, el("td", { colspan: 7, class: "muted", text: "No schedules yet. Create one below." }))]));
  // A trigger box on a function's page links here as #group/name: that row is shown and marked.
  if (!document.body.dataset.ready) body.querySelector("tr.targeted")?.scrollIntoView({ block: "center" });
  document.body.dataset.ready = "true";
}

function timeWindow() {
  const mode = field("schedule-window").value;
  const minutes = field("schedule-window-minutes").value;
  return mode === "FLEXIBLE" ? { Mode: mode, ...(minutes ? { MaximumWindowInMinutes: Number(minutes) } : {}) } : { Mode: mode };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  const input = field("schedule-input").value.trim();
  const members = {
    ScheduleExpression: field("schedule-expression").value.trim(),
    ScheduleExpressionTimezone: field("schedule-timezone").value.trim() || "UTC",
    State: field("schedule-enabled").checked ? "ENABLED" : "DISABLED",
    FlexibleTimeWindow: timeWindow(),
    ActionAfterCompletion: field("schedule-after").value,
    Target: { Arn: field("schedule-target").value, RoleArn: field("schedule-role").value, ...(input ? { Input: input } : {}) },
    ...(field("schedule-start").value.trim() ? { StartDate: field("schedule-start").value.trim() } : {}),
    ...(field("schedule-end").value.trim() ? { EndDate: field("schedule-end").value.trim() } : {}),
  };
  const button = field("schedule-save");
  button.disabled = true;
  try {
    if (editing) await api("PUT", `/api/schedules/${encodeURIComponent(editing.group)}/${encodeURIComponent(editing.name)}`, members);
    else await api("POST", "/api/schedules", { Name: field("schedule-name").value.trim(),
      GroupName: field("schedule-group").value.trim() || "default", ...members });
    reset();
    await load();
  } catch (error) {
    if (!showFieldErrors(form, error)) alertError(error);
  } finally {
    button.disabled = false;
  }
});

field("schedule-cancel").addEventListener("click", reset);
load();
// Fires happen on the server's clock: the table follows them.
setInterval(() => { if (!document.hidden) load().catch(() => {}); }, 5000);
