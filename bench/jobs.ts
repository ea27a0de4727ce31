// npm run bench:jobs [-- --runs 3 --latency 200 --throughput 300 ...]
// Event jobs end to end (targets in bench/README.md): message → execution start latency, and executions started per
// second with maxExecutions 100. A Platform runs in this process (ports 0, temp data dir, temp CA dir);
// messages are sent with @azure/service-bus; each execution runs bench/processor.mjs as a real child
// process that receives one message, completes it and exits 0.
// Progress goes to stderr; the markdown report to stdout and bench/results/jobs-<date>.md.
import dns from "node:dns";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ServiceBusClient, type ServiceBusSender } from "@azure/service-bus";
import { parseConfigText } from "../src/config/load.js";
import type { ExecutionRecord } from "../src/jobs/store.js";
import { Platform } from "../src/platform.js";
import type { QueueEntity } from "../src/servicebus/entities/queue.js";
import { isStopping, onCleanup, runCleanups, withTimeout } from "./procs.js";
import { cpuModel, gitRev, writeReport } from "./report.js";
import { fmtMs, median, percentile } from "./stats.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    latency: { type: "string", default: "200" },
    warmup: { type: "string", default: "3" },
    throughput: { type: "string", default: "300" },
    "max-executions": { type: "string", default: "100" },
    nice: { type: "string", default: "0" },
    "no-latency": { type: "boolean", default: false },
    "no-throughput": { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (args.help) {
  console.log(`usage: npm run bench:jobs -- [--runs 3] [--latency 200] [--warmup 3] [--throughput 300]
  [--max-executions 100] [--nice 0] [--no-latency] [--no-throughput] [--no-write]
  --latency N: messages sent one at a time, each after the previous execution finished (0 skips)
  --warmup N: messages sent the same way first in each latency run, not recorded
  --throughput N: messages sent in one sendMessages() call to a job with --max-executions (0 skips)
  --nice N: run the processor as \`nice -n N node bench/processor.mjs\` (replicas at a lower CPU priority
    than the platform; eventjobs does not do this itself)`);
  process.exit(0);
}

const int = (name: keyof typeof args, min: number) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min) {
    console.error(`--${name} must be an integer ≥ ${min}`);
    process.exit(2);
  }
  return v;
};
const cfg = {
  runs: int("runs", 1),
  latency: args["no-latency"] ? 0 : int("latency", 0),
  warmup: int("warmup", 0),
  throughput: args["no-throughput"] ? 0 : int("throughput", 0),
  maxExecutions: int("max-executions", 1),
  nice: int("nice", 0),
};

const TARGET = { startP50: 100, startP99: 500, startsPerSecond: 20 };
const NS = "sbemulatorns";
const PROCESSOR = fileURLToPath(new URL("./processor.mjs", import.meta.url));
const log = (s: string) => console.error(`[bench:jobs] ${s}`);
dns.setDefaultResultOrder("ipv4first");

/** Epoch milliseconds with sub-ms resolution; comparable with the processor's marks (same clock). */
const now = () => performance.timeOrigin + performance.now();

// ---- test bed: one platform, one queue, one Event job -------------------------------------------

interface Bed {
  p: Platform;
  client: ServiceBusClient;
  queue: QueueEntity;
  queueName: string;
  job: string;
  close(): Promise<void>;
}

/** The lab's job (azure-servicebus rule, messageCount 1, push mode) running bench/processor.mjs. */
function jobEntry(name: string, queue: string, maxExecutions: number): Record<string, unknown> {
  return {
    name,
    pollingMode: "push",
    properties: {
      configuration: {
        triggerType: "Event",
        replicaTimeout: 60,
        replicaRetryLimit: 0,
        secrets: [{ name: "service-bus-connection-string", value: `\${servicebus.${NS}.connectionString}` }],
        eventTriggerConfig: {
          parallelism: 1,
          replicaCompletionCount: 1,
          scale: {
            pollingInterval: 30,
            minExecutions: 0,
            maxExecutions,
            rules: [
              {
                name: "azure-servicebus-queue-rule",
                type: "azure-servicebus",
                metadata: { namespace: NS, queueName: queue, messageCount: "1" },
                auth: [{ triggerParameter: "connection", secretRef: "service-bus-connection-string" }],
              },
            ],
          },
        },
      },
      template: {
        containers: [
          {
            name: "main",
            image: "mcr.microsoft.com/k8se/quickstart-jobs:latest", // not a local image: the command runs
            command: cfg.nice
              ? [
                  "/bin/sh",
                  "-c",
                  `echo ${cfg.nice} > /proc/self/autogroup 2>/dev/null; exec nice -n ${cfg.nice} "$0" "$1"`,
                  process.execPath,
                  PROCESSOR,
                ]
              : [process.execPath, PROCESSOR],
            env: [
              { name: "SB_CONNECTION", secretRef: "service-bus-connection-string" },
              { name: "SB_QUEUE", value: queue },
            ],
            resources: { cpu: 0.25, memory: "0.5Gi" },
          },
        ],
      },
    },
  };
}

async function startBed(tmp: string, caDir: string, label: string, maxExecutions: number): Promise<Bed> {
  const dir = mkdtempSync(path.join(tmp, `${label}-`));
  const queue = `bench-${label}`;
  const job = `bench-${label}-job`;
  const yaml = [
    "namespaces:",
    `  - name: ${NS}`,
    "    queues:",
    `      - name: ${queue}`,
    "        properties:",
    "          lockDuration: PT1M",
    "",
  ].join("\n");
  const config = parseConfigText(yaml, path.join(dir, "eventjobs.yaml"));
  const p = await Platform.start({
    config,
    dataDir: path.join(dir, "data"),
    amqpPort: 0,
    httpPort: 0,
    amqpsPort: 0,
    httpsPort: 0,
    caDir,
  });
  const client = new ServiceBusClient(p.connectionString(), { retryOptions: { maxRetries: 0, timeoutInMs: 30_000 } });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    unregister();
    await withTimeout(client.close(), 10_000, "SDK client close").catch(() => {});
    await withTimeout(p.close(), 30_000, "platform close").catch((e: Error) => log(e.message));
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onCleanup(close);
  try {
    p.jobs.apply(jobEntry(job, queue, maxExecutions));
    return { p, client, queue: p.broker.namespace(NS)!.queue(queue)!, queueName: queue, job, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The processor's `bench-timing` line (epoch ms marks), from the execution's console log. */
function processorMarks(bed: Bed, execution: string): ProcMarks | undefined {
  for (const l of bed.p.jobs.logs.query({ execution, kind: "console" })) {
    if (l.text.startsWith("bench-timing ")) {
      try {
        return JSON.parse(l.text.slice("bench-timing ".length)) as ProcMarks;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

interface ProcMarks {
  boot: number;
  loaded: number;
  received: number;
  completed: number;
  exiting: number;
  cpu: number;
}

// ---- 1. latency: one message at a time -----------------------------------------------------------

interface Sample {
  /** sendMessages() called */
  send: number;
  /** sendMessages() resolved (the broker's accepted disposition reached the SDK) */
  accepted?: number;
  /** the broker made the message visible: queue "change" with active ≥ 1 (after the durable write) */
  enqueued?: number;
  /** engine "executionStarted": the execution record exists, its replica is being launched */
  started?: number;
  /** engine "replicaStarted": spawn() returned for the replica's process */
  replica?: number;
  /** the broker applied the processor's complete: queue "change" with total back to 0 */
  completed?: number;
  /** engine "executionFinished" */
  finished?: number;
  status?: string;
  execution?: string;
  /** executions started while this sample was in flight beyond the first (should stay 0) */
  extra: number;
  proc?: ProcMarks;
}

interface LatencyRun {
  samples: Sample[];
  failures: number;
  extra: number;
  /** accepted before executionStarted, of all samples */
  acceptedFirst: number;
}

async function latencyRun(bed: Bed, warmup: number, n: number): Promise<LatencyRun> {
  const { p, queue } = bed;
  let cur: Sample | undefined;
  let wake: (() => void) | undefined;
  const check = () => {
    if (cur && cur.finished !== undefined && (cur.completed !== undefined || cur.status !== "Succeeded")) wake?.();
  };
  const onChange = () => {
    if (!cur) return;
    const c = queue.counts();
    if (cur.enqueued === undefined && c.active >= 1) cur.enqueued = now();
    else if (cur.enqueued !== undefined && cur.completed === undefined && c.total === 0) {
      cur.completed = now();
      check();
    }
  };
  const onStarted = (e: ExecutionRecord) => {
    if (e.job !== bed.job || !cur) return;
    if (cur.started !== undefined) {
      cur.extra++;
      return;
    }
    cur.started = now();
    cur.execution = e.name;
  };
  const onReplica = (e: ExecutionRecord) => {
    if (cur && e.name === cur.execution && cur.replica === undefined) cur.replica = now();
  };
  const onFinished = (e: ExecutionRecord) => {
    if (!cur || e.name !== cur.execution) return;
    cur.finished = now();
    cur.status = e.status;
    check();
  };
  queue.on("change", onChange);
  p.jobs.engine.on("executionStarted", onStarted);
  p.jobs.engine.on("replicaStarted", onReplica);
  p.jobs.engine.on("executionFinished", onFinished);
  const sender: ServiceBusSender = bed.client.createSender(bed.queueName);
  const samples: Sample[] = [];
  let failures = 0;
  try {
    for (let i = 0; i < warmup + n && !isStopping(); i++) {
      const s: Sample = { send: 0, extra: 0 };
      cur = s;
      const done = new Promise<void>((r) => (wake = r));
      s.send = now();
      await sender.sendMessages({ body: `latency ${i}`, messageId: `latency-${i}` });
      s.accepted = now();
      await withTimeout(done, 60_000, `execution for message ${i}`).catch((e: Error) => log(e.message));
      await p.jobs.runtime.settled(bed.job);
      cur = undefined;
      if (s.execution) s.proc = processorMarks(bed, s.execution);
      const ok = s.status === "Succeeded" && s.completed !== undefined;
      if (!ok) {
        failures++;
        log(
          `message ${i}: execution ${s.execution ?? "(none)"} ${s.status ?? "did not finish"}${s.completed === undefined ? ", message not completed" : ""}`,
        );
        if (s.status === undefined) await withTimeout(waitIdle(bed), 60_000, "queue to drain").catch(() => {});
      }
      if (i >= warmup) samples.push(s);
      if (i >= warmup && (i - warmup + 1) % 50 === 0) log(`  ${i - warmup + 1}/${n}`);
    }
  } finally {
    queue.off("change", onChange);
    p.jobs.engine.off("executionStarted", onStarted);
    p.jobs.engine.off("replicaStarted", onReplica);
    p.jobs.engine.off("executionFinished", onFinished);
    await sender.close().catch(() => {});
  }
  const extra = samples.reduce((a, s) => a + s.extra, 0);
  const acceptedFirst = samples.filter(
    (s) => s.accepted !== undefined && s.started !== undefined && s.accepted < s.started,
  ).length;
  return { samples, failures, extra, acceptedFirst };
}

/** Resolves once the queue is empty and no execution of the job is running. */
async function waitIdle(bed: Bed): Promise<void> {
  while (bed.queue.counts().total > 0 || bed.p.jobs.engine.counts(bed.job).running > 0)
    await new Promise((r) => setTimeout(r, 50));
}

/** Latency metrics (ms) computed per sample; undefined when a mark is missing. */
const LATENCY_METRICS: { key: string; label: string; of: (s: Sample) => number | undefined }[] = [
  { key: "start", label: "message enqueued → execution started", of: (s) => d(s.enqueued, s.started) },
  { key: "sendStart", label: "sendMessages() called → execution started", of: (s) => d(s.send, s.started) },
  { key: "spawn", label: "message enqueued → replica process spawned", of: (s) => d(s.enqueued, s.replica) },
  { key: "completed", label: "message enqueued → message completed (broker)", of: (s) => d(s.enqueued, s.completed) },
  {
    key: "succeeded",
    label: "message enqueued → execution Succeeded",
    of: (s) => d(s.enqueued, s.status === "Succeeded" ? s.finished : undefined),
  },
  { key: "accept", label: "sendMessages() called → resolved (SDK send)", of: (s) => d(s.send, s.accepted) },
];
/** Where the time between start and Succeeded goes (processor marks; same clock). */
const BREAKDOWN: { label: string; of: (s: Sample) => number | undefined }[] = [
  { label: "execution started → replica spawned (record, log, mkdir, spawn)", of: (s) => d(s.started, s.replica) },
  { label: "execution started → node process start (performance.timeOrigin)", of: (s) => d(s.started, s.proc?.boot) },
  { label: "node start → @azure/service-bus imported", of: (s) => d(s.proc?.boot, s.proc?.loaded) },
  {
    label: "SDK imported → message received (connect, CBS, attach, receive)",
    of: (s) => d(s.proc?.loaded, s.proc?.received),
  },
  { label: "received → completeMessage() resolved", of: (s) => d(s.proc?.received, s.proc?.completed) },
  { label: "completed → client closed, about to exit", of: (s) => d(s.proc?.completed, s.proc?.exiting) },
  { label: "about to exit → execution Succeeded (exit, pipes, engine)", of: (s) => d(s.proc?.exiting, s.finished) },
  { label: "processor CPU time, user + system (not a step)", of: (s) => s.proc?.cpu },
];
function d(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}
const values = (samples: Sample[], of: (s: Sample) => number | undefined) =>
  samples.map(of).filter((v): v is number => v !== undefined && Number.isFinite(v));

// ---- 2. throughput: one batch, maxExecutions 100 -------------------------------------------------

interface ThroughputRun {
  messages: number;
  /** the broker made the batch visible (queue "change" with total ≥ N): the clock's origin */
  enqueued: number;
  /** sendMessages() resolved */
  accepted: number;
  starts: number[];
  finishes: { t: number; status: string }[];
  completions: number[];
  peakRunning: number;
  emptyExecutions: number;
  timedOut: boolean;
  /** median CPU time (ms) of one processor process */
  processorCpuMs: number;
}

async function throughputRun(bed: Bed, n: number): Promise<ThroughputRun> {
  const { p, queue } = bed;
  const starts: number[] = [];
  const finishes: { t: number; status: string }[] = [];
  const completions: number[] = [];
  let lastTotal = 0;
  let peakRunning = 0;
  let enqueued = NaN;
  const names: string[] = [];
  const onChange = () => {
    const total = queue.counts().total;
    const t = now();
    if (Number.isNaN(enqueued) && total >= n) enqueued = t;
    for (let i = total; i < lastTotal; i++) completions.push(t); // the total only drops by completes here
    lastTotal = total;
  };
  const onStarted = (e: ExecutionRecord) => {
    if (e.job !== bed.job) return;
    starts.push(now());
    names.push(e.name);
    peakRunning = Math.max(peakRunning, p.jobs.engine.counts(bed.job).running);
  };
  const onFinished = (e: ExecutionRecord) => {
    if (e.job === bed.job) finishes.push({ t: now(), status: e.status });
  };
  queue.on("change", onChange);
  p.jobs.engine.on("executionStarted", onStarted);
  p.jobs.engine.on("executionFinished", onFinished);
  const sender = bed.client.createSender(bed.queueName);
  let timedOut = false;
  let accepted = NaN;
  try {
    await sender.createMessageBatch(); // attaches the sender's link before the clock starts
    const batch = Array.from({ length: n }, (_, i) => ({ body: `throughput ${i}`, messageId: `throughput-${i}` }));
    await sender.sendMessages(batch);
    accepted = now();
    const budget = Math.max(120_000, n * 2_000);
    await withTimeout(
      (async () => {
        for (;;) {
          const done =
            completions.length >= n && finishes.length >= starts.length && p.jobs.engine.counts(bed.job).running === 0;
          if (done || isStopping()) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await p.jobs.runtime.settled(bed.job);
      })(),
      budget,
      `draining ${n} messages`,
    ).catch((e: Error) => {
      timedOut = true;
      log(e.message);
    });
  } finally {
    queue.off("change", onChange);
    p.jobs.engine.off("executionStarted", onStarted);
    p.jobs.engine.off("executionFinished", onFinished);
    await sender.close().catch(() => {});
  }
  // an execution whose processor found no message exits 3 (Failed)
  const emptyExecutions = finishes.filter((f) => f.status !== "Succeeded").length;
  const processorCpuMs = median(names.map((x) => processorMarks(bed, x)?.cpu ?? NaN));
  return {
    messages: n,
    enqueued,
    accepted,
    starts,
    finishes,
    completions,
    peakRunning,
    emptyExecutions,
    timedOut,
    processorCpuMs,
  };
}

interface ThroughputStats {
  /** (N−1) / (t_N − t_1): executions started per second from the first to the Nth start (N = messages) */
  startsPerSecond: number;
  /** the first maxExecutions starts: their span (ms) and rate */
  burstMs: number;
  burstRate: number;
  firstStartMs: number;
  /** enqueued → sendMessages() resolved */
  acceptMs: number;
  drainMs: number;
  lastFinishMs: number;
  messagesPerSecond: number;
  executions: number;
  peakRunning: number;
  emptyExecutions: number;
  processorCpuMs: number;
  /** CPUs × 1000 / processor CPU ms: the most processors per second this machine could run, load aside */
  cpuCeiling: number;
}

function throughputStats(r: ThroughputRun, max: number): ThroughputStats {
  const nth = Math.min(r.messages, r.starts.length);
  const span = nth > 1 ? r.starts[nth - 1] - r.starts[0] : NaN;
  const burstN = Math.min(max, r.starts.length);
  const burstMs = burstN > 1 ? r.starts[burstN - 1] - r.starts[0] : NaN;
  const drainMs = r.completions.length >= r.messages ? r.completions[r.messages - 1] - r.enqueued : NaN;
  return {
    startsPerSecond: nth > 1 && r.starts.length >= r.messages ? (nth - 1) / (span / 1000) : NaN,
    burstMs,
    burstRate: burstN > 1 ? (burstN - 1) / (burstMs / 1000) : NaN,
    firstStartMs: r.starts.length ? r.starts[0] - r.enqueued : NaN,
    acceptMs: r.accepted - r.enqueued,
    drainMs,
    lastFinishMs: r.finishes.length ? Math.max(...r.finishes.map((f) => f.t)) - r.enqueued : NaN,
    messagesPerSecond: r.messages / (drainMs / 1000),
    executions: r.starts.length,
    peakRunning: r.peakRunning,
    emptyExecutions: r.emptyExecutions,
    processorCpuMs: r.processorCpuMs,
    cpuCeiling: (os.cpus().length * 1000) / r.processorCpuMs,
  };
}

// ---- report ----------------------------------------------------------------------------------------

interface LatencyStats {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

function latencyStats(samples: Sample[], of: (s: Sample) => number | undefined): LatencyStats {
  const v = values(samples, of);
  return { p50: percentile(v, 50), p99: percentile(v, 99), max: v.length ? Math.max(...v) : NaN, n: v.length };
}

const met = (ok: boolean | undefined) => (ok === undefined ? "—" : ok ? "✅" : "❌");
const fmtS = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : "n/a");
const fmt1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "n/a");

async function render(
  lat: LatencyRun[],
  thr: ThroughputStats[],
  loadStart: number,
  problems: string[],
): Promise<string> {
  const L: string[] = [];
  L.push(`# Jobs benchmark — ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC`, "");
  L.push(
    `- Machine: ${os.cpus().length} CPUs (${cpuModel()}), Node ${process.version}; eventjobs ${await gitRev()}; ` +
      `load average (1 min) ${loadStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end (other work shares the machine)`,
  );
  L.push(
    "- Setup: `Platform.start` in the bench process (ports 0, SQLite in a temp data dir, temp CA dir); one queue; " +
      "one Event job like the lab's (azure-servicebus rule, `messageCount` 1, `pollingMode: push`, pollingInterval 30, " +
      "parallelism 1, replicaRetryLimit 0) whose replica is `node bench/processor.mjs`: import `@azure/service-bus`, " +
      "receive 1 message (peek-lock), complete it, close, exit 0. Messages are sent with `@azure/service-bus` 7.9.5 " +
      "from the bench process. A fresh platform for every phase of every run.",
  );
  if (cfg.nice)
    L.push(
      `- Replicas run as \`nice -n ${cfg.nice} node bench/processor.mjs\` (lower CPU priority than the platform).`,
    );
  L.push(`- ${cfg.runs} run(s); the tables show the median over runs of each run's figure.`, "");

  if (lat.length) {
    const per = (of: (s: Sample) => number | undefined) => lat.map((r) => latencyStats(r.samples, of));
    const n = lat.map((r) => r.samples.length);
    L.push(`## 1. Latency: ${median(n)} messages one at a time, maxExecutions ${cfg.maxExecutions}`, "");
    L.push(
      `Each message is sent after the previous execution finished (uncontended; ${cfg.warmup} unrecorded warm-up messages per run). ` +
        '"Message enqueued" is the broker\'s queue `change` event that makes the message visible, after its durable ' +
        'write: the scale loop (push mode) is woken by the same event. "Execution started" is the engine\'s ' +
        "`executionStarted` event (the execution record exists; its replica is launched next, synchronously). " +
        '"Message completed" is the queue `change` event of the processor\'s complete (queue total back to 0). ' +
        '"Execution Succeeded" is `executionFinished` with status Succeeded (process exited, pipes closed). ' +
        "All marks are taken in the bench process, which also runs the broker and the engine.",
      "",
    );
    L.push("| ms | p50 | p99 | max | target | met |", "|---|---:|---:|---:|---|:-:|");
    for (const m of LATENCY_METRICS) {
      const s = per(m.of);
      const p50 = median(s.map((x) => x.p50)),
        p99 = median(s.map((x) => x.p99)),
        mx = median(s.map((x) => x.max));
      const target = m.key === "start" ? `p50 < ${TARGET.startP50}, p99 < ${TARGET.startP99}` : "";
      const ok = m.key === "start" && Number.isFinite(p50) ? p50 < TARGET.startP50 && p99 < TARGET.startP99 : undefined;
      L.push(`| ${m.label} | ${fmtMs(p50)} | ${fmtMs(p99)} | ${fmtMs(mx)} | ${target} | ${met(ok)} |`);
    }
    L.push("");
    L.push("Where the time goes after the start (medians of per-run p50; processor marks, same clock):", "");
    L.push("| step | p50 ms |", "|---|---:|");
    for (const b of BREAKDOWN) L.push(`| ${b.label} | ${fmtMs(median(per(b.of).map((x) => x.p50)))} |`);
    L.push("");
    const fails = lat.reduce((a, r) => a + r.failures, 0),
      extra = lat.reduce((a, r) => a + r.extra, 0);
    const acceptedFirst = lat.reduce((a, r) => a + r.acceptedFirst, 0),
      total = lat.reduce((a, r) => a + r.samples.length, 0);
    L.push(
      `Failed or unfinished samples: ${fails}; extra executions (more than one per message): ${extra}. ` +
        `The execution had started before the SDK's sendMessages() resolved in ${total - acceptedFirst} of ${total} samples: ` +
        "the broker and the scale loop share one event loop, and the start (with its synchronous spawn) runs before the " +
        'accepted disposition goes out, so "accepted → started" would be negative; the enqueue mark is the origin instead.',
      "",
    );
  }

  if (thr.length) {
    const m = (k: keyof ThroughputStats) => median(thr.map((t) => t[k]));
    L.push(
      `## 2. Throughput: ${cfg.throughput} messages in one sendMessages() call, maxExecutions ${cfg.maxExecutions}`,
      "",
    );
    L.push(
      "Clock starts when the broker makes the batch visible (queue `change` with all N messages, after the durable write; " +
        "the push-mode scale loop wakes on that event). " +
        `Starts/s is (N − 1) / (N-th start − 1st start) with N = ${cfg.throughput}: ` +
        `after the first ${cfg.maxExecutions} starts, each new start waits for a running execution to finish, so this ` +
        `rate is bounded by how fast the processors (node + SDK, up to ${cfg.maxExecutions} at once) get through on this machine; ` +
        "the first starts (slots free) show how fast the platform itself starts executions — that is the target's measure. " +
        "The scale loop starts one execution per event-loop turn, so the broker keeps answering meanwhile: compare " +
        '"batch enqueued → sendMessages() resolved".',
      "",
    );
    L.push("| metric | value | target | met |", "|---|---:|---|:-:|");
    const sps = m("startsPerSecond");
    const burst = m("burstRate");
    L.push(
      `| executions started per second while filling ${cfg.maxExecutions} free slots (first ${cfg.maxExecutions} starts; span ms) | ${fmt1(burst)} (${fmt1(m("burstMs"))} ms) | ≥ ${TARGET.startsPerSecond} | ${met(Number.isFinite(burst) ? burst >= TARGET.startsPerSecond : undefined)} |`,
    );
    L.push(
      `| sustained starts per second (1st → ${cfg.throughput}th start; bound by the processors' CPU) | ${fmt1(sps)} | | |`,
    );
    L.push(`| batch enqueued → first execution started, ms | ${fmtMs(m("firstStartMs"))} | | |`);
    L.push(`| batch enqueued → sendMessages() resolved, ms | ${fmtMs(m("acceptMs"))} | | |`);
    L.push(`| batch enqueued → last message completed (drain), s | ${fmtS(m("drainMs"))} | | |`);
    L.push(`| batch enqueued → last execution finished, s | ${fmtS(m("lastFinishMs"))} | | |`);
    L.push(`| messages completed per second | ${fmt1(m("messagesPerSecond"))} | | |`);
    L.push(
      `| CPU time of one processor process, ms (→ at most ${os.cpus().length} CPUs × 1000 / that = processors/s) | ${fmt1(m("processorCpuMs"))} (${fmt1(m("cpuCeiling"))}/s) | | |`,
    );
    L.push(
      `| executions (peak running) | ${m("executions")} (${m("peakRunning")}) | ${cfg.throughput} (≤ ${cfg.maxExecutions}) | ${met(thr.every((t) => t.executions === cfg.throughput && t.peakRunning <= cfg.maxExecutions))} |`,
    );
    L.push("");
  }

  L.push("## Cloud reference (not measured)", "");
  L.push(
    "KEDA on Azure Container Apps polls the queue every `pollingInterval` (default 30 s), so a message waits on " +
      "average ≈ 15 s (up to 30 s) for the next poll, and the execution then starts after a cold start of ≈ 30 s " +
      "(reported for Azure Container Apps: ~30 s cold start, ~15 s cleanup): ≈ 45 s from message to a running replica on average, up to ≈ 60 s. `pollingMode: poll` reproduces " +
      "the polling part locally.",
    "",
  );

  L.push("<details><summary>All runs</summary>", "");
  if (lat.length) {
    L.push(
      "| run | samples | start p50 / p99 / max ms | completed p50 / p99 ms | Succeeded p50 / p99 ms | failed | extra |",
      "|---:|---:|---|---|---|---:|---:|",
    );
    lat.forEach((r, i) => {
      const s = latencyStats(r.samples, LATENCY_METRICS[0].of),
        c = latencyStats(r.samples, LATENCY_METRICS[3].of),
        f = latencyStats(r.samples, LATENCY_METRICS[4].of);
      L.push(
        `| ${i + 1} | ${r.samples.length} | ${fmtMs(s.p50)} / ${fmtMs(s.p99)} / ${fmtMs(s.max)} | ${fmtMs(c.p50)} / ${fmtMs(c.p99)} | ${fmtMs(f.p50)} / ${fmtMs(f.p99)} | ${r.failures} | ${r.extra} |`,
      );
    });
    L.push("");
  }
  if (thr.length) {
    L.push(
      "| run | starts/s | burst ms (/s) | first start ms | drain s | last finish s | msg/s | executions | peak running | empty | processor CPU ms |",
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    thr.forEach((t, i) =>
      L.push(
        `| ${i + 1} | ${fmt1(t.startsPerSecond)} | ${fmt1(t.burstMs)} (${fmt1(t.burstRate)}) | ${fmtMs(t.firstStartMs)} | ${fmtS(t.drainMs)} | ` +
          `${fmtS(t.lastFinishMs)} | ${fmt1(t.messagesPerSecond)} | ${t.executions} | ${t.peakRunning} | ${t.emptyExecutions} | ${fmt1(t.processorCpuMs)} |`,
      ),
    );
    L.push("");
  }
  L.push("</details>", "");
  if (problems.length) {
    L.push("## Problems", "");
    for (const p of problems) L.push(`- ${p.split("\n")[0]}`);
    L.push("");
  }
  return L.join("\n");
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const loadStart = os.loadavg()[0];
  const tmp = mkdtempSync(path.join(os.tmpdir(), "bench-jobs-"));
  const unregisterTmp = onCleanup(() => rmSync(tmp, { recursive: true, force: true }));
  const caDir = path.join(tmp, "ca");
  const lat: LatencyRun[] = [];
  const thr: ThroughputStats[] = [];
  const problems: string[] = [];
  try {
    for (let run = 1; run <= cfg.runs && !isStopping(); run++) {
      if (cfg.latency > 0) {
        log(`run ${run} latency: ${cfg.warmup} warm-up + ${cfg.latency} messages one at a time`);
        const bed = await startBed(tmp, caDir, `latency${run}`, cfg.maxExecutions);
        try {
          const r = await latencyRun(bed, cfg.warmup, cfg.latency);
          lat.push(r);
          const s = latencyStats(r.samples, LATENCY_METRICS[0].of),
            f = latencyStats(r.samples, LATENCY_METRICS[4].of);
          log(
            `run ${run} latency: enqueued → started p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)} max ${fmtMs(s.max)} ms; ` +
              `→ Succeeded p50 ${fmtMs(f.p50)} p99 ${fmtMs(f.p99)} ms; failures ${r.failures}, extra ${r.extra}`,
          );
          if (r.failures) problems.push(`run ${run} latency: ${r.failures} failed or unfinished samples`);
        } catch (e) {
          problems.push(`run ${run} latency: ${(e as Error).message}`);
          log(`run ${run} latency failed: ${(e as Error).stack}`);
        } finally {
          await bed.close();
        }
      }
      if (cfg.throughput > 0 && !isStopping()) {
        log(`run ${run} throughput: ${cfg.throughput} messages in one batch, maxExecutions ${cfg.maxExecutions}`);
        const bed = await startBed(tmp, caDir, `throughput${run}`, cfg.maxExecutions);
        try {
          const r = await throughputRun(bed, cfg.throughput);
          const t = throughputStats(r, cfg.maxExecutions);
          thr.push(t);
          log(
            `run ${run} throughput: ${fmt1(t.startsPerSecond)} starts/s (first ${cfg.maxExecutions} in ${fmt1(t.burstMs)} ms), ` +
              `drained in ${fmtS(t.drainMs)} s, ${t.executions} executions, peak ${t.peakRunning}, empty ${t.emptyExecutions}`,
          );
          if (r.timedOut)
            problems.push(`run ${run} throughput: timed out (${r.completions.length}/${r.messages} completed)`);
          if (t.emptyExecutions)
            problems.push(
              `run ${run} throughput: ${t.emptyExecutions} executions did not succeed (no message or error)`,
            );
        } catch (e) {
          problems.push(`run ${run} throughput: ${(e as Error).message}`);
          log(`run ${run} throughput failed: ${(e as Error).stack}`);
        } finally {
          await bed.close();
        }
      }
    }
  } finally {
    await runCleanups();
    unregisterTmp();
  }
  if (isStopping()) return 130;
  const md = await render(lat, thr, loadStart, problems);
  process.stdout.write(md);
  if (!args["no-write"]) log(`written to ${writeReport(md, "jobs")}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(err);
    await runCleanups();
    process.exit(1);
  },
);
