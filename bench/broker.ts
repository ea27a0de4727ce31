// npm run bench:broker [-- --rounds N --messages N ...]
// Broker throughput: eventjobs vs RabbitMQ 3.10 (classic + quorum, AMQP 1.0 plugin) vs a bare
// in-memory rhea broker (the ceiling), same rhea probe, alternating targets per round. Fan-out: one topic with 10
// subscriptions on eventjobs vs a fanout exchange bound to 10 durable queues on RabbitMQ (--no-fanout skips it).
// Progress goes to stderr; the markdown report to stdout and bench/results/broker-<date>.md.
import dns from "node:dns";
import os from "node:os";
import { parseArgs } from "node:util";
import { runProbe, type ProbeResult } from "./probe.js";
import { runSdk, type SdkResult } from "./sdk.js";
import { isStopping, runCleanups } from "./procs.js";
import { startCeiling } from "./targets/ceiling.js";
import { startEventjobs, QUEUE, KEY, KEY_NAME } from "./targets/eventjobs.js";
import { startRabbitTargets } from "./targets/rabbitmq.js";
import type { ProbeTarget, Server } from "./targets/types.js";
import { renderReport, writeReport, type Report } from "./report.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    messages: { type: "string", default: "20000" },
    size: { type: "string", default: "1024" },
    window: { type: "string", default: "100" },
    credit: { type: "string", default: "100" },
    warmup: { type: "string", default: "10000" },
    "sdk-batch": { type: "string", default: "100" },
    "sdk-concurrency": { type: "string", default: "100" },
    "encode-each": { type: "boolean", default: false },
    "client-nodelay": { type: "boolean", default: false },
    "no-rabbit": { type: "boolean", default: false },
    "no-eventjobs": { type: "boolean", default: false },
    "no-sdk": { type: "boolean", default: false },
    "no-fanout": { type: "boolean", default: false },
    "fanout-messages": { type: "string", default: "5000" },
    "fanout-subscriptions": { type: "string", default: "10" },
    "no-write": { type: "boolean", default: false },
    baseline: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (args.help) {
  console.log(`usage: npm run bench:broker -- [--rounds 3] [--messages 20000] [--size 1024] [--window 100]
  [--credit 100] [--warmup 10000] [--sdk-batch 100] [--sdk-concurrency 100]
  [--encode-each] [--client-nodelay] [--no-rabbit] [--no-eventjobs] [--no-sdk] [--no-write] [--baseline DIR]
  [--no-fanout] [--fanout-messages 5000] [--fanout-subscriptions 10]
  --encode-each: rhea-encode every message in the probe (default: one pre-encoded template, id patched)
  --client-nodelay: set TCP_NODELAY on the probe socket from the start (default: rhea's default,
    Nagle on until a receiver is attached at connection level — i.e. during the send phase)
  --baseline DIR: also run the eventjobs checkout in DIR (e.g. a git worktree of an older commit, with
    node_modules) as target "eventjobs-baseline", alternating with this one: a before/after in one run
  fan-out: --fanout-messages sends to one topic with --fanout-subscriptions subscriptions (eventjobs) and to a
    fanout exchange bound to as many durable queues (RabbitMQ), then receives from all of them at once; the
    rate is deliveries (sends × subscriptions) over send + receive time`);
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
const messages = int("messages", 1);
const cfg = {
  rounds: int("rounds", 1),
  messages,
  size: int("size", 0),
  window: int("window", 1),
  credit: int("credit", 1),
  // Warm-up (not recorded): JIT in the Node brokers and the probe; capped at the run size.
  warmup: Math.min(int("warmup", 0), messages),
  sdkBatch: int("sdk-batch", 1),
  sdkConcurrency: int("sdk-concurrency", 1),
  encodeEach: Boolean(args["encode-each"]),
  clientNoDelay: Boolean(args["client-nodelay"]),
  fanout: !args["no-fanout"],
  fanoutMessages: int("fanout-messages", 1),
  fanoutSubscriptions: int("fanout-subscriptions", 1),
};

const log = (s: string) => console.error(`[bench] ${s}`);
dns.setDefaultResultOrder("ipv4first");

const BASELINE = "eventjobs-baseline";
const ORDER = ["eventjobs", ...(args.baseline ? [BASELINE] : []), "rabbit-classic", "rabbit-quorum", "ceiling"];
const FANOUT_ORDER = cfg.fanout ? ["eventjobs-fanout", "rabbit-fanout"] : [];

async function main(): Promise<number> {
  const loadStart = os.loadavg()[0];
  const problems: string[] = [];
  const servers: Server[] = [];
  const targets = new Map<string, ProbeTarget>();
  const results = new Map<string, ProbeResult[]>([...ORDER, ...FANOUT_ORDER].map((n) => [n, []]));
  const failures = new Map<string, string>();
  const sdkResults: SdkResult[] = [];
  let rabbitVersion: string | undefined;
  let eventjobsPort: number | undefined;

  const fanoutSubscriptions = cfg.fanout ? cfg.fanoutSubscriptions : 0;
  const start = async (label: string, fn: () => Promise<Server>, names: string[]) => {
    try {
      const s = await fn();
      servers.push(s);
      for (const t of s.targets) targets.set(t.name, t.probe);
      return s;
    } catch (err) {
      const msg = `${label}: ${(err as Error).message}`;
      log(msg);
      problems.push(msg);
      for (const n of names) failures.set(n, "not started");
      return undefined;
    }
  };

  try {
    if (args["no-eventjobs"])
      for (const n of ["eventjobs", "eventjobs-fanout"]) failures.set(n, "skipped (--no-eventjobs)");
    else
      eventjobsPort = (
        await start("eventjobs", () => startEventjobs(log, { fanoutSubscriptions }), ["eventjobs", "eventjobs-fanout"])
      )?.amqpPort;
    if (args.baseline) {
      const checkout = args.baseline;
      await start("baseline", () => startEventjobs(log, { checkout, target: BASELINE }), [BASELINE]);
    }
    if (args["no-rabbit"])
      for (const n of ["rabbit-classic", "rabbit-quorum", "rabbit-fanout"]) failures.set(n, "skipped (--no-rabbit)");
    else
      rabbitVersion = (
        await start("RabbitMQ", () => startRabbitTargets(log, { fanoutQueues: fanoutSubscriptions }), [
          "rabbit-classic",
          "rabbit-quorum",
          "rabbit-fanout",
        ])
      )?.version;
    await start("ceiling", () => startCeiling(), ["ceiling"]);

    const fanoutWarmup = Math.min(cfg.warmup, cfg.fanoutMessages);
    const probe = (name: string, messages: number) =>
      runProbe({
        ...targets.get(name)!,
        messages,
        size: cfg.size,
        window: cfg.window,
        credit: cfg.credit,
        encodeEach: cfg.encodeEach,
        tcpNoDelay: cfg.clientNoDelay ? true : undefined,
      });

    if (cfg.warmup > 0) {
      for (const name of ORDER) {
        if (!targets.has(name) || isStopping()) continue;
        log(`warm-up ${name}: ${cfg.warmup} messages`);
        try {
          await probe(name, cfg.warmup);
        } catch (err) {
          log(`warm-up ${name} failed: ${(err as Error).message}`);
        }
      }
      for (const name of FANOUT_ORDER) {
        if (!targets.has(name) || isStopping()) continue;
        log(`warm-up ${name}: ${fanoutWarmup} messages × ${cfg.fanoutSubscriptions}`);
        try {
          await probe(name, fanoutWarmup);
        } catch (err) {
          log(`warm-up ${name} failed: ${(err as Error).message}`);
        }
      }
    }

    for (let round = 1; round <= cfg.rounds && !isStopping(); round++) {
      for (const name of ORDER) {
        if (!targets.has(name) || isStopping()) continue;
        try {
          const r = await probe(name, cfg.messages);
          results.get(name)!.push(r);
          log(
            `round ${round} ${name}: send ${Math.round(r.sendRate)}/s, receive ${Math.round(r.receiveRate)}/s, ` +
              `accept p50 ${r.acceptP50.toFixed(2)} ms p99 ${r.acceptP99.toFixed(2)} ms${r.stale ? `, stale ${r.stale}` : ""}`,
          );
        } catch (err) {
          const msg = `round ${round} ${name}: ${(err as Error).message}`;
          log(msg);
          problems.push(msg);
        }
      }
      for (const name of FANOUT_ORDER) {
        if (!targets.has(name) || isStopping()) continue;
        try {
          const r = await probe(name, cfg.fanoutMessages);
          results.get(name)!.push(r);
          log(
            `round ${round} ${name}: send ${Math.round(r.sendRate)}/s, receive ${Math.round(r.receiveRate)} deliveries/s, ` +
              `delivered ${Math.round(r.deliveredRate)}/s end to end${r.stale ? `, stale ${r.stale}` : ""}`,
          );
        } catch (err) {
          const msg = `round ${round} ${name}: ${(err as Error).message}`;
          log(msg);
          problems.push(msg);
        }
      }
      if (eventjobsPort !== undefined && !args["no-sdk"] && !isStopping()) {
        try {
          const r = await runSdk({
            port: eventjobsPort,
            queue: QUEUE,
            keyName: KEY_NAME,
            key: KEY,
            messages: cfg.messages,
            size: cfg.size,
            batch: cfg.sdkBatch,
            concurrency: cfg.sdkConcurrency,
          });
          sdkResults.push(r);
          log(
            `round ${round} eventjobs via @azure/service-bus: send ${Math.round(r.sendRate)}/s, receive ${Math.round(r.receiveRate)}/s`,
          );
        } catch (err) {
          const msg = `round ${round} @azure/service-bus: ${(err as Error).message}`;
          log(msg);
          problems.push(msg);
        }
      }
    }
  } finally {
    log("stopping servers…");
    for (const s of servers.reverse()) await s.stop().catch((err: Error) => log(`stop failed: ${err.message}`));
    await runCleanups();
  }

  if (isStopping()) return 130; // interrupted: no report
  const report: Report = {
    cfg,
    order: [...ORDER],
    fanoutOrder: [...FANOUT_ORDER],
    results,
    failures,
    sdkResults,
    sdkEnabled: eventjobsPort !== undefined && !args["no-sdk"],
    rabbitVersion,
    problems,
    loadStart,
  };
  const md = await renderReport(report);
  process.stdout.write(md);
  if (!args["no-write"]) log(`written to ${writeReport(md)}`);
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
