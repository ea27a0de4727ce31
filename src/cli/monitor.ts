// `eventjobs monitor log-analytics query`: KQL over the job logs, as `az monitor log-analytics query` runs it
// against a workspace, printed in az's shape (one object per row, TableName first, every value as text).
import type { Command } from "commander";
import { ApiClient, addDataDirOption } from "./client.js";
import { addOutputOption, checkFormat, print } from "./output.js";

type Obj = Record<string, any>;

interface ApiTable {
  name: string;
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
}

/** A value as az prints it: Python's str() of what the query API sent (None, True, 2.0 for a whole real). */
function azText(v: unknown, type: string): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return type === "real" && Number.isInteger(v) ? `${v}.0` : String(v);
  return String(v);
}

/** The API's tables → az's list of row objects. */
export function azRows(tables: ApiTable[]): Obj[] {
  return tables.flatMap((t) =>
    t.rows.map((r) => {
      const o: Obj = { TableName: t.name };
      t.columns.forEach((c, i) => (o[c.name] = azText(r[i], c.type)));
      return o;
    }),
  );
}

export function registerMonitor(program: Command): void {
  const monitor = program.command("monitor").description("Azure Monitor: Log Analytics queries over the job logs");
  const la = monitor.command("log-analytics").description("Log Analytics workspaces");
  addOutputOption(addDataDirOption(la.command("query")))
    .description(
      "Query a Log Analytics workspace with KQL (ContainerAppConsoleLogs_CL, ContainerAppSystemLogs_CL, ...)",
    )
    .requiredOption("-w, --workspace <workspace>", "the workspace: its name, customerId (GUID) or resource id")
    .requiredOption("--analytics-query <kql>", "the KQL query (see docs/logs.md)")
    .option(
      "-t, --timespan <timespan>",
      "ISO-8601 duration (P1D, PT1H) or interval (start/end); default: the query's own",
    )
    .option("--subscription <id>", "accepted for az compatibility")
    .addHelpText(
      "after",
      `\nExamples:\n  eventjobs monitor log-analytics query -w workspace-eventjobs --analytics-query "ContainerAppConsoleLogs_CL | where ContainerJobName_s == 'job-python' | project TimeGenerated, Log_s | order by TimeGenerated desc" -o table\n  eventjobs monitor log-analytics query -w log-aca-jobs --analytics-query "ContainerAppSystemLogs_CL | summarize count() by Reason_s" --timespan P1D\n`,
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      const res = await new ApiClient(o.dataDir).request<{ tables: ApiTable[] }>(
        "POST",
        "/monitor/log-analytics/query",
        {
          workspace: o.workspace,
          query: o.analyticsQuery,
          ...(o.timespan !== undefined ? { timespan: o.timespan } : {}),
        },
      );
      const rows = azRows(res.tables);
      // az's table output of an empty list is empty
      if (o.output === "table" && !rows.length && o.query === undefined) return;
      const names = ["TableName", ...(res.tables[0]?.columns.map((c) => c.name) ?? [])];
      print(
        rows,
        o.output,
        names.map((n) => ({ header: n, get: (r: Obj) => r[n] })),
      );
    });
}
