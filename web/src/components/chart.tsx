/**
 * Charts with uPlot (canvas, ~50 kB): bars with ±1σ error bars for query results, lines for trade
 * volumes. uPlot sets styles through the DOM, never inline <style>, so the strict CSP holds.
 * Each chart has a caption and the same numbers are always in a table next to it.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

interface BarChartProps {
  labels: string[];
  values: number[];
  /** One expected standard deviation per value (drawn as ± error bars). */
  errors?: number[];
  caption: string;
  testId?: string;
}

export function BarChart({ labels, values, errors, caption, testId }: BarChartProps) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const xs = labels.map((_, i) => i);
    const lo = Math.min(0, ...values.map((v, i) => v - (errors?.[i] ?? 0)));
    const hi = Math.max(1, ...values.map((v, i) => v + (errors?.[i] ?? 0)));
    const drawErrors = (u: uPlot) => {
      if (!errors) return;
      const ctx = u.ctx;
      ctx.save();
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 2;
      values.forEach((v, i) => {
        const x = u.valToPos(i, "x", true);
        const y1 = u.valToPos(v - (errors[i] ?? 0), "y", true);
        const y2 = u.valToPos(v + (errors[i] ?? 0), "y", true);
        ctx.beginPath();
        ctx.moveTo(x, y1);
        ctx.lineTo(x, y2);
        ctx.moveTo(x - 6, y1);
        ctx.lineTo(x + 6, y1);
        ctx.moveTo(x - 6, y2);
        ctx.lineTo(x + 6, y2);
        ctx.stroke();
      });
      ctx.restore();
    };
    const plot = new uPlot(
      {
        width: Math.min(720, el.current.clientWidth || 640),
        height: 280,
        legend: { show: false },
        scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: [lo, hi * 1.05] } },
        axes: [{ values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? (labels[s] ?? "") : "")), splits: () => xs }, {}],
        series: [{}, { fill: "#1095c1", stroke: "#0d7ea3", paths: uPlot.paths.bars!({ size: [0.6, 80] }), points: { show: false } }],
        hooks: { draw: [drawErrors] },
      },
      [xs, values],
      el.current,
    );
    return () => plot.destroy();
  }, [labels, values, errors]);
  return (
    <figure>
      <div ref={el} data-testid={testId} role="img" aria-label={caption} />
      <figcaption>{caption}</figcaption>
    </figure>
  );
}

interface LineChartProps {
  labels: string[];
  series: Array<{ name: string; values: number[] }>;
  caption: string;
  testId?: string;
}

export function LineChart({ labels, series, caption, testId }: LineChartProps) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const xs = labels.map((_, i) => i);
    const colors = ["#1095c1", "#d93526", "#398712"];
    const plot = new uPlot(
      {
        width: Math.min(720, el.current.clientWidth || 640),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? (labels[s] ?? "") : "")), splits: () => xs }, {}],
        series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: colors[i % colors.length], width: 2, points: { show: true } }))],
      },
      [xs, ...series.map((s) => s.values)],
      el.current,
    );
    return () => plot.destroy();
  }, [labels, series]);
  return (
    <figure>
      <div ref={el} data-testid={testId} role="img" aria-label={caption} />
      <figcaption>{caption}</figcaption>
    </figure>
  );
}
