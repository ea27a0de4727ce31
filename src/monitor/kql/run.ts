// Runs a KQL query: parse, plan every operator against its input's columns, fetch the table's rows (with the
// time range and simple equalities of the leading `where`s handed to the source, so it can narrow its read),
// then apply the steps. The result is in the Log Analytics query API's table shape.
import { compile, type Scope } from "./expr.js";
import { planOperator, type Step } from "./operators.js";
import { parseQuery, type Expr, type Operator } from "./parser.js";
import { DateTime, KqlError, TimeSpan, toWire, typeOf, type Row, type Value } from "./values.js";

export interface ColumnType {
  name: string;
  type: string;
}

/** What the source may use to read fewer rows; the query still applies every filter itself. */
export interface FetchHints {
  /** epoch ms, inclusive */
  since?: number;
  until?: number;
  /** column → a string it must equal */
  equals: Record<string, string>;
  /** at most this many rows are needed (the query starts with `take`) */
  limit?: number;
}

export interface TableSource {
  columns: ColumnType[];
  rows(hints: FetchHints): Row[];
}

export interface QueryTable {
  name: string;
  columns: ColumnType[];
  rows: Array<Array<string | number | boolean | null>>;
}

export interface RunOptions {
  /** the query's now(), epoch ms */
  now: number;
  /** the request's time range (az --timespan), applied to TimeGenerated on top of the query's own filters */
  range?: { since?: number; until?: number };
  /** the table a name refers to (undefined: no such table) */
  table(name: string): TableSource | undefined;
}

export function runQuery(src: string, o: RunOptions): QueryTable {
  const q = parseQuery(src);
  const table = o.table(q.table);
  if (!table) throw new KqlError(src, q.tableAt, `Failed to resolve table or column expression named '${q.table}'`);
  let columns = table.columns.map((c) => c.name);
  const steps: Step[] = [];
  // declared types: the table's, then what summarize says of its columns (kept while the name lives on)
  let declared = new Map(table.columns.map((c) => [c.name, c.type]));
  for (const op of q.operators) {
    const p = planOperator(op, { src, columns, now: o.now });
    const kept = new Map([...declared].filter(([n]) => p.columns.includes(n)));
    declared = op.op === "summarize" ? new Map(Object.entries(p.types ?? {})) : kept;
    columns = p.columns;
    steps.push(p.step);
  }
  const hints = pushDown(q.operators, { src, columns: table.columns.map((c) => c.name), now: o.now });
  // `T | take N` needs N rows, not the whole table (any other first operator needs them all)
  const first = q.operators[0];
  if (first?.op === "take" && !o.range) {
    const n = compile(first.n, { src, columns: [], now: o.now })({});
    if (typeof n === "number") hints.limit = n;
  }
  if (o.range?.since !== undefined) hints.since = Math.max(hints.since ?? -Infinity, o.range.since);
  if (o.range?.until !== undefined) hints.until = Math.min(hints.until ?? Infinity, o.range.until);
  let rows = table.rows(hints);
  // the request's range is a filter of its own (the source may have read more)
  if (o.range)
    rows = rows.filter((r) => {
      const t = r.TimeGenerated;
      return (
        t instanceof DateTime &&
        (o.range!.since === undefined || t.ms >= o.range!.since) &&
        (o.range!.until === undefined || t.ms <= o.range!.until)
      );
    });
  let frame = { columns: table.columns.map((c) => c.name), rows };
  for (const step of steps) frame = step(frame);
  return {
    name: "PrimaryResult",
    columns: frame.columns.map((name) => ({ name, type: columnType(name, frame.rows, declared) })),
    rows: frame.rows.map((r) => frame.columns.map((c) => toWire(r[c] ?? null))),
  };
}

function columnType(name: string, rows: Row[], declared: Map<string, string>): string {
  if (declared.get(name) === "real") return "real";
  const types = new Set(rows.map((r) => typeOf(r[name] ?? null)).filter((t) => t !== "null"));
  if (types.size === 0) return declared.get(name) ?? "string";
  if (types.size === 2 && types.has("long") && types.has("real")) return "real";
  return types.size === 1 ? [...types][0] : "dynamic";
}

/** Conjuncts of the leading `where`s that bound TimeGenerated or pin a string column to a constant. */
function pushDown(ops: Operator[], s: Scope): FetchHints {
  const hints: FetchHints = { equals: {} };
  const constant = (e: Expr): Value | undefined => (usesColumns(e) ? undefined : compile(e, { ...s, columns: [] })({}));
  const time = (v: Value | undefined) => (v instanceof DateTime ? v.ms : undefined);
  const later = (ms: number | undefined) => {
    if (ms !== undefined) hints.since = Math.max(hints.since ?? -Infinity, ms);
  };
  const earlier = (ms: number | undefined) => {
    if (ms !== undefined) hints.until = Math.min(hints.until ?? Infinity, ms);
  };
  const visit = (e: Expr) => {
    if (e.k === "bin" && e.op === "and") {
      visit(e.l);
      visit(e.r);
      return;
    }
    if (e.k === "between" && !e.negate && isCol(e.e, "TimeGenerated")) {
      const lo = constant(e.lo);
      const hi = constant(e.hi);
      later(time(lo));
      earlier(hi instanceof TimeSpan && lo instanceof DateTime ? lo.ms + hi.ms : time(hi));
      return;
    }
    if (e.k !== "bin") return;
    const flip: Record<string, string> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==" };
    const [col, other, op] = e.l.k === "col" ? [e.l, e.r, e.op] : e.r.k === "col" ? [e.r, e.l, flip[e.op]] : [];
    if (!col || col.k !== "col" || !op) return;
    const v = constant(other!);
    if (col.name === "TimeGenerated") {
      if (op === ">" || op === ">=") later(time(v));
      if (op === "<" || op === "<=") earlier(time(v));
    } else if (op === "==" && typeof v === "string" && s.columns.includes(col.name)) hints.equals[col.name] = v;
  };
  for (const op of ops) {
    if (op.op !== "where") break;
    visit(op.pred);
  }
  return hints;
}

const isCol = (e: Expr, name: string) => e.k === "col" && e.name === name;

function usesColumns(e: Expr): boolean {
  switch (e.k) {
    case "lit":
      return false;
    case "col":
      return true;
    case "neg":
      return usesColumns(e.e);
    case "member":
      return usesColumns(e.e) || usesColumns(e.key);
    case "in":
      return usesColumns(e.e) || e.list.some(usesColumns);
    case "between":
      return usesColumns(e.e) || usesColumns(e.lo) || usesColumns(e.hi);
    case "bin":
      return usesColumns(e.l) || usesColumns(e.r);
    case "call":
      return e.args.some(usesColumns);
  }
}
