// Markdown reports of the benchmarks: bench/broker.ts's (medians, ratios against the targets in bench/README.md,
// per-run rows), and what every report shares (machine facts, the results file).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ProbeResult } from "./probe.js";
import type { SdkResult } from "./sdk.js";
import { fmtMs, fmtRate, fmtRatio, median } from "./stats.js";
import { run } from "./procs.js";

export interface Report {
  cfg: {
    rounds: number;
    messages: number;
    size: number;
    window: number;
    credit: number;
    warmup: number;
    sdkBatch: number;
    sdkConcurrency: number;
    encodeEach: boolean;
    clientNoDelay: boolean;
    fanout: boolean;
    fanoutMessages: number;
    fanoutSubscriptions: number;
  };
  order: string[];
  /** The fan-out targets (eventjobs-fanout, rabbit-fanout), or none with --no-fanout. */
  fanoutOrder: string[];
  results: Map<string, ProbeResult[]>;
  failures: Map<string, string>;
  sdkResults: SdkResult[];
  sdkEnabled: boolean;
  rabbitVersion?: string;
  problems: string[];
  /** os.loadavg()[0] when the run started (other work on the machine skews results). */
  loadStart: number;
}

const TARGET = { sendVsRabbit: 1.2, receiveVsRabbit: 1.1, vsCeiling: 0.7, fanoutVsRabbit: 1.2 };
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function cpuModel(): string {
  try {
    const m = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.+)$/m);
    return m ? m[1].trim() : "unknown";
  } catch {
    return "unknown";
  }
}

async function nproc(): Promise<string> {
  const r = await run("nproc", [], { timeoutMs: 5000 });
  return r.code === 0 ? r.out.trim() : "unknown";
}

export async function gitRev(): Promise<string> {
  const r = await run("git", ["-C", root, "rev-parse", "--short", "HEAD"], { timeoutMs: 5000 });
  if (r.code !== 0) return "no commit";
  const d = await run("git", ["-C", root, "status", "--porcelain", "--", "src"], { timeoutMs: 5000 });
  return `${r.out.trim()}${d.out.trim() ? " + uncommitted changes in src/" : ""}`;
}

export async function renderReport(r: Report): Promise<string> {
  const now = new Date();
  const med = (name: string, key: keyof ProbeResult) => median((r.results.get(name) ?? []).map((x) => x[key]));
  const L: string[] = [];
  L.push(`# Broker benchmark — ${now.toISOString().replace("T", " ").slice(0, 16)} UTC`, "");
  L.push(
    `- Machine: nproc ${await nproc()}, CPU ${cpuModel()}; Node ${process.version}; ` +
      `RabbitMQ ${r.rabbitVersion ?? "not run"}; eventjobs ${await gitRev()}; ` +
      `load average (1 min) ${r.loadStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`,
  );
  L.push(
    `- Probe (rhea, one connection): ${r.cfg.messages.toLocaleString("en-US")} × ${r.cfg.size} B durable messages; ` +
      `send with at most ${r.cfg.window} unsettled (wait for each accept); then receive with credit ${r.cfg.credit}, ` +
      "unsettled deliveries (peek-lock) accepted one by one. " +
      (r.cfg.encodeEach
        ? "Each message rhea-encoded by the probe."
        : "The probe sends one pre-encoded message with the id patched in (no per-message encode cost).") +
      (r.cfg.clientNoDelay
        ? " Probe socket: TCP_NODELAY from the start."
        : " Probe socket: rhea defaults (Nagle on during the send phase, off once the receiver attaches)."),
  );
  L.push(
    `- ${r.cfg.rounds} round(s) alternating ${r.order.join(" → ")}` +
      `${r.cfg.warmup ? ` after a ${r.cfg.warmup}-message warm-up per target` : ""}; medians over rounds.`,
  );
  L.push(
    "- RabbitMQ: private node, AMQP 1.0 plugin, durable classic queue and durable quorum queue (`/amq/queue/<name>`).",
    "- Ceiling: `bench/ceiling-broker.ts`, a bare in-memory rhea broker.",
    "",
  );

  L.push(
    "| target | send msg/s | receive msg/s | accept p50 ms | accept p99 ms | runs |",
    "|---|---:|---:|---:|---:|---:|",
  );
  for (const name of r.order) {
    const runs = r.results.get(name) ?? [];
    if (runs.length === 0) {
      L.push(`| ${name} | — | — | — | — | 0 (${r.failures.get(name) ?? "failed"}) |`);
      continue;
    }
    L.push(
      `| ${name} | ${fmtRate(med(name, "sendRate"))} | ${fmtRate(med(name, "receiveRate"))} | ` +
        `${fmtMs(med(name, "acceptP50"))} | ${fmtMs(med(name, "acceptP99"))} | ${runs.length} |`,
    );
  }
  if (r.sdkEnabled || r.sdkResults.length) {
    const label =
      `eventjobs via @azure/service-bus (sendMessages ×${r.cfg.sdkBatch}; subscribe peekLock, ` +
      `maxConcurrentCalls ${r.cfg.sdkConcurrency}, autoComplete)`;
    L.push(
      r.sdkResults.length
        ? `| ${label} | ${fmtRate(median(r.sdkResults.map((x) => x.sendRate)))} | ${fmtRate(median(r.sdkResults.map((x) => x.receiveRate)))} | — | — | ${r.sdkResults.length} |`
        : `| ${label} | — | — | — | — | 0 (failed) |`,
    );
  }
  L.push("");

  // Ratios: ours against the better RabbitMQ queue type (per metric) and against the ceiling.
  const ours = { send: med("eventjobs", "sendRate"), recv: med("eventjobs", "receiveRate") };
  const rabbitSend = Math.max(
    ...["rabbit-classic", "rabbit-quorum"].map((n) => med(n, "sendRate")).filter(Number.isFinite),
  );
  const rabbitRecv = Math.max(
    ...["rabbit-classic", "rabbit-quorum"].map((n) => med(n, "receiveRate")).filter(Number.isFinite),
  );
  const ceil = { send: med("ceiling", "sendRate"), recv: med("ceiling", "receiveRate") };
  const verdict = (v: number, min: number) => (Number.isFinite(v) ? (v >= min ? "✅" : "❌") : "—");
  const bestOf = (key: keyof ProbeResult) => {
    const c = med("rabbit-classic", key),
      q = med("rabbit-quorum", key);
    return !Number.isFinite(c) && !Number.isFinite(q) ? "" : c >= q || !Number.isFinite(q) ? "classic" : "quorum";
  };
  L.push("| ratio | send | target | met | receive | target | met |", "|---|---:|---:|:-:|---:|---:|:-:|");
  const sR = ours.send / rabbitSend,
    rR = ours.recv / rabbitRecv;
  L.push(
    `| eventjobs / best RabbitMQ (send: ${bestOf("sendRate") || "n/a"}, receive: ${bestOf("receiveRate") || "n/a"}) | ` +
      `${fmtRatio(sR)} | ≥ ${TARGET.sendVsRabbit.toFixed(2)}× | ${verdict(sR, TARGET.sendVsRabbit)} | ` +
      `${fmtRatio(rR)} | ≥ ${TARGET.receiveVsRabbit.toFixed(2)}× | ${verdict(rR, TARGET.receiveVsRabbit)} |`,
  );
  const sC = ours.send / ceil.send,
    rC = ours.recv / ceil.recv;
  L.push(
    `| eventjobs / ceiling | ${fmtRatio(sC)} | ≥ ${TARGET.vsCeiling.toFixed(2)}× | ${verdict(sC, TARGET.vsCeiling)} | ` +
      `${fmtRatio(rC)} | ≥ ${TARGET.vsCeiling.toFixed(2)}× | ${verdict(rC, TARGET.vsCeiling)} |`,
  );
  if (r.order.includes("eventjobs-baseline")) {
    // before/after in one run (--baseline): no target, a regression shows as a ratio well under 1
    const sB = ours.send / med("eventjobs-baseline", "sendRate"),
      rB = ours.recv / med("eventjobs-baseline", "receiveRate");
    L.push(`| eventjobs / eventjobs-baseline | ${fmtRatio(sB)} | — | — | ${fmtRatio(rB)} | — | — |`);
  }
  L.push("");
  if (r.fanoutOrder.length) renderFanout(r, L, verdict);

  L.push(
    "<details><summary>All runs</summary>",
    "",
    "| target | run | send msg/s | receive msg/s | accept p50 ms | accept p99 ms | stale msgs |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const name of r.order) {
    (r.results.get(name) ?? []).forEach((x, i) =>
      L.push(
        `| ${name} | ${i + 1} | ${fmtRate(x.sendRate)} | ${fmtRate(x.receiveRate)} | ` +
          `${fmtMs(x.acceptP50)} | ${fmtMs(x.acceptP99)} | ${x.stale} |`,
      ),
    );
  }
  r.sdkResults.forEach((x, i) =>
    L.push(
      `| @azure/service-bus | ${i + 1} | ${fmtRate(x.sendRate)} | ${fmtRate(x.receiveRate)} | — | — | ${x.stale} |`,
    ),
  );
  if (r.fanoutOrder.some((n) => (r.results.get(n) ?? []).length)) {
    L.push(
      "",
      "| fan-out target | run | send msg/s | receive deliveries/s | delivered msg/s | accept p50 ms | accept p99 ms | stale |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const name of r.fanoutOrder)
      (r.results.get(name) ?? []).forEach((x, i) =>
        L.push(
          `| ${name} | ${i + 1} | ${fmtRate(x.sendRate)} | ${fmtRate(x.receiveRate)} | ${fmtRate(x.deliveredRate)} | ` +
            `${fmtMs(x.acceptP50)} | ${fmtMs(x.acceptP99)} | ${x.stale} |`,
        ),
      );
  }
  L.push("", "</details>", "");

  if (r.problems.length) {
    L.push("## Problems", "");
    for (const p of r.problems) L.push(`- ${p.split("\n")[0]}`);
    L.push("");
  }
  return L.join("\n");
}

/** The fan-out section: one topic with N subscriptions vs a fanout exchange bound to N durable queues. */
function renderFanout(r: Report, L: string[], verdict: (v: number, min: number) => string): void {
  const n = r.cfg.fanoutSubscriptions;
  const med = (name: string, key: keyof ProbeResult) => median((r.results.get(name) ?? []).map((x) => x[key]));
  L.push(
    "## Fan-out",
    "",
    `- eventjobs: one topic with ${n} subscriptions (no rules declared: the $Default true filter each). ` +
      `RabbitMQ: a durable fanout exchange bound to ${n} durable classic queues (send to \`/exchange/<x>/<key>\`, ` +
      "receive from `/amq/queue/<q>`).",
    `- Same probe, same connection: ${r.cfg.fanoutMessages.toLocaleString("en-US")} × ${r.cfg.size} B durable ` +
      `messages sent with at most ${r.cfg.window} unsettled; then ${n} receivers attached at once, credit ` +
      `${r.cfg.credit} each, every delivery unsettled (peek-lock) and accepted one by one, until each has every message.`,
    `- **delivered msg/s** = sends × ${n} deliveries counted at the receivers, over send + receive time (the ` +
      "fan-out's cost is paid at send on both: the copies are written before the accept). Receive deliveries/s is " +
      "the receive phase alone.",
    "",
    "| target | send msg/s | receive deliveries/s | delivered msg/s | accept p50 ms | accept p99 ms | runs |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const name of r.fanoutOrder) {
    const runs = r.results.get(name) ?? [];
    if (runs.length === 0) {
      L.push(`| ${name} | — | — | — | — | — | 0 (${r.failures.get(name) ?? "failed"}) |`);
      continue;
    }
    L.push(
      `| ${name} | ${fmtRate(med(name, "sendRate"))} | ${fmtRate(med(name, "receiveRate"))} | ` +
        `${fmtRate(med(name, "deliveredRate"))} | ${fmtMs(med(name, "acceptP50"))} | ${fmtMs(med(name, "acceptP99"))} | ` +
        `${runs.length} |`,
    );
  }
  const ratio = med("eventjobs-fanout", "deliveredRate") / med("rabbit-fanout", "deliveredRate");
  const recv = med("eventjobs-fanout", "receiveRate") / med("rabbit-fanout", "receiveRate");
  const send = med("eventjobs-fanout", "sendRate") / med("rabbit-fanout", "sendRate");
  L.push(
    "",
    "| ratio | delivered msg/s | target | met | send | receive |",
    "|---|---:|---:|:-:|---:|---:|",
    `| eventjobs-fanout / rabbit-fanout | ${fmtRatio(ratio)} | ≥ ${TARGET.fanoutVsRabbit.toFixed(2)}× | ` +
      `${verdict(ratio, TARGET.fanoutVsRabbit)} | ${fmtRatio(send)} | ${fmtRatio(recv)} |`,
    "",
  );
}

/** Writes bench/results/<kind>-<YYYY-MM-DD>.md (suffix -2, -3… if that exists); returns the path. */
export function writeReport(md: string, kind = "broker"): string {
  const dir = path.join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  let file = path.join(dir, `${kind}-${date}.md`);
  for (let i = 2; existsSync(file); i++) file = path.join(dir, `${kind}-${date}-${i}.md`);
  writeFileSync(file, md);
  return path.relative(root, file);
}
