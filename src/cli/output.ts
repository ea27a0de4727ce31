// `-o json|table|yaml|tsv|none` as az prints them: json by default, table with chosen columns,
// tsv as tab-separated values of the same columns (scalars only), yaml as a document. With `--query`, the
// JMESPath result is printed instead, table and tsv the way az prints any result (az-output.ts).
import type { Command } from "commander";
import { stringify } from "yaml";
import { applyQuery, autoTable, checkQuery, renderTable, tsv } from "./az-output.js";
import { fail } from "./util.js";

export const OUTPUT_FORMATS = ["json", "table", "yaml", "tsv", "none"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A table column: header and how to read the value from a row. */
export interface Column {
  header: string;
  get: (row: any) => unknown;
}

export function addQueryOption(cmd: Command): Command {
  return cmd.option("--query <jmespath>", "JMESPath query applied to the result before -o formats it (az's --query)");
}

export function addOutputOption(cmd: Command): Command {
  return addQueryOption(cmd.option("-o, --output <format>", `output format: ${OUTPUT_FORMATS.join(", ")}`, "json"));
}

// One command runs per process: main.ts hands over its --query before the action runs, so every print of it
// applies the query without each command passing it along.
let activeQuery: string | undefined;

/** The running command's --query (checked now, so a bad one fails before anything changes). */
export function useQuery(query: string | undefined): void {
  if (query !== undefined) checkQuery(query);
  activeQuery = query;
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
  if (activeQuery !== undefined) return printQueried(applyQuery(value, activeQuery), f, value);
  if (f === "none") return;
  if (f === "json") return void console.log(JSON.stringify(value, null, 2));
  if (f === "yaml") return void process.stdout.write(stringify(value));
  const rows = Array.isArray(value) ? value : [value];
  const table = rows.map((r) => columns.map((c) => cell(c.get(r))));
  if (f === "tsv") return void console.log(table.map((r) => r.join("\t")).join("\n"));
  process.stdout.write(
    renderTable(
      columns.map((c) => c.header),
      table,
    ),
  );
}

/** A query's result: nothing when it is null (as az prints nothing), else in the format. */
function printQueried(result: unknown, f: OutputFormat, source: unknown): void {
  if (result === null || result === undefined || f === "none") return;
  if (f === "json") return void console.log(JSON.stringify(result, null, 2));
  if (f === "yaml") return void process.stdout.write(stringify(result));
  process.stdout.write(f === "tsv" ? tsv(result, source) : autoTable(result));
}
