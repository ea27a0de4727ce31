// npm run bench:startup [-- --runs 10 --no-write]
// Time to ready (targets in bench/README.md), the median of --runs starts each:
//   1. startServiceBus() in this process, empty, in memory (what each test pays after its file's first start);
//   2. the first startServiceBus() of a fresh Node process (what each test file pays), with the module import time
//      beside it; the first of these runs issues the server certificate that the later ones find in the CA dir;
//   3. startServiceBus() with a project: a namespace, a queue, an identity with a role, an Event job (the full
//      platform, jobs engine and scale loop included);
//   4. `eventjobs up --detach --in-memory` as a process, from spawn to its exit 0 (node start, CLI, the background
//      server's start), then `eventjobs down` to its exit.
// A temp CA dir, ports 0. Progress goes to stderr; the markdown report to stdout and bench/results/startup-<date>.md.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startServiceBus } from "../src/testing/index.js";
import { cpuModel, gitRev, writeReport } from "./report.js";
import { fmtMs, median } from "./stats.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log("usage: npm run bench:startup -- [--runs 10] [--no-write]");
  process.exit(0);
}
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs: "${args.runs}" — expected an integer ≥ 1`);
  process.exit(2);
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TARGET = { broker: 100, platform: 500 };
const log = (s: string) => console.error(`[bench:startup] ${s}`);
const caDir = mkdtempSync(path.join(os.tmpdir(), "eventjobs-bench-ca-"));
const env = { ...process.env, EVENTJOBS_CA_DIR: caDir, EVENTJOBS_DATA_DIR: undefined, NO_COLOR: "1" };

/** The newest .ts file's modification time under a directory. */
function newestTs(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestTs(p) : e.name.endsWith(".ts") ? statSync(p).mtimeMs : 0);
  }
  return t;
}

/** dist/ when it is at least as new as src/ (what an installed package runs), else src/ through tsx. */
function distFresh(): boolean {
  const built = path.join(ROOT, "dist/testing/index.js");
  return existsSync(built) && statSync(built).mtimeMs >= newestTs(path.join(ROOT, "src"));
}

const useDist = distFresh();
const nodeArgs = useDist ? [] : ["--import", "tsx", "--conditions=eventjobs-source"];
const cliArgs = useDist
  ? [path.join(ROOT, "bin/eventjobs.js")]
  : ["--import", "tsx", path.join(ROOT, "src/cli/main.ts")];

function exec(argv: string[], cwd = ROOT): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => done({ code, out, ms: performance.now() - t0 }));
  });
}

async function timed(start: () => Promise<{ stop(): Promise<void> }>): Promise<number> {
  const t0 = performance.now();
  const sb = await start();
  const ms = performance.now() - t0;
  await sb.stop();
  return ms;
}

const FIRST_START = `
const t0 = performance.now();
const { startServiceBus } = await import("eventjobs/testing");
const t1 = performance.now();
const sb = await startServiceBus();
const t2 = performance.now();
await sb.stop();
console.log(JSON.stringify({ importMs: t1 - t0, startMs: t2 - t1 }));
`;

const PROJECT = {
  namespaces: [{ name: "sbemulatorns", queues: [{ name: "work" }] }],
  identities: [{ name: "worker-id" }],
  roleAssignments: [
    { role: "Azure Service Bus Data Receiver", assignee: "worker-id", scope: "sbemulatorns/queues/work" },
  ],
  jobs: [
    {
      name: "worker",
      identity: { type: "UserAssigned", userAssignedIdentities: { "worker-id": {} } },
      properties: {
        configuration: {
          triggerType: "Event",
          replicaTimeout: 60,
          secrets: [{ name: "sb", value: "${servicebus.sbemulatorns.connectionString}" }],
          eventTriggerConfig: {
            parallelism: 1,
            replicaCompletionCount: 1,
            scale: {
              minExecutions: 0,
              maxExecutions: 10,
              pollingInterval: 30,
              rules: [
                {
                  name: "q",
                  type: "azure-servicebus",
                  metadata: { namespace: "sbemulatorns", queueName: "work", messageCount: "1" },
                  auth: [{ triggerParameter: "connection", secretRef: "sb" }],
                },
              ],
            },
          },
        },
        template: { containers: [{ name: "main", image: "busybox", command: ["node", "-e", "0"] }] },
      },
    },
  ],
};

interface Row {
  label: string;
  values: number[];
  target?: number;
}

async function main(): Promise<void> {
  const loadStart = os.loadavg()[0];
  const rows: Row[] = [];
  log(
    `${runs} runs each; ${useDist ? "dist/ (built)" : "src/ through tsx (dist/ missing or stale)"} for child processes`,
  );

  const first: Array<{ importMs: number; startMs: number }> = [];
  for (let i = 0; i < runs; i++) {
    const r = await exec([...nodeArgs, "--input-type=module", "-e", FIRST_START]);
    if (r.code !== 0) throw new Error(`first-start child failed:\n${r.out}`);
    first.push(JSON.parse(r.out.trim().split("\n").pop()!));
  }
  log("first start in a fresh process: done");

  await timed(() => startServiceBus({ caDir })); // warm-up: imports settled, certificate issued
  const broker: number[] = [];
  for (let i = 0; i < runs; i++) broker.push(await timed(() => startServiceBus({ caDir })));
  log("in-process broker: done");
  const platform: number[] = [];
  for (let i = 0; i < runs; i++) platform.push(await timed(() => startServiceBus({ caDir, project: PROJECT })));
  log("in-process platform with a project: done");

  const up: number[] = [];
  const down: number[] = [];
  const ports = ["--amqp-port", "0", "--amqps-port", "0", "--http-port", "0", "--https-port", "0"];
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "eventjobs-bench-up-"));
    try {
      const u = await exec([...cliArgs, "up", "--detach", "--in-memory", "--data-dir", dataDir, ...ports]);
      if (u.code !== 0) throw new Error(`up --detach failed:\n${u.out}`);
      const d = await exec([...cliArgs, "down", "--data-dir", dataDir]);
      if (d.code !== 0) throw new Error(`down failed:\n${d.out}`);
      up.push(u.ms);
      down.push(d.ms);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  log("up --detach / down: done");

  rows.push({ label: "`startServiceBus()` in process, empty, in memory", values: broker, target: TARGET.broker });
  rows.push({
    label: "first `startServiceBus()` of a fresh process",
    values: first.map((f) => f.startMs),
  });
  rows.push({ label: "… importing `eventjobs/testing` before it", values: first.map((f) => f.importMs) });
  rows.push({
    label: "`startServiceBus({ project })`: queue, identity, role, Event job",
    values: platform,
    target: TARGET.platform,
  });
  rows.push({ label: "`eventjobs up --detach --in-memory`, spawn → exit 0 (ready)", values: up });
  rows.push({ label: "`eventjobs down`, spawn → exit 0 (server gone)", values: down });

  const L: string[] = [];
  L.push(`# Start-up benchmark — ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC`, "");
  L.push(
    `- Machine: ${os.cpus().length} CPUs (${cpuModel()}), Node ${process.version}; eventjobs ${await gitRev()}; ` +
      `load average (1 min) ${loadStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end (other work shares the machine)`,
  );
  L.push(
    `- ${runs} starts per row, each stopped before the next; ports 0, a temp CA dir. Child processes run ` +
      `${useDist ? "the built dist/ (as an installed package)" : "src/ through tsx (dist/ was missing or older than src/)"}.`,
    "",
  );
  L.push("| time to ready, ms | median | min | max | target | met |", "|---|---:|---:|---:|---|:-:|");
  for (const r of rows) {
    const m = median(r.values);
    const met = r.target === undefined ? "—" : m < r.target ? "✅" : "❌";
    L.push(
      `| ${r.label} | ${fmtMs(m)} | ${fmtMs(Math.min(...r.values))} | ${fmtMs(Math.max(...r.values))} | ${r.target ? `< ${r.target}` : ""} | ${met} |`,
    );
  }
  L.push("");
  const md = L.join("\n");
  console.log(md);
  if (!args["no-write"]) log(`wrote ${writeReport(md, "startup")}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(caDir, { recursive: true, force: true }));
