// Aggregations for summarize: each one is set up once (its arguments compiled against the input's columns)
// and then folds the rows of one group into the value(s) of its output column(s).
import { compile, type Compiled, type Scope } from "./expr.js";
import { truthy } from "./functions.js";
import type { Expr } from "./parser.js";
import { DateTime, KqlError, TimeSpan, compare, toNumber, toText, type Row, type Value } from "./values.js";

/** One aggregation in one summarize: its output columns and how to compute them over a group's rows. */
export interface Aggregation {
  /** output column names, before the summarize's own `name =` is applied (only arg_max/arg_min have several) */
  columns: string[];
  /** the first column's Kusto type when the values alone cannot tell (an average is real even when whole) */
  type?: string;
  run(rows: Row[]): Value[];
}

const minMax = (values: Value[], sign: 1 | -1): Value => {
  let best: Value = null;
  for (const v of values) {
    if (v === null || v === "") continue;
    if (best === null || (compare(v, best) ?? 0) * sign > 0) best = v;
  }
  return best;
};

const argName = (e: Expr | undefined) => (e?.k === "col" ? e.name : undefined);

/** The aggregation a summarize item calls, or undefined when the call is not an aggregation. */
export function aggregation(e: Expr, s: Scope): Aggregation | undefined {
  if (e.k !== "call") return undefined;
  const need = (n: number, max = n) => {
    if (e.args.length < n || e.args.length > max)
      throw new KqlError(
        s.src,
        e.at,
        `'${e.name}' takes ${n === max ? n : `${n} to ${max}`} argument${max === 1 ? "" : "s"}, got ${e.args.length}`,
      );
    return e.args.map((a) => compile(a, s));
  };
  const named = (prefix: string) => `${prefix}_${argName(e.args[0]) ?? ""}`;
  const values = (f: Compiled, rows: Row[]) => rows.map(f);
  switch (e.name) {
    case "count":
      need(0);
      return { columns: ["count_"], run: (rows) => [rows.length] };
    case "countif": {
      const [p] = need(1);
      return { columns: ["countif_"], run: (rows) => [rows.filter((r) => truthy(p(r))).length] };
    }
    case "dcount": {
      const [f] = need(1, 2);
      return {
        columns: [named("dcount")],
        run: (rows) => [
          new Set(
            values(f, rows)
              .filter((v) => v !== null && v !== "")
              .map((v) => toText(v)),
          ).size,
        ],
      };
    }
    case "min":
    case "max": {
      const [f] = need(1);
      return { columns: [named(e.name)], run: (rows) => [minMax(values(f, rows), e.name === "max" ? 1 : -1)] };
    }
    case "sum":
    case "avg": {
      const [f] = need(1);
      return {
        columns: [named(e.name)],
        type: e.name === "avg" ? "real" : undefined,
        run: (rows) => {
          const ns = values(f, rows)
            .map(toNumber)
            .filter((n): n is number => n !== null);
          const sum = ns.reduce((a, b) => a + b, 0);
          return [e.name === "sum" ? sum : ns.length ? sum / ns.length : null];
        },
      };
    }
    case "make_list":
    case "make_set": {
      const [f] = need(1, 2);
      const set = e.name === "make_set";
      return {
        columns: [named(set ? "set" : "list")],
        run: (rows) => {
          const vs = values(f, rows).filter((v) => v !== null);
          const out = set ? [...new Map(vs.map((v) => [toText(v), v])).values()] : vs;
          // a dynamic array holds datetimes and timespans as their text, as Kusto's make_list does
          return [out.map((v) => (v instanceof DateTime || v instanceof TimeSpan ? v.toJSON() : v)) as Value];
        },
      };
    }
    case "take_any":
    case "any": {
      const [f] = need(1);
      return { columns: [argName(e.args[0]) ?? "any_"], run: (rows) => [rows.length ? f(rows[0]) : null] };
    }
    case "arg_max":
    case "arg_min": {
      if (!e.args.length) need(1, 64);
      const [key, ...rest] = e.args.map((a) => compile(a, s));
      // the extra columns: the ones named, or every input column for `*`
      const extra = e.star
        ? s.columns.filter((c) => c !== argName(e.args[0]))
        : e.args.slice(1).map((a) => argName(a) ?? "");
      if (!e.star && extra.some((c) => c === ""))
        throw new KqlError(s.src, e.at, `'${e.name}' takes the column to maximize and then column names (or *)`);
      const sign = e.name === "arg_max" ? 1 : -1;
      return {
        columns: [argName(e.args[0]) ?? `${e.name === "arg_max" ? "max" : "min"}_`, ...extra],
        run: (rows) => {
          let best: Row | undefined;
          let bestKey: Value = null;
          for (const r of rows) {
            const k = key(r);
            if (k === null) continue;
            // on a tie arg_max keeps the later row (rows come oldest first), arg_min the earlier
            const c = best === undefined ? 1 : (compare(k, bestKey) ?? 0) * sign;
            if (c > 0 || (c === 0 && sign > 0)) {
              best = r;
              bestKey = k;
            }
          }
          if (!best) return [null, ...extra.map(() => null)];
          return [bestKey, ...(e.star ? extra.map((c) => best![c] ?? null) : rest.map((f) => f(best!)))];
        },
      };
    }
    default:
      return undefined;
  }
}
