// Black-box: the $management operations through the official @azure/service-bus SDK: peek, schedule /
// cancel, receive deferred messages by sequence number and settle them, and missing-entity errors.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ServiceBusClient, type ServiceBusReceiver } from "@azure/service-bus";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { peekAll, RETRY, receiveN, receiveOne, startSdk, stopSdk, waitUntil } from "../helpers/sdk.js";

type QueueProps = Record<string, unknown>;
const queues: Record<string, QueueProps> = {};
function queue(props: QueueProps = {}): string {
  const name = uniqueName("mq");
  queues[name] = props;
  return name;
}

const Q = {
  peekStates: queue(),
  peekFrom: queue(),
  peekPaging: queue(),
  peekNoLock: queue(),
  peekEmpty: queue(),
  schedule: queue(),
  cancel: queue(),
  deferredUnknown: queue(),
  deferredComplete: queue(),
  deferredAbandon: queue(),
  deferredDeadLetter: queue(),
  deferredDefer: queue(),
  deferredMany: queue(),
  deferredReceiveAndDelete: queue(),
  deferredRenew: queue(),
  ownPeek: queue(),
  ownSchedule: queue(),
  ownDlqPeek: queue(),
};

let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  ({ broker, client } = await startSdk(queues));
});

after(() => stopSdk(client, broker));

async function withQueue(
  name: string,
  fn: (io: { sender: ReturnType<ServiceBusClient["createSender"]>; receiver: ServiceBusReceiver }) => Promise<void>,
): Promise<void> {
  const sender = client.createSender(name);
  const receiver = client.createReceiver(name);
  try {
    await fn({ sender, receiver });
  } finally {
    await sender.close();
    await receiver.close();
  }
}

/** Sends one message, receives it and defers it; returns its sequence number. */
async function sendAndDefer(
  sender: ReturnType<ServiceBusClient["createSender"]>,
  receiver: ServiceBusReceiver,
  message: any,
) {
  await sender.sendMessages(message);
  const m = await receiveOne(receiver);
  await receiver.deferMessage(m);
  return m.sequenceNumber!;
}

function expectCode(code: string) {
  return (e: any) => {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return true;
  };
}

// --- peek ------------------------------------------------------------------------------------------

describe("peekMessages", () => {
  test("shows active, locked, deferred and scheduled messages with their state, without locking them", async () => {
    await withQueue(Q.peekStates, async ({ sender, receiver }) => {
      await sender.sendMessages({ body: "to-defer", messageId: "d" });
      const toDefer = await receiveOne(receiver);
      await receiver.deferMessage(toDefer);
      await sender.sendMessages({ body: "to-lock", messageId: "l" });
      const locked = await receiveOne(receiver);
      assert.equal(locked.messageId, "l");
      await sender.scheduleMessages({ body: "scheduled", messageId: "s" }, new Date(Date.now() + 60_000));
      await sender.sendMessages({ body: "active", messageId: "a" });

      const peeked = await peekAll(client, Q.peekStates);
      assert.deepEqual(
        peeked.map((m) => [m.messageId, m.sequenceNumber!.toNumber(), m.state]),
        [
          ["d", 1, "deferred"],
          ["l", 2, "active"],
          ["s", 3, "scheduled"],
          ["a", 4, "active"],
        ],
      );
      for (const m of peeked) {
        assert.equal(m.lockToken, undefined, "peeked messages carry no lock token");
        assert.ok(m.enqueuedTimeUtc instanceof Date);
        // the delivery that ended in defer counts
        assert.equal(m.deliveryCount, m.messageId === "d" ? 1 : 0);
      }
      assert.deepEqual(
        peeked.map((m) => m.body),
        ["to-defer", "to-lock", "scheduled", "active"],
      );
      // peeking locked nothing: the active message is received normally
      const a = await receiveOne(receiver);
      assert.equal(a.messageId, "a");
      assert.equal(a.deliveryCount, 0);
      await receiver.completeMessage(a);
      await receiver.completeMessage(locked);
    });
  });

  test("peekMessages with fromSequenceNumber starts at that sequence number", async () => {
    await withQueue(Q.peekFrom, async ({ sender }) => {
      await sender.sendMessages(Array.from({ length: 6 }, (_, i) => ({ body: i })));
      const all = await peekAll(client, Q.peekFrom);
      assert.equal(all.length, 6);
      const r = client.createReceiver(Q.peekFrom);
      try {
        const from4 = await r.peekMessages(10, { fromSequenceNumber: all[3].sequenceNumber! });
        assert.deepEqual(
          from4.map((m) => m.sequenceNumber!.toNumber()),
          [4, 5, 6],
        );
        assert.deepEqual(
          from4.map((m) => m.body),
          [3, 4, 5],
        );
        const two = await r.peekMessages(2, { fromSequenceNumber: all[1].sequenceNumber! });
        assert.deepEqual(
          two.map((m) => m.sequenceNumber!.toNumber()),
          [2, 3],
        );
        const past = await r.peekMessages(10, { fromSequenceNumber: all[5].sequenceNumber!.add(1) });
        assert.deepEqual(past, [], "nothing after the last message");
      } finally {
        await r.close();
      }
    });
  });

  test("successive peekMessages calls page through the queue, skipping removed messages", async () => {
    await withQueue(Q.peekPaging, async ({ sender, receiver }) => {
      await sender.sendMessages(Array.from({ length: 5 }, (_, i) => ({ body: i })));
      // remove #2 so there is a gap in the sequence numbers
      const got = await receiveN(receiver, 2);
      await receiver.abandonMessage(got[0]);
      await receiver.completeMessage(got[1]);
      const r = client.createReceiver(Q.peekPaging);
      try {
        const p1 = await r.peekMessages(2);
        const p2 = await r.peekMessages(2);
        const p3 = await r.peekMessages(2);
        assert.deepEqual(
          p1.map((m) => m.sequenceNumber!.toNumber()),
          [1, 3],
        );
        assert.deepEqual(
          p2.map((m) => m.sequenceNumber!.toNumber()),
          [4, 5],
        );
        assert.deepEqual(p3, []);
        assert.equal(p1[0].deliveryCount, 1, "peek shows the delivery count of an abandoned message");
      } finally {
        await r.close();
      }
    });
  });

  test("peek on an empty queue returns []", async () => {
    const r = client.createReceiver(Q.peekEmpty);
    try {
      assert.deepEqual(await r.peekMessages(5), []);
    } finally {
      await r.close();
    }
  });

  test("peeked messages keep their properties and body", async () => {
    await withQueue(Q.peekNoLock, async ({ sender }) => {
      await sender.sendMessages({
        body: { x: [1, 2] },
        messageId: "pk",
        correlationId: "c",
        subject: "subj",
        contentType: "application/json",
        applicationProperties: { n: 5, s: "t" },
        timeToLive: 30_000,
      });
      const [m] = await peekAll(client, Q.peekNoLock);
      assert.deepEqual(m.body, { x: [1, 2] });
      assert.equal(m.messageId, "pk");
      assert.equal(m.correlationId, "c");
      assert.equal(m.subject, "subj");
      assert.equal(m.contentType, "application/json");
      assert.deepEqual(m.applicationProperties, { n: 5, s: "t" });
      assert.equal(m.timeToLive, 30_000);
      assert.equal(m.lockedUntilUtc, undefined, "peeked messages are not locked");
    });
  });
});

// --- schedule / cancel -----------------------------------------------------------------------------

describe("scheduleMessages", () => {
  test("returns sequence numbers; the messages are scheduled, then delivered at their time", async () => {
    await withQueue(Q.schedule, async ({ sender, receiver }) => {
      const at = new Date(Date.now() + 2000);
      const seqs = await sender.scheduleMessages(
        [{ body: "s1" }, { body: "s2", applicationProperties: { k: "v" } }],
        at,
      );
      assert.equal(seqs.length, 2);
      assert.deepEqual(
        seqs.map((s) => s.toNumber()),
        [1, 2],
      );
      const peeked = await peekAll(client, Q.schedule);
      assert.deepEqual(
        peeked.map((m) => [m.sequenceNumber!.toNumber(), m.state, m.scheduledEnqueueTimeUtc?.getTime()]),
        [
          [1, "scheduled", at.getTime()],
          [2, "scheduled", at.getTime()],
        ],
      );
      assert.deepEqual(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 }), [], "not before its time");
      const got = await receiveN(receiver, 2, 10_000);
      assert.ok(Date.now() >= at.getTime() - 50);
      assert.deepEqual(
        got.map((m) => m.body),
        ["s1", "s2"],
      );
      assert.deepEqual(
        got.map((m) => m.sequenceNumber!.toNumber()),
        [1, 2],
        "same sequence numbers as scheduled",
      );
      assert.equal(got[1].applicationProperties?.k, "v");
      for (const m of got) await receiver.completeMessage(m);
    });
  });

  test("cancelScheduledMessages removes them: not peeked, never delivered", async () => {
    await withQueue(Q.cancel, async ({ sender, receiver }) => {
      const at = new Date(Date.now() + 1500);
      const [keep, drop1, drop2] = await sender.scheduleMessages(
        [{ body: "keep" }, { body: "drop1" }, { body: "drop2" }],
        at,
      );
      await sender.cancelScheduledMessages([drop1, drop2]);
      const peeked = await peekAll(client, Q.cancel);
      assert.deepEqual(
        peeked.map((m) => m.sequenceNumber!.toNumber()),
        [keep.toNumber()],
      );
      await waitUntil(at.getTime());
      const got = await receiveN(receiver, 1, 10_000);
      assert.deepEqual(
        got.map((m) => m.body),
        ["keep"],
      );
      await receiver.completeMessage(got[0]);
      assert.deepEqual(
        await receiver.receiveMessages(1, { maxWaitTimeInMs: 700 }),
        [],
        "cancelled messages never arrive",
      );
      // cancelling a single one, and cancelling again, is harmless
      const [again] = await sender.scheduleMessages({ body: "again" }, new Date(Date.now() + 60_000));
      await sender.cancelScheduledMessages(again);
      await sender.cancelScheduledMessages(again);
      assert.deepEqual(await peekAll(client, Q.cancel), []);
    });
  });
});

// --- deferred messages -----------------------------------------------------------------------------

describe("receiveDeferredMessages", () => {
  test("an unknown sequence number fails with MessageNotFound", async () => {
    await withQueue(Q.deferredUnknown, async ({ sender, receiver }) => {
      await sender.sendMessages({ body: "active" });
      const [active] = await peekAll(client, Q.deferredUnknown);
      await assert.rejects(
        receiver.receiveDeferredMessages(active.sequenceNumber!.add(1000)),
        expectCode("MessageNotFound"),
      );
      // an existing message that is not deferred is not found either
      await assert.rejects(receiver.receiveDeferredMessages(active.sequenceNumber!), expectCode("MessageNotFound"));
      // and the receiver keeps working
      const m = await receiveOne(receiver);
      assert.equal(m.body, "active");
      await receiver.completeMessage(m);
    });
  });

  test("complete: the deferred message is removed", async () => {
    await withQueue(Q.deferredComplete, async ({ sender, receiver }) => {
      const seq = await sendAndDefer(sender, receiver, { body: "c", messageId: "dc" });
      const [m] = await receiver.receiveDeferredMessages(seq);
      assert.equal(m.messageId, "dc");
      assert.equal(m.state, "deferred");
      assert.ok(m.lockToken);
      assert.ok(m.lockedUntilUtc && m.lockedUntilUtc.getTime() > Date.now());
      await receiver.completeMessage(m);
      assert.deepEqual(await peekAll(client, Q.deferredComplete), []);
      await assert.rejects(receiver.receiveDeferredMessages(seq), expectCode("MessageNotFound"));
    });
  });

  test("abandon: the message stays deferred with deliveryCount + 1 and can be received by sequence number again", async () => {
    await withQueue(Q.deferredAbandon, async ({ sender, receiver }) => {
      const seq = await sendAndDefer(sender, receiver, { body: "a", applicationProperties: { p: 1 } });
      const [m] = await receiver.receiveDeferredMessages(seq);
      const before = m.deliveryCount!;
      await receiver.abandonMessage(m, { p: 2, added: "x" });
      assert.deepEqual(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 }), [], "not back in the normal flow");
      const [peeked] = await peekAll(client, Q.deferredAbandon);
      assert.equal(peeked.state, "deferred");
      const [again] = await receiver.receiveDeferredMessages(seq);
      assert.equal(again.body, "a");
      assert.equal(again.deliveryCount, before + 1);
      assert.deepEqual(again.applicationProperties, { p: 2, added: "x" });
      await receiver.completeMessage(again);
      assert.deepEqual(await peekAll(client, Q.deferredAbandon), []);
    });
  });

  test("deadLetter: the deferred message goes to the DLQ with reason and description", async () => {
    await withQueue(Q.deferredDeadLetter, async ({ sender, receiver }) => {
      const seq = await sendAndDefer(sender, receiver, { body: "dl", messageId: "ddl" });
      const [m] = await receiver.receiveDeferredMessages(seq);
      await receiver.deadLetterMessage(m, {
        deadLetterReason: "Deferred too long",
        deadLetterErrorDescription: "gave up",
      });
      assert.deepEqual(await peekAll(client, Q.deferredDeadLetter), []);
      const dlq = client.createReceiver(Q.deferredDeadLetter, { subQueueType: "deadLetter" });
      try {
        const d = await receiveOne(dlq);
        assert.equal(d.messageId, "ddl");
        assert.equal(d.body, "dl");
        assert.equal(d.deadLetterReason, "Deferred too long");
        assert.equal(d.deadLetterErrorDescription, "gave up");
        assert.equal(d.state, "active", "a dead-lettered message is active in the DLQ");
        await dlq.completeMessage(d);
      } finally {
        await dlq.close();
      }
    });
  });

  test("defer again: the message stays deferred", async () => {
    await withQueue(Q.deferredDefer, async ({ sender, receiver }) => {
      const seq = await sendAndDefer(sender, receiver, { body: "dd" });
      const [m] = await receiver.receiveDeferredMessages(seq);
      await receiver.deferMessage(m, { note: "twice" });
      const [peeked] = await peekAll(client, Q.deferredDefer);
      assert.equal(peeked.state, "deferred");
      const [again] = await receiver.receiveDeferredMessages(seq);
      assert.equal(again.applicationProperties?.note, "twice");
      await receiver.completeMessage(again);
    });
  });

  test("several sequence numbers at once", async () => {
    await withQueue(Q.deferredMany, async ({ sender, receiver }) => {
      await sender.sendMessages([{ body: 0 }, { body: 1 }, { body: 2 }]);
      const got = await receiveN(receiver, 3);
      for (const m of got) await receiver.deferMessage(m);
      const seqs = got.map((m) => m.sequenceNumber!);
      const deferred = await receiver.receiveDeferredMessages(seqs);
      assert.deepEqual(deferred.map((m) => m.body).sort(), [0, 1, 2]);
      assert.equal(new Set(deferred.map((m) => m.lockToken)).size, 3, "each has its own lock");
      for (const m of deferred) await receiver.completeMessage(m);
      assert.deepEqual(await peekAll(client, Q.deferredMany), []);
    });
  });

  test("receiveAndDelete receiver: a deferred message received by sequence number is removed", async () => {
    await withQueue(Q.deferredReceiveAndDelete, async ({ sender, receiver }) => {
      const seq = await sendAndDefer(sender, receiver, { body: "rd" });
      const rd = client.createReceiver(Q.deferredReceiveAndDelete, { receiveMode: "receiveAndDelete" });
      try {
        const [m] = await rd.receiveDeferredMessages(seq);
        assert.equal(m.body, "rd");
        assert.equal(m.lockToken, undefined);
        assert.deepEqual(await peekAll(client, Q.deferredReceiveAndDelete), []);
      } finally {
        await rd.close();
      }
    });
  });

  test("renewMessageLock works on a deferred message received by sequence number", async () => {
    await withQueue(Q.deferredRenew, async ({ sender, receiver }) => {
      const seq = await sendAndDefer(sender, receiver, { body: "rn" });
      const [m] = await receiver.receiveDeferredMessages(seq);
      const renewed = await receiver.renewMessageLock(m);
      assert.ok(renewed.getTime() >= m.lockedUntilUtc!.getTime() - 1 && renewed.getTime() > Date.now() + 30_000);
      await receiver.completeMessage(m);
    });
  });
});

// --- management on a connection that has no other link to the queue ---------------------------------
// The SDK puts a $cbs token for the audience `sb://<host>/<queue>/$management` before management requests;
// that token alone must authorize them (as it does on Service Bus).

describe("management operations on their own connection", () => {
  async function withOwnClient(fn: (c: ServiceBusClient) => Promise<void>): Promise<void> {
    const own = new ServiceBusClient(broker.connectionString, RETRY);
    try {
      await fn(own);
    } finally {
      await own.close();
    }
  }

  test("a client that only peeks can peek", async () => {
    const s = client.createSender(Q.ownPeek);
    await s.sendMessages({ body: "peek me" });
    await s.close();
    await withOwnClient(async (own) => {
      const r = own.createReceiver(Q.ownPeek);
      const peeked = await r.peekMessages(5);
      assert.deepEqual(
        peeked.map((m) => m.body),
        ["peek me"],
      );
      await r.close();
    });
  });

  test("a client that only schedules and cancels can do so", async () => {
    await withOwnClient(async (own) => {
      const s = own.createSender(Q.ownSchedule);
      const [seq] = await s.scheduleMessages({ body: "own" }, new Date(Date.now() + 60_000));
      assert.equal(seq.toNumber(), 1);
      await s.cancelScheduledMessages(seq);
      await s.close();
    });
    assert.deepEqual(await peekAll(client, Q.ownSchedule), []);
  });

  test("a client that only peeks the dead-letter queue can peek it", async () => {
    await withQueue(Q.ownDlqPeek, async ({ sender, receiver }) => {
      await sender.sendMessages({ body: "dead" });
      const m = await receiveOne(receiver);
      await receiver.deadLetterMessage(m, { deadLetterReason: "r", deadLetterErrorDescription: "d" });
    });
    await withOwnClient(async (own) => {
      const dlq = own.createReceiver(Q.ownDlqPeek, { subQueueType: "deadLetter" });
      const peeked = await dlq.peekMessages(5);
      assert.deepEqual(
        peeked.map((m) => [m.body, m.deadLetterReason]),
        [["dead", "r"]],
      );
      await dlq.close();
    });
  });
});

// --- missing entities ------------------------------------------------------------------------------

describe("missing entities", () => {
  const missing = "no-such-queue-" + process.pid;

  test("a receiver on a missing queue fails with MessagingEntityNotFound", async () => {
    const r = client.createReceiver(missing);
    try {
      await assert.rejects(r.receiveMessages(1, { maxWaitTimeInMs: 1000 }), expectCode("MessagingEntityNotFound"));
      await assert.rejects(r.peekMessages(1), expectCode("MessagingEntityNotFound"));
    } finally {
      await r.close();
    }
  });

  test("a streaming receiver on a missing queue reports MessagingEntityNotFound to processError", async () => {
    const r = client.createReceiver(missing);
    try {
      const err = await new Promise<any>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("processError was not called")), 10_000);
        r.subscribe({
          processMessage: async () => {},
          processError: async (args) => {
            clearTimeout(timer);
            resolve(args.error);
          },
        });
      });
      assert.equal(err.code, "MessagingEntityNotFound", `${err.code}: ${err.message}`);
    } finally {
      await r.close();
    }
  });

  test("a sender on a missing queue fails with MessagingEntityNotFound", async () => {
    const s = client.createSender(missing);
    try {
      await assert.rejects(s.sendMessages({ body: "x" }), expectCode("MessagingEntityNotFound"));
      await assert.rejects(
        s.scheduleMessages({ body: "x" }, new Date(Date.now() + 60_000)),
        expectCode("MessagingEntityNotFound"),
      );
    } finally {
      await s.close();
    }
  });
});

describe("entity counts", () => {
  test("stay right through send, schedule, defer, dead-letter, abandon, complete, cancel and a restart", async () => {
    const q = uniqueName("counts");
    const yaml = queuesYaml({ [q]: { maxDeliveryCount: 5 } });
    const broker = await startBroker(yaml);
    const client = new ServiceBusClient(broker.connectionString, RETRY);
    const counts = () => broker.platform.broker.namespace("sbemulatorns")!.queue(q)!.counts();
    try {
      const sender = client.createSender(q);
      await sender.sendMessages([1, 2, 3, 4, 5, 6].map((i) => ({ body: `m${i}` })));
      const [scheduledSeq] = await sender.scheduleMessages({ body: "later" }, new Date(Date.now() + 3_600_000));
      await sender.scheduleMessages({ body: "later too" }, new Date(Date.now() + 3_600_000));
      assert.deepEqual(pick(counts()), { active: 6, scheduled: 2, deferred: 0, deadLetter: 0, total: 8 });
      const receiver = client.createReceiver(q);
      const got = await receiveN(receiver, 4);
      assert.deepEqual(
        pick(counts()),
        { active: 6, scheduled: 2, deferred: 0, deadLetter: 0, total: 8 },
        "locked messages are still active",
      );
      await receiver.deferMessage(got[0]);
      await receiver.deadLetterMessage(got[1], { deadLetterReason: "test" });
      await receiver.abandonMessage(got[2]);
      await receiver.completeMessage(got[3]);
      await sender.cancelScheduledMessages(scheduledSeq);
      const expected = { active: 3, scheduled: 1, deferred: 1, deadLetter: 1, total: 6 };
      assert.deepEqual(pick(counts()), expected);
      const size = counts().sizeInBytes;
      assert.ok(size > 0);
      await receiver.close();
      await client.close();
      await broker.close({ keepData: true });
      const again = await startBroker(yaml, { dataDir: broker.dataDir });
      try {
        const after = again.platform.broker.namespace("sbemulatorns")!.queue(q)!.counts();
        assert.deepEqual(pick(after), expected, "the same after a restart");
        assert.equal(after.sizeInBytes, size);
      } finally {
        await again.close();
      }
    } finally {
      await client.close();
      await broker.close();
    }
  });
});

function pick(c: { active: number; scheduled: number; deferred: number; deadLetter: number; total: number }) {
  return { active: c.active, scheduled: c.scheduled, deferred: c.deferred, deadLetter: c.deadLetter, total: c.total };
}
