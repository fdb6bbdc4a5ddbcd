// Charts drawn as inline SVG with h("svg:…") — no library. Each chart is a <figure> whose SVG has a
// <title> and <desc> (its accessible name and summary) and a data table in a <details> below it,
// the same figures for screen readers and for anyone who wants the numbers.

import { h } from "./dom.js";
import { t } from "./i18n.js";

// Drawn in the units of the space they get (`width`, from the page), so text keeps its size on a phone.
const WIDTH = 560;
const HEIGHT = 220;
const PAD = { top: 16, right: 12, bottom: 28, left: 48 };

function frame(id, title, summary, width, svgHeight, children) {
  return h(
    "svg:svg",
    {
      class: "chart-svg",
      viewBox: `0 0 ${width} ${svgHeight}`,
      role: "img",
      "aria-labelledby": `${id}-title ${id}-desc`,
      focusable: "false",
    },
    h("svg:title", { id: `${id}-title` }, title),
    h("svg:desc", { id: `${id}-desc` }, summary),
    children,
  );
}

function dataTable(id, title, columns, rows) {
  return h(
    "details",
    { class: "chart-data" },
    h("summary", {}, t("admin.charts.showData")),
    h(
      "div",
      { class: "table-wrap", role: "region", tabindex: 0, "aria-label": title },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, title),
        h("thead", {}, h("tr", {}, columns.map((name, index) => h("th", { scope: "col", class: index ? "number" : null }, name)))),
        h(
          "tbody",
          {},
          rows.map(([label, ...values]) =>
            h("tr", {}, h("th", { scope: "row" }, label), values.map((value) => h("td", { class: "number" }, value))),
          ),
        ),
      ),
    ),
  );
}

function figure(id, title, svg, table, empty) {
  return h(
    "figure",
    { class: "chart card", "aria-labelledby": `${id}-caption`, dataset: { chart: id } },
    h("figcaption", { id: `${id}-caption` }, h("h4", {}, title)),
    empty ? h("p", { class: "muted chart-empty" }, t("admin.charts.noData")) : svg,
    table,
  );
}

/** A round maximum for the value axis: 1, 2 or 5 times a power of ten, at least `floor`. */
function niceMax(value, integer = false) {
  const top = Math.max(value, integer ? 2 : 1e-9);
  const power = 10 ** Math.floor(Math.log10(top));
  // Counts get an even top, so the middle line is a whole number too.
  for (const step of integer ? [2, 4, 10] : [1, 2, 5, 10]) if (step * power >= top) return step * power;
  return 10 * power;
}

/** Label every n-th point (counted back from the latest) so labels keep about 28 units apart. */
function tickEvery(count, innerWidth) {
  return Math.max(1, Math.ceil((count * 28) / innerWidth));
}

function axis(max, format, innerHeight, width) {
  const lines = [];
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + innerHeight * (1 - fraction);
    lines.push(
      h("svg:line", { class: "chart-grid", x1: PAD.left, x2: width - PAD.right, y1: y, y2: y }),
      h("svg:text", { class: "chart-tick", x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, format(max * fraction)),
    );
  }
  return lines;
}

/**
 * Vertical bars over time. `points`: [{label (table), tick (axis), value (number or null)}];
 * `format(value)` writes a value; `max` fixes the axis (e.g. 100 for a percentage).
 */
export function barChart({ id, title, points, format, max, unit = "", integer = false, width = WIDTH }) {
  const values = points.map((point) => point.value ?? 0);
  const top = max ?? niceMax(Math.max(...values, 0), integer);
  const innerWidth = width - PAD.left - PAD.right;
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerWidth / Math.max(points.length, 1);
  const barWidth = Math.max(2, slot * 0.7);
  const bars = points.map((point, index) => {
    const x = PAD.left + index * slot + (slot - barWidth) / 2;
    const height = point.value ? (innerHeight * point.value) / top : 0;
    return h(
      "svg:g",
      {},
      point.value
        ? h(
            "svg:rect",
            { class: "chart-bar", x, y: PAD.top + innerHeight - height, width: barWidth, height, dataset: { value: point.value } },
            h("svg:title", {}, `${point.label}: ${format(point.value)}`),
          )
        : null,
      (points.length - 1 - index) % tickEvery(points.length, innerWidth) === 0
        ? h("svg:text", { class: "chart-tick", x: x + barWidth / 2, y: HEIGHT - 8, "text-anchor": "middle" }, point.tick ?? point.label)
        : null,
    );
  });
  const known = points.filter((point) => point.value !== null && point.value !== undefined);
  const summary = t("admin.charts.summary", {
    count: points.length,
    highest: known.length ? format(Math.max(...known.map((point) => point.value))) : "—",
  });
  const svg = frame(id, title, summary, width, HEIGHT, [...axis(top, format, innerHeight, width), ...bars]);
  const table = dataTable(
    id,
    title,
    [t("admin.charts.when"), unit || title],
    points.map((point) => [point.label, point.value === null || point.value === undefined ? "—" : format(point.value)]),
  );
  return figure(id, title, svg, table, !known.some((point) => point.value));
}

/** A line over time (gaps where a value is null), for rates. Same `points` as barChart. */
export function lineChart({ id, title, points, format, max = 100, unit = "", width = WIDTH }) {
  const innerWidth = width - PAD.left - PAD.right;
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerWidth / Math.max(points.length, 1);
  const xOf = (index) => PAD.left + index * slot + slot / 2;
  const yOf = (value) => PAD.top + innerHeight * (1 - value / max);
  const segments = [];
  let current = [];
  points.forEach((point, index) => {
    if (point.value === null || point.value === undefined) {
      if (current.length) segments.push(current);
      current = [];
    } else {
      current.push([xOf(index), yOf(point.value)]);
    }
  });
  if (current.length) segments.push(current);
  const marks = [];
  for (const segment of segments) {
    if (segment.length > 1) {
      marks.push(h("svg:polyline", { class: "chart-line", points: segment.map(([x, y]) => `${x},${y}`).join(" ") }));
    }
  }
  points.forEach((point, index) => {
    if (point.value !== null && point.value !== undefined) {
      marks.push(
        h(
          "svg:circle",
          { class: "chart-dot", cx: xOf(index), cy: yOf(point.value), r: 4, dataset: { value: point.value } },
          h("svg:title", {}, `${point.label}: ${format(point.value)}`),
        ),
      );
    }
    if ((points.length - 1 - index) % tickEvery(points.length, innerWidth) === 0) {
      marks.push(h("svg:text", { class: "chart-tick", x: xOf(index), y: HEIGHT - 8, "text-anchor": "middle" }, point.tick ?? point.label));
    }
  });
  const known = points.filter((point) => point.value !== null && point.value !== undefined);
  const summary = t("admin.charts.summary", {
    count: points.length,
    highest: known.length ? format(Math.max(...known.map((point) => point.value))) : "—",
  });
  const svg = frame(id, title, summary, width, HEIGHT, [...axis(max, format, innerHeight, width), ...marks]);
  const table = dataTable(
    id,
    title,
    [t("admin.charts.when"), unit || title],
    points.map((point) => [point.label, point.value === null || point.value === undefined ? "—" : format(point.value)]),
  );
  return figure(id, title, svg, table, !known.length);
}

/** Horizontal bars by category (e.g. errors by code): [{label, value}]. */
export function categoryChart({ id, title, items, format, unit = "", width = WIDTH }) {
  const row = 30;
  const labelWidth = Math.min(190, width * 0.45);
  const height = Math.max(1, items.length) * row + 12;
  const top = niceMax(Math.max(...items.map((item) => item.value), 0), true);
  const innerWidth = width - labelWidth - PAD.right - 40;
  const bars = items.map((item, index) => {
    const y = 6 + index * row;
    const length = (innerWidth * item.value) / top;
    return h(
      "svg:g",
      {},
      h("svg:text", { class: "chart-label", x: labelWidth - 8, y: y + row / 2 + 4, "text-anchor": "end" }, item.label),
      h(
        "svg:rect",
        { class: "chart-bar", x: labelWidth, y: y + 4, width: Math.max(length, 1), height: row - 10, dataset: { value: item.value } },
        h("svg:title", {}, `${item.label}: ${format(item.value)}`),
      ),
      h("svg:text", { class: "chart-tick", x: labelWidth + length + 6, y: y + row / 2 + 4 }, format(item.value)),
    );
  });
  const summary = t("admin.charts.categorySummary", { count: items.length });
  const svg = frame(id, title, summary, width, height, bars);
  const table = dataTable(
    id,
    title,
    [t("admin.charts.category"), unit || title],
    items.map((item) => [item.label, format(item.value)]),
  );
  return figure(id, title, svg, table, !items.length);
}
