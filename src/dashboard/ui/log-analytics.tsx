// The Log Analytics box under an execution's logs: a KQL query against one of the server's workspaces
// (GET /api/v1/monitor/log-analytics/workspaces) through POST /api/v1/monitor/log-analytics/query
// {workspace, query, timespan}, the rows as a table (docs/logs.md). Nothing is sent until Run is pressed.
import { useId, useState } from "preact/hooks";
import { api, useLoad } from "./api";
import { ErrorNote, Section, Table } from "./components";

interface Result {
  columns: string[];
  rows: unknown[][];
}

/** The answer as columns and rows, whether it comes in Azure's `tables` shape or as plain rows. */
export function normalize(r: any): Result {
  const table = Array.isArray(r?.tables) ? r.tables[0] : r;
  const rows: unknown[] = Array.isArray(table) ? table : (table?.rows ?? table?.value ?? []);
  if (Array.isArray(table?.columns)) {
    const columns = table.columns.map((c: any) => (typeof c === "string" ? c : String(c.name)));
    return {
      columns,
      rows: rows.map((row) => (Array.isArray(row) ? row : columns.map((c: string) => (row as any)?.[c]))),
    };
  }
  const columns = [
    ...new Set(rows.flatMap((row) => (row && typeof row === "object" && !Array.isArray(row) ? Object.keys(row) : []))),
  ];
  return {
    columns: columns.length ? columns : ["value"],
    rows: rows.map((row) =>
      Array.isArray(row) ? row : columns.length ? columns.map((c) => (row as any)?.[c]) : [row],
    ),
  };
}

const cell = (v: unknown) =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

export function LogAnalytics({ job, execution }: { job: string; execution: string }) {
  const id = useId();
  // the server's own workspace comes first; a Terraform lab's workspaces follow (docs/logs.md)
  const workspaces = useLoad<Array<{ name: string }>>(
    async () => (await api("/monitor/log-analytics/workspaces")).value,
    "workspaces",
  );
  const [chosen, setWorkspace] = useState<string>();
  const workspace = chosen ?? workspaces.data?.[0]?.name ?? "";
  const [timespan, setTimespan] = useState("P1D");
  const [query, setQuery] = useState(
    `ContainerAppConsoleLogs_CL\n| where ContainerJobName_s == '${job}' and ContainerGroupName_s startswith '${execution}'\n| project TimeGenerated, Log_s\n| order by TimeGenerated asc`,
  );
  const [result, setResult] = useState<Result>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await api("/monitor/log-analytics/query", { body: { workspace, query, timespan } });
      setResult(normalize(r));
    } catch (err) {
      setResult(undefined);
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Log Analytics">
      <form class="la-form" onSubmit={run} aria-label="Log Analytics query">
        <div class="fields">
          <div>
            <label for={`${id}-ws`}>Workspace</label>
            <select id={`${id}-ws`} value={workspace} onChange={(e) => setWorkspace(e.currentTarget.value)}>
              {(workspaces.data ?? []).map((w) => (
                <option key={w.name} value={w.name}>
                  {w.name}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for={`${id}-ts`}>Time range</label>
            <select id={`${id}-ts`} value={timespan} onChange={(e) => setTimespan(e.currentTarget.value)}>
              <option value="PT1H">Last hour</option>
              <option value="P1D">Last 24 hours</option>
              <option value="P7D">Last 7 days</option>
            </select>
          </div>
        </div>
        <label for={`${id}-q`}>KQL query</label>
        <textarea
          id={`${id}-q`}
          class="mono"
          rows={5}
          spellcheck={false}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <div class="actions">
          <button type="submit" disabled={busy || !workspace}>
            {busy ? "Running…" : "Run query"}
          </button>
        </div>
      </form>
      <ErrorNote message={error ?? workspaces.error} />
      {result && (
        <div class="la-results">
          <Table label="Query results" head={result.columns} empty="No rows">
            {result.rows.map((row, i) => (
              <tr key={i}>
                {row.map((v, j) => (
                  <td key={j} class={j === 0 ? "mono small" : ""}>
                    {cell(v)}
                  </td>
                ))}
              </tr>
            ))}
          </Table>
        </div>
      )}
    </Section>
  );
}
