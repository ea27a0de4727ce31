// Expressions compiled once per operator into functions of a row. Compiling checks what Log Analytics checks
// before running anything: every column exists in the operator's input, every function is known and gets the
// right number of arguments. Aggregations (count(), dcount(), arg_max(), ...) live in aggregates.ts.
import { FUNCTIONS, between, binary, inList, member, truthy } from "./functions.js";
import type { Expr } from "./parser.js";
import { KqlError, TimeSpan, type Row, type Value } from "./values.js";

export type Compiled = (row: Row) => Value;

export interface Scope {
  /** the query text, for error positions */
  src: string;
  /** the input's columns */
  columns: string[];
  /** the query's now(): one instant for the whole query, as in Kusto */
  now: number;
}

/** Aggregation names: an aggregation outside summarize is an error naming it. */
export const AGGREGATION_NAMES = new Set([
  "count",
  "countif",
  "dcount",
  "min",
  "max",
  "avg",
  "sum",
  "arg_max",
  "arg_min",
  "make_list",
  "make_set",
  "take_any",
  "any",
]);

export function compile(e: Expr, s: Scope): Compiled {
  switch (e.k) {
    case "lit": {
      const v = e.v;
      return () => v;
    }
    case "col": {
      if (!s.columns.includes(e.name))
        throw new KqlError(s.src, e.at, `Failed to resolve scalar expression named '${e.name}'`);
      const name = e.name;
      return (row) => row[name] ?? null;
    }
    case "neg": {
      const x = compile(e.e, s);
      return (row) => {
        const v = x(row);
        return v instanceof TimeSpan ? new TimeSpan(-v.ms) : binary("-", 0, v);
      };
    }
    case "member": {
      const x = compile(e.e, s);
      const key = compile(e.key, s);
      return (row) => member(x(row), key(row));
    }
    case "in": {
      const x = compile(e.e, s);
      const list = e.list.map((l) => compile(l, s));
      return (row) => {
        const v = x(row);
        const found = inList(
          v,
          list.map((l) => l(row)),
          e.ci,
        );
        return e.negate ? !found : found;
      };
    }
    case "between": {
      const x = compile(e.e, s);
      const lo = compile(e.lo, s);
      const hi = compile(e.hi, s);
      return (row) => {
        const r = between(x(row), lo(row), hi(row));
        return r === null ? null : e.negate ? !r : r;
      };
    }
    case "bin": {
      const l = compile(e.l, s);
      const r = compile(e.r, s);
      if (e.op === "and") return (row) => truthy(l(row)) && truthy(r(row));
      if (e.op === "or") return (row) => truthy(l(row)) || truthy(r(row));
      const op = e.op;
      return (row) => binary(op, l(row), r(row));
    }
    case "call": {
      if (AGGREGATION_NAMES.has(e.name) && !FUNCTIONS[e.name])
        throw new KqlError(s.src, e.at, `The aggregation '${e.name}()' may only be used in summarize`);
      const f = FUNCTIONS[e.name];
      if (!f) throw new KqlError(s.src, e.at, `Unknown function: '${e.name}'`);
      if (e.args.length < f.min || e.args.length > f.max || e.star)
        throw new KqlError(
          s.src,
          e.at,
          `'${e.name}' takes ${f.min === f.max ? f.min : `${f.min} to ${f.max}`} argument${f.max === 1 ? "" : "s"}, got ${e.args.length}`,
        );
      const args = e.args.map((a) => compile(a, s));
      const now = s.now;
      return (row) =>
        f.fn(
          args.map((a) => a(row)),
          now,
        );
    }
  }
}

/** The column name Kusto gives an expression written without `name =`; undefined when it makes up ColumnN. */
export function derivedName(e: Expr): string | undefined {
  if (e.k === "col") return e.name;
  if (e.k === "member") {
    const base = derivedName(e.e);
    return base && e.key.k === "lit" ? `${base}_${String(e.key.v)}` : undefined;
  }
  if (e.k === "call" && (e.name === "bin" || e.name === "floor") && e.args[0]) return derivedName(e.args[0]);
  return undefined;
}

/** `name` unless it is taken, else name1, name2, ... (how Kusto avoids duplicate output columns). */
export function uniqueName(name: string, taken: readonly string[]): string {
  if (!taken.includes(name)) return name;
  for (let i = 1; ; i++) if (!taken.includes(`${name}${i}`)) return `${name}${i}`;
}

/** The next ColumnN not already used. */
export function nextColumnName(taken: readonly string[]): string {
  for (let i = 1; ; i++) if (!taken.includes(`Column${i}`)) return `Column${i}`;
}
