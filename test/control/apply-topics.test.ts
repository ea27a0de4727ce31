// Topics, subscriptions and rules through plan / apply / destroy, in-process: the broker serves what apply
// makes, changes are diffed field by field, a failure undoes everything, and what was made at run time stays.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { parseConfigText } from "../../src/config/load.js";
import { ApplyError } from "../../src/control/project-service.js";
import { ConfigError } from "../../src/model/config.js";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { peekAll, receiveOne, RETRY } from "../helpers/sdk.js";

const NS = "topics-apply-ns";

function yaml(o: { lock?: string; rules?: string; extraSub?: boolean; topic?: boolean } = {}): string {
  const topic = `    topics:
      - name: orders
        properties: { requiresDuplicateDetection: true }
        subscriptions:
          - name: audit
            properties: { lockDuration: ${o.lock ?? "PT30S"}, maxDeliveryCount: 4 }
          - name: eu-only
            rules:
${
  o.rules ??
  `              - name: eu
                filterType: CorrelationFilter
                correlationFilter: { label: eu, properties: { tier: gold } }
`
}${o.extraSub ? "          - name: extra\n" : ""}`;
  return `namespaces:
  - name: ${NS}
    queues:
      - name: plain
${o.topic === false ? "" : topic}`;
}

describe("apply with topics", () => {
  let b: TestBroker;
  const parse = (text: string) => b.platform.project.keepKeys(parseConfigText(text, join(b.dataDir, "eventjobs.yaml")));
  const topics = () => b.platform.broker.namespace(NS)!.topics;
  const lines = async (text: string) =>
    (await b.platform.project.plan(parse(text))).changes.map((c) => `${c.action} ${c.title}`);

  before(async () => {
    b = await startBroker(`namespaces:\n  - name: ${NS}\n    queues:\n      - name: plain\n`);
  });
  after(() => b?.close());

  it("creates served topics, subscriptions and rules, and a second apply changes nothing", async () => {
    assert.deepEqual(await lines(yaml()), [
      `create topic ${NS}/orders`,
      `create subscription ${NS}/orders/audit`,
      `create subscription ${NS}/orders/eu-only`,
      `create rule ${NS}/orders/eu-only/eu`,
    ]);
    await b.platform.project.apply(parse(yaml()));
    assert.equal(topics().getTopic("orders")!.properties.requiresDuplicateDetection, true);
    assert.equal(topics().getSubscription("orders", "audit")!.properties.lockDurationMs, 30_000);
    assert.deepEqual(
      topics()
        .rules("orders", "eu-only")
        .map((r) => r.name),
      ["eu"],
      "a subscription with declared rules has only those",
    );
    assert.deepEqual(
      topics()
        .rules("orders", "audit")
        .map((r) => r.name),
      ["$Default"],
    );
    assert.deepEqual(await lines(yaml()), []);

    // served: the SDK sends to the topic and the rule routes
    const client = new ServiceBusClient(b.platform.connectionString(NS), RETRY);
    try {
      const sender = client.createSender("orders");
      await sender.sendMessages([
        { body: "us", subject: "us", applicationProperties: { tier: "gold" } },
        { body: "gold-eu", subject: "eu", applicationProperties: { tier: "gold" } },
      ]);
      await sender.close();
      const got = await receiveOne(client.createReceiver("orders", "eu-only", { receiveMode: "receiveAndDelete" }));
      assert.equal(got.body, "gold-eu");
      const audit = await peekAll(client, "orders/Subscriptions/audit");
      assert.deepEqual(
        audit.map((m) => m.body),
        ["us", "gold-eu"],
      );
    } finally {
      await client.close();
    }
  });

  it("changes fields in place and adds or replaces rules; a failure part-way undoes them", async () => {
    const changed = yaml({
      lock: "PT45S",
      rules: `              - name: eu
                filterType: SqlFilter
                sqlFilter: { sqlExpression: "sys.Label = 'eu'" }
                action: { sqlExpression: "SET routed = 'yes'" }
`,
    });
    const plan = await b.platform.project.plan(parse(changed));
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.title, c.fields.map((f) => f.path)]),
      [
        ["update", `subscription ${NS}/orders/audit`, ["lockDuration"]],
        [
          "update",
          `rule ${NS}/orders/eu-only/eu`,
          [
            "action.sqlExpression",
            "correlationFilter.label",
            "correlationFilter.properties.tier",
            "filterType",
            "sqlFilter.sqlExpression",
          ],
        ],
      ],
    );
    const reg = topics();
    const real = reg.updateRule.bind(reg);
    reg.updateRule = async () => {
      throw new Error("rule store unavailable");
    };
    try {
      await assert.rejects(b.platform.project.apply(parse(changed)), (e: Error) => {
        assert.ok(e instanceof ApplyError);
        assert.match(e.message, /^Updating rule .*eu: rule store unavailable; every change made so far was undone$/);
        return true;
      });
    } finally {
      reg.updateRule = real;
    }
    assert.equal(reg.getSubscription("orders", "audit")!.properties.lockDurationMs, 30_000, "the update was undone");
    await b.platform.project.apply(parse(changed));
    assert.equal(reg.getSubscription("orders", "audit")!.properties.lockDurationMs, 45_000);
    assert.deepEqual(reg.getRule("orders", "eu-only", "eu")!.filter, { type: "sql", expression: "sys.Label = 'eu'" });
    assert.deepEqual(await lines(changed), []);
  });

  it("a rule Service Bus would refuse stops plan and apply with its position; nothing changes", async () => {
    const bad = yaml({
      rules: `              - name: eu
                filterType: SqlFilter
                sqlFilter: { sqlExpression: "region = = 'eu'" }
              - name: acts
                filterType: SqlFilter
                sqlFilter: { sqlExpression: "1=1" }
                action: { sqlExpression: "SET = 2" }
`,
    });
    const before = topics().rules("orders", "eu-only");
    for (const attempt of [() => b.platform.project.plan(parse(bad)), () => b.platform.project.apply(parse(bad))])
      await assert.rejects(attempt(), (e: ConfigError) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.issues.map((i) => [i.path, i.line]),
          [
            ["namespaces[0].topics[0].subscriptions[1].rules[0].sqlFilter.sqlExpression", 15],
            ["namespaces[0].topics[0].subscriptions[1].rules[1].action.sqlExpression", 19],
          ],
        );
        assert.match(
          e.issues[0].expected,
          /^a filter Service Bus accepts \(There was an error parsing the SQL expression/,
        );
        return true;
      });
    assert.deepEqual(topics().rules("orders", "eu-only"), before);
  });

  it("a topic's maxSizeInMegabytes is set, changed and refused as a queue's is", async () => {
    const sized = (mb: number | string) =>
      `${yaml()}      - name: sized\n        properties: { maxSizeInMegabytes: ${mb} }\n        subscriptions:\n          - name: all\n`;
    await b.platform.project.apply(parse(sized(2048)));
    assert.equal(topics().getTopic("sized")!.properties.maxSizeInMegabytes, 2048);
    assert.deepEqual(await lines(sized(2048)), []);
    assert.deepEqual(await lines(sized(3072)), [`update topic ${NS}/sized`]);
    await b.platform.project.apply(parse(sized(3072)));
    assert.equal(topics().getTopic("sized")!.properties.maxSizeInMegabytes, 3072);
    assert.throws(
      () => parse(sized(1000)),
      (e: ConfigError) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.issues.map((i) => [i.path, i.value, i.expected]),
          [["namespaces[0].topics[1].properties.maxSizeInMegabytes", "1000", "a multiple of 1024 from 1024 to 81920"]],
        );
        return true;
      },
    );
    assert.equal(topics().getTopic("sized")!.properties.maxSizeInMegabytes, 3072, "nothing changed");
    await b.platform.project.apply(parse(yaml()));
    assert.equal(topics().getTopic("sized"), undefined);
  });

  it("a topic dropped from the file is deleted unless it holds a subscription made at run time", async () => {
    await b.platform.project.apply(parse(yaml({ extraSub: true })));
    await topics().createSubscription(
      "orders",
      "made-by-hand",
      topics().getSubscription("orders", "audit")!.properties,
    );
    const r = await b.platform.project.apply(parse(yaml({ topic: false })));
    assert.deepEqual(
      r.plan.changes.map((c) => `${c.action} ${c.title}`),
      [
        `delete rule ${NS}/orders/eu-only/eu`,
        `delete subscription ${NS}/orders/audit`,
        `delete subscription ${NS}/orders/eu-only`,
        `delete subscription ${NS}/orders/extra`,
        `delete topic ${NS}/orders`,
      ],
    );
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /holds subscriptions the project did not create \(made-by-hand\)/);
    assert.deepEqual(topics().subscriptionNames("orders"), ["made-by-hand"]);
    await topics().deleteSubscription("orders", "made-by-hand");
    const again = await b.platform.project.apply(parse(yaml({ topic: false })));
    assert.deepEqual(again.errors, []);
    assert.equal(topics().getTopic("orders"), undefined);
  });

  it("destroy removes the project's topics and keeps one made at run time", async () => {
    await b.platform.project.apply(parse(yaml()));
    await topics().createTopic("by-hand", topics().getTopic("orders")!.properties);
    const r = await b.platform.project.destroy();
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /holds queues or topics the project did not create \(by-hand\)/);
    const ns = b.platform.broker.namespace(NS);
    assert.ok(ns, "the namespace stays: it holds a topic made at run time");
    assert.deepEqual(ns.topics.topicNames(), ["by-hand"]);
  });
});
