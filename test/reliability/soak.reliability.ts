// Soak: 20 clients send, receive and complete against one queue for 60 s, the queue hovering near empty, each
// opening new links every round and a new connection every few rounds (per-connection and per-link state must
// go when they go). Duplicate detection is on with the emulator's 20 s window, so remembered message ids are
// part of the working set. The server's RSS is sampled every 3 s and printed as a curve; once the working set
// is reached it must stop growing (criterion at GROWTH_MB below). Knobs: RELIABILITY_SOAK_SECONDS (default 60),
// RELIABILITY_SOAK_CLIENTS (default 20).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Connection, EventContext } from "rhea";
import { queuesYaml } from "../helpers/broker.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";
import { close, connect, memoryOf } from "./load.js";

const SECONDS = Number(process.env.RELIABILITY_SOAK_SECONDS ?? 60);
const CLIENTS = Number(process.env.RELIABILITY_SOAK_CLIENTS ?? 20);
const QUEUE = "soak-queue";
/** messages a client sends, then receives, per round; rounds per connection */
const BATCH = 100;
const ROUNDS = 5;
const SAMPLE_MS = 3000;
/**
 * Growth allowed from the middle third of the run to the last: the largest sample of the last third may exceed
 * the largest of the middle third by this much, or by 5%, whichever is more. Maxima, not single samples, because
 * RSS moves with when V8 collects (±10 MB here); thirds, because the first third is the working set filling up
 * (the dedupe window is 20 s). A leak per message or per connection grows by tens of MB a third at this rate,
 * which this catches: the broker before the memory fixes of issue 10 went from 289 to 313 MB here.
 */
const GROWTH_MB = 10;

const dir = mkdtempSync(join(tmpdir(), "eventjobs-rel-soak-"));
const config = join(dir, "eventjobs.yaml");
writeFileSync(
  config,
  queuesYaml({ [QUEUE]: { requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: "PT20S" } }),
);
let server: ServerProcess | undefined;
after(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const totals = { sent: 0, received: 0, connections: 0 };

/** Sends BATCH messages on a new link (at most 50 unsettled), resolves when all were accepted. */
function sendBatch(conn: Connection, client: number, round: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sender = conn.open_sender({ target: { address: QUEUE } });
    let sent = 0;
    let accepted = 0;
    const pump = () => {
      while (sent < BATCH && sent - accepted < 50 && sender.sendable()) {
        sender.send({ message_id: `c${client}-r${round}-${sent++}`, body: "x".repeat(100), durable: true });
      }
    };
    sender.on("sendable", pump);
    sender.on("accepted", () => {
      totals.sent++;
      if (++accepted < BATCH) return pump();
      sender.close();
      resolve();
    });
    for (const bad of ["rejected", "released", "modified"]) {
      sender.on(bad, (ctx: EventContext) =>
        reject(new Error(`send ${bad}: ${JSON.stringify(ctx.delivery?.remote_state)}`)),
      );
    }
  });
}

/** Receives BATCH messages (anyone's) on a new peek-lock link, completing each. */
function receiveBatch(conn: Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    const receiver = conn.open_receiver({ source: { address: QUEUE }, credit_window: 0, autoaccept: false });
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`received ${got} of ${BATCH} in 30 s`)), 30_000);
    receiver.once("receiver_open", () => receiver.add_credit(BATCH));
    receiver.on("message", (ctx: EventContext) => {
      ctx.delivery!.accept();
      totals.received++;
      if (++got < BATCH) return;
      clearTimeout(timer);
      receiver.close();
      resolve();
    });
  });
}

async function client(n: number, until: number): Promise<void> {
  let round = 0;
  while (Date.now() < until) {
    const conn = await connect(server!.amqpPort);
    totals.connections++;
    for (let i = 0; i < ROUNDS && Date.now() < until; i++, round++) {
      await sendBatch(conn, n, round);
      await receiveBatch(conn);
    }
    await close(conn);
  }
}

describe(
  `soak: ${CLIENTS} clients × send/receive/complete for ${SECONDS} s`,
  { timeout: (SECONDS + 120) * 1000 },
  () => {
    it("RSS stops growing once the working set is reached; every message sent is received", async () => {
      server = await startServer({ args: ["--config", config] });
      const pid = server.child.pid!;
      const samples: Array<{ t: number; rss: number; sent: number }> = [];
      const start = Date.now();
      const sampler = setInterval(
        () => samples.push({ t: Math.round((Date.now() - start) / 1000), rss: memoryOf(pid).rss, sent: totals.sent }),
        SAMPLE_MS,
      );
      try {
        await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i, start + SECONDS * 1000)));
      } finally {
        clearInterval(sampler);
      }
      const idleAfter = memoryOf(pid);

      const rate = Math.round(totals.sent / ((Date.now() - start) / 1000));
      const curve = samples.map((s) => `| ${s.t} s | ${s.rss} MB | ${s.sent.toLocaleString("en")} |`);
      const third = Math.floor(samples.length / 3);
      const maxOf = (from: number, to: number) => Math.max(...samples.slice(from, to).map((s) => s.rss));
      const middle = maxOf(third, 2 * third);
      const last = maxOf(2 * third, samples.length);
      console.log(
        [
          "",
          `${CLIENTS} clients, ${SECONDS} s: ${totals.sent.toLocaleString("en")} messages sent and received (${rate.toLocaleString("en")}/s), ` +
            `${totals.connections} connections; RSS max middle third ${middle} MB, last third ${last} MB, at the end ${idleAfter.rss} MB (peak ${idleAfter.peak} MB)`,
          "",
          "| time | RSS | messages sent so far |",
          "|---|---|---|",
          ...curve,
          "",
        ].join("\n"),
      );

      assert.equal(totals.received, totals.sent, "every message sent was received");
      assert.ok(totals.sent >= 50_000, `enough traffic to mean something (${totals.sent} messages)`);
      assert.ok(samples.length >= 9, "enough samples for thirds");
      const allowed = Math.max(GROWTH_MB, Math.round(middle * 0.05));
      assert.ok(
        last <= middle + allowed,
        `RSS still growing: max of the last third ${last} MB > max of the middle third ${middle} MB + ${allowed} MB`,
      );
    });
  },
);
