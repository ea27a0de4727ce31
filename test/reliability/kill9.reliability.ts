// kill -9 of the server under send/receive load, again and again on one data dir: every message whose send
// was accepted is afterwards either received or still in the queue (none lost), and a message whose lock was
// on disk at the crash comes back once its lock expires, with its delivery count one higher (docs/reliability.md).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import rhea, { type Connection, type Delivery, type EventContext } from "rhea";
import { putToken } from "../../bench/cbs.js";
import { queuesYaml } from "../helpers/broker.js";
import { waitFor } from "../helpers/jobs.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const CYCLES = Number(process.env.RELIABILITY_KILL_CYCLES ?? 10);
const QUEUE = "crash-queue";
const KEY = { keyName: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" };
const dir = mkdtempSync(join(tmpdir(), "eventjobs-rel-kill9-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One client connection with $cbs done: the JS SDK's way in, without its retries hiding what happened. */
async function connect(s: ServerProcess): Promise<Connection> {
  const container = rhea.create_container({ id: `kill9-${process.pid}-${Math.random().toString(36).slice(2)}` });
  const conn = container.connect({
    host: "127.0.0.1",
    port: s.amqpPort,
    hostname: "localhost",
    reconnect: false,
    idle_time_out: 0,
  } as rhea.ConnectionOptions);
  conn.on("error", () => {});
  conn.on("disconnected", () => {});
  await new Promise<void>((resolve, reject) => {
    conn.once("connection_open", () => resolve());
    conn.once("disconnected", (ctx: EventContext) => reject(ctx.error ?? new Error("disconnected before open")));
  });
  await putToken(conn, { audience: `sb://localhost/${QUEUE}`, ...KEY });
  return conn;
}

interface Tally {
  accepted: Set<string>;
  /** message id → the highest delivery count it was received with */
  received: Map<string, number>;
}

/** Sends and receives (peek-lock, completing each) until stopped; what was accepted and received is recorded. */
function load(conn: Connection, cycle: number, tally: Tally, hold?: Map<string, number>): { stop(): void } {
  let i = 0;
  let stopped = false;
  const sender = conn.open_sender({ target: { address: QUEUE }, autosettle: true });
  const inFlight = new Map<Delivery, string>();
  const pump = () => {
    while (!stopped && sender.sendable() && inFlight.size < 100) {
      const id = `c${cycle}-${i++}`;
      const d = sender.send({ message_id: id, body: `message ${id}`, durable: true } as rhea.Message);
      inFlight.set(d, id);
    }
  };
  sender.on("sendable", pump);
  sender.on("accepted", (ctx: EventContext) => {
    const id = inFlight.get(ctx.delivery!);
    inFlight.delete(ctx.delivery!);
    if (id) tally.accepted.add(id);
    pump();
  });
  sender.on("rejected", (ctx: EventContext) => inFlight.delete(ctx.delivery!));
  const receiver = conn.open_receiver({
    source: { address: QUEUE },
    autoaccept: false,
    credit_window: 50,
    rcv_settle_mode: 1,
  } as rhea.ReceiverOptions);
  receiver.on("message", (ctx: EventContext) => {
    const id = String(ctx.message!.message_id);
    const count = Number(ctx.message!.delivery_count ?? 0);
    tally.received.set(id, Math.max(count, tally.received.get(id) ?? 0));
    // a few messages of the cycle stay locked (never settled) to check what a crash does to a held lock
    if (hold && hold.size < 20) hold.set(id, count);
    else ctx.delivery!.accept();
  });
  return {
    stop() {
      stopped = true;
    },
  };
}

async function activeCount(s: ServerProcess): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${s.httpPort}/api/v1/servicebus/namespaces/sbemulatorns/queues/${QUEUE}`);
  const body = (await r.json()) as { properties: { countDetails: { activeMessageCount: number } } };
  return body.properties.countDetails.activeMessageCount;
}

describe("kill -9 under load", () => {
  it(`loses no accepted message over ${CYCLES} crashes, and held locks come back with delivery count + 1`, async () => {
    const config = join(dir, "eventjobs.yaml");
    writeFileSync(config, queuesYaml({ [QUEUE]: { lockDuration: "PT5S", maxDeliveryCount: 1000 } }));
    const dataDir = join(dir, "data");
    const tally: Tally = { accepted: new Set(), received: new Map() };
    const held = new Map<string, number>();
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const server = await startServer({ dataDir, args: ["--config", config] });
      try {
        const conn = await connect(server);
        // the last cycle holds some locks for longer than the broker's delayed lock write (500 ms)
        const last = cycle === CYCLES;
        const run = load(conn, cycle, tally, last ? held : undefined);
        const before = tally.accepted.size;
        await waitFor(`cycle ${cycle}: messages accepted`, () => tally.accepted.size > before + 200, 20_000);
        // crash at a random point of the load
        await new Promise((r) => setTimeout(r, last ? 1500 : 100 + Math.random() * 900));
        run.stop();
        await server.kill9();
      } finally {
        await server.dispose();
      }
    }
    assert.ok(held.size > 0, "the last cycle held some locks");

    // after the last crash: drain everything, until the queue says it is empty
    const server = await startServer({ dataDir, args: ["--config", config] });
    const drained = new Map<string, number>();
    try {
      const conn = await connect(server);
      const receiver = conn.open_receiver({
        source: { address: QUEUE },
        autoaccept: false,
        credit_window: 200,
        rcv_settle_mode: 1,
      } as rhea.ReceiverOptions);
      receiver.on("message", (ctx: EventContext) => {
        drained.set(String(ctx.message!.message_id), Number(ctx.message!.delivery_count ?? 0));
        ctx.delivery!.accept();
      });
      // held locks (PT5S) expire after the restart; the count stays above 0 until they came back and were taken
      await waitFor(
        "the queue to be drained",
        async () => [...held.keys()].every((id) => drained.has(id)) && (await activeCount(server)) === 0,
        60_000,
      );
      conn.close();
    } finally {
      await server.stop("SIGTERM").catch(() => server.kill9());
      await server.dispose();
    }

    const lost = [...tally.accepted].filter((id) => !tally.received.has(id) && !drained.has(id));
    const redelivered = [...drained.keys()].filter((id) => tally.received.has(id)).length;
    for (const [id, count] of held)
      assert.equal(drained.get(id), count + 1, `held message ${id} comes back with delivery count ${count + 1}`);
    console.log(
      `kill -9: ${CYCLES} cycles, ${tally.accepted.size} accepted, ${tally.received.size} received before a crash, ` +
        `${drained.size} drained after (${redelivered} of them redelivered), ${held.size} held locks back with count + 1, lost ${lost.length}`,
    );
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} accepted messages lost`);
  });
});
