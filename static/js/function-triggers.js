// The function page's triggers: the overview's trigger boxes beside the function (every event
// source the server lists: function URLs, HTTP and WebSocket APIs, buckets, schedules; a disabled
// one drawn red with its reason) and the
// Configuration tab's Function URL panel (create, edit auth type and CORS, delete).
import { api, el, showFieldErrors } from "./api.js";

const $ = (id) => document.getElementById(id);
const list = (text) => text.split(",").map((item) => item.trim()).filter(Boolean);

export function startTriggers(base, status) {
  let current = null;   // the URL as the API last returned it, or null

  async function loadTriggers() {
    const { triggers } = await api("GET", `${base}/triggers`);
    const boxes = triggers.map((t) => el("a", { class: `trigger-box ${t.kind}${t.disabled ? " disabled" : ""}`, href: t.href || "#",
      target: "_blank", rel: "noopener", title: t.detail, "data-kind": t.kind },
      el("strong", { text: t.title }), el("span", { class: "muted small-text", text: t.label }),
      ...(t.lines || []).map((line) => el("span", { class: "small-text", text: line })),
      ...(t.disabled ? [el("span", { class: "badge danger tiny flush-left", text: "Disabled" }),
        el("span", { class: "trigger-reason", text: t.disabled })] : [])));
    $("trigger-list").replaceChildren(...(boxes.length ? boxes :
      [el("p", { class: "muted small-text trigger-empty", text: "No triggers. A function URL (Configuration tab) is one." })]));
  }

  function corsText(cors) {
    if (!cors || !Object.keys(cors).length) return "Not configured";
    const parts = [];
    if (cors.AllowOrigins) parts.push(`origins ${cors.AllowOrigins.join(", ")}`);
    if (cors.AllowMethods) parts.push(`methods ${cors.AllowMethods.join(", ")}`);
    if (cors.AllowHeaders) parts.push(`headers ${cors.AllowHeaders.join(", ")}`);
    if (cors.ExposeHeaders) parts.push(`expose ${cors.ExposeHeaders.join(", ")}`);
    if (cors.MaxAge !== undefined) parts.push(`max age ${cors.MaxAge} s`);
    if (cors.AllowCredentials) parts.push("credentials");
    return parts.join("; ");
  }

  function render() {
    $("url-none").hidden = !!current;
    $("url-view").hidden = !current;
    $("url-form").hidden = true;
    const overview = $("overview-url");
    if (!current) {
      overview.replaceChildren(el("span", { class: "muted", text: "—" }));
      return;
    }
    $("url-link").textContent = current.url;
    $("url-link").href = current.url;
    $("url-host").textContent = current.host_url;
    $("url-auth").replaceChildren(current.auth_type,
      current.auth_type === "NONE" && !current.public ?
        el("span", { class: "badge warn tiny", text: "not public: the function's policy has no statement for everyone" }) : "");
    $("url-cors").textContent = corsText(current.cors);
    $("url-mode").textContent = current.invoke_mode;
    overview.replaceChildren(el("a", { href: current.url, class: "mono", target: "_blank", rel: "noopener", text: current.url }));
  }

  function openForm() {
    const cors = (current && current.cors) || {};
    $(current && current.auth_type === "NONE" ? "url-auth-none" : "url-auth-iam").checked = true;
    $("url-cors-on").checked = Object.keys(cors).length > 0;
    $("url-cors-fields").hidden = !$("url-cors-on").checked;
    $("url-origins").value = (cors.AllowOrigins || []).join(", ");
    $("url-methods").value = (cors.AllowMethods || []).join(", ");
    $("url-headers").value = (cors.AllowHeaders || []).join(", ");
    $("url-expose").value = (cors.ExposeHeaders || []).join(", ");
    $("url-max-age").value = cors.MaxAge ?? "";
    $("url-credentials").checked = !!cors.AllowCredentials;
    showFieldErrors($("url-form"), null);
    $("url-none").hidden = true;
    $("url-view").hidden = true;
    $("url-form").hidden = false;
  }

  function formCors() {
    if (!$("url-cors-on").checked) return {};
    const cors = {};
    const add = (key, id) => { const items = list($(id).value); if (items.length) cors[key] = items; };
    add("AllowOrigins", "url-origins");
    add("AllowMethods", "url-methods");
    add("AllowHeaders", "url-headers");
    add("ExposeHeaders", "url-expose");
    const age = $("url-max-age").value.trim();
    if (age !== "") cors.MaxAge = Number(age);
    if ($("url-credentials").checked) cors.AllowCredentials = true;
    return cors;
  }

  async function save(event) {
    event.preventDefault();
    const body = { auth_type: document.querySelector('input[name="url-auth"]:checked').value, cors: formCors() };
    try {
      const { url } = await api(current ? "PUT" : "POST", `${base}/url`, body);
      status(current ? "Function URL saved." : "Function URL created.", "ok");
      current = url;
      render();
      await loadTriggers();
    } catch (error) {
      if (!showFieldErrors($("url-form"), error)) status(error.message, "error");
    }
  }

  async function remove() {
    if (!confirm("Delete the function URL? Requests to its address will get 404.")) return;
    try {
      await api("DELETE", `${base}/url`);
      current = null;
      status("Function URL deleted.", "ok");
      render();
      await loadTriggers();
    } catch (error) {
      status(error.message, "error");
    }
  }

  $("url-create").addEventListener("click", openForm);
  $("url-edit").addEventListener("click", openForm);
  $("url-cancel").addEventListener("click", render);
  $("url-delete").addEventListener("click", remove);
  $("url-form").addEventListener("submit", save);
  $("url-cors-on").addEventListener("change", () => { $("url-cors-fields").hidden = !$("url-cors-on").checked; });
  $("url-copy").addEventListener("click", () => navigator.clipboard?.writeText(current.url));

  return (async () => {
    current = (await api("GET", `${base}/url`)).url;
    render();
    await loadTriggers();
  })();
}
