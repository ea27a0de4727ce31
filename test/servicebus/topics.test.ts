// Black-box: topics fan messages out to their subscriptions (one copy each, settled independently), through
// the official @azure/service-bus SDK over real sockets.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { uniqueName, type TestBroker } from "../helpers/broker.js";
import { peekAll, receiveN, receiveOne, stopSdk } from "../helpers/sdk.js";
import { startTopics } from "../helpers/topics.js";
import { parseServiceBusMetadata } from "../../src/scaling/servicebus.js";
import { embeddedServiceBusTrigger } from "../../src/scaling/triggers/embedded.js";

const T = {
  fan: uniqueName("fan"),
  none: uniqueName("none"),
  corr: uniqueName("corr"),
  sched: uniqueName("sched"),
  dup: uniqueName("dup"),
  fwd: uniqueName("fwd"),
  scale: uniqueName("scale"),
};
const FWD_QUEUE = uniqueName("fwdq");

let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  ({ broker, client } = await startTopics(
    [
      { name: T.fan, subscriptions: [{ name: "a" }, { name: "b" }, { name: "c" }] },
      { name: T.none, subscriptions: [] },
      {
        name: T.corr,
        subscriptions: [
          {
            name: "red",
            rules: [
              { name: "red", filterType: "CorrelationFilter", correlationFilter: { properties: { color: "red" } } },
            ],
          },
          {
            name: "orders",
            rules: [{ name: "orders", filterType: "CorrelationFilter", correlationFilter: { label: "order" } }],
          },
          { name: "all" },
          { name: "nothing", rules: [{ name: "never", filterType: "SqlFilter", sqlFilter: { sqlExpression: "1=0" } }] },
          {
            name: "sql",
            rules: [
              {
                name: "blue-or-plain",
                filterType: "SqlFilter",
                sqlFilter: { sqlExpression: "color = 'blue' OR (NOT EXISTS(color) AND sys.Label IS NULL)" },
              },
            ],
          },
        ],
      },
      { name: T.sched, subscriptions: [{ name: "s1" }, { name: "s2" }] },
      {
        name: T.dup,
        properties: { requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: "PT1M" },
        subscriptions: [{ name: "only" }],
      },
      { name: T.scale, subscriptions: [{ name: "first" }, { name: "second" }] },
      { name: T.fwd, subscriptions: [{ name: "tofwd", properties: { forwardTo: FWD_QUEUE } }, { name: "stay" }] },
    ],
    { [FWD_QUEUE]: {} },
  ));
});

after(() => stopSdk(client, broker));

describe("topics", () => {
  test("a message sent to a topic arrives once in each subscription, each copy with its own lock", async () => {
    const sender = client.createSender(T.fan);
    await sender.sendMessages([{ body: "one", messageId: "m1" }, { body: "two" }]);
    await sender.close();
    const got: Record<string, string[]> = {};
    for (const sub of ["a", "b", "c"]) {
      const r = client.createReceiver(T.fan, sub);
      const msgs = await receiveN(r, 2);
      got[sub] = msgs.map((m) => m.body as string);
      assert.equal(new Set(msgs.map((m) => m.lockToken)).size, 2);
      if (sub === "a") {
        // abandoning in one subscription does not touch the others' copies
        await r.abandonMessage(msgs[0]);
        const again = await receiveOne(r);
        assert.equal(again.body, "one");
        assert.equal(again.deliveryCount, 1);
        await r.completeMessage(again);
        await r.completeMessage(msgs[1]);
      } else {
        assert.equal(msgs[0].deliveryCount, 0);
        for (const m of msgs) await r.completeMessage(m);
      }
      await r.close();
    }
    assert.deepEqual(got, { a: ["one", "two"], b: ["one", "two"], c: ["one", "two"] });
    const sb = client.createReceiver(T.fan, "b");
    assert.equal((await sb.peekMessages(10)).length, 0, "completed in b");
    await sb.close();
  });

  test("the copies carry the topic's sequence number and the sender's properties", async () => {
    const sender = client.createSender(T.fan);
    await sender.sendMessages({ body: { n: 1 }, subject: "s", applicationProperties: { k: 7 }, correlationId: "c" });
    await sender.close();
    const seqs = [];
    for (const sub of ["a", "b", "c"]) {
      const r = client.createReceiver(T.fan, sub, { receiveMode: "receiveAndDelete" });
      const m = await receiveOne(r);
      assert.deepEqual(m.body, { n: 1 });
      assert.equal(m.subject, "s");
      assert.equal(m.correlationId, "c");
      assert.equal(m.applicationProperties?.k, 7);
      seqs.push(Number(m.sequenceNumber));
      await r.close();
    }
    assert.equal(new Set(seqs).size, 1);
  });

  test("a topic without subscriptions accepts and drops messages; receiving from a topic is refused", async () => {
    const sender = client.createSender(T.none);
    await sender.sendMessages({ body: "gone" });
    await sender.close();
    const r = client.createReceiver(T.none as any);
    await assert.rejects(r.receiveMessages(1, { maxWaitTimeInMs: 2000 }));
    await r.close();
  });

  test("filters decide which subscriptions get a copy", async () => {
    const sender = client.createSender(T.corr);
    await sender.sendMessages([
      { body: "red-order", subject: "order", applicationProperties: { color: "red" } },
      { body: "blue-order", subject: "order", applicationProperties: { color: "blue" } },
      { body: "red-other", applicationProperties: { color: "red" } },
      { body: "plain", partitionKey: "pk" },
    ]);
    await sender.close();
    const bodies = async (sub: string) => (await peekAll(client, `${T.corr}/Subscriptions/${sub}`)).map((m) => m.body);
    assert.deepEqual(await bodies("red"), ["red-order", "red-other"]);
    assert.deepEqual(await bodies("orders"), ["red-order", "blue-order"]);
    assert.deepEqual(await bodies("all"), ["red-order", "blue-order", "red-other", "plain"]);
    assert.deepEqual(await bodies("nothing"), []);
    assert.deepEqual(await bodies("sql"), ["blue-order", "plain"]);
  });

  test("a message scheduled on a topic lands in every subscription; cancelling by sequence number removes all copies", async () => {
    const sender = client.createSender(T.sched);
    const [kept, cancelled] = await sender.scheduleMessages(
      [{ body: "kept" }, { body: "cancelled" }],
      new Date(Date.now() + 60_000),
    );
    assert.notEqual(kept, cancelled);
    await sender.cancelScheduledMessages(cancelled);
    await sender.close();
    for (const sub of ["s1", "s2"]) {
      const peeked = await peekAll(client, `${T.sched}/Subscriptions/${sub}`);
      assert.deepEqual(
        peeked.map((m) => [m.body, m.state, String(m.sequenceNumber)]),
        [["kept", "scheduled", String(kept)]],
      );
    }
  });

  test("duplicate detection on the topic drops a repeated message id within the window", async () => {
    const sender = client.createSender(T.dup);
    await sender.sendMessages({ body: "first", messageId: "same" });
    await sender.sendMessages({ body: "second", messageId: "same" });
    await sender.sendMessages({ body: "other", messageId: "different" });
    await sender.close();
    const peeked = await peekAll(client, `${T.dup}/Subscriptions/only`);
    assert.deepEqual(
      peeked.map((m) => m.body),
      ["first", "other"],
    );
  });

  test("a subscription with forwardTo passes its copies on to the queue", async () => {
    const sender = client.createSender(T.fwd);
    await sender.sendMessages({ body: "hop" });
    await sender.close();
    const r = client.createReceiver(FWD_QUEUE, { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveOne(r)).body, "hop");
    await r.close();
    assert.deepEqual(
      (await peekAll(client, `${T.fwd}/Subscriptions/stay`)).map((m) => m.body),
      ["hop"],
    );
    assert.equal((await peekAll(client, `${T.fwd}/Subscriptions/tofwd`)).length, 0);
  });

  test("sending to a subscription is refused", async () => {
    const sender = client.createSender(`${T.fan}/Subscriptions/a`);
    await assert.rejects(sender.sendMessages({ body: "no" }));
    await sender.close();
  });
});

describe("scaling on a subscription", () => {
  test("the embedded azure-servicebus trigger counts a subscription's active messages (topicName + subscriptionName)", async () => {
    const read = (metadata: Record<string, string>) =>
      embeddedServiceBusTrigger(
        broker.platform.broker,
        "r",
        parseServiceBusMetadata(metadata, { authParams: { connection: broker.connectionString } }),
      ).read();
    const topic = T.scale;
    const sender = client.createSender(topic);
    await sender.sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    await sender.close();
    const r = client.createReceiver(topic, "second", { receiveMode: "receiveAndDelete" });
    await receiveN(r, 2);
    await r.close();
    assert.equal(await read({ topicName: topic, subscriptionName: "first" }), 3);
    assert.equal(await read({ topicName: topic, subscriptionName: "second" }), 1);
    assert.equal(await read({ topicName: topic, subscriptionName: ".*", useRegex: "true", operation: "sum" }), 4);
    await assert.rejects(read({ topicName: topic, subscriptionName: "missing" }), {
      message: `subscription missing doesn't exist in topic ${topic}`,
    });
  });
});
