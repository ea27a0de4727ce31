// Log Analytics queries over logs written by real executions: a real server, jobs whose processes print known
// lines (the lab's job-python receiving a message, a job printing steps, a job that fails and retries), run once
// for the file; then a table of queries through the control API, the CLI as a child process (-o json, -o table),
// and every ```kusto block of docs/logs.md.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { DEFAULT_WORKSPACE } from "../../src/monitor/workspaces.js";
import { workspaceCustomerId } from "../../src/monitor/workspace-id.js";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { jobEntry, waitForExecution } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";
import { queryTable, STEPS_SCRIPT, type QueryContext } from "./log-queries.js";

type Obj = Record<string, any>;

/** A Manual job whose one container runs `node -e script`. */
function scriptJob(name: string, script: string, retries = 0): Obj {
  const entry = jobEntry({ name, trigger: "Manual", replicaRetryLimit: retries }) as Obj;
  entry.properties.template.containers[0].command = ["node", "-e", script];
  return entry;
}

const FAILING = "console.error('ERROR: cannot connect to the database'); process.exit(1);";

describe("monitor log-analytics query", () => {
  let b: TestBroker;
  let base: string;
  const queue = uniqueName("kql");
  const steps = uniqueName("kql-steps");
  const failing = uniqueName("kql-fail");
  const body = `hello from ${queue}`;
  let stepExecutions: string[] = [];
  let failedExecution = "";

  before(async () => {
    b = await startBroker(queuesYaml({ [queue]: { lockDuration: "PT5M", maxDeliveryCount: 1 } }));
    base = `http://127.0.0.1:${b.platform.endpoints.httpPort}/api/v1`;
    const p = b.platform;
    // the lab's job: an Event job named job-python whose processor prints the message it received
    p.jobs.apply(
      jobEntry({
        name: "job-python",
        env: { SB_QUEUE: queue },
        rules: [{ name: "azure-servicebus-queue-rule", metadata: { queueName: queue } }],
      }),
    );
    p.jobs.apply(scriptJob(steps, STEPS_SCRIPT));
    p.jobs.apply(scriptJob(failing, FAILING, 1));
    const started = new Promise<string>((r) =>
      p.jobs.engine.on("executionStarted", (e) => e.job === "job-python" && r(e.name)),
    );
    const client = new ServiceBusClient(b.connectionString, RETRY);
    await client.createSender(queue).sendMessages({ body });
    await client.close();
    stepExecutions = [p.jobs.runtime.start(steps).name, p.jobs.runtime.start(steps).name];
    failedExecution = p.jobs.runtime.start(failing).name;
    const lab = await started;
    const ends = await Promise.all(
      [lab, ...stepExecutions, failedExecution].map((n) => waitForExecution(p, n, 60_000)),
    );
    assert.deepEqual(
      ends.map((e) => e.status),
      ["Succeeded", "Succeeded", "Succeeded", "Failed"],
    );
  });
  after(() => b?.close());

  async function query(q: string, extra: Obj = {}): Promise<{ status: number; body: Obj }> {
    const res = await fetch(`${base}/monitor/log-analytics/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workspace: DEFAULT_WORKSPACE, query: q, ...extra }),
    });
    return { status: res.status, body: (await res.json()) as Obj };
  }
  /** The rows of a query that must succeed, as objects. */
  async function rows(q: string, extra: Obj = {}): Promise<Obj[]> {
    const r = await query(q, extra);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const t = r.body.tables[0];
    assert.equal(t.name, "PrimaryResult");
    return t.rows.map((row: unknown[]) => Object.fromEntries(t.columns.map((c: Obj, i: number) => [c.name, row[i]])));
  }

  const CL = "ContainerAppConsoleLogs_CL";
  const SYS = "ContainerAppSystemLogs_CL";
  const ctx = (): QueryContext => ({
    steps,
    failing,
    body,
    get failedExecution() {
      return failedExecution;
    },
    get stepExecutions() {
      return stepExecutions;
    },
    rows,
  });

  it("the lab's portal query returns the processor's line, newest first", async () => {
    const r = await rows(
      `${CL} | where ContainerJobName_s == 'job-python' | project TimeGenerated, Log_s | order by TimeGenerated desc`,
    );
    assert.ok(
      r.some((x) => x.Log_s === `Received: ${body}`),
      JSON.stringify(r),
    );
    assert.deepEqual(Object.keys(r[0]), ["TimeGenerated", "Log_s"]);
    const times = r.map((x) => Date.parse(x.TimeGenerated));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => y - x),
    );
  });

  // each operator and function over the real logs: [what, query, check(rows)]
  for (const [what, q, check] of queryTable(ctx())) it(what, async () => check(await rows(q())));

  it("--timespan: a duration ending now, or an interval; applied on top of the query", async () => {
    const all = `${CL} | count`;
    assert.equal((await rows(all, { timespan: "PT1H" }))[0].Count, 13);
    assert.equal((await rows(all, { timespan: "2000-01-01T00:00:00Z/2000-01-02T00:00:00Z" }))[0].Count, 0);
    assert.equal((await rows(all, { timespan: "2000-01-01T00:00:00Z/P1D" }))[0].Count, 0);
    const bad = await query(all, { timespan: "yesterday" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /timespan: "yesterday" is not an ISO-8601 duration/);
  });

  it("the workspace by name, customerId or resource id; an unknown one is named", async () => {
    const q = `${CL} | count`;
    const id = `/subscriptions/x/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/${DEFAULT_WORKSPACE}`;
    for (const workspace of [DEFAULT_WORKSPACE.toUpperCase(), workspaceCustomerId(DEFAULT_WORKSPACE), id])
      assert.equal((await rows(q, { workspace }))[0].Count, 13, workspace);
    const r = await query(q, { workspace: "log-nowhere" });
    assert.equal(r.status, 404);
    assert.match(
      r.body.error.message,
      /The Log Analytics workspace 'log-nowhere' was not found \(workspaces here: workspace-eventjobs \(/,
    );
  });

  it("an unsupported operator or unknown column is a 400 naming it and its position", async () => {
    const r = await query(`${CL}\n| join (${SYS}) on ContainerJobName_s`);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, "BadArgumentError");
    assert.match(r.body.error.message, /^The operator 'join' is not supported here .*\(line 2, column 3\)$/);
    const c = await query(`${CL} | where Level_s == 'error'`);
    assert.match(c.body.error.message, /^Failed to resolve scalar expression named 'Level_s' \(line 1, column 36\)$/);
    const m = await query("", {});
    assert.equal(m.status, 400);
    assert.match(m.body.error.message, /^query: "" — expected a non-empty string/);
  });

  it("the CLI prints az's shape: -o json (TableName, values as text) and -o table", async () => {
    const q = `${CL} | where ContainerJobName_s == 'job-python' | project TimeGenerated, Log_s | order by TimeGenerated desc`;
    const args = ["monitor", "log-analytics", "query", "--workspace", DEFAULT_WORKSPACE, "--analytics-query", q];
    const json = await cli(b.dataDir, [...args, "-o", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as Obj[];
    assert.deepEqual(Object.keys(list[0]), ["TableName", "TimeGenerated", "Log_s"]);
    assert.ok(list.every((x) => x.TableName === "PrimaryResult" && typeof x.TimeGenerated === "string"));
    assert.ok(list.some((x) => x.Log_s === `Received: ${body}`));
    const counted = await cli(b.dataDir, [...args.slice(0, -1), `${CL} | summarize n = count(), a = avg(1.0)`]);
    assert.deepEqual(JSON.parse(counted.stdout), [{ TableName: "PrimaryResult", n: "13", a: "1.0" }]);

    const received = await cli(b.dataDir, [...args, "--query", "[?starts_with(Log_s, 'Received')].Log_s", "-o", "tsv"]);
    assert.equal(received.stdout, `Received: ${body}\n`, received.stderr);

    const table = await cli(b.dataDir, [...args, "-o", "table"]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^TableName\s+TimeGenerated\s+Log_s$/);
    assert.match(lines[1], /^-+\s+-+\s+-+$/);
    assert.ok(
      lines.some((l) => /^PrimaryResult\s+\S+Z\s+Received: hello/.test(l)),
      table.stdout,
    );

    const bad = await cli(b.dataDir, [...args.slice(0, -1), `${CL} | render timechart`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^eventjobs: The operator 'render' is not supported here .*\(line 1, column \d+\)\n$/);
    const nowhere = await cli(b.dataDir, [
      "monitor",
      "log-analytics",
      "query",
      "-w",
      "log-nowhere",
      "--analytics-query",
      q,
    ]);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /The Log Analytics workspace 'log-nowhere' was not found/);
  });

  it("lists the workspaces and the tables with their columns", async () => {
    const ws = (await (await fetch(`${base}/monitor/log-analytics/workspaces`)).json()) as Obj;
    assert.deepEqual(ws.value, [
      { name: DEFAULT_WORKSPACE, customerId: workspaceCustomerId(DEFAULT_WORKSPACE), resourceGroup: "eventjobs" },
    ]);
    const tables = (await (await fetch(`${base}/monitor/log-analytics/tables`)).json()) as Obj;
    assert.deepEqual(
      tables.value.map((t: Obj) => t.name),
      [CL, SYS, "ContainerAppConsoleLogs", "ContainerAppSystemLogs"],
    );
    assert.deepEqual(tables.value[0].columns[0], { name: "TimeGenerated", type: "datetime" });
  });

  it("every ```kusto query in docs/logs.md runs", async () => {
    const doc = readFileSync(new URL("../../docs/logs.md", import.meta.url), "utf8");
    const blocks = [...doc.matchAll(/```kusto\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.length >= 10, `${blocks.length} blocks`);
    for (const q of blocks) {
      const r = await query(q);
      assert.equal(r.status, 200, `${q}\n→ ${JSON.stringify(r.body)}`);
    }
    // the lab's query in the doc finds the processor's line here too
    const lab = await rows(blocks[0]);
    assert.ok(lab.some((x) => x.Log_s === `Received: ${body}`));
  });

  // last: applying a Terraform folder replaces the project this server started with
  it("a workspace Terraform applied answers by its name and by the workspace_id Terraform outputs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eventjobs-kql-tf-"));
    try {
      writeFileSync(join(dir, "main.tf"), TF);
      for (const args of [["init"], ["apply", "-auto-approve"]]) {
        const r = await cli(b.dataDir, ["terraform", `-chdir=${dir}`, ...args]);
        assert.equal(r.code, 0, r.stderr);
      }
      const id = (await cli(b.dataDir, ["terraform", `-chdir=${dir}`, "output", "-raw", "workspace_id"])).stdout.trim();
      assert.equal(id, workspaceCustomerId("log-kql-test"));
      for (const workspace of ["log-kql-test", id])
        assert.equal((await rows(`${CL} | count`, { workspace }))[0].Count, 13, workspace);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const TF = `
resource "azurerm_resource_group" "rg" {
  name     = "rg-kql"
  location = "westeurope"
}

resource "azurerm_log_analytics_workspace" "workspace" {
  name                = "log-kql-test"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "PerGB2018"
}

output "workspace_id" {
  value = azurerm_log_analytics_workspace.workspace.workspace_id
}
`;
