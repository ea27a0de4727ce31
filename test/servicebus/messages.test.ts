// Black-box: every message field round-trips through the broker exactly as Azure Service Bus returns it,
// using the official @azure/service-bus SDK unchanged.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from "@azure/service-bus";
import { uniqueName, type TestBroker } from "../helpers/broker.js";
import { receiveN, startSdk, stopSdk } from "../helpers/sdk.js";

const Q = {
  bodies: uniqueName("bodies"),
  amqpBodies: uniqueName("amqpbodies"),
  props: uniqueName("props"),
  appProps: uniqueName("appprops"),
  seq: uniqueName("seq"),
  meta: uniqueName("meta"),
  lock: uniqueName("lock"),
  noId: uniqueName("noid"),
  ttl: uniqueName("ttl"),
  scheduled: uniqueName("sched"),
  batch: uniqueName("batch"),
  many: uniqueName("many"),
  big: uniqueName("big"),
  large: uniqueName("large"),
  batchProps: uniqueName("batchprops"),
};

let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  const queues: Record<string, Record<string, unknown>> = {};
  for (const name of Object.values(Q)) queues[name] = {};
  queues[Q.lock] = { lockDuration: "PT30S" };
  ({ broker, client } = await startSdk(queues));
});

after(() => stopSdk(client, broker));

/** Runs `fn` with a sender and a receiveAndDelete receiver on `queue`, both closed afterwards. */
async function withReceiveAndDelete(
  queue: string,
  fn: (sender: ReturnType<ServiceBusClient["createSender"]>, receiver: ServiceBusReceiver) => Promise<void>,
): Promise<void> {
  const sender = client.createSender(queue);
  const receiver = client.createReceiver(queue, { receiveMode: "receiveAndDelete" });
  try {
    await fn(sender, receiver);
  } finally {
    await sender.close();
    await receiver.close();
  }
}

async function sendAndReceive(queue: string, messages: any[]): Promise<ServiceBusReceivedMessage[]> {
  const sender = client.createSender(queue);
  const receiver = client.createReceiver(queue, { receiveMode: "receiveAndDelete" });
  try {
    for (const m of messages) await sender.sendMessages(m);
    const got = await receiveN(receiver, messages.length);
    assert.equal(got.length, messages.length, "all messages arrive");
    return got;
  } finally {
    await sender.close();
    await receiver.close();
  }
}

describe("message bodies", () => {
  test("binary, string, JSON object, array, number, boolean and null bodies round-trip", async () => {
    const binary = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x22]); // not valid JSON
    const bodies: unknown[] = [
      binary,
      "hello, wörld ✓",
      { order: 42, items: [{ sku: "a", qty: 2 }], nested: { ok: true, nothing: null } },
      [1, "two", { three: 3 }],
      12345.5,
      0,
      true,
      null,
      "",
    ];
    const got = await sendAndReceive(
      Q.bodies,
      bodies.map((body) => ({ body })),
    );
    assert.ok(Buffer.isBuffer(got[0].body), "a Buffer body comes back as a Buffer");
    assert.deepEqual(Buffer.from(got[0].body), binary);
    for (let i = 1; i < bodies.length; i++) assert.deepEqual(got[i].body, bodies[i], `body #${i}`);
    for (const m of got) assert.equal(m._rawAmqpMessage.bodyType, "data");
  });

  test("AMQP sequence and value bodies keep their body type", async () => {
    const sequence = [1, "two", true, 4.5];
    const value = { a: 1, b: "x", list: [1, 2, 3] };
    const got = await sendAndReceive(Q.amqpBodies, [
      { body: sequence, bodyType: "sequence" },
      { body: value, bodyType: "value" },
      { body: "plain string value", bodyType: "value" },
      { body: 7, bodyType: "value" },
    ]);
    assert.equal(got[0]._rawAmqpMessage.bodyType, "sequence");
    assert.deepEqual(got[0].body, sequence);
    assert.equal(got[1]._rawAmqpMessage.bodyType, "value");
    assert.deepEqual(got[1].body, value);
    assert.equal(got[2]._rawAmqpMessage.bodyType, "value");
    assert.equal(got[2].body, "plain string value");
    assert.equal(got[3]._rawAmqpMessage.bodyType, "value");
    assert.equal(got[3].body, 7);
  });
});

describe("system and user properties", () => {
  test("messageId, correlationId, subject, to, replyTo, replyToSessionId, partitionKey, contentType, timeToLive round-trip", async () => {
    const sent = {
      body: "props",
      messageId: "msg-id-1",
      correlationId: "corr-77",
      subject: "the-subject",
      to: "someone",
      replyTo: "reply-queue",
      replyToSessionId: "reply-session",
      partitionKey: "pk-1",
      contentType: "application/json",
      timeToLive: 120_000,
    };
    const [m] = await sendAndReceive(Q.props, [sent]);
    assert.equal(m.body, "props");
    assert.equal(m.messageId, sent.messageId);
    assert.equal(m.correlationId, sent.correlationId);
    assert.equal(m.subject, sent.subject);
    assert.equal(m.to, sent.to);
    assert.equal(m.replyTo, sent.replyTo);
    assert.equal(m.replyToSessionId, sent.replyToSessionId);
    assert.equal(m.partitionKey, sent.partitionKey);
    assert.equal(m.contentType, sent.contentType);
    assert.equal(m.timeToLive, sent.timeToLive);
    assert.ok(m.enqueuedTimeUtc && m.expiresAtUtc);
    assert.equal(
      m.expiresAtUtc!.getTime() - m.enqueuedTimeUtc!.getTime(),
      sent.timeToLive,
      "expiresAtUtc = enqueued + ttl",
    );
    assert.equal(m.sessionId, undefined);
    assert.equal(m.state, "active");
  });

  test("numeric and uuid (Buffer) messageId / correlationId keep their type", async () => {
    // rhea encodes a number id as AMQP ulong and a Buffer id as AMQP uuid (16 bytes)
    const id = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    const corr = Buffer.from("ffeeddccbbaa99887766554433221100", "hex");
    const got = await sendAndReceive(Q.props, [
      { body: 1, messageId: 12345, correlationId: 678 },
      { body: 2, messageId: id, correlationId: corr },
    ]);
    assert.equal(got[0].messageId, 12345);
    assert.equal(got[0].correlationId, 678);
    assert.ok(Buffer.isBuffer(got[1].messageId));
    assert.deepEqual(got[1].messageId, id);
    assert.deepEqual(got[1].correlationId, corr);
  });

  test("applicationProperties of many types round-trip with their values", async () => {
    const when = new Date("2024-03-01T12:34:56.789Z");
    const applicationProperties = {
      str: "text ✓",
      empty: "",
      int: 42,
      zero: 0,
      negative: -17,
      double: 3.25,
      negDouble: -0.5,
      bigInt: 2 ** 40 + 3,
      maxSafe: Number.MAX_SAFE_INTEGER,
      yes: true,
      no: false,
      when,
      nothing: null,
    } as Record<string, any>;
    const [m] = await sendAndReceive(Q.appProps, [{ body: "x", applicationProperties }]);
    const got = m.applicationProperties!;
    assert.ok(got, "applicationProperties present");
    for (const [k, v] of Object.entries(applicationProperties)) {
      if (k === "when") continue;
      assert.deepEqual(got[k], v, `applicationProperties.${k}`);
    }
    // the SDK converts AMQP timestamps in application properties to epoch milliseconds on receive
    assert.equal(got.when, when.getTime());
    assert.deepEqual(Object.keys(got).sort(), Object.keys(applicationProperties).sort());
  });

  test("Buffer and Date application properties keep their AMQP types (receiver with skipConvertingDate)", async () => {
    // without skipConvertingDate the SDK itself turns Dates into numbers and Buffers into plain objects
    const bytes = Buffer.from([1, 2, 3, 250]);
    const when = new Date("2023-01-02T03:04:05.006Z");
    const sender = client.createSender(Q.appProps);
    const receiver = client.createReceiver(Q.appProps, { receiveMode: "receiveAndDelete", skipConvertingDate: true });
    try {
      await sender.sendMessages({ body: "buf", applicationProperties: { bytes, when } as any });
      const [m] = await receiveN(receiver, 1);
      assert.ok(m, "received");
      assert.ok(Buffer.isBuffer(m.applicationProperties!.bytes), "binary property is a Buffer");
      assert.deepEqual(m.applicationProperties!.bytes, bytes);
      assert.ok(m.applicationProperties!.when instanceof Date, "timestamp property is a Date");
      assert.equal((m.applicationProperties!.when as Date).getTime(), when.getTime());
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  test("a message without messageId is given a 32-hex-digit id", async () => {
    const [m] = await sendAndReceive(Q.noId, [{ body: "no id" }]);
    assert.equal(typeof m.messageId, "string");
    assert.match(m.messageId as string, /^[0-9a-f]{32}$/i);
  });
});

describe("broker-assigned properties", () => {
  test("sequenceNumber starts at 1 for each queue and increments", async () => {
    const got = await sendAndReceive(Q.seq, [{ body: "a" }, { body: "b" }, { body: "c" }]);
    assert.deepEqual(
      got.map((m) => m.sequenceNumber!.toNumber()),
      [1, 2, 3],
    );
    assert.deepEqual(
      got.map((m) => m.body),
      ["a", "b", "c"],
    );
    // a separate queue counts on its own
    const other = await sendAndReceive(Q.meta, [{ body: "first" }]);
    assert.equal(other[0].sequenceNumber!.toNumber(), 1);
    const again = await sendAndReceive(Q.seq, [{ body: "d" }]);
    assert.equal(again[0].sequenceNumber!.toNumber(), 4);
  });

  test("peek-lock receive: enqueuedTimeUtc ≈ now, deliveryCount 0, lockedUntilUtc ≈ now + lock duration, lockToken set", async () => {
    const sender = client.createSender(Q.lock);
    const receiver = client.createReceiver(Q.lock);
    try {
      const before = Date.now();
      await sender.sendMessages({ body: "locked" });
      const [m] = await receiveN(receiver, 1);
      const after = Date.now();
      assert.ok(m, "message received");
      assert.ok(m.enqueuedTimeUtc instanceof Date);
      assert.ok(
        m.enqueuedTimeUtc!.getTime() >= before - 1000 && m.enqueuedTimeUtc!.getTime() <= after + 1000,
        "enqueuedTimeUtc close to now",
      );
      assert.equal(m.deliveryCount, 0);
      assert.match(m.lockToken!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.ok(m.lockedUntilUtc instanceof Date);
      const lockedFor = m.lockedUntilUtc!.getTime() - Date.now();
      assert.ok(lockedFor > 25_000 && lockedFor <= 30_500, `lockedUntilUtc ≈ now + 30 s (was now + ${lockedFor} ms)`);
      assert.equal(m.state, "active");
      await receiver.completeMessage(m);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});

describe("scheduled messages", () => {
  test("a message with scheduledEnqueueTimeUtc arrives after its time, not before; peek shows it as scheduled", async () => {
    await withReceiveAndDelete(Q.scheduled, async (sender, receiver) => {
      const at = new Date(Date.now() + 3000);
      await sender.sendMessages({ body: "later", scheduledEnqueueTimeUtc: at, timeToLive: 60_000 });
      const peeked = await receiver.peekMessages(10);
      assert.equal(peeked.length, 1, "peek shows the scheduled message");
      assert.equal(peeked[0].state, "scheduled");
      assert.equal(peeked[0].body, "later");
      assert.equal(peeked[0].scheduledEnqueueTimeUtc?.getTime(), at.getTime());
      // not before its time
      const early = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 });
      assert.ok(Date.now() < at.getTime(), "test machine was too slow to check 'not before'");
      assert.equal(early.length, 0, "not delivered before its scheduled time");
      const [m] = await receiveN(receiver, 1, 10_000);
      assert.ok(m, "delivered after its scheduled time");
      assert.ok(Date.now() >= at.getTime() - 50, "delivered no earlier than scheduled");
      assert.equal(m.body, "later");
      assert.equal(m.scheduledEnqueueTimeUtc?.getTime(), at.getTime());
      assert.equal(m.state, "scheduled", "a message that was scheduled keeps reporting so once active");
      assert.equal(m.timeToLive, 60_000, "timeToLive is the sender's, not stretched by the schedule delay");
      assert.ok(m.expiresAtUtc!.getTime() >= at.getTime() + 60_000 - 1000, "expires ttl after it became available");
    });
  });
});

describe("batches", () => {
  test("createMessageBatch + tryAddMessage: all messages arrive in order with their own properties", async () => {
    await withReceiveAndDelete(Q.batch, async (sender, receiver) => {
      const batch = await sender.createMessageBatch();
      for (let i = 0; i < 5; i++) {
        assert.equal(
          batch.tryAddMessage({
            body: { i },
            messageId: `b-${i}`,
            subject: `s${i}`,
            applicationProperties: { i, tag: i % 2 ? "odd" : "even" },
          }),
          true,
        );
      }
      assert.equal(batch.count, 5);
      await sender.sendMessages(batch);
      const got = await receiveN(receiver, 5);
      assert.equal(got.length, 5);
      got.forEach((m, i) => {
        assert.deepEqual(m.body, { i });
        assert.equal(m.messageId, `b-${i}`);
        assert.equal(m.subject, `s${i}`);
        assert.deepEqual(m.applicationProperties, { i, tag: i % 2 ? "odd" : "even" });
      });
      const seqs = got.map((m) => m.sequenceNumber!.toNumber());
      assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    });
  });

  test("each message of a batch keeps its own TTL, partitionKey and scheduled time (not the first one's)", async () => {
    await withReceiveAndDelete(Q.batchProps, async (sender, receiver) => {
      const at = new Date(Date.now() + 60_000);
      await sender.sendMessages([
        { body: "a", partitionKey: "pa", timeToLive: 60_000, contentType: "text/a" },
        { body: "b", partitionKey: "pb", timeToLive: 120_000 },
        { body: "c" },
        { body: "later", scheduledEnqueueTimeUtc: at },
      ]);
      const peeked = await receiver.peekMessages(10);
      assert.deepEqual(
        peeked.map((m) => [m.body, m.state]),
        [
          ["a", "active"],
          ["b", "active"],
          ["c", "active"],
          ["later", "scheduled"],
        ],
      );
      const got = await receiveN(receiver, 3);
      assert.deepEqual(
        got.map((m) => m.body),
        ["a", "b", "c"],
      );
      assert.deepEqual(
        got.map((m) => m.partitionKey),
        ["pa", "pb", undefined],
      );
      assert.equal(got[0].timeToLive, 60_000);
      assert.equal(got[1].timeToLive, 120_000);
      assert.equal(got[0].contentType, "text/a");
      assert.equal(got[1].contentType, undefined);
      assert.deepEqual(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 }), [], "the scheduled one waits");
    });
  });

  test("sendMessages([...100]) delivers all 100 in order", async () => {
    await withReceiveAndDelete(Q.many, async (sender, receiver) => {
      await sender.sendMessages(
        Array.from({ length: 100 }, (_, i) => ({ body: `m${i}`, applicationProperties: { i } })),
      );
      const got = await receiveN(receiver, 100, 20_000);
      assert.equal(got.length, 100);
      assert.deepEqual(
        got.map((m) => m.body),
        Array.from({ length: 100 }, (_, i) => `m${i}`),
      );
      assert.deepEqual(
        got.map((m) => m.applicationProperties?.i),
        Array.from({ length: 100 }, (_, i) => i),
      );
      assert.deepEqual(
        got.map((m) => m.sequenceNumber!.toNumber()),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    });
  });
});

describe("message size", () => {
  test("a 200 KB message (under the 256 KB limit) round-trips intact", async () => {
    const body = Buffer.alloc(200 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    body[0] = 0xff; // not JSON
    const [m] = await sendAndReceive(Q.large, [{ body }]);
    assert.ok(Buffer.isBuffer(m.body));
    assert.equal(m.body.length, body.length);
    assert.ok(Buffer.from(m.body).equals(body), "same bytes");
  });

  test("a 300 KB message is refused with MessageSizeExceeded and nothing is enqueued", async () => {
    const sender = client.createSender(Q.big);
    const receiver = client.createReceiver(Q.big);
    try {
      const body = Buffer.alloc(300 * 1024, 0x61);
      await assert.rejects(sender.sendMessages({ body }), (e: any) => {
        assert.equal(e.code, "MessageSizeExceeded", `code ${e.code}: ${e.message}`);
        return true;
      });
      // an array goes through the SDK's own batch size check
      await assert.rejects(sender.sendMessages([{ body }]), (e: any) => {
        assert.equal(e.code, "MessageSizeExceeded", `code ${e.code}: ${e.message}`);
        return true;
      });
      const batch = await sender.createMessageBatch();
      assert.equal(batch.tryAddMessage({ body }), false, "the batch refuses a message over the link's max size");
      const peeked = await receiver.peekMessages(10);
      assert.equal(peeked.length, 0, "nothing enqueued");
      // the sender still works afterwards
      await sender.sendMessages({ body: "small" });
      const [m] = await receiveN(receiver, 1);
      assert.equal(m?.body, "small");
      await receiver.completeMessage(m);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});
