// Small SVG charts for the Monitor tab: one or more series of (bucket, value) as bars or lines.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// series: [{label, values: [number|null], color, kind: "bar"|"line"}]; labels: bucket start ISO strings
export function drawChart(container, labels, series) {
  const width = 420, height = 160, left = 44, right = 8, top = 10, bottom = 22;
  const plotW = width - left - right, plotH = height - top - bottom;
  const all = series.flatMap((s) => s.values.filter((v) => v !== null));
  const top_ = Math.max(0, ...all);
  // Counts get whole-number ticks (0..4 at least); durations a "nice" rounded top.
  const counts = series.every((s) => s.kind === "bar");
  const max = counts ? Math.max(4, Math.ceil(top_ / 4) * 4) : niceMax(top_);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg", role: "img" });
  for (let i = 0; i <= 4; i += 1) {
    const y = top + plotH - (plotH * i) / 4;
    root.append(svg("line", { x1: left, x2: width - right, y1: y, y2: y, class: "gridline" }));
    const text = svg("text", { x: left - 6, y: y + 3, class: "axis", "text-anchor": "end" });
    text.textContent = Number((max * i) / 4).toLocaleString(undefined, { maximumFractionDigits: 1 });
    root.append(text);
  }
  const n = labels.length;
  const slot = plotW / Math.max(1, n);
  const x = (i) => left + slot * i + slot / 2;
  const y = (v) => top + plotH - (plotH * v) / max;
  for (const s of series) {
    if (s.kind === "bar") {
      s.values.forEach((v, i) => {
        if (!v) return;
        root.append(svg("rect", { x: x(i) - slot * 0.35, y: y(v), width: slot * 0.7, height: top + plotH - y(v), fill: s.color }));
      });
    } else {
      let d = "";
      s.values.forEach((v, i) => {
        if (v === null) return;
        d += `${d ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        root.append(svg("circle", { cx: x(i), cy: y(v), r: 2.2, fill: s.color }));
      });
      if (d) root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 1.5 }));
    }
  }
  [0, Math.floor(n / 2), n - 1].forEach((i) => {
    if (i < 0 || !labels[i]) return;
    const anchor = i === 0 ? "start" : i === n - 1 ? "end" : "middle";
    const at = i === 0 ? left : i === n - 1 ? width - right : x(i);
    const text = svg("text", { x: at, y: height - 6, class: "axis", "text-anchor": anchor });
    text.textContent = new Date(labels[i]).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    root.append(text);
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  for (const s of series) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = s.color;   // the CSSOM: no inline style markup under the CSP
    item.append(swatch);
    item.append(s.label);
    legend.append(item);
  }
  container.replaceChildren(root, legend);
}
