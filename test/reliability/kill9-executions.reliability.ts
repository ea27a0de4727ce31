// kill -9 of the server while executions run, several times: after each restart every execution of the
// killed server is reconciled to a final state, no replica process of it is left, and in the end every
// message was processed by a Succeeded execution (docs/reliability.md).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { queuesYaml } from "../helpers/broker.js";
import { jobEntry, waitFor } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const CYCLES = Number(process.env.RELIABILITY_EXECUTION_CYCLES ?? 3);
const MESSAGES = 6;
const QUEUE = "exec-crash-queue";
const JOB = "exec-crash-job";
const dir = mkdtempSync(join(tmpdir(), "eventjobs-rel-exec-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Execution {
  name: string;
  properties: { status: string; reason?: string };
}

const api = async (s: ServerProcess, path: string) =>
  (await fetch(`http://127.0.0.1:${s.httpPort}/api/v1${path}`)).json() as Promise<any>;
const executions = async (s: ServerProcess): Promise<Execution[]> => (await api(s, `/jobs/${JOB}/executions`)).value;
const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2].startsWith("Z");

/** Replica processes of this test's job, found by the variable Container Apps gives them. */
function replicaPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(`CONTAINER_APP_JOB_NAME=${JOB}`))
        pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

describe("kill -9 with running executions", () => {
  it(`reconciles executions and leaves no replica over ${CYCLES} crashes; every message is processed in the end`, async () => {
    const config = join(dir, "eventjobs.yaml");
    // while the hold file exists a replica keeps running with its message locked; then it completes it
    const hold = join(dir, "hold");
    writeFileSync(hold, "");
    const job = jobEntry({
      name: JOB,
      maxExecutions: 3,
      rules: [{ name: "rule", metadata: { queueName: QUEUE } }],
      env: { SB_QUEUE: QUEUE, HOLD_WHILE_FILE: hold },
    });
    writeFileSync(
      config,
      queuesYaml({ [QUEUE]: { lockDuration: "PT5S", maxDeliveryCount: 10 } }) + `jobs: ${JSON.stringify([job])}\n`,
    );
    const dataDir = join(dir, "data");
    const bodies = Array.from({ length: MESSAGES }, (_, i) => `crash body ${i}`);
    let reconciled = 0;
    let replicasKilled = 0;

    let server = await startServer({ dataDir, args: ["--config", config] });
    const client = new ServiceBusClient(server.connectionString, RETRY);
    await client.createSender(QUEUE).sendMessages(bodies.map((body) => ({ body })));
    await client.close();
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      await waitFor(
        `cycle ${cycle}: an execution running`,
        async () => (await executions(server)).some((e) => e.properties.status === "Running"),
        30_000,
      );
      await new Promise((r) => setTimeout(r, 1000)); // let the held locks reach the disk (written after 500 ms)
      const running = (await executions(server)).filter((e) => e.properties.status === "Running").map((e) => e.name);
      const pids = replicaPids();
      await server.kill9();
      server = await startServer({ dataDir, args: ["--config", config] });
      const after = await executions(server);
      for (const name of running) {
        const e = after.find((x) => x.name === name);
        assert.ok(
          e && !["Running", "Processing"].includes(e.properties.status),
          `execution ${name} of the killed server is final after the restart (${e?.properties.status})`,
        );
        reconciled++;
      }
      await waitFor(`cycle ${cycle}: the killed server's replicas gone`, () => pids.every((p) => !alive(p)), 20_000);
      replicasKilled += pids.length;
    }

    // held messages come back at lock expiry, and new executions complete them
    rmSync(hold);
    const succeeded = await waitFor(
      "every message processed by a Succeeded execution",
      async () => {
        const done = (await executions(server)).filter((e) => e.properties.status === "Succeeded");
        const seen = new Set<string>();
        for (const e of done) {
          for (const l of (await api(server, `/jobs/${JOB}/logs?execution=${e.name}`)).value as { text: string }[]) {
            if (l.text.startsWith("Received: ")) seen.add(l.text.slice("Received: ".length));
          }
        }
        return bodies.every((b) => seen.has(b)) ? done.length : undefined;
      },
      120_000,
    ).catch(async (e) => {
      const states = (await executions(server)).map(
        (x) => `${x.name} ${x.properties.status} ${x.properties.reason ?? ""}`,
      );
      const sys = (await api(server, `/jobs/${JOB}/logs?kind=system&tail=40`)).value.map(
        (l: any) => `${l.reason} ${l.text}`,
      );
      throw new Error(`${e.message}\n${states.join("\n")}\n${sys.join("\n")}`);
    });
    const q = await api(server, `/servicebus/namespaces/sbemulatorns/queues/${QUEUE}`);
    assert.equal(q.properties.countDetails.activeMessageCount, 0, "nothing left in the queue");
    assert.equal(q.properties.countDetails.deadLetterMessageCount, 0, "nothing dead-lettered");
    await server.stop("SIGTERM");
    await server.dispose();
    console.log(
      `kill -9 with executions: ${CYCLES} cycles, ${reconciled} running executions reconciled, ${replicasKilled} leftover replicas killed, ${MESSAGES} messages all processed (${succeeded} executions succeeded), 0 lost`,
    );
  });
});
