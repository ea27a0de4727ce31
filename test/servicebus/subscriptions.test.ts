// Black-box: a subscription behaves like a queue for its receivers (settlement, dead-letter queue, deferral,
// sessions, lock renewal, expiry, delivery limit), and topics, subscriptions and rules survive a restart.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { QUEUE_DEFAULTS } from "../../src/model/config.js";
import { uniqueName, type TestBroker } from "../helpers/broker.js";
import { peekAll, receiveN, receiveOne, stopSdk, waitUntil } from "../helpers/sdk.js";
import { startTopics, type TopicSpec } from "../helpers/topics.js";

const T = {
  dlq: uniqueName("dlq"),
  defer: uniqueName("defer"),
  sess: uniqueName("sess"),
  renew: uniqueName("renew"),
  limit: uniqueName("limit"),
  expire: uniqueName("expire"),
};
const SUB = (t: string, s: string) => `${t}/Subscriptions/${s}`;

let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  ({ broker, client } = await startTopics([
    { name: T.dlq, subscriptions: [{ name: "s" }, { name: "other" }] },
    { name: T.defer, subscriptions: [{ name: "s" }] },
    { name: T.sess, subscriptions: [{ name: "s", properties: { requiresSession: true } }] },
    { name: T.renew, subscriptions: [{ name: "s", properties: { lockDuration: "PT5S" } }] },
    { name: T.limit, subscriptions: [{ name: "s", properties: { maxDeliveryCount: 2 } }, { name: "other" }] },
    {
      name: T.expire,
      subscriptions: [
        { name: "s", properties: { defaultMessageTimeToLive: "PT1S", deadLetteringOnMessageExpiration: true } },
        { name: "other" },
      ],
    },
  ]));
});

after(() => stopSdk(client, broker));

async function send(topic: string, messages: any): Promise<void> {
  const sender = client.createSender(topic);
  await sender.sendMessages(messages);
  await sender.close();
}

describe("subscriptions", () => {
  test("dead-lettering a copy moves it to the subscription's dead-letter queue", async () => {
    await send(T.dlq, { body: "bad" });
    const r = client.createReceiver(T.dlq, "s");
    const m = await receiveOne(r);
    await r.deadLetterMessage(m, { deadLetterReason: "Broken", deadLetterErrorDescription: "why" });
    await r.close();
    const dlq = client.createReceiver(T.dlq, "s", { subQueueType: "deadLetter", receiveMode: "receiveAndDelete" });
    const dead = await receiveOne(dlq);
    await dlq.close();
    assert.equal(dead.body, "bad");
    assert.equal(dead.deadLetterReason, "Broken");
    assert.equal(dead.deadLetterErrorDescription, "why");
    assert.equal((await peekAll(client, SUB(T.dlq, "s"))).length, 0);
    assert.equal((await peekAll(client, SUB(T.dlq, "other"))).length, 1, "the other subscription keeps its copy");
  });

  test("a deferred copy is received by its sequence number", async () => {
    await send(T.defer, { body: "later" });
    const r = client.createReceiver(T.defer, "s");
    const m = await receiveOne(r);
    await r.deferMessage(m);
    const [again] = await r.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(again.body, "later");
    await r.completeMessage(again);
    await r.close();
    assert.equal((await peekAll(client, SUB(T.defer, "s"))).length, 0);
  });

  test("a session subscription delivers by session", async () => {
    await send(T.sess, [
      { body: "a1", sessionId: "A" },
      { body: "b1", sessionId: "B" },
      { body: "a2", sessionId: "A" },
    ]);
    const a = await client.acceptSession(T.sess, "s", "A", { receiveMode: "receiveAndDelete" });
    assert.deepEqual(
      (await receiveN(a, 2)).map((m) => [m.body, m.sessionId]),
      [
        ["a1", "A"],
        ["a2", "A"],
      ],
    );
    await a.setSessionState("state-A");
    assert.equal(await a.getSessionState(), "state-A");
    await a.close();
    const next = await client.acceptNextSession(T.sess, "s", { receiveMode: "receiveAndDelete" });
    assert.equal(next.sessionId, "B");
    assert.equal((await receiveOne(next)).body, "b1");
    await next.close();
    // a copy without a session id goes to the session subscription's dead-letter queue, as the service does
    await send(T.sess, { body: "no-session" });
    const dead = await peekAll(client, SUB(T.sess, "s"), "deadLetter");
    assert.deepEqual(
      dead.map((m) => [m.body, m.deadLetterReason]),
      [["no-session", "Session id is null."]],
    );
  });

  test("a copy's lock is renewed with the subscription's lock duration", async () => {
    await send(T.renew, { body: "hold" });
    const r = client.createReceiver(T.renew, "s");
    const m = await receiveOne(r);
    const first = m.lockedUntilUtc!.getTime();
    assert.ok(first - Date.now() <= 5_500, "5 s lock");
    const renewed = await r.renewMessageLock(m);
    assert.ok(renewed.getTime() >= first);
    await r.completeMessage(m);
    await r.close();
  });

  test("a copy abandoned maxDeliveryCount times is dead-lettered in its subscription only", async () => {
    await send(T.limit, { body: "poison" });
    const r = client.createReceiver(T.limit, "s");
    for (let i = 0; i < 2; i++) await r.abandonMessage(await receiveOne(r));
    await r.close();
    const dead = await peekAll(client, SUB(T.limit, "s"), "deadLetter");
    assert.deepEqual(
      dead.map((m) => [m.body, m.deadLetterReason]),
      [["poison", "MaxDeliveryCountExceeded"]],
    );
    const other = await peekAll(client, SUB(T.limit, "other"));
    assert.deepEqual(
      other.map((m) => [m.body, m.deliveryCount]),
      [["poison", 0]],
      "the other copy is untouched",
    );
  });

  test("a copy expires by the subscription's default TTL into its dead-letter queue", async () => {
    await send(T.expire, { body: "short" });
    await waitUntil(Date.now() + 1_200);
    const r = client.createReceiver(T.expire, "s");
    assert.equal((await r.receiveMessages(1, { maxWaitTimeInMs: 500 })).length, 0);
    await r.close();
    const dead = await peekAll(client, SUB(T.expire, "s"), "deadLetter");
    assert.deepEqual(
      dead.map((m) => [m.body, m.deadLetterReason]),
      [["short", "TTLExpiredException"]],
    );
    assert.equal((await peekAll(client, SUB(T.expire, "other"))).length, 1, "the topic's TTL still holds there");
  });
});

describe("filter evaluation errors", () => {
  test("with deadLetteringOnFilterEvaluationExceptions the copy goes to the dead-letter queue, else the rule is skipped", async () => {
    const ns = broker.platform.broker.namespace("sbemulatorns")!;
    const topic = uniqueName("evalerr");
    await ns.topics.createTopic(topic, {
      defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
      requiresDuplicateDetection: false,
      duplicateDetectionHistoryTimeWindowMs: 60_000,
    });
    const props = {
      lockDurationMs: 30_000,
      maxDeliveryCount: 5,
      defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
      deadLetteringOnMessageExpiration: false,
      requiresSession: false,
    };
    const rules = [{ name: "divide", filter: { type: "sql" as const, expression: "n / d = 1" } }];
    await ns.topics.createSubscription(
      topic,
      "dl",
      { ...props, deadLetteringOnFilterEvaluationExceptions: true },
      { rules },
    );
    await ns.topics.createSubscription(topic, "skip", props, { rules });
    const sender = client.createSender(topic);
    await sender.sendMessages([
      { body: "ok", applicationProperties: { n: 2, d: 2 } },
      { body: "zero", applicationProperties: { n: 1, d: 0 } },
    ]);
    await sender.close();
    assert.deepEqual(
      (await peekAll(client, SUB(topic, "dl"))).map((m) => m.body),
      ["ok"],
    );
    const dead = await peekAll(client, SUB(topic, "dl"), "deadLetter");
    assert.deepEqual(
      dead.map((m) => [m.body, m.deadLetterReason]),
      [["zero", "FilterEvaluationException"]],
    );
    assert.deepEqual(
      (await peekAll(client, SUB(topic, "skip"))).map((m) => m.body),
      ["ok"],
    );
    assert.equal((await peekAll(client, SUB(topic, "skip"), "deadLetter")).length, 0);
  });
});

describe("restart", () => {
  test("topics, subscriptions, rules and the copies in subscriptions survive a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "eventjobs-topics-"));
    const declared = uniqueName("decl");
    const spec: TopicSpec[] = [{ name: declared, subscriptions: [{ name: "kept" }] }];
    let b: TestBroker | undefined;
    let c: ServiceBusClient | undefined;
    try {
      ({ broker: b, client: c } = await startTopics(spec, {}, { dataDir }));
      const ns = b.platform.broker.namespace("sbemulatorns")!;
      const runtime = uniqueName("rt");
      await ns.topics.createTopic(runtime, {
        defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
        requiresDuplicateDetection: false,
        duplicateDetectionHistoryTimeWindowMs: 60_000,
      });
      await ns.topics.createSubscription(runtime, "s", {
        lockDurationMs: 30_000,
        maxDeliveryCount: 5,
        defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
        deadLetteringOnMessageExpiration: false,
        requiresSession: false,
      });
      const rm = c.createRuleManager(declared, "kept");
      await rm.createRule("mine", { applicationProperties: { x: 1 } });
      await rm.createRule("dated", { applicationProperties: { at: new Date(946684800000) } });
      const sender = c.createSender(runtime);
      await sender.sendMessages({ body: "durable" });
      await sender.close();
      const s2 = c.createSender(declared);
      await s2.sendMessages({ body: "declared", applicationProperties: { x: 1 } });
      await s2.close();
      await c.close();
      await b.close();

      ({ broker: b, client: c } = await startTopics(spec, {}, { dataDir }));
      const r = c.createReceiver(runtime, "s", { receiveMode: "receiveAndDelete" });
      assert.equal((await receiveOne(r)).body, "durable");
      await r.close();
      const names = [];
      let dated: any;
      for await (const rule of c.createRuleManager(declared, "kept").listRules()) {
        names.push(rule.name);
        if (rule.name === "dated") dated = rule.filter;
      }
      assert.deepEqual(names, ["$Default", "dated", "mine"]);
      assert.deepEqual(dated.applicationProperties, { at: new Date(946684800000) }, "typed values survive");
      assert.deepEqual(
        (await peekAll(c, `${declared}/Subscriptions/kept`)).map((m) => m.body),
        ["declared"],
      );
      const ns2 = b.platform.broker.namespace("sbemulatorns")!;
      assert.equal(ns2.topics.getSubscription(runtime, "s")?.properties.maxDeliveryCount, 5);
      // deleting a topic deletes its subscriptions and their messages
      const again = c.createSender(runtime);
      await again.sendMessages({ body: "gone with the topic" });
      await again.close();
      assert.equal(await ns2.topics.deleteTopic(runtime), true);
      await c.close();
      await b.close();
      ({ broker: b, client: c } = await startTopics(spec, {}, { dataDir }));
      assert.equal(b.platform.broker.namespace("sbemulatorns")!.topics.topic(runtime), undefined);
    } finally {
      await c?.close();
      await b?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("forwarding and the namespace API", () => {
  const props = {
    lockDurationMs: 30_000,
    maxDeliveryCount: 1,
    defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
    deadLetteringOnMessageExpiration: false,
    requiresSession: false,
  };
  const topicProps = {
    defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
    requiresDuplicateDetection: false,
    duplicateDetectionHistoryTimeWindowMs: 60_000,
  };

  test("forwardDeadLetteredMessagesTo sends a subscription's dead letters to a topic, which fans them out", async () => {
    const ns = broker.platform.broker.namespace("sbemulatorns")!;
    const source = uniqueName("src");
    const sink = uniqueName("sink");
    await ns.topics.createTopic(sink, topicProps);
    await ns.topics.createSubscription(sink, "x", props);
    await ns.topics.createSubscription(sink, "y", props);
    await ns.topics.createTopic(source, topicProps);
    await ns.topics.createSubscription(source, "s", { ...props, forwardDeadLetteredMessagesTo: sink });
    await send(source, { body: "dead" });
    const r = client.createReceiver(source, "s");
    await r.abandonMessage(await receiveOne(r));
    await r.close();
    for (const sub of ["x", "y"]) {
      assert.deepEqual(
        (await peekAll(client, SUB(sink, sub))).map((m) => [m.body, m.deadLetterReason]),
        [["dead", "MaxDeliveryCountExceeded"]],
      );
    }
    assert.equal((await peekAll(client, SUB(source, "s"), "deadLetter")).length, 0);
  });

  test("a forwarding cycle between topics stops after four hops", async () => {
    const ns = broker.platform.broker.namespace("sbemulatorns")!;
    const [a, b] = [uniqueName("ca"), uniqueName("cb")];
    await ns.topics.createTopic(a, topicProps);
    await ns.topics.createTopic(b, topicProps);
    await ns.topics.createSubscription(a, "s", { ...props, forwardTo: b });
    await ns.topics.createSubscription(b, "s", { ...props, forwardTo: a });
    await send(a, { body: "loop" });
    const left = [...(await peekAll(client, SUB(a, "s"))), ...(await peekAll(client, SUB(b, "s")))];
    assert.deepEqual(
      left.map((m) => m.body),
      ["loop"],
    );
  });

  test("list, get, update and delete through the namespace API, with counts", async () => {
    const ns = broker.platform.broker.namespace("sbemulatorns")!;
    const t = uniqueName("api");
    await ns.topics.createTopic(t, topicProps, { UserMetadata: "meta" });
    await assert.rejects(ns.topics.createTopic(t, topicProps), { code: "EntityAlreadyExists" });
    await ns.topics.createSubscription(t, "one", props);
    await ns.topics.createSubscription(t, "two", props, {
      rules: [{ name: "red", filter: { type: "correlation", properties: { color: "red" } } }],
    });
    await send(t, [{ body: 1, applicationProperties: { color: "red" } }, { body: 2 }]);
    const info = ns.topics.getTopic(t)!;
    assert.equal(info.extras.UserMetadata, "meta");
    assert.equal(info.counts.subscriptionCount, 2);
    assert.equal(info.counts.active, 3);
    assert.ok(ns.topics.listTopics().some((x) => x.name === t));
    assert.deepEqual(
      ns.topics.listSubscriptions(t).map((s) => [s.name, s.counts.active, s.counts.messageCount]),
      [
        ["one", 2, 2],
        ["two", 1, 1],
      ],
    );
    assert.deepEqual(
      ns.topics.rules(t, "two").map((r) => r.name),
      ["red"],
    );
    const updated = await ns.topics.updateSubscription(t, "one", { ...props, maxDeliveryCount: 7 });
    assert.equal(updated.properties.maxDeliveryCount, 7);
    await ns.topics.updateRule(t, "two", { name: "red", filter: { type: "sql", expression: "color = 'blue'" } });
    assert.equal(ns.topics.getRule(t, "two", "RED")?.filter.type, "sql");
    assert.equal(await ns.topics.deleteSubscription(t, "one"), true);
    assert.deepEqual(ns.topics.subscriptionNames(t), ["two"]);
    assert.throws(() => ns.createQueue(t, QUEUE_DEFAULTS), { code: "EntityAlreadyExists" }, "one name space");
    assert.equal(await ns.topics.deleteTopic(t), true);
    assert.equal(ns.topics.getTopic(t), undefined);
  });
});
