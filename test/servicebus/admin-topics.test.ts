// Black-box tests of the ATOM admin API for topics and subscriptions through @azure/service-bus 7.9.5's
// ServiceBusAdministrationClient (over HTTP in-process, over HTTPS unmodified in a child process), with
// messages sent and received through ServiceBusClient to check run-time counts and forwarding.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { rmSync } from "node:fs";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { adminClient, runAdminScript } from "../helpers/admin.js";
import { receiveN } from "../helpers/sdk.js";
import { startTopics } from "../helpers/topics.js";

const UNLIMITED = "P10675199DT2H48M5.4775807S";
const TIMES = ["createdAt", "modifiedAt", "accessedAt"];
const KEY = "bm90LWEtcmVhbC1rZXktanVzdC1hLXRlc3QtdmFsdWU=";

let broker: TestBroker;
let sdk: ServiceBusClient;
const queue = uniqueName("adt-q");

before(async () => {
  ({ broker, client: sdk } = await startTopics([], { [queue]: {} }));
});
after(async () => {
  await sdk?.close();
  await broker?.close();
});

/** A plain copy without the SDK's non-enumerable _response and without the time stamps. */
function plain(o: object, drop: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = { ...o };
  for (const k of [...TIMES, ...drop]) delete out[k];
  return out;
}

describe("topics through ServiceBusAdministrationClient", () => {
  test("createTopic without options: the service's defaults", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("adt-t");
    const created = await admin.createTopic(t);
    assert.deepEqual(plain(created), {
      name: t,
      maxSizeInMegabytes: 1024,
      enablePartitioning: false,
      supportOrdering: true,
      enableBatchedOperations: true,
      defaultMessageTimeToLive: UNLIMITED,
      autoDeleteOnIdle: UNLIMITED,
      requiresDuplicateDetection: false,
      duplicateDetectionHistoryTimeWindow: "PT10M",
      authorizationRules: undefined,
      userMetadata: undefined,
      status: "Active",
      enableExpress: false,
      availabilityStatus: "Available",
      maxMessageSizeInKilobytes: 256,
    });
    const rt = await admin.getTopicRuntimeProperties(t);
    assert.ok(rt.createdAt instanceof Date && Math.abs(rt.createdAt.getTime() - Date.now()) < 60_000);
    assert.equal(rt.subscriptionCount, 0);
    assert.equal(rt.sizeInBytes, 0);
    assert.deepEqual(plain(await admin.getTopic(t)), plain(created));
    assert.equal(await admin.topicExists(t), true);
    await admin.deleteTopic(t);
    assert.equal(await admin.topicExists(t), false);
  });

  test("createTopic with every property, then updateTopic (If-Match: *)", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("adt-t");
    const rules = [
      {
        claimType: "SharedAccessKey",
        accessRights: ["Manage", "Send", "Listen"] as ("Manage" | "Send" | "Listen")[],
        keyName: "all-rights",
        primaryKey: KEY,
        secondaryKey: KEY.split("").reverse().join(""),
      },
      {
        claimType: "SharedAccessKey",
        accessRights: ["Send"] as "Send"[],
        keyName: "sender",
        primaryKey: KEY,
        secondaryKey: KEY,
      },
    ];
    const created = await admin.createTopic(t, {
      requiresDuplicateDetection: true,
      defaultMessageTimeToLive: "P2D",
      duplicateDetectionHistoryTimeWindow: "PT1M",
      enableBatchedOperations: false,
      status: "SendDisabled",
      enablePartitioning: true,
      supportOrdering: false,
      userMetadata: "topic metadata",
      autoDeleteOnIdle: "PT1H",
      authorizationRules: rules,
    });
    assert.deepEqual(plain(created), {
      name: t,
      maxSizeInMegabytes: 16384, // partitioned: 16 partitions of 1024
      enablePartitioning: true,
      supportOrdering: false,
      enableBatchedOperations: false,
      defaultMessageTimeToLive: "P2D",
      autoDeleteOnIdle: "PT1H",
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: "PT1M",
      authorizationRules: rules,
      userMetadata: "topic metadata",
      status: "SendDisabled",
      enableExpress: false,
      availabilityStatus: "Available",
      maxMessageSizeInKilobytes: 256,
    });

    const props = await admin.getTopic(t);
    props.defaultMessageTimeToLive = "P1D";
    props.userMetadata = "changed";
    props.status = "Active";
    props.authorizationRules = rules.slice(1);
    const updated = await admin.updateTopic(props);
    assert.equal(updated.defaultMessageTimeToLive, "P1D");
    assert.equal(updated.userMetadata, "changed");
    assert.equal(updated.status, "Active");
    assert.equal(updated.maxSizeInMegabytes, 16384, "the size read back stays what it was");
    assert.deepEqual(updated.authorizationRules, rules.slice(1));
    const rt = await admin.getTopicRuntimeProperties(t);
    assert.ok(rt.modifiedAt.getTime() >= rt.createdAt.getTime());
    await assert.rejects(admin.updateTopic({ ...props, enablePartitioning: false }), { statusCode: 400 });
    await admin.deleteTopic(t);
  });

  test("listTopics and listTopicsRuntimeProperties page with $skip/$top", async () => {
    const admin = adminClient(broker);
    const names = [uniqueName("adt-l"), uniqueName("adt-l"), uniqueName("adt-l")];
    for (const n of names) await admin.createTopic(n);
    const pages: string[][] = [];
    for await (const page of admin.listTopics().byPage({ maxPageSize: 2 })) pages.push(page.map((p) => p.name));
    assert.ok(pages.length >= 2, JSON.stringify(pages));
    assert.ok(pages.every((p) => p.length <= 2));
    for (const n of names) assert.ok(pages.flat().includes(n), n);
    const runtime: string[] = [];
    for await (const r of admin.listTopicsRuntimeProperties({ maxPageSize: 1 })) runtime.push(r.name);
    assert.deepEqual(runtime, pages.flat());
    for (const n of names) await admin.deleteTopic(n);
  });

  test("errors: 404, 409, a topic named like a queue and a queue named like a topic, 400 naming the field", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("adt-e");
    await admin.createTopic(t);
    await assert.rejects(admin.createTopic(t), { code: "MessageEntityAlreadyExistsError", statusCode: 409 });
    await assert.rejects(admin.createTopic(queue), { code: "MessageEntityAlreadyExistsError", statusCode: 409 });
    await assert.rejects(admin.createQueue(t), { code: "MessageEntityAlreadyExistsError", statusCode: 409 });
    const missing = uniqueName("adt-none");
    await assert.rejects(admin.getTopic(missing), { code: "MessageEntityNotFoundError", statusCode: 404 });
    await assert.rejects(admin.getTopicRuntimeProperties(missing), { statusCode: 404 });
    await assert.rejects(admin.deleteTopic(missing), { code: "MessageEntityNotFoundError", statusCode: 404 });
    await assert.rejects(admin.updateTopic({ ...(await admin.getTopic(t)), name: missing }), { statusCode: 404 });
    await assert.rejects(
      admin.createTopic(uniqueName("adt-bad"), { duplicateDetectionHistoryTimeWindow: "PT1S" }),
      (e: Error & { code?: string; statusCode?: number }) => {
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, "ServiceError");
        assert.match(e.message, /'PT1S' of property 'DuplicateDetectionHistoryTimeWindow'/);
        return true;
      },
    );
    await assert.rejects(admin.createTopic(uniqueName("adt-bad"), { maxSizeInMegabytes: 1000 }), (e: Error) => {
      assert.match(e.message, /'1000' of property 'MaxSizeInMegabytes'/);
      return true;
    });
    await assert.rejects(
      admin.createTopic(uniqueName("adt-bad"), {
        authorizationRules: [
          { claimType: "SharedAccessKey", accessRights: ["Manage"], keyName: "m", primaryKey: KEY, secondaryKey: KEY },
        ],
      }),
      /Manage requires Send and Listen/,
    );
    await admin.deleteTopic(t);
  });

  test("queues keep their AuthorizationRules too", async () => {
    const admin = adminClient(broker);
    const q = uniqueName("adt-qr");
    const rules = [
      {
        claimType: "SharedAccessKey",
        accessRights: ["Listen"] as "Listen"[],
        keyName: "reader",
        primaryKey: KEY,
        secondaryKey: KEY,
      },
    ];
    const created = await admin.createQueue(q, { authorizationRules: rules });
    assert.deepEqual(created.authorizationRules, rules);
    assert.deepEqual((await admin.getQueue(q)).authorizationRules, rules);
    await admin.deleteQueue(q);
  });
});

describe("subscriptions through ServiceBusAdministrationClient", () => {
  test("createSubscription without options: the service's defaults, and the $Default rule", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("ads-t");
    await admin.createTopic(t);
    const created = await admin.createSubscription(t, "plain");
    assert.deepEqual(plain(created), {
      subscriptionName: "plain",
      topicName: t,
      lockDuration: "PT1M",
      maxDeliveryCount: 10,
      requiresSession: false,
      enableBatchedOperations: true,
      defaultMessageTimeToLive: UNLIMITED,
      autoDeleteOnIdle: UNLIMITED,
      deadLetteringOnMessageExpiration: false,
      deadLetteringOnFilterEvaluationExceptions: true,
      forwardDeadLetteredMessagesTo: undefined,
      forwardTo: undefined,
      userMetadata: undefined,
      status: "Active",
      availabilityStatus: "Available",
    });
    assert.deepEqual(plain(await admin.getSubscription(t, "plain")), plain(created));
    const rules = [];
    for await (const r of admin.listRules(t, "plain")) rules.push(r);
    assert.deepEqual(rules, [
      {
        name: "$Default",
        filter: { sqlExpression: "1=1", sqlParameters: undefined },
        action: { sqlExpression: undefined, sqlParameters: undefined },
      },
    ]);
    assert.equal(await admin.subscriptionExists(t, "plain"), true);
    await admin.deleteSubscription(t, "plain");
    assert.equal(await admin.subscriptionExists(t, "plain"), false);
    await admin.deleteTopic(t);
  });

  test("createSubscription with every property and a default rule; updateSubscription", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("ads-t");
    await admin.createTopic(t);
    const defaultRuleOptions = {
      name: "only-red",
      filter: { correlationId: "c-1", subject: "red", applicationProperties: { region: "EU", level: 3 } },
      action: { sqlExpression: "SET tagged='yes'", sqlParameters: undefined },
    };
    const created = await admin.createSubscription(t, "full", {
      lockDuration: "PT5M",
      maxDeliveryCount: 20,
      defaultMessageTimeToLive: "P2D",
      autoDeleteOnIdle: "PT1H",
      deadLetteringOnFilterEvaluationExceptions: false,
      deadLetteringOnMessageExpiration: true,
      enableBatchedOperations: false,
      requiresSession: true,
      userMetadata: "sub metadata",
      status: "ReceiveDisabled",
      defaultRuleOptions,
    });
    assert.deepEqual(plain(created), {
      subscriptionName: "full",
      topicName: t,
      lockDuration: "PT5M",
      maxDeliveryCount: 20,
      requiresSession: true,
      enableBatchedOperations: false,
      defaultMessageTimeToLive: "P2D",
      autoDeleteOnIdle: "PT1H",
      deadLetteringOnMessageExpiration: true,
      deadLetteringOnFilterEvaluationExceptions: false,
      forwardDeadLetteredMessagesTo: undefined,
      forwardTo: undefined,
      userMetadata: "sub metadata",
      status: "ReceiveDisabled",
      availabilityStatus: "Available",
    });
    const rule = await admin.getRule(t, "full", "only-red");
    assert.deepEqual(plain(rule), {
      name: "only-red",
      filter: {
        correlationId: "c-1",
        subject: "red",
        to: undefined,
        replyTo: undefined,
        replyToSessionId: undefined,
        sessionId: undefined,
        messageId: undefined,
        contentType: undefined,
        applicationProperties: { region: "EU", level: 3 },
      },
      action: defaultRuleOptions.action,
    });
    assert.equal(await admin.ruleExists(t, "full", "$Default"), false, "the default rule replaced $Default");

    const props = await admin.getSubscription(t, "full");
    props.maxDeliveryCount = 7;
    props.lockDuration = "PT30S";
    props.status = "Active";
    const updated = await admin.updateSubscription(props);
    assert.equal(updated.maxDeliveryCount, 7);
    assert.equal(updated.lockDuration, "PT30S");
    assert.equal(updated.status, "Active");
    await assert.rejects(
      admin.updateSubscription({ ...updated, requiresSession: false }),
      (e: Error & { statusCode?: number }) => {
        assert.equal(e.statusCode, 400);
        assert.match(e.message, /RequiresSession/);
        return true;
      },
    );
    await admin.deleteTopic(t);
    await assert.rejects(admin.getSubscription(t, "full"), { code: "MessageEntityNotFoundError" });
  });

  test("forwardTo and forwardDeadLetteredMessagesTo: names or URLs, reported as sb:// URLs, and messages follow", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("ads-t");
    const target = uniqueName("ads-fwd");
    await admin.createQueue(target);
    await admin.createTopic(t);
    const byName = await admin.createSubscription(t, "by-name", {
      forwardTo: target,
      forwardDeadLetteredMessagesTo: target,
    });
    assert.equal(new URL(byName.forwardTo!).protocol, "sb:");
    assert.equal(new URL(byName.forwardTo!).pathname, `/${target}`);
    assert.equal(new URL(byName.forwardDeadLetteredMessagesTo!).pathname, `/${target}`);
    const upper = `sb://localhost:${broker.port}/${target}`.toUpperCase();
    const byUrl = await admin.createSubscription(t, "by-url", { forwardTo: upper });
    assert.equal(new URL(byUrl.forwardTo!).pathname, `/${target.toUpperCase()}`, "the name as given");
    await assert.rejects(admin.createSubscription(t, "nowhere", { forwardTo: uniqueName("ads-none") }), {
      statusCode: 400,
    });
    await sdk.createSender(t).sendMessages({ body: "forwarded" });
    const got = await receiveN(sdk.createReceiver(target, { receiveMode: "receiveAndDelete" }), 2);
    assert.deepEqual(
      got.map((m) => m.body),
      ["forwarded", "forwarded"],
    );
    await admin.deleteTopic(t);
    await admin.deleteQueue(target);
  });

  test("a queue's forwardTo and forwardDeadLetteredMessagesTo may name a topic: messages reach its subscriptions", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("adq-t");
    const q = uniqueName("adq-q");
    await admin.createTopic(t);
    await admin.createSubscription(t, "all");
    const created = await admin.createQueue(q, { forwardTo: t, forwardDeadLetteredMessagesTo: t });
    assert.equal(new URL(created.forwardTo!).pathname, `/${t}`);
    assert.equal(new URL(created.forwardDeadLetteredMessagesTo!).pathname, `/${t}`);
    const updated = await admin.updateQueue({ ...created, forwardTo: `sb://localhost:${broker.port}/${t}` });
    assert.equal(new URL(updated.forwardTo!).pathname, `/${t}`);
    await sdk.createSender(q).sendMessages({ body: "via the queue" });
    const got = await receiveN(sdk.createReceiver(t, "all", { receiveMode: "receiveAndDelete" }), 1);
    assert.deepEqual(
      got.map((m) => m.body),
      ["via the queue"],
    );
    await admin.deleteQueue(q);
    await admin.deleteTopic(t);
  });

  test("listSubscriptions pages; errors for missing topics and subscriptions, 409 for duplicates", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("ads-t");
    await admin.createTopic(t);
    const subs = ["a1", "b2", "c3", "d4", "e5"];
    for (const s of subs) await admin.createSubscription(t, s);
    const pages: string[][] = [];
    for await (const page of admin.listSubscriptions(t).byPage({ maxPageSize: 2 })) {
      pages.push(page.map((p) => p.subscriptionName));
    }
    assert.deepEqual(pages, [["a1", "b2"], ["c3", "d4"], ["e5"]]);
    const runtime: string[] = [];
    for await (const r of admin.listSubscriptionsRuntimeProperties(t))
      runtime.push(`${r.topicName}/${r.subscriptionName}`);
    assert.deepEqual(
      runtime,
      subs.map((s) => `${t}/${s}`),
    );
    assert.equal((await admin.getTopicRuntimeProperties(t)).subscriptionCount, 5);

    await assert.rejects(admin.createSubscription(t, "a1"), {
      code: "MessageEntityAlreadyExistsError",
      statusCode: 409,
    });
    const missing = uniqueName("ads-none");
    await assert.rejects(admin.createSubscription(missing, "x"), { code: "MessageEntityNotFoundError" });
    await assert.rejects(admin.getSubscription(t, "zz"), { code: "MessageEntityNotFoundError", statusCode: 404 });
    await assert.rejects(admin.deleteSubscription(t, "zz"), { code: "MessageEntityNotFoundError" });
    await assert.rejects(admin.createSubscription(t, "bad", { maxDeliveryCount: 0 }), (e: Error) => {
      assert.match(e.message, /'0' of property 'MaxDeliveryCount'/);
      return true;
    });
    await assert.rejects(admin.createSubscription(t, "bad/name"), { statusCode: 400 });
    await admin.deleteTopic(t);
  });

  test("run-time counts after sends: active, scheduled and dead-lettered per subscription; the topic's subscription count", async () => {
    const admin = adminClient(broker);
    const t = uniqueName("ads-rt");
    await admin.createTopic(t);
    await admin.createSubscription(t, "all");
    await admin.createSubscription(t, "red", {
      defaultRuleOptions: { name: "red", filter: { subject: "red" } },
    });
    const sender = sdk.createSender(t);
    await sender.sendMessages([
      { body: 1, subject: "red" },
      { body: 2, subject: "red" },
      { body: 3, subject: "blue" },
    ]);
    await sender.scheduleMessages({ body: 4, subject: "blue" }, new Date(Date.now() + 3600_000));
    const receiver = sdk.createReceiver(t, "all");
    const [first] = await receiveN(receiver, 1);
    await receiver.deadLetterMessage(first, { deadLetterReason: "test" });

    const all = await admin.getSubscriptionRuntimeProperties(t, "all");
    assert.deepEqual(plain(all), {
      subscriptionName: "all",
      topicName: t,
      totalMessageCount: 4, // 2 active, 1 dead-lettered, 1 scheduled
      activeMessageCount: 2,
      deadLetterMessageCount: 1,
      transferMessageCount: 0,
      transferDeadLetterMessageCount: 0,
    });
    const red = await admin.getSubscriptionRuntimeProperties(t, "red");
    assert.equal(red.activeMessageCount, 2);
    assert.equal(red.deadLetterMessageCount, 0);
    assert.equal(red.totalMessageCount, 2);
    const topic = await admin.getTopicRuntimeProperties(t);
    assert.equal(topic.name, t);
    assert.equal(topic.subscriptionCount, 2);
    assert.equal(topic.scheduledMessageCount, 1);
    assert.ok((topic.sizeInBytes ?? 0) > 0);
    assert.ok(topic.accessedAt.getTime() > Date.now() - 60_000, "accessed just now");
    await receiver.close();
    await admin.deleteTopic(t);
  });

  test("over HTTPS, unmodified: topic, subscription, rule, runtime properties, listing, errors", async () => {
    const t = uniqueName("ads-https");
    const out = await runAdminScript(
      broker,
      `
      const t = env.topic;
      const topic = await admin.createTopic(t, { maxSizeInMegabytes: 2048 });
      const sub = await admin.createSubscription(t, "s1", { maxDeliveryCount: 4, defaultRuleOptions: { name: "r0", filter: { sqlExpression: "1=1" } } });
      const rule = await admin.createRule(t, "s1", "r1", { correlationId: "x" }, { sqlExpression: "SET a='b'" });
      const rt = await admin.getSubscriptionRuntimeProperties(t, "s1");
      const rules = [];
      for await (const r of admin.listRules(t, "s1")) rules.push(r.name);
      const topics = [];
      for await (const x of admin.listTopics()) topics.push(x.name);
      let code;
      try { await admin.getSubscription(t, "missing"); } catch (e) { code = e.code; }
      await admin.deleteTopic(t);
      console.log(JSON.stringify({ size: topic.maxSizeInMegabytes, mdc: sub.maxDeliveryCount, rule: rule.filter.correlationId, total: rt.totalMessageCount, rules, listed: topics.includes(t), code, exists: await admin.topicExists(t) }));
      `,
      { topic: t },
    );
    assert.deepEqual(out, {
      size: 2048,
      mdc: 4,
      rule: "x",
      total: 0,
      rules: ["r0", "r1"],
      listed: true,
      code: "MessageEntityNotFoundError",
      exists: false,
    });
  });
});

describe("admin-made topics across a restart", () => {
  test("topics, subscriptions, rules, echoed properties and messages come back", async () => {
    const first = await startTopics([]);
    const t = uniqueName("adp-t");
    let admin = adminClient(first.broker);
    await admin.createTopic(t, {
      userMetadata: "kept",
      duplicateDetectionHistoryTimeWindow: "PT2M",
      authorizationRules: [
        { claimType: "SharedAccessKey", accessRights: ["Send"], keyName: "s", primaryKey: KEY, secondaryKey: KEY },
      ],
    });
    await admin.createSubscription(t, "s1", {
      maxDeliveryCount: 3,
      userMetadata: "sub kept",
      defaultRuleOptions: {
        name: "priced",
        filter: { sqlExpression: "price > @min", sqlParameters: { "@min": 10 } },
        action: { sqlExpression: "SET seen = 'yes'" },
      },
    });
    await admin.createRule(t, "s1", "by-corr", {
      correlationId: "c",
      applicationProperties: { n: 1, when: new Date("2025-01-02T03:04:05.006Z") },
    });
    await first.client.createSender(t).sendMessages({ body: "held", applicationProperties: { price: 20 } });
    const before = {
      topic: plain(await admin.getTopic(t)),
      sub: plain(await admin.getSubscription(t, "s1")),
      rules: [] as object[],
    };
    for await (const r of admin.listRules(t, "s1")) before.rules.push(plain(r));
    await first.client.close();
    await first.broker.close({ keepData: true });

    const second = await startTopics([], {}, { dataDir: first.broker.dataDir });
    try {
      admin = adminClient(second.broker);
      assert.deepEqual(plain(await admin.getTopic(t)), before.topic);
      assert.deepEqual(plain(await admin.getSubscription(t, "s1")), before.sub);
      const rules: object[] = [];
      for await (const r of admin.listRules(t, "s1")) rules.push(plain(r));
      assert.deepEqual(rules, before.rules);
      assert.equal((await admin.getSubscriptionRuntimeProperties(t, "s1")).activeMessageCount, 1);
      const [m] = await receiveN(second.client.createReceiver(t, "s1", { receiveMode: "receiveAndDelete" }), 1);
      assert.deepEqual([m?.body, m?.applicationProperties?.seen], ["held", "yes"]);
    } finally {
      await second.client.close();
      await second.broker.close();
      rmSync(first.broker.dataDir, { recursive: true, force: true });
    }
  });
});

describe("admin API authorization for topics, subscriptions and rules", () => {
  test("a policy without Manage gets the service's 401 on every kind", async () => {
    const policies = `    authorizationRules:
      - name: RootManageSharedAccessKey
        rights: [Listen, Send, Manage]
        primaryKey: SAS_KEY_VALUE
      - name: listener
        rights: [Listen]
        primaryKey: listen-key-0123456789`;
    const b = await startBroker(queuesYaml({}, policies), { inMemory: true });
    try {
      const root = adminClient(b);
      const t = uniqueName("adz-t");
      await root.createTopic(t);
      await root.createSubscription(t, "s");
      const listener = adminClient(
        b,
        `Endpoint=sb://localhost:${b.port};SharedAccessKeyName=listener;SharedAccessKey=listen-key-0123456789;UseDevelopmentEmulator=true;`,
      );
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["getTopic", () => listener.getTopic(t)],
        ["createTopic", () => listener.createTopic(uniqueName("adz-x"))],
        ["deleteTopic", () => listener.deleteTopic(t)],
        ["createSubscription", () => listener.createSubscription(t, "other")],
        ["getSubscriptionRuntimeProperties", () => listener.getSubscriptionRuntimeProperties(t, "s")],
        ["getRule", () => listener.getRule(t, "s", "$Default")],
        ["createRule", () => listener.createRule(t, "s", "r", { correlationId: "x" })],
        ["listTopics", () => listener.listTopics().next()],
      ];
      for (const [name, call] of calls) {
        await assert.rejects(call(), (e: Error & { code?: string; statusCode?: number }) => {
          assert.equal(e.statusCode, 401, name);
          assert.equal(e.code, "UnauthorizedRequestError", name);
          return true;
        });
      }
      assert.equal(await root.ruleExists(t, "s", "r"), false);
      assert.equal((await root.getTopicRuntimeProperties(t)).subscriptionCount, 1);
    } finally {
      await b.close();
    }
  });
});

describe("queues created without options", () => {
  test("report the service's defaults, with an unlimited TTL", async () => {
    const admin = adminClient(broker);
    const q = uniqueName("adt-qd");
    const created = await admin.createQueue(q);
    assert.deepEqual(plain(created), {
      name: q,
      lockDuration: "PT1M",
      maxSizeInMegabytes: 1024,
      requiresDuplicateDetection: false,
      requiresSession: false,
      defaultMessageTimeToLive: UNLIMITED,
      deadLetteringOnMessageExpiration: false,
      duplicateDetectionHistoryTimeWindow: "PT10M",
      maxDeliveryCount: 10,
      enableBatchedOperations: true,
      autoDeleteOnIdle: UNLIMITED,
      authorizationRules: undefined,
      status: "Active",
      forwardTo: undefined,
      forwardDeadLetteredMessagesTo: undefined,
      userMetadata: undefined,
      enablePartitioning: false,
      enableExpress: false,
      availabilityStatus: "Available",
      maxMessageSizeInKilobytes: 256,
    });
    await sdk.createSender(q).sendMessages({ body: "kept" });
    const [m] = await receiveN(sdk.createReceiver(q, { receiveMode: "receiveAndDelete" }), 1);
    assert.equal(m?.body, "kept");
    await admin.deleteQueue(q);
  });
});
