// The trend chart and the share bars: SVG drawn here, no chart library.
import { svg } from "./dom.js";
import { count, dateTime, money, nanos, share } from "./format.js";

const WIDTH = 900;
const HEIGHT = 240;
const LEFT = 8;
const BOTTOM = 24;
const TOP = 8;

/** What each metric reads from the trend's columns: exact BigInts, and how to label them. */
export const METRICS = {
  requests: { column: "requests", label: "Requests", exact: (v) => BigInt(v), text: count },
  totalTokens: { column: "totalTokens", label: "Tokens", exact: (v) => BigInt(v), text: count },
  customerCost: { column: "customerCost", label: "Cost", exact: nanos, text: money },
};

/** A bar per bucket of `columns` (UsageTrend.columns) for `metric`, times in `timeZone`. */
export function trendChart(columns, metric, timeZone) {
  const { column, label, exact, text } = METRICS[metric];
  const values = columns[column];
  const amounts = values.map(exact);
  const largest = amounts.reduce((a, b) => (b > a ? b : a), 0n);
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const step = (WIDTH - LEFT * 2) / Math.max(values.length, 1);
  const bars = values.map((value, i) => {
    const height = Math.max(share(amounts[i], largest) * plotHeight, amounts[i] > 0n ? 1 : 0);
    const when = dateTime(columns.start[i], timeZone);
    return svg(
      "rect",
      {
        x: (LEFT + i * step + step * 0.1).toFixed(2),
        y: (TOP + plotHeight - height).toFixed(2),
        width: Math.max(step * 0.8, 0.5).toFixed(2),
        height: height.toFixed(2),
        class: "bar",
        "data-value": value,
      },
      svg("title", { text: `${when}: ${text(value)}` }),
    );
  });
  const ticks = [0, Math.floor((values.length - 1) / 2), values.length - 1]
    .filter((i, at, all) => i >= 0 && all.indexOf(i) === at)
    .map((i) =>
      svg("text", {
        x: (LEFT + i * step + step / 2).toFixed(2),
        y: HEIGHT - 6,
        class: "tick",
        "text-anchor": i === 0 ? "start" : i === values.length - 1 ? "end" : "middle",
        text: dateTime(columns.start[i], timeZone).slice(0, 16),
      }),
    );
  const top = svg("text", { x: LEFT, y: TOP + 12, class: "tick", text: `max ${text(
    values[amounts.indexOf(largest)] ?? "0",
  )}` });
  const first = values.length ? dateTime(columns.start[0], timeZone) : "";
  return svg(
    "svg",
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-label": `${label} per bucket, ${values.length} buckets from ${first}`,
      class: "trend",
    },
    svg("line", { x1: LEFT, x2: WIDTH - LEFT, y1: TOP + plotHeight, y2: TOP + plotHeight, class: "axis" }),
    bars,
    ticks,
    top,
  );
}

/** A small horizontal bar: `part` of `whole` (BigInts). */
export function shareBar(part, whole) {
  const width = (share(part, whole) * 100).toFixed(1);
  return svg(
    "svg",
    { viewBox: "0 0 100 8", class: "share", "aria-hidden": "true", preserveAspectRatio: "none" },
    svg("rect", { x: 0, y: 0, width: 100, height: 8, class: "share-track" }),
    svg("rect", { x: 0, y: 0, width, height: 8, class: "share-fill" }),
  );
}
