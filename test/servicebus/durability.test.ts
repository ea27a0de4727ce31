// Black-box durability and robustness tests: restarts on the same data dir, locks across restarts,
// --in-memory, and malformed / oversized transfers from a raw rhea client.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, openSync, readdirSync, readSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import rhea from "rhea";
import { putToken } from "../../bench/cbs.js";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";

type Any = any; // rhea has no usable types for contexts and deliveries

const tmpDirs: string[] = [];
after(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
function tmpDir(): string {
  const d = mkdtempSync(join(tmpdir(), "eventjobs-durability-"));
  tmpDirs.push(d);
  return d;
}

async function withClient<T>(b: TestBroker, fn: (c: ServiceBusClient) => Promise<T>): Promise<T> {
  const c = new ServiceBusClient(b.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 15_000 } });
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

const seqOf = (m: ServiceBusReceivedMessage) => m.sequenceNumber!.toNumber();

/**
 * peekMessages, after opening a sender link on the same connection. The extra link only makes these tests
 * independent of the auth bug that auth.test.ts covers ("a management operation as the first operation on a
 * connection"): the broker does not let a put-token for `<queue>/$management` authorise that queue's
 * management operations.
 */
async function peek(c: ServiceBusClient, q: string, max = 50): Promise<ServiceBusReceivedMessage[]> {
  await c.createSender(q).createMessageBatch();
  return c.createReceiver(q).peekMessages(max);
}

describe("restart on the same data dir", () => {
  test("queues and unreceived messages survive with bodies, properties and sequence numbers; the sequence continues", async () => {
    const q = uniqueName("dur-keep");
    const yaml = queuesYaml({ [q]: {} });
    const dataDir = tmpDir();
    const b1 = await startBroker(yaml, { dataDir });
    const sent = [
      {
        body: "first",
        messageId: "m-1",
        applicationProperties: { s: "str", n: 42, b: true, f: 1.5 },
        subject: "subj",
        contentType: "text/plain",
        correlationId: "corr-1",
      },
      { body: { nested: { x: [1, 2, 3] } }, messageId: "m-2", applicationProperties: { k: "v" } },
      { body: Buffer.from([0, 1, 2, 255]), messageId: "m-3", contentType: "application/octet-stream" },
    ];
    const before = await withClient(b1, async (c) => {
      await c.createSender(q).sendMessages(sent[0]);
      await c.createSender(q).sendMessages([sent[1], sent[2]]);
      return peek(c, q, 10);
    });
    assert.equal(before.length, 3);
    await b1.close({ keepData: true });

    const b2 = await startBroker(yaml, { dataDir });
    try {
      const dbFiles = readdirSync(dataDir).filter((f) => /\.(db|sqlite|sqlite3)$/.test(f));
      assert.ok(dbFiles.length > 0, `no SQLite file in ${dataDir}: ${readdirSync(dataDir).join(", ")}`);
      await withClient(b2, async (c) => {
        const peeked = await peek(c, q, 10);
        assert.deepEqual(peeked.map(seqOf), before.map(seqOf), "peeked sequence numbers after restart");

        const receiver = c.createReceiver(q);
        const got: ServiceBusReceivedMessage[] = [];
        const deadline = Date.now() + 10_000;
        while (got.length < 3 && Date.now() < deadline) {
          got.push(...(await receiver.receiveMessages(3 - got.length, { maxWaitTimeInMs: 2000 })));
        }
        assert.equal(got.length, 3, "all three messages are still there");
        got.sort((a, b) => seqOf(a) - seqOf(b));
        assert.deepEqual(got.map(seqOf), before.map(seqOf), "same sequence numbers");
        assert.deepEqual(
          got.map((m) => m.messageId),
          ["m-1", "m-2", "m-3"],
        );
        assert.equal(got[0].body, "first");
        assert.deepEqual(got[0].applicationProperties, { s: "str", n: 42, b: true, f: 1.5 });
        assert.equal(got[0].subject, "subj");
        assert.equal(got[0].contentType, "text/plain");
        assert.equal(got[0].correlationId, "corr-1");
        assert.deepEqual(got[1].body, { nested: { x: [1, 2, 3] } });
        assert.deepEqual(got[1].applicationProperties, { k: "v" });
        assert.ok(Buffer.isBuffer(got[2].body), "binary body stays binary");
        assert.deepEqual([...got[2].body], [0, 1, 2, 255]);
        assert.equal(got[2].contentType, "application/octet-stream");
        for (const m of got) assert.equal(m.deliveryCount, 0, "never delivered before");
        for (const m of got) await receiver.completeMessage(m);

        await c.createSender(q).sendMessages({ body: "after restart" });
        const [next] = await peek(c, q, 1);
        assert.ok(next, "the new message is there");
        assert.ok(
          seqOf(next) > Math.max(...before.map(seqOf)),
          `new sequence number ${seqOf(next)} continues after ${before.map(seqOf)}`,
        );
      });
    } finally {
      await b2.close();
    }
  });

  test("a locked message is not redelivered right after restart, comes back after its lock expires with deliveryCount 1; completed ones do not come back", async () => {
    const q = uniqueName("dur-lock");
    const yaml = queuesYaml({ [q]: { lockDuration: "PT5S" } });
    const dataDir = tmpDir();
    const b1 = await startBroker(yaml, { dataDir });
    const { locked, completedSeq } = await withClient(b1, async (c) => {
      await c.createSender(q).sendMessages([
        { body: "done", messageId: "done" },
        { body: "locked", messageId: "locked" },
      ]);
      const receiver = c.createReceiver(q);
      const got: ServiceBusReceivedMessage[] = [];
      const deadline = Date.now() + 10_000;
      while (got.length < 2 && Date.now() < deadline)
        got.push(...(await receiver.receiveMessages(2 - got.length, { maxWaitTimeInMs: 2000 })));
      assert.equal(got.length, 2);
      const done = got.find((m) => m.messageId === "done")!;
      await receiver.completeMessage(done);
      const locked = got.find((m) => m.messageId === "locked")!;
      assert.equal(locked.deliveryCount, 0);
      assert.ok(locked.lockedUntilUtc, "peek-lock message has lockedUntilUtc");
      return { locked, completedSeq: seqOf(done) };
    });
    await b1.close({ keepData: true });

    const b2 = await startBroker(yaml, { dataDir });
    try {
      await withClient(b2, async (c) => {
        const receiver = c.createReceiver(q);
        const lockedUntil = locked.lockedUntilUtc!.getTime();
        const early = Math.min(1500, lockedUntil - Date.now() - 500);
        assert.ok(early > 200, `restart took too long to check the lock (${lockedUntil - Date.now()} ms left)`);
        const none = await receiver.receiveMessages(1, { maxWaitTimeInMs: early });
        assert.equal(none.length, 0, `delivered while still locked: ${none.map((m) => m.messageId)}`);

        const wait = Math.max(lockedUntil - Date.now(), 0) + 5000;
        const back = await receiver.receiveMessages(1, { maxWaitTimeInMs: wait });
        assert.equal(back.length, 1, "the locked message comes back after its lock expired");
        assert.equal(back[0].messageId, "locked");
        assert.equal(back[0].body, "locked");
        assert.equal(seqOf(back[0]), seqOf(locked));
        assert.equal(back[0].deliveryCount, 1);
        assert.ok(Date.now() >= lockedUntil - 250, "not before the old lock expired");
        await receiver.completeMessage(back[0]);

        const rest = await receiver.receiveMessages(5, { maxWaitTimeInMs: 1000 });
        assert.deepEqual(
          rest.map((m) => m.messageId),
          [],
          "the completed message does not come back",
        );
        const peeked = await peek(c, q, 10);
        assert.ok(!peeked.some((m) => seqOf(m) === completedSeq), "completed message is gone");
        assert.equal(peeked.length, 0);
      });
    } finally {
      await b2.close();
    }
  });

  test("the SQLite database is in the data dir", async () => {
    const q = uniqueName("dur-file");
    const dataDir = tmpDir();
    const b = await startBroker(queuesYaml({ [q]: {} }), { dataDir });
    try {
      await withClient(b, (c) => c.createSender(q).sendMessages({ body: "x" }));
      const dbFiles = readdirSync(dataDir).filter((f) => /\.(db|sqlite|sqlite3)$/.test(f));
      assert.ok(dbFiles.length > 0, `no database file in ${dataDir}: ${readdirSync(dataDir).join(", ")}`);
      const fd = openSync(join(dataDir, dbFiles[0]), "r");
      const head = Buffer.alloc(16);
      readSync(fd, head, 0, 16, 0);
      closeSync(fd);
      assert.equal(head.toString("latin1"), "SQLite format 3\0");
    } finally {
      await b.close();
    }
  });

  test("--in-memory keeps nothing across restarts", async () => {
    const q = uniqueName("dur-mem");
    const yaml = queuesYaml({ [q]: {} });
    const dataDir = tmpDir();
    const b1 = await startBroker(yaml, { dataDir, inMemory: true });
    await withClient(b1, async (c) => {
      await c.createSender(q).sendMessages([{ body: "a" }, { body: "b" }]);
      assert.equal((await peek(c, q, 10)).length, 2);
    });
    await b1.close({ keepData: true });
    const b2 = await startBroker(yaml, { dataDir, inMemory: true });
    try {
      await withClient(b2, async (c) => {
        assert.equal((await peek(c, q, 10)).length, 0, "peek after in-memory restart");
        const rd = c.createReceiver(q, { receiveMode: "receiveAndDelete" });
        const got = await rd.receiveMessages(5, { maxWaitTimeInMs: 1000 });
        assert.equal(got.length, 0, "receive after in-memory restart");
        await rd.close(); // (an idle drained receiver would otherwise take the next message: see the test below)
        // the sequence starts over
        await c.createSender(q).sendMessages({ body: "c" });
        const [m] = await peek(c, q, 1);
        assert.equal(m?.body, "c");
      });
    } finally {
      await b2.close();
    }
  });
});

describe("no message loss on idle receivers", () => {
  test("a message sent after receiveMessages() returned on a receiveAndDelete receiver stays in the queue (peek, restart)", async () => {
    const q = uniqueName("dur-idle");
    const yaml = queuesYaml({ [q]: {} });
    const dataDir = tmpDir();
    const b1 = await startBroker(yaml, { dataDir });
    const c1 = new ServiceBusClient(b1.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 15_000 } });
    try {
      await c1.createSender(q).sendMessages({ body: "first" });
      const rd = c1.createReceiver(q, { receiveMode: "receiveAndDelete" });
      // asks for 5, gets 1, then drains the remaining credit (the link stays attached)
      const got = await rd.receiveMessages(5, { maxWaitTimeInMs: 1000 });
      assert.deepEqual(
        got.map((m) => m.body),
        ["first"],
      );
      await c1.createSender(q).sendMessages({ body: "second", messageId: "second" });
      const peeked = await peek(c1, q, 10);
      assert.deepEqual(
        peeked.map((m) => m.messageId),
        ["second"],
        "the message is still in the queue while no receive is pending",
      );
    } finally {
      // the broker goes down while the receiver link is still attached and idle
      await b1.close({ keepData: true });
      await c1.close().catch(() => undefined);
    }
    const b2 = await startBroker(yaml, { dataDir });
    try {
      const peeked = await withClient(b2, (c) => peek(c, q, 10));
      assert.deepEqual(
        peeked.map((m) => m.messageId),
        ["second"],
        "the message survives the restart",
      );
    } finally {
      await b2.close();
    }
  });

  test("a message sent after receiveMessages() returned on a peekLock receiver is not locked while nobody asked for it", async () => {
    const q = uniqueName("dur-idle-lock");
    const b = await startBroker(queuesYaml({ [q]: {} }));
    try {
      await withClient(b, async (c) => {
        await c.createSender(q).sendMessages({ body: "first" });
        const r1 = c.createReceiver(q);
        const got = await r1.receiveMessages(5, { maxWaitTimeInMs: 1000 });
        assert.equal(got.length, 1);
        await r1.completeMessage(got[0]);
        await c.createSender(q).sendMessages({ body: "second" });
        // another receiver must get it right away: r1 has no credit, so the message must not be locked for it
        const r2 = c.createReceiver(q);
        const other = await r2.receiveMessages(1, { maxWaitTimeInMs: 3000 });
        assert.deepEqual(
          other.map((m) => m.body),
          ["second"],
          "an idle (drained) receiver must not hold the message",
        );
        await r2.completeMessage(other[0]);
      });
    } finally {
      await b.close();
    }
  });
});

// ---------- raw rhea client ----------

interface Raw {
  connection: Any;
  close(): Promise<void>;
  closed: Promise<string>;
}

function rawConnect(port: number): Promise<Raw> {
  const container = rhea.create_container({ id: `raw-${randomUUID()}` });
  const connection: Any = container.connect({
    host: "127.0.0.1",
    port,
    hostname: "localhost",
    reconnect: false,
    idle_time_out: 0,
  } as Any);
  let onClosed!: (why: string) => void;
  const closed = new Promise<string>((r) => (onClosed = r));
  connection.on("connection_close", (ctx: Any) =>
    onClosed(`connection_close ${JSON.stringify(ctx.connection.error ?? null)}`),
  );
  connection.on("disconnected", (ctx: Any) => onClosed(`disconnected ${ctx.error?.message ?? ""}`));
  connection.on("connection_error", () => undefined);
  connection.on("error", () => undefined);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("raw connect: no open within 5 s")), 5000);
    connection.once("connection_open", () => {
      clearTimeout(t);
      resolve({
        connection,
        closed,
        close: () =>
          new Promise<void>((r) => {
            if (!connection.is_open()) return r();
            const t2 = setTimeout(r, 2000);
            connection.once("connection_close", () => (clearTimeout(t2), r()));
            connection.once("disconnected", () => (clearTimeout(t2), r()));
            connection.close();
          }),
      });
    });
    connection.once(
      "disconnected",
      (ctx: Any) => (clearTimeout(t), reject(new Error(`raw connect failed: ${ctx.error?.message}`))),
    );
  });
}

function openSender(conn: Any, address: string): Promise<Any> {
  return new Promise((resolve, reject) => {
    const sender = conn.open_sender({ target: { address }, snd_settle_mode: 0 });
    const t = setTimeout(() => reject(new Error(`sender to ${address}: not sendable in 5 s`)), 5000);
    sender.once("sendable", () => (clearTimeout(t), resolve(sender)));
    sender.once(
      "sender_close",
      () => (clearTimeout(t), reject(new Error(`sender closed: ${JSON.stringify(sender.error)}`))),
    );
  });
}

interface Outcome {
  outcome: string;
  error?: { condition?: string; description?: string };
}

/** Sends a payload (raw bytes when format is given) and waits for the broker's disposition. */
function sendAndWait(raw: Raw, sender: Any, payload: unknown, format?: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const delivery = format === undefined ? sender.send(payload) : sender.send(payload, undefined, format);
    const t = setTimeout(() => reject(new Error("no disposition within 5 s")), 5000);
    const done = (outcome: string) => (ctx: Any) => {
      if (ctx.delivery !== delivery) return;
      clearTimeout(t);
      resolve({ outcome, error: ctx.delivery.remote_state?.error });
    };
    for (const o of ["accepted", "rejected", "released", "modified"]) sender.on(o, done(o));
    void raw.closed.then(
      (why) => (clearTimeout(t), reject(new Error(`the broker dropped the connection instead of answering: ${why}`))),
    );
  });
}

describe("raw AMQP robustness", () => {
  /** Another client on another queue still gets served. */
  async function checkStillServing(b: TestBroker, q: string): Promise<void> {
    await withClient(b, async (c) => {
      await c.createSender(q).sendMessages({ body: "still alive" });
      const got = await c
        .createReceiver(q, { receiveMode: "receiveAndDelete" })
        .receiveMessages(1, { maxWaitTimeInMs: 5000 });
      assert.equal(got[0]?.body, "still alive", "the broker still serves other clients");
    });
  }

  async function queueCount(b: TestBroker, q: string): Promise<number> {
    return withClient(b, async (c) => (await peek(c, q, 50)).length);
  }

  /**
   * Starts a broker with a queue `q` (named from `prefix`) and another queue, opens a raw connection with a CBS token
   * and a sender to `q`, runs `fn`, then checks the broker still serves the other queue.
   */
  async function withRawSender(
    prefix: string,
    fn: (io: { b: TestBroker; q: string; raw: Raw; sender: Any }) => Promise<void>,
  ): Promise<void> {
    const q = uniqueName(prefix);
    const okQueue = uniqueName("dur-ok");
    const b = await startBroker(queuesYaml({ [q]: {}, [okQueue]: {} }));
    const raw = await rawConnect(b.port);
    try {
      await putToken(raw.connection, {
        audience: `sb://localhost:${b.port}/${q}`,
        keyName: "RootManageSharedAccessKey",
        key: "SAS_KEY_VALUE",
      });
      const sender = await openSender(raw.connection, q);
      await fn({ b, q, raw, sender });
    } finally {
      await raw.close();
      try {
        await checkStillServing(b, okQueue);
      } finally {
        await b.close();
      }
    }
  }

  test("garbage bytes as a format-0 transfer: rejected with an error, broker keeps serving", async () => {
    await withRawSender("dur-bad0", async ({ b, q, raw, sender }) => {
      const r = await sendAndWait(raw, sender, Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]), 0);
      assert.equal(r.outcome, "rejected", JSON.stringify(r));
      assert.ok(r.error?.condition, `rejected with an error condition: ${JSON.stringify(r)}`);
      assert.equal(await queueCount(b, q), 0, "nothing enqueued");
    });
  });

  test("a batch-format (0x80013700) transfer whose body is not data sections: rejected, broker keeps serving", async () => {
    await withRawSender("dur-badbatch", async ({ b, q, raw, sender }) => {
      // an amqp-value body instead of a sequence of data sections
      const valueBody = (rhea.message as Any).encode({ body: "not a batch" });
      const results: Record<string, Outcome> = {};
      results["amqp-value body"] = await sendAndWait(raw, sender, valueBody, 0x80013700);
      // data sections whose contents are not AMQP messages
      const garbageData = (rhea.message as Any).encode({
        body: (rhea.message as Any).data_section(Buffer.from([0xde, 0xad, 0xbe, 0xef])),
      });
      results["data section holding garbage"] = await sendAndWait(raw, sender, garbageData, 0x80013700);
      // plain garbage
      results["garbage envelope"] = await sendAndWait(raw, sender, Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0x80013700);
      const bad = Object.entries(results).filter(([, r]) => r.outcome !== "rejected" || !r.error?.condition);
      assert.deepEqual(
        bad,
        [],
        `every malformed batch is rejected with an error condition: ${JSON.stringify(results)}`,
      );
      assert.equal(await queueCount(b, q), 0, "nothing enqueued");
    });
  });

  test("a 300 KB message: rejected with amqp:link:message-size-exceeded and not enqueued", async () => {
    await withRawSender("dur-big", async ({ b, q, raw, sender }) => {
      const r = await sendAndWait(raw, sender, {
        message_id: "big",
        body: (rhea.message as Any).data_section(Buffer.alloc(300 * 1024, 7)),
      });
      assert.equal(r.outcome, "rejected", JSON.stringify(r));
      assert.equal(r.error?.condition, "amqp:link:message-size-exceeded", JSON.stringify(r));
      // the link still works for a normal message
      const ok = await sendAndWait(raw, sender, {
        message_id: "small",
        body: (rhea.message as Any).data_section(Buffer.from('"small"')),
      });
      assert.equal(ok.outcome, "accepted", JSON.stringify(ok));
      const peeked = await withClient(b, (c) => peek(c, q, 10));
      assert.deepEqual(
        peeked.map((m) => m.messageId),
        ["small"],
        "only the small message is enqueued",
      );
    });
  });
});
