// kill -9 of the server while an execution runs: after a restart on the same data dir the execution is
// reconciled, its leftover replica process is gone, and the message it held comes back at lock expiry
// and triggers a new execution.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import Database from "better-sqlite3";
import { queuesYaml, TEST_CA_DIR } from "../helpers/broker.js";
import { jobEntry, waitFor } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";
import { FREE_PORTS, ROOT } from "../helpers/server-process.js";
import { CLI } from "../helpers/cli-entry.js";

const dir = mkdtempSync(join(tmpdir(), "eventjobs-kill9-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function up(config: string, dataDir: string): Promise<{ child: ChildProcess; cs: string; http: string }> {
  const child = spawn(process.execPath, [...CLI, "up", "--config", config, "--data-dir", dataDir, ...FREE_PORTS], {
    cwd: ROOT,
    env: { ...process.env, EVENTJOBS_CA_DIR: TEST_CA_DIR },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  await waitFor("eventjobs ready", () => out.includes("  http: "), 30_000);
  return { child, cs: /connection string: (\S+)/.exec(out)![1], http: / {2}http: (\S+)/.exec(out)![1] };
}

const api = async (http: string, path: string) => (await fetch(`${http}/api/v1${path}`)).json() as Promise<any>;
const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2].startsWith("Z");

describe("kill -9 with a running execution", () => {
  it("reconciles the execution, kills its leftover replica, and the held message triggers a new execution after lock expiry", async () => {
    const q = "held-queue";
    const config = join(dir, "eventjobs.yaml");
    const job = jobEntry({
      name: "held-job",
      maxExecutions: 1,
      rules: [{ name: "rule", metadata: { queueName: q } }],
      env: { SB_QUEUE: q, HOLD_FIRST_DELIVERY_MS: "600000" },
    });
    writeFileSync(
      config,
      queuesYaml({ [q]: { lockDuration: "PT5S", maxDeliveryCount: 3 } }) + `jobs: ${JSON.stringify([job])}\n`,
    );
    const dataDir = join(dir, "data");

    let server = await up(config, dataDir);
    const client = new ServiceBusClient(server.cs, RETRY);
    await client.createSender(q).sendMessages({ body: "survives a crash" });
    await client.close();
    const first = await waitFor("the first execution to hold the message", async () => {
      const [e] = (await api(server.http, "/jobs/held-job/executions")).value;
      const logs = e && (await api(server.http, `/jobs/held-job/logs?execution=${e.name}`)).value;
      return logs?.some((l: { text: string }) => l.text === "Received: survives a crash") ? e : undefined;
    });
    // the broker writes a lock once it has been held 500 ms (a crash sooner redelivers at once): wait until it is
    // durable
    await waitFor("the lock to be on disk", () => lockOnDisk(dataDir, q));
    const replicaPid = pidOfReplica(first.properties.replicas[0].name);
    assert.ok(replicaPid, "the replica process is running");
    server.child.kill("SIGKILL");
    await new Promise((r) => server.child.once("exit", r));
    assert.ok(alive(replicaPid!), "the replica outlived the server (its own process group)");

    server = await up(config, dataDir);
    const reconciled = await api(server.http, `/jobs/held-job/executions/${first.name}`);
    assert.equal(reconciled.properties.status, "Failed");
    assert.match(reconciled.properties.reason, /server stopped/);
    await waitFor("the leftover replica to be killed", () => !alive(replicaPid!));
    const second = await waitFor(
      "a new execution to complete the message after its lock expired",
      async () => {
        const list = (await api(server.http, "/jobs/held-job/executions")).value;
        return list.find((e: any) => e.name !== first.name && e.properties.status === "Succeeded");
      },
      30_000,
    ).catch(async (e) => {
      const sys = (await api(server.http, "/jobs/held-job/logs?kind=system&tail=60")).value.map(
        (l: any) => `${new Date(l.time).toISOString()} ${l.reason} ${l.text}`,
      );
      const con = (await api(server.http, "/jobs/held-job/logs?kind=console&tail=30")).value.map(
        (l: any) => `${l.replica} ${l.text}`,
      );
      throw new Error(`${e.message}\n${sys.join("\n")}\n${con.join("\n")}`);
    });
    const logs = (await api(server.http, `/jobs/held-job/logs?execution=${second.name}`)).value.map(
      (l: { text: string }) => l.text,
    );
    assert.ok(logs.includes("Received: survives a crash"));
    server.child.kill("SIGTERM");
  });
});

function lockOnDisk(dataDir: string, queue: string): boolean {
  const db = new Database(join(dataDir, "eventjobs.db"), { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare("SELECT m.lock_token FROM messages m JOIN entities e ON e.id = m.entity WHERE e.path LIKE ?")
      .get(`%/${queue}`) as { lock_token: string | null } | undefined;
    return Boolean(row?.lock_token);
  } finally {
    db.close();
  }
}

/** The process that runs a replica: Container Apps' variable in its environment names it. */
function pidOfReplica(replica: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(`CONTAINER_APP_REPLICA_NAME=${replica}`))
        return Number(entry);
    } catch {
      // gone, or not ours
    }
  }
  return undefined;
}
