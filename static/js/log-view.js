// A function's log as it streams in: each batch of lines is appended as one text node (no
// re-layout of what is already shown), and past a limit the oldest batches are dropped with a note
// saying how many lines are hidden, as the Lambda console shows only the end of a long log.

/** Characters of log the page keeps shown; the runner keeps at most 1 MB per invocation. */
export const DISPLAY_LIMIT = 256 * 1024;

export class LogView {
  /** `pre` holds the text, `note` says what is hidden; `onDownload` (optional) is offered in the
   * note once the whole log is known (after the invocation ends). */
  constructor(pre, note, limit = DISPLAY_LIMIT) {
    this.pre = pre;
    this.note = note;
    this.limit = limit;
    this.clear();
  }

  clear() {
    this.chunks = [];      // [{ node, length, lines }], oldest first
    this.length = 0;       // characters shown
    this.hiddenLines = 0;  // lines dropped from the top
    this.whole = null;     // the whole log text, once known
    this.pre.replaceChildren();
    this.renderNote();
  }

  /** Appends lines (strings without their newline) at the end. */
  append(lines) {
    if (!lines.length) return;
    this.push(lines.join("\n") + "\n", lines.length);
    this.trim();
    this.renderNote();
    this.scrollSoon();
  }

  /** Shows the whole log `text` (its end, within the limit) in place of what streamed. */
  show(text) {
    this.clear();
    this.whole = text;
    let start = 0;
    if (text.length > this.limit) {
      start = text.indexOf("\n", text.length - this.limit) + 1 || text.length - this.limit;
      this.hiddenLines = countLines(text, start);
    }
    let tail = text.slice(start);
    if (tail && !tail.endsWith("\n")) tail += "\n";
    if (tail) this.push(tail, countLines(tail, tail.length));
    this.renderNote();
    this.pre.scrollTop = this.pre.scrollHeight;
  }

  push(text, lines) {
    const node = document.createTextNode(text);
    this.pre.append(node);
    this.chunks.push({ node, length: text.length, lines });
    this.length += text.length;
  }

  trim() {
    while (this.length > this.limit && this.chunks.length > 1) {
      const first = this.chunks.shift();
      first.node.remove();
      this.length -= first.length;
      this.hiddenLines += first.lines;
    }
    const only = this.chunks[0];
    if (this.length > this.limit && only) {
      // One batch longer than the limit: keep its end, from a line start where there is one.
      const text = only.node.data;
      const cut = text.indexOf("\n", text.length - this.limit) + 1 || text.length - this.limit;
      const dropped = countLines(text, cut);
      only.node.data = text.slice(cut);
      only.length = only.node.data.length;
      only.lines -= dropped;
      this.hiddenLines += dropped;
      this.length = only.length;
    }
  }

  renderNote() {
    this.note.hidden = this.hiddenLines === 0;
    if (this.note.hidden) return;
    const lines = this.hiddenLines.toLocaleString("en-US");
    this.note.replaceChildren(`The log is long: its first ${lines} line${this.hiddenLines === 1 ? " is" : "s are"} not shown here. `);
    if (this.whole !== null) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.id = "download-log";
      button.textContent = "Download the whole log";
      button.addEventListener("click", () => this.onDownload?.(this.whole));
      this.note.append(button);
    }
  }

  scrollSoon() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.pre.scrollTop = this.pre.scrollHeight;
    });
  }
}

/** Returns how many newline-ended lines `text` has before `end`. */
function countLines(text, end) {
  let count = 0;
  for (let at = text.indexOf("\n"); at !== -1 && at < end; at = text.indexOf("\n", at + 1)) count += 1;
  return count;
}
