// The Log Analytics tables Container Apps writes, over the logs the jobs engine keeps (jobs.db): console lines in
// ContainerAppConsoleLogs_CL / ContainerAppConsoleLogs, platform events in ContainerAppSystemLogs_CL /
// ContainerAppSystemLogs, with their column names (docs/logs.md lists them). Columns with nothing to say here
// (no container apps, revisions or named environment) are empty strings, as Log Analytics shows a missing string.
import type { LogBook } from "../jobs/logs.js";
import type { LogEntry, LogKind, LogQuery } from "../jobs/store.js";
import type { ColumnType, FetchHints, TableSource } from "./kql/run.js";
import { DateTime, type Row, type Value } from "./kql/values.js";

/** Where a column's value comes from in a log entry. */
type Field = (e: LogEntry, table: string) => Value;

interface TableDef {
  kind: LogKind;
  columns: Array<[name: string, type: string, field: Field]>;
}

const time: Field = (e) => new DateTime(e.time);
const empty: Field = () => "";
const job: Field = (e) => e.job;
const replica: Field = (e) => e.replica ?? "";
const container: Field = (e) => e.container ?? "";
const text: Field = (e) => e.text;
const stream: Field = (e) => e.stream ?? "";
const tableName: Field = (_e, t) => t;

const TABLES: Record<string, TableDef> = {
  // the classic custom-log tables (suffix: _s string, _g guid, _d number)
  ContainerAppConsoleLogs_CL: {
    kind: "console",
    columns: [
      ["TimeGenerated", "datetime", time],
      ["ContainerAppName_s", "string", empty],
      ["ContainerJobName_s", "string", job],
      ["ContainerGroupName_s", "string", replica],
      ["ContainerName_s", "string", container],
      ["EnvironmentName_s", "string", empty],
      ["RevisionName_s", "string", empty],
      ["Stream_s", "string", stream],
      ["Log_s", "string", text],
      ["Type", "string", tableName],
    ],
  },
  ContainerAppSystemLogs_CL: {
    kind: "system",
    columns: [
      ["TimeGenerated", "datetime", time],
      ["ContainerAppName_s", "string", empty],
      ["ContainerJobName_s", "string", job],
      ["ExecutionName_s", "string", (e) => e.execution ?? ""],
      ["ReplicaName_s", "string", replica],
      ["ContainerName_s", "string", container],
      ["EnvironmentName_s", "string", empty],
      ["RevisionName_s", "string", empty],
      ["Reason_s", "string", (e) => e.reason ?? ""],
      ["Log_s", "string", text],
      // severity: Normal or Warning
      ["Type_s", "string", stream],
      ["Type", "string", tableName],
    ],
  },
  // the resource-specific tables (Microsoft's table reference names the job JobName)
  ContainerAppConsoleLogs: {
    kind: "console",
    columns: [
      ["TimeGenerated", "datetime", time],
      ["ContainerAppName", "string", empty],
      ["JobName", "string", job],
      ["ContainerGroupName", "string", replica],
      ["ContainerName", "string", container],
      ["EnvironmentName", "string", empty],
      ["RevisionName", "string", empty],
      ["Stream", "string", stream],
      ["Log", "string", text],
      ["Type", "string", tableName],
    ],
  },
  ContainerAppSystemLogs: {
    kind: "system",
    columns: [
      ["TimeGenerated", "datetime", time],
      ["ContainerAppName", "string", empty],
      ["JobName", "string", job],
      ["ReplicaName", "string", replica],
      ["ContainerName", "string", container],
      ["EnvironmentName", "string", empty],
      ["RevisionName", "string", empty],
      ["Reason", "string", (e) => e.reason ?? ""],
      ["Log", "string", text],
      // in this table Type is the event's severity (Normal or Warning)
      ["Type", "string", stream],
    ],
  },
};

/** Every table with its columns, for schema views (the dashboard's). */
export function tableSchemas(): Array<{ name: string; columns: ColumnType[] }> {
  return Object.entries(TABLES).map(([name, def]) => ({
    name,
    columns: def.columns.map(([n, type]) => ({ name: n, type })),
  }));
}

/** Columns whose equality the log store can filter on itself. */
const STORE_FILTERS: Record<string, keyof LogQuery> = {
  ContainerJobName_s: "job",
  JobName: "job",
  ExecutionName_s: "execution",
  ContainerGroupName_s: "replica",
  ContainerGroupName: "replica",
  ReplicaName_s: "replica",
  ReplicaName: "replica",
};

/** The table a query names, reading the log book; table names are case-sensitive, as in Kusto. */
export function logTable(logs: LogBook, name: string): TableSource | undefined {
  const def = TABLES[name];
  if (!def) return undefined;
  const columns: ColumnType[] = def.columns.map(([n, type]) => ({ name: n, type }));
  return {
    columns,
    rows(h: FetchHints): Row[] {
      const q: LogQuery = { kind: def.kind };
      if (h.since !== undefined && Number.isFinite(h.since)) q.since = Math.ceil(h.since);
      if (h.until !== undefined && Number.isFinite(h.until)) q.until = Math.floor(h.until);
      if (h.limit !== undefined) q.limit = h.limit;
      for (const [col, v] of Object.entries(h.equals)) {
        const key = STORE_FILTERS[col];
        // an empty string is a missing value in the store (NULL), which `=` would not find
        if (key && v !== "") (q as Record<string, unknown>)[key] = v;
      }
      return logs.query(q).map((e) => {
        const row: Row = {};
        for (const [n, , field] of def.columns) row[n] = field(e, name);
        return row;
      });
    },
  };
}
