/** Formatting of figures and the per-scenario tables. Pure: returns strings, prints nothing. */

/** One line of a scenario's table: a measure for ours and for the baseline, and the target if any. */
export interface Row {
  readonly measure: string;
  /** Already formatted for display (see the `format*` helpers); "—" when not applicable. */
  readonly ours: string;
  readonly baseline: string;
  /** `ours / baseline`, formatted, or "—". */
  readonly ratio: string;
  /** What ours should reach, in words, or "—". */
  readonly target: string;
  /** Whether ours reached the target; `undefined` when there is no target. */
  readonly met?: boolean;
}

const DASH = "—";

/** Milliseconds with a precision that suits their size: `0.42 ms`, `12.3 ms`, `1,234 ms`, `12.3 s`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${Math.round(ms).toLocaleString("en-US")} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** Bytes in binary units: `812 B`, `61.2 KiB`, `301.5 MiB`. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return DASH;
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** A whole number with thousands separators, or a decimal with `digits` places. */
export function formatNumber(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio as `1.23x`, or "—" when there is none. */
export function formatRatio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return value >= 100 ? `${Math.round(value)}x` : `${value.toFixed(2)}x`;
}

/** "yes", "NO" or "—": a missed target is written in capitals so it stands out in a long table. */
export function formatMet(met: boolean | undefined): string {
  if (met === undefined) return DASH;
  return met ? "yes" : "NO";
}

/**
 * A plain-text table with a header line, a rule, and columns padded to their widest cell (text left,
 * figures right). Widths count UTF-16 code units, which is exact for the ASCII and "—" used here.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(headers), rule, ...rows.map((row) => line(row))].join("\n");
}

/** The table of one scenario: measure, ours, baseline, ratio, target, met. */
export function renderRows(rows: readonly Row[]): string {
  return renderTable(
    ["measure", "ours", "baseline", "ours/baseline", "target", "met"],
    rows.map((row) => [row.measure, row.ours, row.baseline, row.ratio, row.target, formatMet(row.met)]),
  );
}

/** How a metric's figures are formatted. */
export type Unit = "ms" | "bytes" | "count" | "per-second" | "text";

/** One measured figure for ours and the baseline, as it goes into results.json and the table. */
export interface Metric {
  readonly measure: string;
  readonly unit: Unit;
  /** Raw figure (ms, bytes, count…), or a short text such as "failed: 6,801 timeouts". */
  readonly ours?: number | string;
  readonly baseline?: number | string;
  /** The target ours should reach, in words. */
  readonly target?: string;
  readonly met?: boolean;
}

/** `ours / baseline` of a metric when both are numbers, else `undefined`. */
export function metricRatio(metric: Metric): number | undefined {
  if (typeof metric.ours !== "number" || typeof metric.baseline !== "number") return undefined;
  if (!Number.isFinite(metric.ours) || !Number.isFinite(metric.baseline) || metric.baseline === 0) {
    return undefined;
  }
  return metric.ours / metric.baseline;
}

/** A figure in the metric's unit; texts as they are; "—" when absent. */
export function formatValue(value: number | string | undefined, unit: Unit): string {
  if (value === undefined) return DASH;
  if (typeof value === "string") return value;
  switch (unit) {
    case "ms":
      return formatMs(value);
    case "bytes":
      return formatBytes(value);
    case "per-second":
      return `${formatNumber(value, 2)}/s`;
    case "count":
      return formatNumber(value);
    case "text":
      return String(value);
  }
}

/** The table row of a metric. */
export function metricRow(metric: Metric): Row {
  return {
    measure: metric.measure,
    ours: formatValue(metric.ours, metric.unit),
    baseline: formatValue(metric.baseline, metric.unit),
    ratio: formatRatio(metricRatio(metric)),
    target: metric.target ?? DASH,
    ...(metric.met === undefined ? {} : { met: metric.met }),
  };
}
