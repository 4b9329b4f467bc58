// Calls the studio's JSON API with the session and CSRF token; every refusal becomes an ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `Request failed (${status})`);
    this.status = status;
    this.code = error.code || "Error";
    this.field = error.field || null;
  }
}

// The nonce the Content-Security-Policy allows <style> elements with: CodeMirror writes its styles
// in one (EditorView.cspNonce), the one inline style the pages have. (No document: Node tests.)
export const CSP_NONCE = globalThis.document?.querySelector('meta[name="csp-nonce"]')?.content ?? "";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Sends a file's bytes as the body (a zip upload), with the same session, token and errors as api().
export async function upload(method, path, blob, contentType) {
  const response = await fetch(path, { method, body: blob, credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": contentType, "X-CSRFToken": csrfToken() } });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    // Through the CSSOM: the Content-Security-Policy refuses style attributes set as markup.
    else if (key === "style") node.style.cssText = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Returns "just now", "1 minute ago", "5 hours ago"... for an ISO time (its date after a day). */
export function timeAgo(iso, now = Date.now()) {
  if (!iso) return "—";
  const seconds = Math.max(0, (now - new Date(iso).getTime()) / 1000);
  const ago = (count, unit) => `${count} ${unit}${count === 1 ? "" : "s"} ago`;
  if (seconds < 1) return "just now";
  if (seconds < 60) return ago(Math.floor(seconds), "second");
  if (seconds < 3600) return ago(Math.floor(seconds / 60), "minute");
  if (seconds < 86400) return ago(Math.floor(seconds / 3600), "hour");
  return new Date(iso).toLocaleString();
}

export function showFieldErrors(root, error) {
  root.querySelectorAll(".field-error").forEach((node) => { node.textContent = ""; });
  if (!error || !error.field) return false;
  const top = error.field.replace(/^\//, "").split("/")[0];
  const target = root.querySelector(`.field-error[data-field="${top}"]`);
  if (!target) return false;
  target.textContent = error.message;
  return true;
}

export function fmtMs(value) {
  return value === null || value === undefined ? "—" : `${Number(value).toFixed(2)} ms`;
}
