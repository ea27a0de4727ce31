// The values a KQL query computes with, and the errors it raises. Kusto's scalar types map onto JavaScript:
// string, long/int/real (number), bool (boolean), datetime (DateTime), timespan (TimeSpan), dynamic (plain
// JSON values) and null. The subset of KQL this engine runs is described in docs/logs.md.

/** A point in time (epoch milliseconds, UTC). */
export class DateTime {
  constructor(readonly ms: number) {}
  toJSON(): string {
    return Number.isFinite(this.ms) ? new Date(this.ms).toISOString() : "";
  }
}

/** A length of time in milliseconds (may be negative). */
export class TimeSpan {
  constructor(readonly ms: number) {}
  /** `[-][d.]hh:mm:ss[.fffffff]`, as Kusto prints a timespan */
  toJSON(): string {
    const neg = this.ms < 0;
    let ms = Math.abs(this.ms);
    const days = Math.floor(ms / 86_400_000);
    ms -= days * 86_400_000;
    const h = Math.floor(ms / 3_600_000);
    ms -= h * 3_600_000;
    const m = Math.floor(ms / 60_000);
    ms -= m * 60_000;
    const s = Math.floor(ms / 1000);
    const frac = Math.round((ms - s * 1000) * 10_000);
    const two = (n: number) => String(n).padStart(2, "0");
    return `${neg ? "-" : ""}${days ? `${days}.` : ""}${two(h)}:${two(m)}:${two(s)}${frac ? `.${String(frac).padStart(7, "0")}` : ""}`;
  }
}

export type Dynamic = null | string | number | boolean | Dynamic[] | { [k: string]: Dynamic };
export type Value = null | string | number | boolean | DateTime | TimeSpan | Dynamic[] | { [k: string]: Dynamic };

/** A row: column name → value. Column order is kept by the frame that holds the rows. */
export type Row = Record<string, Value>;

/** Rows with their columns, in order. */
export interface Frame {
  columns: string[];
  rows: Row[];
}

/** A query Log Analytics would refuse: what is wrong, and where in the query text. */
export class KqlError extends Error {
  override name = "KqlError";
  readonly line: number;
  readonly column: number;
  constructor(
    source: string,
    readonly offset: number,
    detail: string,
  ) {
    const { line, column } = lineColumn(source, offset);
    super(`${detail} (line ${line}, column ${column})`);
    this.line = line;
    this.column = column;
  }
}

/** 1-based line and column of a character offset. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < source.length; i++)
    if (source[i] === "\n") {
      line++;
      start = i + 1;
    }
  return { line, column: offset - start + 1 };
}

/** Kusto's type name of a value, for column types and error messages. */
export function typeOf(v: Value): string {
  if (v === null) return "null";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "long" : "real";
  if (typeof v === "boolean") return "bool";
  if (v instanceof DateTime) return "datetime";
  if (v instanceof TimeSpan) return "timespan";
  return "dynamic";
}

const isDynamic = (v: Value): v is Dynamic[] | { [k: string]: Dynamic } =>
  typeof v === "object" && v !== null && !(v instanceof DateTime) && !(v instanceof TimeSpan);

/** tostring(): strings as they are, dynamic values as JSON, null as "". */
export function toText(v: Value): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (v instanceof DateTime || v instanceof TimeSpan) return v.toJSON();
  if (isDynamic(v)) return JSON.stringify(v);
  return String(v);
}

/** A number for arithmetic and comparisons: numbers and numeric strings; datetimes and timespans by their ms. */
export function toNumber(v: Value): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** todatetime(): a datetime, an ISO-8601 date (with or without a time, UTC unless it says otherwise), or null. */
export function toDateTime(v: Value): DateTime | null {
  if (v instanceof DateTime) return v;
  if (typeof v !== "string") return null;
  const s = v.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return null;
  // a date-time without a zone is UTC in Kusto
  const withZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(s.slice(10)) || s.length === 10 ? s : `${s}Z`;
  const ms = Date.parse(withZone.replace(" ", "T"));
  return Number.isFinite(ms) ? new DateTime(ms) : null;
}

/** Equality as Kusto's `==` sees it (case-sensitive for strings). */
export function equal(a: Value, b: Value): boolean {
  if (a === null || b === null) return false;
  if (a instanceof DateTime || a instanceof TimeSpan)
    return (b as DateTime).ms === a.ms && b.constructor === a.constructor;
  if (typeof a === "number" || typeof b === "number") return toNumber(a) === toNumber(b) && toNumber(a) !== null;
  if (isDynamic(a) || isDynamic(b)) return toText(a) === toText(b);
  return a === b;
}

/** Ordering for <, >, order by, min and max: numbers, datetimes, timespans, strings; null when incomparable. */
export function compare(a: Value, b: Value): number | null {
  if (a === null || b === null) return null;
  if (a instanceof DateTime || a instanceof TimeSpan) {
    if (b instanceof DateTime || b instanceof TimeSpan) return a.ms - b.ms;
    const d = b === null ? null : toDateTime(b);
    return d ? a.ms - d.ms : null;
  }
  if (b instanceof DateTime) {
    const d = toDateTime(a);
    return d ? d.ms - b.ms : null;
  }
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const x = toNumber(a);
  const y = toNumber(b);
  if (x !== null && y !== null) return x - y;
  const s = toText(a);
  const t = toText(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

/** A value as the Log Analytics query API writes it in a row: datetimes and timespans as text, dynamic as JSON text. */
export function toWire(v: Value): string | number | boolean | null {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (v instanceof DateTime || v instanceof TimeSpan) return v.toJSON();
  return JSON.stringify(v);
}
