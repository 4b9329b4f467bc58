// The chat sample's room: a WebSocket to the user's chat API stage (?name=&room=), Send as
// {"action": "sendmessage", "text": ...}, each {name, text, at} the room sends shown as it arrives.
// The connection's state is shown (connecting, connected, closed); a connection that drops is opened
// again after a pause that grows (1 s, 2 s, 4 s... at most 15 s) until Leave is pressed.
import { api, el } from "./api.js";

const STATES = { connecting: "connecting…", connected: "connected", closed: "closed" };
const MAX_RETRY_MS = 15000;

function showState(state, detail = "") {
  const stateBadge = document.getElementById("chat-state");
  stateBadge.dataset.state = state;
  stateBadge.textContent = STATES[state] + (detail ? ` (${detail})` : "");
}

function setUpLoad() {
  const button = document.getElementById("chat-load");
  const status = document.getElementById("chat-load-status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.className = "status-line";
    status.textContent = "Loading the sample…";
    try {
      await api("POST", button.dataset.load);
      window.location.reload();
    } catch (error) {
      status.className = "status-line error";
      status.textContent = error.message;
      button.disabled = false;
    }
  });
}

function setUpChat(root) {
  const params = new URLSearchParams(window.location.search);
  const nameInput = document.getElementById("chat-name");
  const roomInput = document.getElementById("chat-room");
  const where = document.getElementById("chat-where");
  const list = document.getElementById("chat-messages");
  const text = document.getElementById("chat-text");
  const sendButton = document.getElementById("chat-send-button");
  nameInput.value = params.get("name") || root.dataset.name || "guest";
  roomInput.value = params.get("room") || "lobby";

  let socket = null;
  let wanted = false;       // stay connected: reconnect when the connection drops
  let retryMs = 1000;
  let retryTimer = null;

  function note(kind, words) {
    list.append(el("li", { class: `chat-note ${kind}`, text: words }));
    list.scrollTop = list.scrollHeight;
  }

  function showMessage(message) {
    if (message.error || (message.message && !message.text)) {
      note("error", message.error || message.message);
      return;
    }
    const at = message.at ? new Date(message.at) : new Date();
    list.append(el("li", { class: "chat-message" },
      el("span", { class: "chat-name", text: message.name }),
      el("time", { datetime: message.at || "", text: at.toLocaleTimeString() }),
      el("div", { class: "chat-text", text: message.text })));
    list.scrollTop = list.scrollHeight;
  }

  function enableSending(on) {
    text.disabled = !on;
    sendButton.disabled = !on;
  }

  function open() {
    clearTimeout(retryTimer);
    // The stage's address as the server names it, on the host this page came from: the page's
    // Content-Security-Policy lets it connect to its own origin only (127.0.0.1 and localhost differ).
    const url = new URL(root.dataset.url);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    url.host = window.location.host;
    url.searchParams.set("name", nameInput.value.trim());
    url.searchParams.set("room", roomInput.value.trim());
    showState("connecting");
    const current = new WebSocket(url);
    socket = current;
    current.addEventListener("open", () => {
      if (socket !== current) return;
      retryMs = 1000;
      showState("connected");
      where.textContent = `in ${roomInput.value.trim()} as ${nameInput.value.trim()}`;
      note("joined", `Joined ${roomInput.value.trim()}.`);
      enableSending(true);
      text.focus();
    });
    current.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        message = { error: String(event.data) };
      }
      showMessage(message);
    });
    current.addEventListener("close", (event) => {
      if (socket !== current) return;
      socket = null;
      enableSending(false);
      where.textContent = "";
      if (!wanted) {
        showState("closed");
        return;
      }
      // A refused handshake (the $connect function said no) closes with 1006 as a dropped line does.
      showState("closed", `reconnecting in ${Math.round(retryMs / 1000)} s`);
      retryTimer = setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      note("dropped", `Connection closed (${event.code}).`);
    });
  }

  function close() {
    wanted = false;
    clearTimeout(retryTimer);
    if (socket) {
      const current = socket;
      socket = null;
      current.close(1000);
      note("left", "Left the room.");
    }
    enableSending(false);
    where.textContent = "";
    showState("closed");
  }

  document.getElementById("chat-join").addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams({ name: nameInput.value.trim(), room: roomInput.value.trim() });
    window.history.replaceState(null, "", `?${next}`);
    close();
    wanted = true;
    retryMs = 1000;
    open();
  });
  document.getElementById("chat-disconnect").addEventListener("click", close);
  document.getElementById("chat-send").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = text.value;
    if (!words.trim() || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ action: "sendmessage", text: words }));
    text.value = "";
    text.focus();
  });

  wanted = true;
  open();
}

const chat = document.getElementById("chat");
if (chat) setUpChat(chat);
else setUpLoad();
