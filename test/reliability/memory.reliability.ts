// Memory at scale: a million queued 100-byte messages keep `eventjobs up` (a child process, its RSS read from
// /proc) within 300 MB, while loading and after; the first 10 000 are received in order and completed; a
// restart on the same data dir recovers all of them within 300 MB at its peak and goes on delivering in order.
// Prints the figures for docs/reliability.md. Knob: RELIABILITY_MEMORY_MESSAGES (default 1 000 000).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { queuesYaml } from "../helpers/broker.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";
import { bodyOf, close, connect, memoryOf, receiveMany, sendMany } from "./load.js";

const MESSAGES = Number(process.env.RELIABILITY_MEMORY_MESSAGES ?? 1_000_000);
const SIZE = 100;
const SAMPLE = 10_000;
const LIMIT_MB = 300;
const QUEUE = "memory-queue";

const dir = mkdtempSync(join(tmpdir(), "eventjobs-rel-memory-"));
const config = join(dir, "eventjobs.yaml");
writeFileSync(config, queuesYaml({ [QUEUE]: {} }));
const dataDir = join(dir, "data");
const servers: ServerProcess[] = [];
after(async () => {
  for (const s of servers) await s.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const start = async () => {
  const s = await startServer({ dataDir, args: ["--config", config], readyTimeoutMs: 120_000 });
  servers.push(s);
  return s;
};
const settle = () => new Promise((r) => setTimeout(r, 2000));

/** Receives `count` messages and checks they are messages `from` … in order, byte for byte. */
async function receiveInOrder(s: ServerProcess, from: number, count: number): Promise<void> {
  const conn = await connect(s.amqpPort);
  try {
    const bodies = await receiveMany(conn, QUEUE, count, { credit: 500, timeoutMs: 120_000 });
    for (let i = 0; i < count; i++) {
      if (!bodies[i].equals(bodyOf(from + i, SIZE)))
        assert.fail(
          `message ${i} of the sample is ${bodies[i].subarray(0, 11)}, not m${String(from + i).padStart(10, "0")}`,
        );
    }
  } finally {
    await close(conn);
  }
}

describe(`memory: ${MESSAGES.toLocaleString("en")} queued ${SIZE}-byte messages`, { timeout: 20 * 60_000 }, () => {
  const rows: string[] = [];

  it("stay within 300 MB while loading and once queued; the first ones are received in order", async () => {
    const s = await start();
    await settle();
    const idle = memoryOf(s.child.pid!);
    rows.push(`| idle | ${idle.rss} MB | |`);

    const conn = await connect(s.amqpPort);
    let peakWhileLoading = 0;
    const sampler = setInterval(() => (peakWhileLoading = Math.max(peakWhileLoading, memoryOf(s.child.pid!).rss)), 250);
    const sent = await sendMany(conn, QUEUE, { count: MESSAGES, size: SIZE, window: 1000 }).finally(() =>
      clearInterval(sampler),
    );
    await close(conn);
    await settle();
    const loaded = memoryOf(s.child.pid!);
    rows.push(
      `| ${MESSAGES.toLocaleString("en")} queued (sent in ${(sent.ms / 1000).toFixed(1)} s, ${sent.rate.toLocaleString("en")} msg/s) | ${loaded.rss} MB | ${loaded.peak} MB |`,
    );
    console.log(
      `loaded ${MESSAGES} messages in ${sent.ms} ms (${sent.rate}/s): RSS idle ${idle.rss} MB, loaded ${loaded.rss} MB, peak ${loaded.peak} MB`,
    );
    assert.ok(loaded.peak <= LIMIT_MB, `peak RSS while loading ${loaded.peak} MB ≤ ${LIMIT_MB} MB`);
    assert.ok(loaded.rss <= LIMIT_MB, `RSS with the messages queued ${loaded.rss} MB ≤ ${LIMIT_MB} MB`);

    await receiveInOrder(s, 0, SAMPLE);
    const received = memoryOf(s.child.pid!);
    rows.push(
      `| after receiving and completing ${SAMPLE.toLocaleString("en")} | ${received.rss} MB | ${received.peak} MB |`,
    );
    assert.ok(received.peak <= LIMIT_MB, `peak RSS ${received.peak} MB ≤ ${LIMIT_MB} MB`);
    assert.equal((await s.stop()).code, 0, "a clean shutdown");
  });

  it("a restart recovers them within 300 MB (peak included) and goes on delivering in order", async () => {
    const t0 = Date.now();
    const s = await start();
    const ready = Date.now() - t0;
    await settle();
    const recovered = memoryOf(s.child.pid!);
    rows.push(`| restarted (ready in ${(ready / 1000).toFixed(1)} s) | ${recovered.rss} MB | ${recovered.peak} MB |`);
    console.log(`restart ready in ${ready} ms: RSS ${recovered.rss} MB, peak ${recovered.peak} MB`);
    assert.ok(recovered.peak <= LIMIT_MB, `peak RSS through recovery ${recovered.peak} MB ≤ ${LIMIT_MB} MB`);

    await receiveInOrder(s, SAMPLE, SAMPLE);
    const after = memoryOf(s.child.pid!);
    rows.push(
      `| after receiving and completing ${SAMPLE.toLocaleString("en")} more | ${after.rss} MB | ${after.peak} MB |`,
    );
    assert.ok(after.peak <= LIMIT_MB, `peak RSS ${after.peak} MB ≤ ${LIMIT_MB} MB`);
    await s.stop();
  });

  after(() => {
    if (rows.length)
      console.log(
        ["", "| eventjobs up (child process) | RSS | peak RSS (VmHWM) |", "|---|---|---|", ...rows, ""].join("\n"),
      );
  });
});
