// az's `--query` (JMESPath, through the jmespath package) and how az prints a queried result: `-o tsv` row by
// row, `-o table` with columns taken from the result itself (docs/cli.md, "Output and --query").
import jmespath from "jmespath";
import { fail } from "./util.js";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A parse error names the flag and the expression as az does; nothing has run yet when this is called. */
export function checkQuery(expr: string): void {
  try {
    jmespath.search(null, expr);
  } catch (e) {
    const name = (e as Error).name;
    if (name === "LexerError" || name === "ParserError")
      fail(`argument --query: invalid jmespath_type value: '${expr}'`);
    // a type error on null data says nothing about the expression
  }
}

/** The value the query selects from `value`. */
export function applyQuery(value: unknown, expr: string): unknown {
  try {
    return jmespath.search(value, expr);
  } catch (e) {
    const name = (e as Error).name;
    if (name === "LexerError" || name === "ParserError")
      fail(`argument --query: invalid jmespath_type value: '${expr}'`);
    fail(`--query '${expr}': ${(e as Error).message}`);
  }
}

/**
 * The objects a query result shares with the document it came from. az prints those with their keys sorted,
 * and the objects a multiselect hash (`{a: x, b: y}`) made in the order the query gave.
 */
function originals(value: unknown, seen = new WeakSet<object>()): WeakSet<object> {
  if (value && typeof value === "object" && !seen.has(value)) {
    seen.add(value);
    for (const v of Object.values(value)) originals(v, seen);
  }
  return seen;
}

/** A value inside a row: lists count, objects are empty, the rest as Python's str() prints it. */
function cell(v: unknown): string {
  if (Array.isArray(v)) return String(v.length);
  if (isObj(v)) return "";
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  return String(v);
}

/** az's `-o tsv` of a queried result (the source document tells which objects keep their key order). */
export function tsv(result: unknown, source: unknown): string {
  const kept = originals(source);
  const row = (data: unknown): string => {
    if (isObj(data)) {
      const keys = kept.has(data) ? Object.keys(data).sort() : Object.keys(data);
      return keys.map((k) => cell(data[k])).join("\t");
    }
    if (Array.isArray(data)) return data.map(cell).join("\t");
    if (typeof data === "boolean") return String(data);
    return cell(data);
  };
  const rows = Array.isArray(result) ? result : [result];
  return rows.map((r) => row(r) + "\n").join("");
}

/** Header and rows as aligned columns separated by two spaces, under a line of dashes. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

/** az's `-o table` of a queried result: the scalar fields of each object (not id, type, etag), in their order. */
export function autoTable(result: unknown): string {
  const items = (Array.isArray(result) ? result : [result]).map((item) => {
    const entry = new Map<string, string>();
    if (isObj(item)) {
      for (const [k, v] of Object.entries(item)) {
        if (["id", "type", "etag"].includes(k) || v === null || v === undefined || typeof v === "object") continue;
        entry.set(k.charAt(0).toUpperCase() + k.slice(1), cell(v));
      }
    } else if (Array.isArray(item)) item.forEach((v, i) => entry.set(`Column${i + 1}`, cell(v)));
    else entry.set("Result", cell(item));
    return entry;
  });
  const headers = [...new Set(items.flatMap((e) => [...e.keys()]))];
  if (!headers.length) return "";
  return renderTable(
    headers,
    items.map((e) => headers.map((h) => e.get(h) ?? "")),
  );
}
