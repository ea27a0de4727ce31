// Black-box: queue behaviour where the service and this broker used to differ, each as the official
// @azure/service-bus SDK sees it over a socket: scheduled messages, deliveries that end in defer or in an
// expired session lock, the AMQP header a sender set, peek without bodies, and a new queue's defaults.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { adminClient } from "../helpers/admin.js";
import { peekAll, RETRY, receiveN, receiveOne, waitUntil } from "../helpers/sdk.js";

type QueueProps = Record<string, unknown>;
const queues: Record<string, QueueProps> = {};
function queue(props: QueueProps = {}): string {
  const name = uniqueName("dq");
  queues[name] = props;
  return name;
}

const SESSIONS = { requiresSession: true };
const Q = {
  scheduled: queue(),
  defer: queue(),
  deferSession: queue(SESSIONS),
  sessionExpiry: queue({ requiresSession: true, lockDuration: "PT5S" }),
  sessionClose: queue(SESSIONS),
  header: queue(),
  omitBody: queue(),
  noTtl: queue(),
  explicitTtl: queue({ defaultMessageTimeToLive: "PT1H" }),
};

let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  broker = await startBroker(queuesYaml(queues));
  client = new ServiceBusClient(broker.connectionString, RETRY);
});

after(async () => {
  await client?.close();
  await broker?.close();
});

/** The AMQP header of a received message, as the SDK decoded it. */
function headerOf(m: ServiceBusReceivedMessage): Record<string, unknown> {
  return { ...(m as unknown as { _rawAmqpMessage: { header?: Record<string, unknown> } })._rawAmqpMessage.header };
}

describe("scheduled messages", () => {
  test("once active, a scheduled message is enqueued at its scheduled time and reports the scheduled state", async () => {
    const sender = client.createSender(Q.scheduled);
    const at = new Date(Date.now() + 1500);
    const [seq] = await sender.scheduleMessages({ body: "later", messageId: "sched-1" }, at);
    await sender.close();

    const [waiting] = await peekAll(client, Q.scheduled);
    assert.equal(waiting.state, "scheduled", "peeked before its time");
    assert.equal(waiting.sequenceNumber?.toNumber(), seq.toNumber());

    const receiver = client.createReceiver(Q.scheduled);
    const m = await receiveOne(receiver);
    assert.equal(m.body, "later");
    assert.equal(m.state, "scheduled", "the service keeps reporting where the message came from");
    assert.ok(m.scheduledEnqueueTimeUtc, "the scheduled time is on the message");
    assert.ok(
      m.enqueuedTimeUtc!.getTime() >= at.getTime(),
      `enqueued ${m.enqueuedTimeUtc!.toISOString()} is not before the scheduled ${at.toISOString()}`,
    );
    await receiver.completeMessage(m);
    await receiver.close();
  });
});

describe("deferral counts a delivery", () => {
  test("a message received and deferred comes back by sequence number with deliveryCount 1 (queue)", async () => {
    await client.createSender(Q.defer).sendMessages({ body: "d" });
    const receiver = client.createReceiver(Q.defer);
    const m = await receiveOne(receiver);
    assert.equal(m.deliveryCount, 0);
    await receiver.deferMessage(m);
    const [deferred] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(deferred.state, "deferred");
    assert.equal(deferred.deliveryCount, 1);
    await receiver.abandonMessage(deferred);
    const [again] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(again.deliveryCount, 2, "abandon of a deferred message counts one more");
    await receiver.completeMessage(again);
    await receiver.close();
  });

  test("a message received and deferred comes back by sequence number with deliveryCount 1 (session queue)", async () => {
    await client.createSender(Q.deferSession).sendMessages({ body: "ds", sessionId: "s" });
    const receiver = await client.acceptSession(Q.deferSession, "s");
    const m = await receiveOne(receiver);
    assert.equal(m.deliveryCount, 0);
    await receiver.deferMessage(m);
    const [deferred] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(deferred.deliveryCount, 1);
    await receiver.deferMessage(deferred);
    const [again] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(again.deliveryCount, 2, "deferring again counts one more");
    await receiver.completeMessage(again);
    await receiver.close();
  });
});

describe("session locks", () => {
  test("a session lock that expires counts a delivery for the messages locked under it", async () => {
    await client.createSender(Q.sessionExpiry).sendMessages({ body: "held", sessionId: "e" });
    const r = await client.acceptSession(Q.sessionExpiry, "e", { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await receiveN(r, 1);
    assert.equal(m.deliveryCount, 0);
    await waitUntil(r.sessionLockedUntilUtc!.getTime() + 100);
    await assert.rejects(r.completeMessage(m), { code: "SessionLockLost" });
    await r.close();
    const again = await client.acceptSession(Q.sessionExpiry, "e");
    const m2 = await receiveOne(again);
    assert.equal(m2.body, "held");
    assert.equal(m2.deliveryCount, 1);
    await again.completeMessage(m2);
    await again.close();
  });

  test("closing a session receiver does not count a delivery", async () => {
    await client.createSender(Q.sessionClose).sendMessages({ body: "unsettled", sessionId: "c" });
    const r = await client.acceptSession(Q.sessionClose, "c");
    await receiveOne(r);
    await r.close();
    const again = await client.acceptSession(Q.sessionClose, "c");
    const m = await receiveOne(again);
    assert.equal(m.deliveryCount, 0);
    await again.completeMessage(m);
    await again.close();
  });
});

describe("the AMQP header", () => {
  test("durable, priority and first-acquirer arrive as the sender set them; delivery-count is the broker's", async () => {
    const sender = client.createSender(Q.header);
    await sender.sendMessages({
      body: "as sent",
      bodyType: "value",
      header: { durable: false, priority: 7, firstAcquirer: true, deliveryCount: 5 },
    });
    await sender.sendMessages({
      body: "other",
      bodyType: "value",
      header: { durable: true, priority: 2, firstAcquirer: false },
    });
    await sender.close();
    const receiver = client.createReceiver(Q.header);
    const [a, b] = await receiveN(receiver, 2);
    assert.deepEqual(
      [a.body, headerOf(a).durable, headerOf(a).priority, headerOf(a).firstAcquirer, headerOf(a).deliveryCount],
      ["as sent", false, 7, true, 0],
    );
    assert.deepEqual(
      [b.body, headerOf(b).durable, headerOf(b).priority, headerOf(b).firstAcquirer, headerOf(b).deliveryCount],
      ["other", true, 2, false, 0],
    );
    await receiver.abandonMessage(a);
    const [redelivered] = await receiveN(receiver, 1);
    assert.equal(redelivered.body, "as sent");
    assert.deepEqual(
      [headerOf(redelivered).priority, headerOf(redelivered).firstAcquirer, redelivered.deliveryCount],
      [7, true, 1],
    );
    const [peeked] = await peekAll(client, Q.header);
    assert.equal(headerOf(peeked).priority, 7, "peek shows the header too");
    await receiver.close();
  });
});

describe("the AMQP header across a restart", () => {
  test("the sender's header fields and a scheduled message's state survive a restart on the same data dir", async () => {
    const q = uniqueName("dq-restart");
    const dataDir = mkdtempSync(join(tmpdir(), "eventjobs-sdkdiff-"));
    try {
      const b1 = await startBroker(queuesYaml({ [q]: {} }), { dataDir });
      const c1 = new ServiceBusClient(b1.connectionString, RETRY);
      const sender = c1.createSender(q);
      await sender.sendMessages({ body: "kept", bodyType: "value", header: { priority: 9, firstAcquirer: true } });
      const at = new Date(Date.now() + 500);
      await sender.scheduleMessages({ body: "was scheduled" }, at);
      await c1.close();
      await b1.close({ keepData: true });
      await waitUntil(at.getTime());

      const b2 = await startBroker(queuesYaml({ [q]: {} }), { dataDir });
      const c2 = new ServiceBusClient(b2.connectionString, RETRY);
      try {
        const receiver = c2.createReceiver(q, { receiveMode: "receiveAndDelete" });
        const [a, b] = await receiveN(receiver, 2);
        assert.deepEqual([a.body, headerOf(a).priority, headerOf(a).firstAcquirer], ["kept", 9, true]);
        assert.deepEqual([b.body, b.state], ["was scheduled", "scheduled"]);
        assert.ok(b.enqueuedTimeUtc!.getTime() >= at.getTime());
      } finally {
        await c2.close();
        await b2.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("peek", () => {
  test("peekMessages with omitMessageBody returns the messages without their bodies", async () => {
    await client.createSender(Q.omitBody).sendMessages([
      { body: "first", subject: "one" },
      { body: { big: "x".repeat(1000) }, subject: "two" },
    ]);
    const full = await peekAll(client, Q.omitBody);
    assert.deepEqual(
      full.map((m) => m.body),
      ["first", { big: "x".repeat(1000) }],
      "without the option, bodies are there",
    );
    const receiver = client.createReceiver(Q.omitBody);
    const peeked = await receiver.peekMessages(10, {
      fromSequenceNumber: full[0].sequenceNumber!,
      omitMessageBody: true,
    } as Record<string, unknown>);
    assert.deepEqual(
      peeked.map((m) => [m.subject, m.body, m.sequenceNumber?.toNumber()]),
      [
        ["one", undefined, 1],
        ["two", undefined, 2],
      ],
    );
    await receiver.close();
  });
});

describe("queue defaults", () => {
  test("a queue created without properties has the service's defaults, TTL unlimited", async () => {
    const admin = adminClient(broker);
    const name = uniqueName("dq-admin");
    const created = await admin.createQueue(name);
    const read = await admin.getQueue(name);
    const expected = {
      name,
      lockDuration: "PT1M",
      maxSizeInMegabytes: 1024,
      requiresDuplicateDetection: false,
      requiresSession: false,
      defaultMessageTimeToLive: "P10675199DT2H48M5.4775807S",
      deadLetteringOnMessageExpiration: false,
      duplicateDetectionHistoryTimeWindow: "PT10M",
      maxDeliveryCount: 10,
      enableBatchedOperations: true,
      autoDeleteOnIdle: "P10675199DT2H48M5.4775807S",
      enablePartitioning: false,
      enableExpress: false,
      status: "Active",
      forwardTo: undefined,
      forwardDeadLetteredMessagesTo: undefined,
      userMetadata: undefined,
      authorizationRules: undefined,
      availabilityStatus: "Available",
    };
    for (const props of [created, read]) {
      const got = Object.fromEntries(Object.keys(expected).map((k) => [k, (props as Record<string, unknown>)[k]]));
      assert.deepEqual(got, expected);
    }
    const rt = await admin.getQueueRuntimeProperties(name);
    assert.deepEqual(
      {
        name: rt.name,
        sizeInBytes: rt.sizeInBytes,
        totalMessageCount: rt.totalMessageCount,
        activeMessageCount: rt.activeMessageCount,
        deadLetterMessageCount: rt.deadLetterMessageCount,
        scheduledMessageCount: rt.scheduledMessageCount,
        transferMessageCount: rt.transferMessageCount,
        transferDeadLetterMessageCount: rt.transferDeadLetterMessageCount,
      },
      {
        name,
        sizeInBytes: 0,
        totalMessageCount: 0,
        activeMessageCount: 0,
        deadLetterMessageCount: 0,
        scheduledMessageCount: 0,
        transferMessageCount: 0,
        transferDeadLetterMessageCount: 0,
      },
    );
    for (const d of [rt.createdAt, rt.modifiedAt, rt.accessedAt]) assert.ok(d instanceof Date && !isNaN(d.getTime()));
    await admin.deleteQueue(name);
  });

  test("a configured queue without a TTL has the unlimited one; a configured TTL stays as set", async () => {
    const admin = adminClient(broker);
    assert.equal((await admin.getQueue(Q.noTtl)).defaultMessageTimeToLive, "P10675199DT2H48M5.4775807S");
    assert.equal((await admin.getQueue(Q.explicitTtl)).defaultMessageTimeToLive, "PT1H");
    // a message sent without a TTL then carries none: it never expires
    await client.createSender(Q.noTtl).sendMessages({ body: "forever" });
    const receiver = client.createReceiver(Q.noTtl);
    const m = await receiveOne(receiver);
    assert.equal(headerOf(m).timeToLive, undefined);
    await receiver.completeMessage(m);
    await receiver.close();
  });
});
