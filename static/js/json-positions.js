// A small JSON parser that remembers where every value sits in the text, so a JSON pointer from the
// validator (`/States/Foo/Next`) can be shown on its line, and a parse error says line and column.
//
//   const result = parseWithPositions(text);
//   result.error            -> null or {message, offset, line, column}
//   result.value            -> the parsed value (when no error)
//   locate(result, "/States/Foo/Next") -> {from, to, line, column} of the value (or of the nearest
//                              existing parent when the pointer names something absent)

import { pointer } from "./asl-model.js";

class ParseError extends Error {
  constructor(message, offset) {
    super(message);
    this.offset = offset;
  }
}

/** Returns {value, error, spans, text}: spans maps each pointer to {from, to, keyFrom, keyTo}. */
export function parseWithPositions(text) {
  const spans = new Map();
  let i = 0;

  const fail = (message, at = i) => { throw new ParseError(message, at); };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const describe = (at) => (at >= text.length ? "end of input" : `'${text[at]}'`);

  function string() {
    const start = i;
    i++;
    let out = "";
    while (true) {
      if (i >= text.length) fail("Unterminated string", start);
      const c = text[i];
      if (c === '"') { i++; return out; }
      if (c === "\\") {
        const e = text[i + 1];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e in simple) { out += simple[e]; i += 2; continue; }
        if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        fail("Bad escape in string", i);
      }
      if (c < " ") fail("Control character in string (escape it)", i);
      out += c;
      i++;
    }
  }

  function number() {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) fail(`Unexpected ${describe(i)}`);
    i += match[0].length;
    return Number(match[0]);
  }

  function value(ptr) {
    ws();
    const from = i;
    let result;
    const c = text[i];
    if (c === "{") {
      i++;
      result = {};
      ws();
      if (text[i] === "}") i++;
      else {
        while (true) {
          ws();
          if (text[i] !== '"') fail(`Expected a property name in double quotes, found ${describe(i)}`);
          const keyFrom = i;
          const key = string();
          const keyTo = i;
          ws();
          if (text[i] !== ":") fail(`Expected ':' after the property name, found ${describe(i)}`);
          i++;
          const child = pointer(ptr, key);
          result[key] = value(child);
          const span = spans.get(child);
          span.keyFrom = keyFrom;
          span.keyTo = keyTo;
          ws();
          if (text[i] === ",") { i++; ws(); if (text[i] === "}") fail("Trailing comma before '}'"); continue; }
          if (text[i] === "}") { i++; break; }
          fail(`Expected ',' or '}' after a property value, found ${describe(i)}`);
        }
      }
    } else if (c === "[") {
      i++;
      result = [];
      ws();
      if (text[i] === "]") i++;
      else {
        while (true) {
          result.push(value(`${ptr}/${result.length}`));
          ws();
          if (text[i] === ",") { i++; ws(); if (text[i] === "]") fail("Trailing comma before ']'"); continue; }
          if (text[i] === "]") { i++; break; }
          fail(`Expected ',' or ']' after an array element, found ${describe(i)}`);
        }
      }
    } else if (c === '"') {
      result = string();
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      result = number();
    } else if (text.startsWith("true", i)) { i += 4; result = true; }
    else if (text.startsWith("false", i)) { i += 5; result = false; }
    else if (text.startsWith("null", i)) { i += 4; result = null; }
    else fail(`Unexpected ${describe(i)}`);
    spans.set(ptr, { from, to: i });
    return result;
  }

  try {
    const result = value("");
    ws();
    if (i < text.length) fail(`Unexpected ${describe(i)} after the JSON value`);
    return { value: result, error: null, spans, text };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    const { line, column } = lineColumn(text, error.offset);
    return { value: undefined, error: { message: error.message, offset: error.offset, line, column }, spans, text };
  }
}

/** Returns the 1-based line and column of `offset` in `text`. */
export function lineColumn(text, offset) {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === "\n") { line++; start = k + 1; }
  }
  return { line, column: offset - start + 1 };
}

/**
 * Returns where the pointer's value is ({from, to, line, column, exact}); a pointer to something
 * absent (a missing required field) falls back to its nearest parent, marked `exact: false`.
 */
export function locate(parsed, ptr) {
  let current = ptr || "";
  let exact = true;
  while (!parsed.spans.has(current)) {
    if (current === "") return null;
    current = current.slice(0, current.lastIndexOf("/"));
    exact = false;
  }
  const span = parsed.spans.get(current);
  // A property is marked from its key (where the eye looks); a whole object only on its first line.
  const from = span.keyFrom ?? span.from;
  let to = span.to;
  if (!exact || typeof parsed.value !== "undefined") {
    const newline = parsed.text.indexOf("\n", from);
    if (newline !== -1 && newline < to && (parsed.text[span.from] === "{" || parsed.text[span.from] === "[")) to = newline;
  }
  return { from, to: Math.max(to, from + 1 <= parsed.text.length ? from + 1 : from), ...lineColumn(parsed.text, from), exact, pointer: current };
}
