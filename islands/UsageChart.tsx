/**
 * The analytics page's daily chart: calls allowed and refused (429) per UTC day, drawn with uPlot
 * once in the browser. The server renders the same figures as a table for screen readers and for
 * browsers without JavaScript.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { DailyUsage } from "../lib/schemas/analytics.ts";

export interface UsageChartProps {
  /** The usage report's daily series (the chart needs no more of it). */
  daily: Pick<DailyUsage, "date" | "allowed" | "refused" | "units">[];
  /** First and last UTC day of the selected period (`YYYY-MM-DD`): the x-axis spans them all. */
  days: { first: string; last: string };
}

const DAY_SECONDS = 86_400;

/** Every day of the period, with the report's figures where it has them (later days are empty). */
export function periodSeries(
  daily: UsageChartProps["daily"],
  days: UsageChartProps["days"],
): { x: number[]; allowed: (number | null)[]; refused: (number | null)[] } {
  const byDate = new Map(daily.map((d) => [d.date, d]));
  const x: number[] = [];
  const allowed: (number | null)[] = [];
  const refused: (number | null)[] = [];
  const last = Date.parse(`${days.last}T00:00:00Z`) / 1000;
  for (let t = Date.parse(`${days.first}T00:00:00Z`) / 1000; t <= last; t += DAY_SECONDS) {
    const d = byDate.get(new Date(t * 1000).toISOString().slice(0, 10));
    x.push(t);
    allowed.push(d ? d.allowed : null);
    refused.push(d ? d.refused : null);
  }
  return { x, allowed, refused };
}

const HEIGHT = 260;
/** Tick steps of the count axis: whole calls only. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500].flatMap((n) => [n, n * 1e3, n * 1e6]).sort(
  (a, b) => a - b,
);
// Read from the stylesheet's tokens when the chart is drawn; these are the fallbacks.
const COLORS = { allowed: "#4f46e5", refused: "#c0262d", grid: "#e4e7ee", text: "#6b7280" };

export default function UsageChart({ daily, days }: UsageChartProps) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el || daily.length === 0) return;
    const css = getComputedStyle(document.documentElement);
    const token = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const colors = {
      allowed: token("--brand", COLORS.allowed),
      refused: token("--danger", COLORS.refused),
      grid: token("--border", COLORS.grid),
      text: token("--muted", COLORS.text),
    };
    const series = periodSeries(daily, days);
    // The axis is the period (half a day either side of its first and last day), never what
    // uPlot would guess from the data: one day of data used to span years.
    const xMin = series.x[0] - DAY_SECONDS / 2;
    const xMax = series.x.at(-1)! + DAY_SECONDS / 2;
    // At least 3 px per bar, so a lone day with traffic is visible even at 375 px.
    const bars = (align: -1 | 1) => uPlot.paths.bars!({ size: [0.42, 28, 3], align, gap: 1 });
    const axis = {
      stroke: colors.text,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1 },
      font: "12px system-ui, sans-serif",
    };
    const plot = new uPlot(
      {
        width: el.clientWidth,
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        cursor: { points: { show: false }, drag: { x: false, y: false } },
        legend: { live: true },
        // Without the pointer on a day, the legend shows the latest day's figures.
        hooks: { setCursor: [showLatest], setSize: [showLatest], draw: [recordRange] },
        scales: {
          x: { time: true, auto: false, range: () => [xMin, xMax] },
          y: { range: (_u, _min, max) => [0, Math.max(4, max * 1.1)] },
        },
        axes: [
          { ...axis, values: "{MMM} {D}", space: 48 },
          { ...axis, size: 52, incrs: WHOLE_STEPS, values: (_u, ticks) => ticks.map(compact) },
        ],
        series: [
          { label: "Day", value: "{MMM} {D}" },
          {
            label: "Allowed",
            stroke: colors.allowed,
            fill: colors.allowed,
            paths: bars(-1),
            points: { show: false },
            value: (_u, v) => (v == null ? "–" : v.toLocaleString("en-US")),
          },
          {
            label: "Refused (429)",
            stroke: colors.refused,
            fill: colors.refused,
            paths: bars(1),
            points: { show: false },
            value: (_u, v) => (v == null ? "–" : v.toLocaleString("en-US")),
          },
        ],
      },
      [series.x, series.allowed, series.refused],
      el,
    );
    showLatest(plot);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: el.clientWidth, height: HEIGHT })
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [daily, days]);

  if (daily.length === 0) {
    return <p class="muted">No days in this period yet.</p>;
  }
  return (
    <figure class="usage-chart">
      <div ref={box} class="usage-chart-canvas" role="img" aria-label={summary(daily)} />
      <table class="sr-only">
        <caption>Calls per UTC day</caption>
        <thead>
          <tr>
            <th>Day</th>
            <th>Allowed</th>
            <th>Refused</th>
          </tr>
        </thead>
        <tbody>
          {daily.map((d) => (
            <tr key={d.date}>
              <td>{d.date}</td>
              <td>{d.allowed}</td>
              <td>{d.refused}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** The drawn x-axis range on the chart's box (`data-x-min`, `data-x-max`): for tests and curious eyes. */
function recordRange(u: uPlot): void {
  const box = u.root.parentElement;
  if (!box || u.scales.x.min == null || u.scales.x.max == null) return;
  box.dataset.xMin = new Date(u.scales.x.min * 1000).toISOString();
  box.dataset.xMax = new Date(u.scales.x.max * 1000).toISOString();
}

/** The legend's default: the latest day with figures (the period's later days are empty). */
function showLatest(u: uPlot): void {
  if (u.cursor.idx != null) return;
  const values = u.data[1];
  let idx = values.length - 1;
  while (idx > 0 && values[idx] == null) idx--;
  u.setLegend({ idx });
}

function summary(daily: UsageChartProps["daily"]): string {
  const allowed = daily.reduce((s, d) => s + d.allowed, 0);
  const refused = daily.reduce((s, d) => s + d.refused, 0);
  return `Calls per day from ${daily[0].date} to ${
    daily.at(-1)!.date
  }: ${allowed} allowed, ${refused} refused.`;
}

/** 1234 → "1.2k", 2500000 → "2.5M". */
function compact(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}
