// Scalar functions and the binary operators of KQL expressions, over the values in values.ts. A function
// Log Analytics has and this engine does not is refused by expr.ts naming it.
import {
  DateTime,
  TimeSpan,
  compare,
  equal,
  toDateTime,
  toNumber,
  toText,
  type Dynamic,
  type Value,
} from "./values.js";

export interface ScalarFunction {
  min: number;
  max: number;
  fn: (args: Value[], now: number) => Value;
}

const isEmpty = (v: Value) => v === null || v === "";
const num = (v: Value) => toNumber(v);

function bin(v: Value, size: Value): Value {
  if (v === null || size === null) return null;
  if (v instanceof DateTime && size instanceof TimeSpan)
    return size.ms > 0 ? new DateTime(Math.floor(v.ms / size.ms) * size.ms) : null;
  if (v instanceof TimeSpan && size instanceof TimeSpan)
    return size.ms > 0 ? new TimeSpan(Math.floor(v.ms / size.ms) * size.ms) : null;
  const x = num(v);
  const s = num(size);
  return x === null || s === null || s <= 0 ? null : Math.floor(x / s) * s;
}

function parseJson(v: Value): Value {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v) as Dynamic;
  } catch {
    return v; // Kusto keeps text that is not JSON as a string
  }
}

function toLong(v: Value): Value {
  const n = v instanceof DateTime || v instanceof TimeSpan ? v.ms * 10_000 : num(v);
  return n === null || !Number.isFinite(n) ? null : Math.trunc(n);
}

export const FUNCTIONS: Record<string, ScalarFunction> = {
  ago: {
    min: 1,
    max: 1,
    fn: ([t], now) => (t instanceof TimeSpan ? new DateTime(now - t.ms) : null),
  },
  now: {
    min: 0,
    max: 1,
    fn: ([t], now) => new DateTime(now + (t instanceof TimeSpan ? t.ms : 0)),
  },
  todatetime: { min: 1, max: 1, fn: ([v]) => toDateTime(v) },
  tostring: { min: 1, max: 1, fn: ([v]) => toText(v) },
  toint: { min: 1, max: 1, fn: ([v]) => toLong(v) },
  tolong: { min: 1, max: 1, fn: ([v]) => toLong(v) },
  todouble: { min: 1, max: 1, fn: ([v]) => num(v) },
  toreal: { min: 1, max: 1, fn: ([v]) => num(v) },
  tobool: {
    min: 1,
    max: 1,
    fn: ([v]) => (typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : null),
  },
  totimespan: { min: 1, max: 1, fn: ([v]) => (v instanceof TimeSpan ? v : null) },
  strcat: { min: 1, max: 64, fn: (args) => args.map(toText).join("") },
  parse_json: { min: 1, max: 1, fn: ([v]) => parseJson(v) },
  todynamic: { min: 1, max: 1, fn: ([v]) => parseJson(v) },
  bin: { min: 2, max: 2, fn: ([v, s]) => bin(v, s) },
  floor: { min: 2, max: 2, fn: ([v, s]) => bin(v, s) },
  startofday: { min: 1, max: 1, fn: ([v]) => bin(v, new TimeSpan(86_400_000)) },
  isempty: { min: 1, max: 1, fn: ([v]) => isEmpty(v) },
  isnotempty: { min: 1, max: 1, fn: ([v]) => !isEmpty(v) },
  isnull: { min: 1, max: 1, fn: ([v]) => v === null },
  isnotnull: { min: 1, max: 1, fn: ([v]) => v !== null },
  not: { min: 1, max: 1, fn: ([v]) => (v === null ? null : !truthy(v)) },
  iff: { min: 3, max: 3, fn: ([c, a, b]) => (truthy(c) ? a : b) },
  iif: { min: 3, max: 3, fn: ([c, a, b]) => (truthy(c) ? a : b) },
  coalesce: { min: 1, max: 64, fn: (args) => args.find((a) => !isEmpty(a)) ?? null },
  strlen: { min: 1, max: 1, fn: ([v]) => toText(v).length },
  tolower: { min: 1, max: 1, fn: ([v]) => toText(v).toLowerCase() },
  toupper: { min: 1, max: 1, fn: ([v]) => toText(v).toUpperCase() },
  trim: {
    min: 2,
    max: 2,
    fn: ([re, v]) => toText(v).replace(new RegExp(`^(?:${toText(re)})|(?:${toText(re)})$`, "g"), ""),
  },
  substring: {
    min: 2,
    max: 3,
    fn: ([v, start, len]) => {
      const s = toText(v);
      const from = Math.max(0, num(start) ?? 0);
      return len === undefined || len === null ? s.slice(from) : s.slice(from, from + Math.max(0, num(len) ?? 0));
    },
  },
  extract: {
    min: 3,
    max: 3,
    fn: ([re, group, v]) => {
      const m = new RegExp(toText(re)).exec(toText(v));
      return m ? (m[num(group) ?? 0] ?? null) : null;
    },
  },
  split: { min: 2, max: 2, fn: ([v, sep]) => toText(v).split(toText(sep)) },
};

/** Kusto's truth for where/and/or: a bool true; anything else (null included) is false. */
export function truthy(v: Value): boolean {
  return v === true;
}

const termRe = (needle: string) =>
  new RegExp(`(^|[^\\p{L}\\p{N}_])${needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\p{L}\\p{N}_])`, "u");

/** The string operators: case-insensitive, `_cs` case-sensitive; `has` matches whole terms. */
function stringOp(op: string, a: Value, b: Value): boolean {
  const cs = op.endsWith("_cs");
  const name = cs ? op.slice(0, -3) : op;
  let x = toText(a);
  let y = toText(b);
  if (!cs) {
    x = x.toLowerCase();
    y = y.toLowerCase();
  }
  switch (name) {
    case "has":
      return y === "" || termRe(y).test(x);
    case "contains":
      return x.includes(y);
    case "startswith":
      return x.startsWith(y);
    default:
      return x.endsWith(y);
  }
}

function arithmetic(op: string, a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  // datetime and timespan arithmetic first: the combinations Kusto defines
  if (a instanceof DateTime && b instanceof TimeSpan)
    return op === "+" ? new DateTime(a.ms + b.ms) : op === "-" ? new DateTime(a.ms - b.ms) : null;
  if (a instanceof TimeSpan && b instanceof DateTime) return op === "+" ? new DateTime(a.ms + b.ms) : null;
  if (a instanceof DateTime && b instanceof DateTime) return op === "-" ? new TimeSpan(a.ms - b.ms) : null;
  if (a instanceof TimeSpan && b instanceof TimeSpan) {
    if (op === "+") return new TimeSpan(a.ms + b.ms);
    if (op === "-") return new TimeSpan(a.ms - b.ms);
    if (op === "/") return b.ms === 0 ? null : a.ms / b.ms;
    return null;
  }
  if (a instanceof TimeSpan && (op === "*" || op === "/")) {
    const n = num(b);
    return n === null ? null : new TimeSpan(op === "*" ? a.ms * n : a.ms / n);
  }
  const x = num(a);
  const y = num(b);
  if (x === null || y === null) return null;
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      // whole numbers divide as Kusto's longs do
      return y === 0 ? null : Number.isInteger(x) && Number.isInteger(y) ? Math.trunc(x / y) : x / y;
    default:
      return y === 0 ? null : x % y;
  }
}

/** A binary operator applied to evaluated operands (and/or are handled by the caller, which short-circuits). */
export function binary(op: string, a: Value, b: Value): Value {
  switch (op) {
    case "==":
      return a === null || b === null ? null : equal(a, b);
    case "!=":
      return a === null || b === null ? null : !equal(a, b);
    case "=~":
      return toText(a).toLowerCase() === toText(b).toLowerCase();
    case "!~":
      return toText(a).toLowerCase() !== toText(b).toLowerCase();
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const c = compare(a, b);
      if (c === null) return null;
      return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
    }
    case "+":
    case "-":
    case "*":
    case "/":
    case "%":
      return arithmetic(op, a, b);
    default:
      if (op.startsWith("!")) return !stringOp(op.slice(1), a, b);
      return stringOp(op, a, b);
  }
}

/** x between (lo .. hi), inclusive; for a datetime or timespan, hi may be a timespan added to lo. */
export function between(v: Value, lo: Value, hi: Value): boolean | null {
  const top = hi instanceof TimeSpan && lo instanceof DateTime ? new DateTime(lo.ms + hi.ms) : hi;
  const a = compare(v, lo);
  const b = compare(v, top);
  return a === null || b === null ? null : a >= 0 && b <= 0;
}

/** x in (list): case-sensitive equality, or case-insensitive for in~. Dynamic arrays in the list are expanded. */
export function inList(v: Value, list: Value[], ci: boolean): boolean {
  const items = list.flatMap((x) => (Array.isArray(x) ? (x as Value[]) : [x]));
  if (ci) return items.some((x) => toText(x).toLowerCase() === toText(v).toLowerCase());
  return items.some((x) => equal(v, x));
}

/** x.key / x[key] on a dynamic value (null where there is nothing). */
export function member(v: Value, key: Value): Value {
  if (typeof v === "string") v = parseJson(v);
  if (Array.isArray(v)) {
    const n = num(key);
    if (n === null) return null;
    return (v[n < 0 ? v.length + n : n] ?? null) as Value;
  }
  if (v && typeof v === "object" && !(v instanceof DateTime) && !(v instanceof TimeSpan))
    return ((v as Record<string, Dynamic>)[toText(key)] ?? null) as Value;
  return null;
}
