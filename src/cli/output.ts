// `-o json|table|yaml|tsv|none` as az prints them: json by default, table with chosen columns,
// tsv as tab-separated values of the same columns (scalars only), yaml as a document.
import type { Command } from "commander";
import { stringify } from "yaml";
import { fail } from "./util.js";

export const OUTPUT_FORMATS = ["json", "table", "yaml", "tsv", "none"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A table column: header and how to read the value from a row. */
export interface Column {
  header: string;
  get: (row: any) => unknown;
}

export function addOutputOption(cmd: Command): Command {
  return cmd.option("-o, --output <format>", `output format: ${OUTPUT_FORMATS.join(", ")}`, "json");
}

export function checkFormat(format: string): OutputFormat {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format))
    fail(`--output "${format}": expected one of ${OUTPUT_FORMATS.join(", ")}`);
  return format as OutputFormat;
}

const cell = (v: unknown) =>
  v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

/** Prints a value (an object, or a list for list commands) in the chosen format. */
export function print(value: unknown, format: string, columns: Column[]): void {
  const f = checkFormat(format);
  if (f === "none") return;
  if (f === "json") return void console.log(JSON.stringify(value, null, 2));
  if (f === "yaml") return void process.stdout.write(stringify(value));
  const rows = Array.isArray(value) ? value : [value];
  const table = rows.map((r) => columns.map((c) => cell(c.get(r))));
  if (f === "tsv") return void console.log(table.map((r) => r.join("\t")).join("\n"));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  console.log(line(columns.map((c) => c.header)));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of table) console.log(line(r));
}
