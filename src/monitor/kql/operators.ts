// The tabular operators: each is planned against its input's columns (so a wrong column is an error before any
// row is read) into a step that turns one frame of rows into the next.
import { aggregation } from "./aggregates.js";
import { compile, derivedName, nextColumnName, uniqueName, type Scope } from "./expr.js";
import { truthy } from "./functions.js";
import type { Assignment, Operator, SortKey } from "./parser.js";
import { KqlError, compare, toNumber, toText, type Frame, type Row, type Value } from "./values.js";

export type Step = (input: Frame) => Frame;

export interface Planned {
  columns: string[];
  step: Step;
  /** output columns whose type the values cannot show (summarize's averages) */
  types?: Record<string, string>;
}

/** Plans one operator: its output columns and the step computing them. */
export function planOperator(o: Operator, s: Scope): Planned {
  const cols = s.columns;
  switch (o.op) {
    case "where": {
      const p = compile(o.pred, s);
      return { columns: cols, step: (f) => ({ columns: cols, rows: f.rows.filter((r) => truthy(p(r))) }) };
    }
    case "project":
    case "extend": {
      const out = o.op === "project" ? [] : [...cols];
      const items = o.items.map((a) => {
        const fn = compile(a.expr, s);
        const given = a.name ?? derivedName(a.expr) ?? nextColumnName(out);
        // extend replaces a column of the same name; project keeps both, the second renamed
        const name = o.op === "project" ? uniqueName(given, out) : given;
        if (!out.includes(name)) out.push(name);
        return { name, fn };
      });
      const keep = o.op === "extend";
      return {
        columns: out,
        step: (f) => ({
          columns: out,
          rows: f.rows.map((r) => {
            const next: Row = keep ? { ...r } : {};
            for (const it of items) next[it.name] = it.fn(r);
            return next;
          }),
        }),
      };
    }
    case "project-away": {
      for (const n of o.names)
        if (!cols.includes(n.name)) throw new KqlError(s.src, n.at, `Failed to resolve column named '${n.name}'`);
      const gone = new Set(o.names.map((n) => n.name));
      const out = cols.filter((c) => !gone.has(c));
      return { columns: out, step: (f) => ({ columns: out, rows: f.rows.map((r) => pick(r, out)) }) };
    }
    case "project-rename": {
      for (const p of o.pairs)
        if (!cols.includes(p.from)) throw new KqlError(s.src, p.at, `Failed to resolve column named '${p.from}'`);
      const to = new Map(o.pairs.map((p) => [p.from, p.to]));
      const out = cols.map((c) => to.get(c) ?? c);
      return {
        columns: out,
        step: (f) => ({
          columns: out,
          rows: f.rows.map((r) => Object.fromEntries(cols.map((c) => [to.get(c) ?? c, r[c] ?? null]))),
        }),
      };
    }
    case "summarize":
      return summarize(o.aggs, o.by, s);
    case "sort": {
      const cmp = comparator(o.keys, s);
      return { columns: cols, step: (f) => ({ columns: cols, rows: [...f.rows].sort(cmp) }) };
    }
    case "take": {
      const n = count(o.n, s, "take");
      return { columns: cols, step: (f) => ({ columns: cols, rows: f.rows.slice(0, n) }) };
    }
    case "top": {
      const n = count(o.n, s, "top");
      const cmp = comparator([o.key], s);
      return { columns: cols, step: (f) => ({ columns: cols, rows: [...f.rows].sort(cmp).slice(0, n) }) };
    }
    case "distinct": {
      if (!o.items.length)
        return { columns: cols, step: (f) => ({ columns: cols, rows: unique(f.rows, cols, (r) => r) }) };
      const p = planOperator({ op: "project", items: o.items, at: o.at }, s);
      return {
        columns: p.columns,
        step: (f) => ({ columns: p.columns, rows: unique(p.step(f).rows, p.columns, (r) => r) }),
      };
    }
    case "count":
      return { columns: ["Count"], step: (f) => ({ columns: ["Count"], rows: [{ Count: f.rows.length }] }) };
  }
}

function pick(r: Row, columns: string[]): Row {
  const out: Row = {};
  for (const c of columns) out[c] = r[c] ?? null;
  return out;
}

function unique(rows: Row[], columns: string[], map: (r: Row) => Row): Row[] {
  const seen = new Set<string>();
  const out: Row[] = [];
  for (const r of rows) {
    const key = JSON.stringify(columns.map((c) => r[c] ?? null));
    if (!seen.has(key)) {
      seen.add(key);
      out.push(map(r));
    }
  }
  return out;
}

/** take/top's row count: a constant whole number. */
function count(e: Assignment["expr"], s: Scope, op: string): number {
  const v = compile(e, { ...s, columns: [] })({});
  const n = toNumber(v);
  if (n === null || !Number.isInteger(n) || n < 0)
    throw new KqlError(s.src, e.at, `${op}: expected a whole number of rows, found ${toText(v) || "nothing"}`);
  return n;
}

function comparator(keys: SortKey[], s: Scope): (a: Row, b: Row) => number {
  const fns = keys.map((k) => ({ ...k, fn: compile(k.expr, s) }));
  return (a, b) => {
    for (const k of fns) {
      const x = k.fn(a);
      const y = k.fn(b);
      const xn = x === null;
      const yn = y === null;
      if (xn || yn) {
        if (xn && yn) continue;
        return (xn ? -1 : 1) * (k.nullsFirst ? 1 : -1);
      }
      const c = compare(x, y) ?? 0;
      if (c !== 0) return k.desc ? -Math.sign(c) : Math.sign(c);
    }
    return 0;
  };
}

function summarize(aggs: Assignment[], by: Assignment[], s: Scope): Planned {
  const out: string[] = [];
  const keys = by.map((b) => {
    const fn = compile(b.expr, s);
    const name = uniqueName(b.name ?? derivedName(b.expr) ?? nextColumnName(out), out);
    out.push(name);
    return { name, fn };
  });
  const parts = aggs.map((a) => {
    const agg = aggregation(a.expr, s);
    if (!agg)
      throw new KqlError(
        s.src,
        a.expr.at,
        `summarize: '${a.expr.k === "call" ? `${a.expr.name}()` : "this expression"}' is not an aggregation (supported: count, countif, dcount, min, max, avg, sum, arg_max, arg_min, make_list, make_set, take_any)`,
      );
    // a name given with `=` names the first output column (arg_max's others keep theirs)
    const names = agg.columns.map((c, i) => uniqueName(i === 0 && a.name ? a.name : c, out));
    out.push(...names);
    return { names, agg };
  });
  const types: Record<string, string> = {};
  for (const p of parts) if (p.agg.type) types[p.names[0]] = p.agg.type;
  return {
    columns: out,
    types,
    step: (f) => {
      const groups = new Map<string, { key: Value[]; rows: Row[] }>();
      for (const r of f.rows) {
        const key = keys.map((k) => k.fn(r));
        const id = JSON.stringify(key);
        let g = groups.get(id);
        if (!g) groups.set(id, (g = { key, rows: [] }));
        g.rows.push(r);
      }
      // summarize without by always returns one row, even over no input
      if (!keys.length && !groups.size) groups.set("[]", { key: [], rows: [] });
      const rows = [...groups.values()].map((g) => {
        const row: Row = {};
        keys.forEach((k, i) => (row[k.name] = g.key[i]));
        for (const p of parts) {
          const vs = p.agg.run(g.rows);
          p.names.forEach((n, i) => (row[n] = vs[i]));
        }
        return row;
      });
      return { columns: out, rows };
    },
  };
}
