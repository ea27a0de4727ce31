// Black-box: receiving and settling through the official @azure/service-bus SDK: receive modes, batching and
// streaming receive, complete / abandon / dead-letter / defer, lock expiry, MaxDeliveryCount, TTL, lock renewal.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ServiceBusClient, type ServiceBusReceiver, type ServiceBusReceiverOptions } from "@azure/service-bus";
import { uniqueName, type TestBroker } from "../helpers/broker.js";
import { peekAll, RETRY, receiveN, receiveOne, startSdk, stopSdk, waitUntil } from "../helpers/sdk.js";

type QueueProps = Record<string, unknown>;
const SHORT_LOCK: QueueProps = { lockDuration: "PT5S" };

// every test gets its own queue, declared up front (queues come from the config)
const queues: Record<string, QueueProps> = {};
function queue(props: QueueProps = {}): string {
  const name = uniqueName("rq");
  queues[name] = props;
  return name;
}

const Q = {
  peekLock: queue(),
  receiveAndDelete: queue(),
  upToN: queue(),
  empty: queue(),
  subscribe: queue(),
  subscribeAbandon: queue(),
  concurrency: queue(),
  concurrencyOne: queue(),
  competing: queue(),
  complete: queue(),
  abandon: queue(),
  abandonProps: queue(),
  deadLetter: queue(),
  deadLetterProps: queue(),
  dlqOwnConnection: queue(),
  defer: queue(),
  lockExpiry: queue(SHORT_LOCK),
  lockLost: queue(SHORT_LOCK),
  renew: queue(SHORT_LOCK),
  maxDelivery: queue({ maxDeliveryCount: 2 }),
  ttlDeadLetter: queue({ deadLetteringOnMessageExpiration: true }),
  ttlDrop: queue(),
  defaultTtl: queue({ defaultMessageTimeToLive: "PT1S" }),
};

let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  ({ broker, client } = await startSdk(queues));
});

after(() => stopSdk(client, broker));

// --- helpers ---------------------------------------------------------------------------------------

/** Polls `fn` until it returns a truthy value or the deadline passes. */
async function pollUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  deadlineMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > end) assert.fail(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `fn` with a sender and receivers that are always closed afterwards. */
async function withQueue(
  name: string,
  fn: (io: {
    send: (m: any) => Promise<void>;
    receiver: (o?: ServiceBusReceiverOptions) => ServiceBusReceiver;
  }) => Promise<void>,
): Promise<void> {
  const sender = client.createSender(name);
  const receivers: ServiceBusReceiver[] = [];
  try {
    await fn({
      send: (m) => sender.sendMessages(m),
      receiver: (o) => {
        const r = o ? client.createReceiver(name, o) : client.createReceiver(name);
        receivers.push(r);
        return r;
      },
    });
  } finally {
    await sender.close();
    for (const r of receivers) await r.close();
  }
}

const NO_RENEW = { maxAutoLockRenewalDurationInMs: 0 } as const;

// --- receive modes ---------------------------------------------------------------------------------

describe("receive modes", () => {
  test("peekLock: a received message stays in the queue (locked) until completed", async () => {
    await withQueue(Q.peekLock, async ({ send, receiver }) => {
      await send({ body: "pl", messageId: "pl-1" });
      const r = receiver();
      const m = await receiveOne(r);
      assert.equal(m.body, "pl");
      assert.ok(m.lockToken, "peek-lock messages have a lock token");
      // still there (locked): peek sees it, another receive does not get it
      const peeked = await peekAll(client, Q.peekLock);
      assert.equal(peeked.length, 1);
      assert.equal(peeked[0].messageId, "pl-1");
      const other = receiver();
      assert.deepEqual(
        await other.receiveMessages(1, { maxWaitTimeInMs: 500 }),
        [],
        "a locked message is not handed out twice",
      );
      await r.completeMessage(m);
      assert.equal((await peekAll(client, Q.peekLock)).length, 0);
    });
  });

  test("receiveAndDelete: a received message is gone at once and cannot be settled", async () => {
    await withQueue(Q.receiveAndDelete, async ({ send, receiver }) => {
      await send([{ body: 1 }, { body: 2 }]);
      const r = receiver({ receiveMode: "receiveAndDelete" });
      const got = await receiveN(r, 2);
      assert.deepEqual(
        got.map((m) => m.body),
        [1, 2],
      );
      assert.equal(got[0].lockToken, undefined, "no lock token in receiveAndDelete mode");
      assert.equal((await peekAll(client, Q.receiveAndDelete)).length, 0, "nothing left");
      await assert.rejects(r.completeMessage(got[0]));
      // and nothing comes back later
      assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 300 }), []);
    });
  });
});

describe("receiveMessages", () => {
  test("returns at most n messages and leaves the rest", async () => {
    await withQueue(Q.upToN, async ({ send, receiver }) => {
      await send(Array.from({ length: 5 }, (_, i) => ({ body: i })));
      const r = receiver({ receiveMode: "receiveAndDelete" });
      const first = await r.receiveMessages(3, { maxWaitTimeInMs: 3000 });
      assert.ok(first.length >= 1 && first.length <= 3, `got ${first.length}`);
      const rest = await receiveN(r, 5 - first.length);
      assert.deepEqual(
        [...first, ...rest].map((m) => m.body),
        [0, 1, 2, 3, 4],
      );
    });
  });

  test("returns [] after maxWaitTimeInMs on an empty queue", async () => {
    await withQueue(Q.empty, async ({ receiver }) => {
      const r = receiver();
      const started = Date.now();
      const got = await r.receiveMessages(10, { maxWaitTimeInMs: 1000 });
      const took = Date.now() - started;
      assert.deepEqual(got, []);
      assert.ok(took >= 900, `waited ${took} ms`);
      assert.ok(took < 5000, `returned promptly after the wait (${took} ms)`);
      // the receiver keeps working afterwards (a broken drain makes the SDK close the link)
      const again = await r.receiveMessages(1, { maxWaitTimeInMs: 300 });
      assert.deepEqual(again, []);
      const s = client.createSender(Q.empty);
      await s.sendMessages({ body: "late" });
      await s.close();
      const m = await receiveOne(r);
      assert.equal(m.body, "late");
      await r.completeMessage(m);
    });
  });

  test("two receivers on one queue share the messages without duplicates", async () => {
    await withQueue(Q.competing, async ({ send, receiver }) => {
      await send(Array.from({ length: 20 }, (_, i) => ({ body: i })));
      const a = receiver();
      const b = receiver();
      const seen: number[] = [];
      const end = Date.now() + 10_000;
      while (seen.length < 20 && Date.now() < end) {
        const [ga, gb] = await Promise.all([
          a.receiveMessages(3, { maxWaitTimeInMs: 500 }),
          b.receiveMessages(3, { maxWaitTimeInMs: 500 }),
        ]);
        for (const [m, r] of [...ga.map((m) => [m, a] as const), ...gb.map((m) => [m, b] as const)]) {
          seen.push(m.body);
          await r.completeMessage(m);
        }
      }
      assert.deepEqual(
        [...seen].sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i),
      );
    });
  });
});

describe("subscribe", () => {
  test("processMessage receives messages as they are sent and auto-completes them", async () => {
    await withQueue(Q.subscribe, async ({ send, receiver }) => {
      const r = receiver();
      const got: unknown[] = [];
      const errors: Error[] = [];
      let done!: () => void;
      const all = new Promise<void>((res) => (done = res));
      const sub = r.subscribe({
        processMessage: async (m) => {
          got.push(m.body);
          if (got.length === 3) done();
        },
        processError: async (args) => {
          errors.push(args.error);
        },
      });
      try {
        await send({ body: "one" });
        await send({ body: "two" });
        await send({ body: "three" });
        await Promise.race([
          all,
          new Promise((_, rej) => setTimeout(() => rej(new Error(`only got ${JSON.stringify(got)}`)), 10_000)),
        ]);
      } finally {
        await sub.close();
      }
      assert.deepEqual(got, ["one", "two", "three"]);
      assert.deepEqual(errors, []);
      // auto-complete removed them (completion happens right after processMessage resolves)
      await pollUntil("the queue to be empty", async () => (await peekAll(client, Q.subscribe)).length === 0, 5000);
    });
  });

  test("a processMessage that throws abandons the message: it comes back with deliveryCount + 1", async () => {
    await withQueue(Q.subscribeAbandon, async ({ send, receiver }) => {
      const r = receiver();
      const counts: number[] = [];
      let done!: () => void;
      const twice = new Promise<void>((res) => (done = res));
      const sub = r.subscribe({
        processMessage: async (m) => {
          counts.push(m.deliveryCount!);
          if (counts.length === 1) throw new Error("handler failed");
          done();
        },
        processError: async () => {},
      });
      try {
        await send({ body: "retry me" });
        await Promise.race([
          twice,
          new Promise((_, rej) => setTimeout(() => rej(new Error(`deliveries: ${counts}`)), 10_000)),
        ]);
      } finally {
        await sub.close();
      }
      assert.deepEqual(counts, [0, 1]);
    });
  });

  test("maxConcurrentCalls: 3 hands out 3 messages at once (credit), not more", async () => {
    await withQueue(Q.concurrency, async ({ send, receiver }) => {
      await send(Array.from({ length: 6 }, (_, i) => ({ body: i })));
      const r = receiver();
      let inFlight = 0;
      let maxInFlight = 0;
      let handled = 0;
      let release!: () => void;
      const gate = new Promise<void>((res) => (release = res));
      let reached3!: () => void;
      const three = new Promise<void>((res) => (reached3 = res));
      let finished!: () => void;
      const allDone = new Promise<void>((res) => (finished = res));
      const sub = r.subscribe(
        {
          processMessage: async () => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            if (inFlight === 3) reached3();
            await gate;
            inFlight--;
            if (++handled === 6) finished();
          },
          processError: async () => {},
        },
        { maxConcurrentCalls: 3 },
      );
      try {
        await Promise.race([
          three,
          new Promise((_, rej) => setTimeout(() => rej(new Error(`max in flight ${maxInFlight}`)), 10_000)),
        ]);
        // give the broker a chance to (wrongly) push a 4th message beyond the credit
        const peekWhileBlocked = await peekAll(client, Q.concurrency);
        assert.equal(peekWhileBlocked.length, 6, "all six still in the queue (three locked)");
        release();
        await Promise.race([
          allDone,
          new Promise((_, rej) => setTimeout(() => rej(new Error(`handled ${handled}`)), 10_000)),
        ]);
      } finally {
        await sub.close();
      }
      assert.equal(maxInFlight, 3);
    });
  });

  test("maxConcurrentCalls: 1 processes one message at a time, in order", async () => {
    await withQueue(Q.concurrencyOne, async ({ send, receiver }) => {
      await send(Array.from({ length: 5 }, (_, i) => ({ body: i })));
      const r = receiver();
      let inFlight = 0;
      let maxInFlight = 0;
      const order: number[] = [];
      let finished!: () => void;
      const allDone = new Promise<void>((res) => (finished = res));
      const sub = r.subscribe(
        {
          processMessage: async (m) => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await new Promise((res) => setImmediate(res));
            order.push(m.body);
            inFlight--;
            if (order.length === 5) finished();
          },
          processError: async () => {},
        },
        { maxConcurrentCalls: 1 },
      );
      try {
        await Promise.race([
          allDone,
          new Promise((_, rej) => setTimeout(() => rej(new Error(`order ${order}`)), 10_000)),
        ]);
      } finally {
        await sub.close();
      }
      assert.equal(maxInFlight, 1);
      assert.deepEqual(order, [0, 1, 2, 3, 4]);
    });
  });
});

// --- settlement ------------------------------------------------------------------------------------

describe("settlement", () => {
  test("complete removes the message: peek shows nothing and it is never redelivered", async () => {
    await withQueue(Q.complete, async ({ send, receiver }) => {
      await send({ body: "done" });
      const r = receiver();
      const m = await receiveOne(r);
      await r.completeMessage(m);
      assert.deepEqual(await peekAll(client, Q.complete), []);
      assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 500 }), []);
      // completing twice is refused (by the SDK: the delivery is already settled)
      await assert.rejects(r.completeMessage(m));
    });
  });

  test("abandon: the message is redelivered at once with deliveryCount + 1 and the same sequence number", async () => {
    await withQueue(Q.abandon, async ({ send, receiver }) => {
      await send({ body: "again", messageId: "ab-1" });
      const r = receiver();
      const first = await receiveOne(r);
      assert.equal(first.deliveryCount, 0);
      await r.abandonMessage(first);
      const second = await receiveOne(r, 5000);
      assert.equal(second.messageId, "ab-1");
      assert.equal(second.deliveryCount, 1);
      assert.equal(second.sequenceNumber!.toNumber(), first.sequenceNumber!.toNumber());
      assert.notEqual(second.lockToken, first.lockToken, "a new lock token for the new delivery");
      await r.abandonMessage(second);
      const third = await receiveOne(r, 5000);
      assert.equal(third.deliveryCount, 2);
      await r.completeMessage(third);
    });
  });

  test("abandon with propertiesToModify: the properties appear on the redelivered message", async () => {
    await withQueue(Q.abandonProps, async ({ send, receiver }) => {
      await send({ body: "p", applicationProperties: { keep: "me", change: "old" } });
      const r = receiver();
      const first = await receiveOne(r);
      await r.abandonMessage(first, { change: "new", added: 7, flag: true });
      const second = await receiveOne(r, 5000);
      assert.deepEqual(second.applicationProperties, { keep: "me", change: "new", added: 7, flag: true });
      assert.equal(second.body, "p");
      await r.completeMessage(second);
    });
  });

  test("deadLetter with reason and description: the message is in the dead-letter queue with them", async () => {
    await withQueue(Q.deadLetter, async ({ send, receiver }) => {
      await send({ body: { order: 1 }, messageId: "dl-1", subject: "s", applicationProperties: { a: 1 } });
      const r = receiver();
      const m = await receiveOne(r);
      await r.deadLetterMessage(m, { deadLetterReason: "BadOrder", deadLetterErrorDescription: "order 1 is invalid" });
      assert.deepEqual(await peekAll(client, Q.deadLetter), [], "gone from the queue");
      assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 300 }), []);
      const dlq = receiver({ subQueueType: "deadLetter" });
      const d = await receiveOne(dlq);
      assert.deepEqual(d.body, { order: 1 });
      assert.equal(d.messageId, "dl-1");
      assert.equal(d.subject, "s");
      assert.equal(d.deadLetterReason, "BadOrder");
      assert.equal(d.deadLetterErrorDescription, "order 1 is invalid");
      assert.equal(d.applicationProperties?.a, 1);
      assert.equal(d.applicationProperties?.DeadLetterReason, "BadOrder");
      await dlq.completeMessage(d);
      assert.deepEqual(await peekAll(client, Q.deadLetter, "deadLetter"), []);
    });
  });

  test("a client that only reads the dead-letter queue can receive from it", async () => {
    await withQueue(Q.dlqOwnConnection, async ({ send, receiver }) => {
      await send({ body: "to the dlq" });
      const r = receiver();
      await r.deadLetterMessage(await receiveOne(r), {
        deadLetterReason: "why",
        deadLetterErrorDescription: "because",
      });
    });
    // a new connection: its only $cbs token is for the audience sb://<host>/<queue>/$DeadLetterQueue
    const own = new ServiceBusClient(broker.connectionString, RETRY);
    try {
      const dlq = own.createReceiver(Q.dlqOwnConnection, { subQueueType: "deadLetter" });
      const d = await receiveOne(dlq);
      assert.equal(d.body, "to the dlq");
      assert.equal(d.deadLetterReason, "why");
      await dlq.completeMessage(d);
      await dlq.close();
    } finally {
      await own.close();
    }
  });

  test("deadLetter with propertiesToModify adds them to the dead-lettered message", async () => {
    await withQueue(Q.deadLetterProps, async ({ send, receiver }) => {
      await send({ body: "x", messageId: "dl-2" });
      const r = receiver();
      const m = await receiveOne(r);
      await r.deadLetterMessage(m, {
        deadLetterReason: "R",
        deadLetterErrorDescription: "D",
        extra: "yes",
        n: 3,
      } as any);
      const dlq = receiver({ subQueueType: "deadLetter", receiveMode: "receiveAndDelete" });
      const d = await receiveOne(dlq);
      assert.equal(d.messageId, "dl-2");
      assert.equal(d.deadLetterReason, "R");
      assert.equal(d.applicationProperties?.extra, "yes");
      assert.equal(d.applicationProperties?.n, 3);
    });
  });

  test("defer: the message leaves the normal flow; receiveDeferredMessages(seq) gets it, then complete", async () => {
    await withQueue(Q.defer, async ({ send, receiver }) => {
      await send({ body: "later", messageId: "df-1" });
      const r = receiver();
      const m = await receiveOne(r);
      const seq = m.sequenceNumber!;
      await r.deferMessage(m);
      assert.deepEqual(
        await r.receiveMessages(1, { maxWaitTimeInMs: 500 }),
        [],
        "a deferred message is not received normally",
      );
      const peeked = await peekAll(client, Q.defer);
      assert.equal(peeked.length, 1);
      assert.equal(peeked[0].state, "deferred");
      const [d] = await r.receiveDeferredMessages(seq);
      assert.ok(d, "deferred message received by sequence number");
      assert.equal(d.messageId, "df-1");
      assert.equal(d.body, "later");
      assert.equal(d.state, "deferred");
      assert.ok(d.lockToken, "locked for this receiver");
      assert.equal(d.sequenceNumber!.toNumber(), seq.toNumber());
      await r.completeMessage(d);
      assert.deepEqual(await peekAll(client, Q.defer), []);
    });
  });
});

// --- time-based behaviour (runs concurrently to keep the file fast) --------------------------------

describe("locks, delivery count and expiry", { concurrency: true }, () => {
  test("lock expiry (PT5S): an unsettled message comes back with deliveryCount 1", async () => {
    await withQueue(Q.lockExpiry, async ({ send, receiver }) => {
      await send({ body: "expire my lock" });
      const r = receiver(NO_RENEW);
      const first = await receiveOne(r);
      assert.equal(first.deliveryCount, 0);
      const lockMs = first.lockedUntilUtc!.getTime() - Date.now();
      assert.ok(lockMs > 3000 && lockMs <= 5500, `lock ≈ 5 s (${lockMs} ms)`);
      const started = Date.now();
      const second = await receiveOne(r, 12_000);
      const waited = Date.now() - started;
      assert.equal(second.sequenceNumber!.toNumber(), first.sequenceNumber!.toNumber());
      assert.equal(second.deliveryCount, 1);
      assert.ok(
        Date.now() >= first.lockedUntilUtc!.getTime() - 100,
        `not redelivered before the lock expired (waited ${waited} ms)`,
      );
      await r.completeMessage(second);
    });
  });

  test("settling after the lock expired fails with MessageLockLost (complete, abandon, defer, deadLetter, renew)", async () => {
    await withQueue(Q.lockLost, async ({ send, receiver }) => {
      const ops = ["complete", "abandon", "defer", "deadLetter", "renew"] as const;
      await send(ops.map((op) => ({ body: op })));
      const r = receiver(NO_RENEW);
      const stale = await receiveN(r, ops.length);
      assert.equal(stale.length, ops.length);
      // the locks have expired once the messages are handed out again
      const other = receiver(NO_RENEW);
      const fresh = await receiveN(other, ops.length, 12_000);
      assert.equal(fresh.length, ops.length, "all redelivered after lock expiry");
      assert.deepEqual(
        fresh.map((m) => m.deliveryCount),
        ops.map(() => 1),
      );
      const failures: string[] = [];
      for (const m of stale) {
        const op = m.body as (typeof ops)[number];
        const run = {
          complete: () => r.completeMessage(m),
          abandon: () => r.abandonMessage(m),
          defer: () => r.deferMessage(m),
          deadLetter: () => r.deadLetterMessage(m),
          renew: () => r.renewMessageLock(m),
        }[op];
        try {
          await run();
          failures.push(`${op}: succeeded`);
        } catch (e: any) {
          if (e.code !== "MessageLockLost") failures.push(`${op}: ${e.code} ${e.message}`);
        }
      }
      assert.deepEqual(failures, [], "every settlement with a lost lock fails with MessageLockLost");
      // the fresh deliveries are untouched by the failed settlements
      assert.equal((await peekAll(client, Q.lockLost)).length, ops.length);
      for (const m of fresh) await other.completeMessage(m);
      assert.deepEqual(await peekAll(client, Q.lockLost), []);
      assert.deepEqual(await peekAll(client, Q.lockLost, "deadLetter"), []);
    });
  });

  test("renewMessageLock extends lockedUntilUtc and keeps the message locked past its first expiry", async () => {
    await withQueue(Q.renew, async ({ send, receiver }) => {
      await send({ body: "keep" });
      const r = receiver(NO_RENEW);
      const m = await receiveOne(r);
      const firstUntil = m.lockedUntilUtc!.getTime();
      // renewal only shows over time: wait 2 s, then renew
      await new Promise((res) => setTimeout(res, 2000));
      const renewed = await r.renewMessageLock(m);
      assert.ok(renewed instanceof Date);
      assert.ok(
        renewed.getTime() >= firstUntil + 1500,
        `renewed until ${renewed.toISOString()} vs first ${new Date(firstUntil).toISOString()}`,
      );
      assert.ok(Math.abs(renewed.getTime() - (Date.now() + 5000)) < 1500, "renewed ≈ now + lock duration");
      assert.equal(m.lockedUntilUtc!.getTime(), renewed.getTime(), "the SDK updates the message's lockedUntilUtc");
      // past the original expiry the message is still ours: not redelivered, and complete succeeds
      const other = receiver(NO_RENEW);
      const during = await other.receiveMessages(1, { maxWaitTimeInMs: Math.max(500, firstUntil - Date.now() + 1000) });
      assert.ok(Date.now() > firstUntil, "checked after the original lock expiry");
      assert.deepEqual(during, [], "not redelivered while the renewed lock holds");
      await r.completeMessage(m);
      assert.deepEqual(await peekAll(client, Q.renew), []);
    });
  });

  test("MaxDeliveryCount 2: after 2 abandons the message is dead-lettered with MaxDeliveryCountExceeded", async () => {
    await withQueue(Q.maxDelivery, async ({ send, receiver }) => {
      await send({ body: "poison", messageId: "poison-1" });
      const r = receiver();
      const first = await receiveOne(r);
      await r.abandonMessage(first);
      const second = await receiveOne(r, 5000);
      assert.equal(second.deliveryCount, 1);
      await r.abandonMessage(second);
      assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 500 }), [], "not delivered a third time");
      assert.deepEqual(await peekAll(client, Q.maxDelivery), [], "gone from the queue");
      const dlq = receiver({ subQueueType: "deadLetter" });
      const d = await receiveOne(dlq);
      assert.equal(d.messageId, "poison-1");
      assert.equal(d.body, "poison");
      assert.equal(d.deadLetterReason, "MaxDeliveryCountExceeded");
      assert.ok(d.deadLetterErrorDescription, "a description is set");
      await dlq.completeMessage(d);
    });
  });

  test("TTL with deadLetteringOnMessageExpiration: an expired message ends in the DLQ with TTLExpiredException", async () => {
    await withQueue(Q.ttlDeadLetter, async ({ send, receiver }) => {
      await send({ body: "short-lived", messageId: "ttl-1", timeToLive: 1000 });
      const dlq = receiver({ subQueueType: "deadLetter", receiveMode: "receiveAndDelete" });
      const d = await receiveOne(dlq, 10_000);
      assert.equal(d.messageId, "ttl-1");
      assert.equal(d.body, "short-lived");
      assert.equal(d.deadLetterReason, "TTLExpiredException");
      assert.deepEqual(await peekAll(client, Q.ttlDeadLetter), [], "gone from the queue");
    });
  });

  test("TTL without dead-lettering: an expired message is never delivered and not dead-lettered", async () => {
    await withQueue(Q.ttlDrop, async ({ send, receiver }) => {
      await send({ body: "gone soon", timeToLive: 1000 });
      await send({ body: "stays" });
      const peeked = await peekAll(client, Q.ttlDrop);
      assert.equal(peeked.length, 2);
      assert.equal(peeked[0].timeToLive, 1000);
      // (Service Bus may still show an expired message to peek until it cleans up, so check by receiving)
      await waitUntil(peeked[0].expiresAtUtc!.getTime() + 200);
      const r = receiver();
      const m = await receiveOne(r);
      assert.equal(m.body, "stays");
      await r.completeMessage(m);
      assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 300 }), []);
      assert.deepEqual(await peekAll(client, Q.ttlDrop, "deadLetter"), [], "not dead-lettered");
    });
  });

  test("defaultMessageTimeToLive applies to messages sent without a TTL", async () => {
    await withQueue(Q.defaultTtl, async ({ send, receiver }) => {
      await send({ body: "default ttl" });
      const [p] = await peekAll(client, Q.defaultTtl);
      assert.ok(p, "peeked");
      assert.equal(p.timeToLive, 1000, "the entity default TTL is reported");
      assert.equal(p.expiresAtUtc!.getTime() - p.enqueuedTimeUtc!.getTime(), 1000);
      await waitUntil(p.expiresAtUtc!.getTime() + 200);
      const r = receiver();
      assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 500 }), [], "expired: not delivered");
    });
  });
});
