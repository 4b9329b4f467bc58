// Draws a state machine's graph: DOT from runtime/asl/graph.py, laid out in the browser by the vendored
// WebAssembly Graphviz, shown as inline SVG with zoom (wheel), pan (drag), fit (double-click or
// fit()), status colours per state, click-to-select and export to SVG or PNG.
//
//   const view = await renderGraph(container, dot, { onSelect: (pointer) => ... });
//   view.highlight("/States/공격 훈련", "running");   // running succeeded failed caught cancelled not-run
//
// Nodes are found by the JSON pointer of their state: the SVG ids are `state` + the pointer,
// percent-encoded (see runtime/asl/graph.py), and this module decodes them; it never re-encodes.
// Transition edges have ids too (`edge:/States/C:choice:1`); clicking one (its line, arrow or
// label) selects it and calls `onSelectEdge({id, from, kind, index})` (see edgeFor).
import { Graphviz } from "../vendor/graphviz/wasm-graphviz-1.29.2.js";

export const STATUSES = ["running", "succeeded", "failed", "caught", "cancelled", "not-run"];

const PREFIXES = ["state", "join", "cluster", "missing"];
const MIN_ZOOM = 0.1;   // relative to the graph's natural size
const MAX_ZOOM = 8;
const MAX_FIT = 1.5;    // fitting never blows a small graph up more than this
const DRAG_SLOP = 4;    // pixels a press may move and still count as a click

// The container's rules, then the graph's (these also travel inside an exported SVG).
const CONTAINER_CSS = `
.fb-graph { position: relative; overflow: hidden; touch-action: none; user-select: none; }
.fb-graph > svg.fb-graph-svg { display: block; width: 100%; height: 100%; cursor: grab; }
.fb-graph > svg.fb-graph-svg.fb-panning { cursor: grabbing; }
`;
const GRAPH_CSS = `
.fb-graph-svg g.fb-edge-link { cursor: pointer; }
.fb-graph-svg path.fb-edge-hit { fill: none; stroke: transparent; stroke-width: 14; pointer-events: stroke; }
.fb-graph-svg g.fb-edge-link:hover > path:not(.fb-edge-hit) { stroke-width: 2.2; }
.fb-graph-svg g.fb-edge-selected > path:not(.fb-edge-hit) { stroke: #1d4ed8; stroke-width: 3; }
.fb-graph-svg g.fb-edge-selected > polygon { stroke: #1d4ed8; fill: #1d4ed8; }
.fb-graph-svg g.fb-edge-selected text { fill: #1d4ed8; }
.fb-graph-svg text { font-family: "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans", Helvetica, Arial, sans-serif; }
.fb-graph-svg g.fb-state, .fb-graph-svg g.fb-join { cursor: pointer; }
.fb-graph-svg g.fb-state:focus { outline: none; }
.fb-graph-svg g.fb-state:hover > :is(polygon, path, ellipse) { stroke-width: 2.2; }
.fb-graph-svg g.fb-state:focus-visible > :is(polygon, path, ellipse),
.fb-graph-svg g.fb-selected > :is(polygon, path, ellipse) { stroke: #1d4ed8; stroke-width: 3; }
.fb-graph-svg g.node.fb-status-running > :is(polygon, path, ellipse) { stroke: #2563eb; fill: #dbeafe;
  stroke-width: 2.4; animation: fb-graph-pulse 1.2s ease-in-out infinite; }
.fb-graph-svg g.node.fb-status-succeeded > :is(polygon, path, ellipse) { stroke: #16a34a; fill: #dcfce7;
  stroke-width: 2; }
.fb-graph-svg g.node.fb-status-failed > :is(polygon, path, ellipse) { stroke: #dc2626; fill: #fee2e2;
  stroke-width: 2.4; }
.fb-graph-svg g.node.fb-status-caught > :is(polygon, path, ellipse) { stroke: #d97706; fill: #fef3c7;
  stroke-width: 2.2; }
.fb-graph-svg g.node.fb-status-cancelled > :is(polygon, path, ellipse) { stroke: #6b7280; fill: #f3f4f6;
  stroke-width: 2; stroke-dasharray: 5 3; }
.fb-graph-svg g.node.fb-status-not-run { opacity: 0.45; }
.fb-graph-svg g.cluster.fb-status-not-run > :is(polygon, path) { stroke-opacity: 0.45; }
.fb-graph-svg g.cluster.fb-status-running > :is(polygon, path) { stroke: #2563eb; stroke-width: 2; }
.fb-graph-svg g.cluster.fb-status-succeeded > :is(polygon, path) { stroke: #16a34a; stroke-width: 2; }
.fb-graph-svg g.cluster.fb-status-failed > :is(polygon, path) { stroke: #dc2626; stroke-width: 2; }
.fb-graph-svg g.cluster.fb-status-caught > :is(polygon, path) { stroke: #d97706; stroke-width: 2; }
.fb-graph-svg g.cluster.fb-status-cancelled > :is(polygon, path) { stroke: #6b7280; stroke-width: 2; }
@keyframes fb-graph-pulse { 50% { stroke-opacity: 0.35; } }
`;

let graphviz = null;

/** Returns the loaded Graphviz (the WebAssembly is compiled once per page). */
export function loadGraphviz() {
  graphviz ??= Graphviz.load();
  return graphviz;
}

/** Returns the JSON pointer an SVG id stands for (`state/States/A%20B` -> `/States/A B`), or null. */
export function pointerFor(id) {
  for (const prefix of PREFIXES) {
    if (id && id.startsWith(prefix + "/")) {
      try {
        return decodeURIComponent(id.slice(prefix.length));
      } catch {
        return null;
      }
    }
  }
  return null;
}

const EDGE_KINDS = ["next", "choice", "default", "catch"];

/**
 * Returns what a transition edge's id stands for, {id, from, kind, index}
 * (`edge:/States/C:choice:1` -> from "/States/C", kind "choice", index 1; index is null for
 * "next" and "default"), or null when the id is not an edge id.
 */
export function edgeFor(id) {
  const parts = typeof id === "string" ? id.split(":") : [];
  if (parts.length < 3 || parts.length > 4 || parts[0] !== "edge" || !EDGE_KINDS.includes(parts[2])) return null;
  const indexed = parts[2] === "choice" || parts[2] === "catch";
  if ((parts.length === 4) !== indexed || (indexed && !/^\d+$/.test(parts[3]))) return null;
  let from;
  try {
    from = decodeURIComponent(parts[1]);
  } catch {
    return null;
  }
  return { id, from, kind: parts[2], index: indexed ? Number(parts[3]) : null };
}

// A constructed style sheet, not a <style> element: the Content-Security-Policy allows no inline style.
const graphSheets = new WeakMap();
function injectStyle(doc) {
  if (graphSheets.has(doc)) return;
  const sheet = new doc.defaultView.CSSStyleSheet();
  sheet.replaceSync(CONTAINER_CSS + GRAPH_CSS);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  graphSheets.set(doc, sheet);
}

/**
 * Lays `dot` out and draws it into `container` (which should have a height; without one the graph
 * keeps its own proportions). Resolves to the view; rejects with Graphviz's message on bad DOT.
 */
export async function renderGraph(container, dot, { onSelect = null, onSelectEdge = null } = {}) {
  injectStyle(container.ownerDocument);
  const engine = await loadGraphviz();
  const view = new GraphView(container, engine, onSelect, onSelectEdge);
  try {
    view.update(dot);
  } catch (error) {
    view.destroy();
    throw error;
  }
  return view;
}

/** Returns the horizontal centre of a Graphviz shape (polygon, ellipse or absolute path), or null. */
function centreX(shape) {
  if (shape.localName === "ellipse") return Number(shape.getAttribute("cx"));
  const text = shape.getAttribute(shape.localName === "polygon" ? "points" : "d") ?? "";
  const xs = [...text.matchAll(/(-?[\d.]+),-?[\d.]+/g)].map((m) => Number(m[1]));
  return xs.length ? (Math.min(...xs) + Math.max(...xs)) / 2 : null;
}

class GraphView {
  constructor(container, engine, onSelect, onSelectEdge = null) {
    this.container = container;
    this.engine = engine;
    this.onSelect = onSelect;
    this.onSelectEdge = onSelectEdge;
    this.selectedEdge = null;    // id of the selected transition edge
    this.edges = new Map();      // edge id -> <g> of a transition edge
    this.svg = null;
    this.natural = null;     // the layout's own viewBox {x, y, width, height}
    this.box = null;         // what is shown now
    this.touched = false;    // the user zoomed or panned: keep their view across updates
    this.statuses = new Map();   // pointer -> status, re-applied after update()
    this.selected = null;
    this.nodes = new Map();      // pointer -> <g> of the state's node
    this.clusters = new Map();   // pointer -> <g> of a Parallel/Map box
    container.classList.add("fb-graph");
    this.listen();
  }

  /**
   * Draws new DOT in place, keeping statuses, the selection and a zoom the user chose. Throws
   * Graphviz's message on bad DOT and leaves the graph shown before as it was.
   */
  update(dot) {
    const text = this.engine.dot(dot, "svg");
    const parsed = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    if (parsed.nodeName !== "svg") throw new Error("Graphviz did not return an SVG");
    const svg = this.container.ownerDocument.importNode(parsed, true);
    const [x, y, width, height] = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    this.natural = { x, y, width, height };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.classList.add("fb-graph-svg");
    svg.setAttribute("role", "img");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    this.svg?.remove();
    this.container.append(svg);
    this.svg = svg;
    if (this.container.clientHeight === 0) {
      svg.style.height = "auto";
      svg.style.aspectRatio = `${width} / ${height}`;
    }
    // Graphviz numbers the graph and its edges (graph0, edge1, ...); those ids would clash with
    // the page's and with a second graph's. Transition edges keep the ids graph.py gave them.
    for (const g of svg.querySelectorAll("g.graph, g.edge")) {
      if (!edgeFor(g.id)) g.removeAttribute("id");
    }
    this.index();
    this.tidyLabels();
    for (const [pointer, status] of this.statuses) this.paint(pointer, status);
    if (this.selected) this.markSelected(this.selected);
    if (this.selectedEdge) this.markSelectedEdge(this.selectedEdge);
    if (this.touched && this.box) this.show(this.box);
    else this.fit();
  }

  index() {
    this.nodes.clear();
    this.clusters.clear();
    this.edges.clear();
    // A transition edge is a thin line: a transparent copy of it, wide, takes the clicks.
    for (const g of this.svg.querySelectorAll("g.edge")) {
      if (!edgeFor(g.id)) continue;
      this.edges.set(g.id, g);
      g.classList.add("fb-edge-link");
      const line = g.querySelector(":scope > path");
      if (line) {
        const hit = line.cloneNode(false);
        hit.setAttribute("class", "fb-edge-hit");
        hit.removeAttribute("stroke-dasharray");
        line.before(hit);
      }
    }
    for (const g of this.svg.querySelectorAll("g.node, g.cluster")) {
      const pointer = pointerFor(g.id);
      if (pointer === null) continue;
      if (g.id.startsWith("state")) {
        this.nodes.set(pointer, g);
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "button");
      } else if (g.id.startsWith("cluster")) {
        this.clusters.set(pointer, g);
      }
    }
  }

  // Graphviz measures text without font files (Hangul comes out narrow) and anchors HTML-label
  // lines at their left end; centring each line on its node keeps labels centred whatever the
  // browser's font. The centre comes from the shape's coordinates, not getBBox(), so a graph drawn
  // in a hidden container is right too. Titles become the label's words, not the encoded id.
  tidyLabels() {
    for (const g of this.svg.querySelectorAll("g.node")) {
      const shape = g.querySelector(":scope > :is(polygon, path, ellipse)");
      const texts = [...g.querySelectorAll(":scope > text")];
      const words = texts.map((t) => t.textContent).join(" · ");
      const title = g.querySelector(":scope > title");
      if (title) title.textContent = words;
      if (g.hasAttribute("role")) g.setAttribute("aria-label", words);
      const centre = shape && centreX(shape);
      if (centre === null || !texts.length) continue;
      for (const t of texts) {
        t.setAttribute("text-anchor", "middle");
        t.setAttribute("x", String(centre));
      }
    }
    for (const title of this.svg.querySelectorAll("g.edge > title, g.cluster > title")) {
      title.remove();
    }
  }

  /** Colours the state at `pointer` by status (one of STATUSES), or clears it with null. */
  highlight(pointer, status) {
    if (status !== null && !STATUSES.includes(status)) {
      throw new TypeError(`unknown status ${JSON.stringify(status)}; one of ${STATUSES.join(", ")}`);
    }
    if (status === null) this.statuses.delete(pointer);
    else this.statuses.set(pointer, status);
    return this.paint(pointer, status);
  }

  /** Clears every status colour. */
  clearHighlights() {
    for (const pointer of [...this.statuses.keys()]) this.highlight(pointer, null);
  }

  paint(pointer, status) {
    const targets = [this.nodes.get(pointer), this.clusters.get(pointer)].filter(Boolean);
    for (const g of targets) {
      for (const name of STATUSES) g.classList.remove(`fb-status-${name}`);
      if (status) g.classList.add(`fb-status-${status}`);
    }
    return targets.length > 0;
  }

  /** Returns the `<g>` of the state's node, or null. */
  nodeFor(pointer) {
    return this.nodes.get(pointer) ?? null;
  }

  /** Marks the state as selected (as a click does, without calling onSelect); clears an edge's. */
  select(pointer) {
    this.selected = pointer;
    this.markSelected(pointer);
    if (pointer && this.selectedEdge) this.selectEdge(null);
  }

  /** Returns the `<g>` of the transition edge with that id, or null. */
  edgeNode(id) {
    return this.edges.get(id) ?? null;
  }

  /** Marks the edge as selected (as a click does, without calling onSelectEdge), or clears it
   * with null; selecting an edge clears the state selection. */
  selectEdge(id) {
    this.selectedEdge = id;
    if (id) {
      this.selected = null;
      this.markSelected(null);
    }
    this.markSelectedEdge(id);
  }

  markSelectedEdge(id) {
    for (const g of this.svg.querySelectorAll("g.fb-edge-selected")) g.classList.remove("fb-edge-selected");
    if (id) this.edges.get(id)?.classList.add("fb-edge-selected");
  }

  markSelected(pointer) {
    for (const g of this.svg.querySelectorAll("g.fb-selected")) g.classList.remove("fb-selected");
    this.nodes.get(pointer)?.classList.add("fb-selected");
  }

  // --- zoom and pan ------------------------------------------------------------------------------

  /** Shows the whole graph, centred, never enlarged past MAX_FIT of its natural size. */
  fit() {
    const { x, y, width, height } = this.natural;
    const rect = this.svg.getBoundingClientRect();
    // One SVG unit is one CSS pixel at natural size; beyond MAX_FIT, widen the box instead.
    const scale = Math.min(rect.width / width, rect.height / height);
    const grow = rect.width && rect.height && scale > MAX_FIT ? scale / MAX_FIT : 1;
    const w = width * grow;
    const h = height * grow;
    this.touched = false;
    this.show({ x: x - (w - width) / 2, y: y - (h - height) / 2, width: w, height: h });
  }

  /** Zooms by `factor` around a point in client coordinates (the centre by default). */
  zoomBy(factor, clientX, clientY) {
    const rect = this.svg.getBoundingClientRect();
    const point = this.toGraph(clientX ?? rect.left + rect.width / 2, clientY ?? rect.top + rect.height / 2);
    const b = this.box;
    const zoom = this.natural.width / (b.width / factor);
    if (zoom < MIN_ZOOM || zoom > MAX_ZOOM) return;
    this.touched = true;
    this.show({
      x: point.x - (point.x - b.x) / factor,
      y: point.y - (point.y - b.y) / factor,
      width: b.width / factor,
      height: b.height / factor,
    });
  }

  show(box) {
    this.box = box;
    this.svg.setAttribute("viewBox", `${box.x} ${box.y} ${box.width} ${box.height}`);
  }

  toGraph(clientX, clientY) {
    const point = this.svg.createSVGPoint();
    point.x = clientX;
    point.y = clientY;
    return point.matrixTransform(this.svg.getScreenCTM().inverse());
  }

  listen() {
    const c = this.container;
    let press = null;
    this.handlers = {
      wheel: (event) => {
        if (!this.svg) return;
        event.preventDefault();
        this.zoomBy(Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015)),
          event.clientX, event.clientY);
      },
      pointerdown: (event) => {
        if (!this.svg || event.button !== 0) return;
        press = { id: event.pointerId, x: event.clientX, y: event.clientY, moved: false,
          box: { ...this.box }, scale: this.svg.getScreenCTM().a };
      },
      pointermove: (event) => {
        if (!press || event.pointerId !== press.id) return;
        const dx = event.clientX - press.x;
        const dy = event.clientY - press.y;
        if (!press.moved && Math.hypot(dx, dy) < DRAG_SLOP) return;
        if (!press.moved) {
          press.moved = true;
          c.setPointerCapture?.(event.pointerId);
          this.svg.classList.add("fb-panning");
        }
        this.touched = true;
        this.show({ ...press.box, x: press.box.x - dx / press.scale, y: press.box.y - dy / press.scale });
      },
      pointerup: (event) => {
        if (!press || event.pointerId !== press.id) return;
        const wasDrag = press.moved;
        press = null;
        this.svg?.classList.remove("fb-panning");
        if (!wasDrag) this.choose(event.target);
      },
      pointercancel: () => {
        press = null;
        this.svg?.classList.remove("fb-panning");
      },
      dblclick: (event) => {
        if (!event.target.closest?.("g.node")) this.fit();
      },
      keydown: (event) => {
        if (event.key === "Enter" || event.key === " ") {
          if (event.target.closest?.("g.fb-state")) {
            event.preventDefault();
            this.choose(event.target);
          }
        }
      },
    };
    c.addEventListener("wheel", this.handlers.wheel, { passive: false });
    for (const name of ["pointerdown", "pointermove", "pointerup", "pointercancel", "dblclick", "keydown"]) {
      c.addEventListener(name, this.handlers[name]);
    }
  }

  choose(target) {
    const link = target?.closest?.("g.fb-edge-link");
    if (link) {
      const info = edgeFor(link.id);
      if (!info) return;
      this.selectEdge(info.id);
      this.onSelectEdge?.(info);
      return;
    }
    const g = target?.closest?.("g.fb-state, g.fb-join");
    if (!g) return;
    const pointer = pointerFor(g.id);
    if (pointer === null) return;
    this.select(pointer);
    this.onSelect?.(pointer);
  }

  // --- export ------------------------------------------------------------------------------------

  /** Returns the graph as a standalone SVG document (whole graph, statuses and styles included). */
  exportSvg() {
    const copy = this.svg.cloneNode(true);
    const { x, y, width, height } = this.natural;
    copy.setAttribute("viewBox", `${x} ${y} ${width} ${height}`);
    copy.setAttribute("width", String(width));
    copy.setAttribute("height", String(height));
    copy.removeAttribute("style");
    for (const g of copy.querySelectorAll(".fb-selected")) g.classList.remove("fb-selected");
    for (const g of copy.querySelectorAll(".fb-edge-selected")) g.classList.remove("fb-edge-selected");
    for (const hit of copy.querySelectorAll("path.fb-edge-hit")) hit.remove();
    const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
    style.textContent = GRAPH_CSS;
    copy.insertBefore(style, copy.firstChild);
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
  }

  /** Resolves to a PNG Blob of the whole graph at `scale` times its natural size, on `background`. */
  async exportPng({ scale = 2, background = "#ffffff" } = {}) {
    const { width, height } = this.natural;
    const url = URL.createObjectURL(new Blob([this.exportSvg()], { type: "image/svg+xml" }));
    try {
      const image = new Image();
      image.src = url;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = Math.ceil(width * scale);
      canvas.height = Math.ceil(height * scale);
      const context = canvas.getContext("2d");
      context.fillStyle = background;
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      return await new Promise((resolve, reject) => canvas.toBlob(
        (blob) => (blob ? resolve(blob) : reject(new Error("the canvas gave no PNG"))), "image/png"));
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  /** Removes the graph and its listeners from the container. */
  destroy() {
    const c = this.container;
    c.removeEventListener("wheel", this.handlers.wheel);
    for (const [name, handler] of Object.entries(this.handlers)) {
      if (name !== "wheel") c.removeEventListener(name, handler);
    }
    this.svg?.remove();
    this.svg = null;
    c.classList.remove("fb-graph");
    this.nodes.clear();
    this.clusters.clear();
    this.edges.clear();
  }
}
