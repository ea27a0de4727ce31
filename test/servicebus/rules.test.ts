// Black-box: a subscription's rules through the SDK's ServiceBusRuleManager (add, list with paging, remove,
// the service's errors) and what they do to the messages the subscription gets.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { uniqueName, type TestBroker } from "../helpers/broker.js";
import { peekAll, stopSdk } from "../helpers/sdk.js";
import { startTopics } from "../helpers/topics.js";

const T = { manage: uniqueName("rules"), route: uniqueName("route"), action: uniqueName("action") };

let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  ({ broker, client } = await startTopics([
    { name: T.manage, subscriptions: [{ name: "sub" }] },
    { name: T.route, subscriptions: [{ name: "sub" }] },
    { name: T.action, subscriptions: [{ name: "sub" }, { name: "sys" }] },
  ]));
});

after(() => stopSdk(client, broker));

async function allRules(topic: string, sub: string, pageSize?: number): Promise<string[]> {
  const names: string[] = [];
  const rm = client.createRuleManager(topic, sub);
  for await (const page of rm.listRules().byPage(pageSize ? { maxPageSize: pageSize } : {})) {
    if (pageSize) assert.ok(page.length <= pageSize);
    names.push(...page.map((r) => r.name));
  }
  return names;
}

describe("rules", () => {
  test("a new subscription has the $Default rule, a true filter", async () => {
    const rm = client.createRuleManager(T.manage, "sub");
    const rules = [];
    for await (const r of rm.listRules()) rules.push(r);
    assert.deepEqual(
      rules.map((r) => [r.name, (r.filter as any).sqlExpression]),
      [["$Default", "1=1"]],
    );
  });

  test("rules are added, listed page by page in name order and removed", async () => {
    const rm = client.createRuleManager(T.manage, "sub");
    await rm.createRule("sql1", { sqlExpression: "1=0" });
    await rm.createRule("corr1", {
      correlationId: "cid",
      subject: "lbl",
      contentType: "text/plain",
      applicationProperties: { color: "red", n: 3, flag: true, when: new Date("2000-01-01T00:00:00Z") },
    });
    await rm.createRule("withAction", { sqlExpression: "1=1" }, { sqlExpression: "SET tagged = 'yes'" });
    await rm.createRule("extra", { sqlExpression: "1=0" });
    assert.deepEqual(await allRules(T.manage, "sub", 2), ["$Default", "corr1", "extra", "sql1", "withAction"]);
    const found = [];
    for await (const r of rm.listRules()) found.push(r);
    const corr = found.find((r) => r.name === "corr1")!.filter as any;
    assert.equal(corr.correlationId, "cid");
    assert.equal(corr.subject, "lbl");
    assert.equal(corr.contentType, "text/plain");
    assert.deepEqual(corr.applicationProperties, {
      color: "red",
      n: 3,
      flag: true,
      when: new Date("2000-01-01T00:00:00Z"),
    });
    assert.equal(found.find((r) => r.name === "withAction")!.action.sqlExpression, "SET tagged = 'yes'");
    assert.equal(found.find((r) => r.name === "sql1")!.action.sqlExpression, undefined);
    await rm.deleteRule("extra");
    await rm.deleteRule("sql1");
    assert.deepEqual(await allRules(T.manage, "sub"), ["$Default", "corr1", "withAction"]);
  });

  test("the service's errors: an existing name, a missing rule", async () => {
    const rm = client.createRuleManager(T.manage, "sub");
    await assert.rejects(rm.createRule("$Default", { sqlExpression: "1=1" }), (e: any) => {
      assert.equal(e.code, "MessagingEntityAlreadyExists");
      return true;
    });
    await assert.rejects(rm.deleteRule("no-such-rule"), (e: any) => {
      assert.equal(e.code, "MessagingEntityNotFound");
      return true;
    });
    await assert.rejects(rm.createRule("bad", { sqlExpression: "color = = ((" }), (e: any) => {
      // com.microsoft:argument-error, which the JS SDK reports as a GeneralError named after the condition
      assert.equal(e.code, "GeneralError");
      assert.match(e.message, /ArgumentError/);
      return true;
    });
    await assert.rejects(
      rm.createRule("badAction", { sqlExpression: "1=1" }, { sqlExpression: "SET sys.SequenceNumber = 1" }),
    );
    const names = [];
    for await (const r of rm.listRules()) names.push(r.name);
    assert.ok(!names.includes("bad"), "a refused rule is not added");
  });

  test("replacing $Default with a correlation rule changes which messages the subscription gets", async () => {
    const rm = client.createRuleManager(T.route, "sub");
    await rm.deleteRule("$Default");
    await rm.createRule("vip", { applicationProperties: { tier: "gold" } });
    const sender = client.createSender(T.route);
    await sender.sendMessages([
      { body: "gold", applicationProperties: { tier: "gold" } },
      { body: "silver", applicationProperties: { tier: "silver" } },
    ]);
    await sender.close();
    assert.deepEqual(
      (await peekAll(client, `${T.route}/Subscriptions/sub`)).map((m) => m.body),
      ["gold"],
    );
  });

  test("a rule's action changes the subscription's copy", async () => {
    const rm = client.createRuleManager(T.action, "sub");
    await rm.deleteRule("$Default");
    await rm.createRule("tag", { sqlExpression: "1=1" }, { sqlExpression: "SET tagged = 'yes'" });
    const sender = client.createSender(T.action);
    await sender.sendMessages({ body: "x", applicationProperties: { keep: 1 } });
    await sender.close();
    const [m] = await peekAll(client, `${T.action}/Subscriptions/sub`);
    assert.deepEqual(m.applicationProperties, { keep: 1, tagged: "yes" });
    assert.equal(m.body, "x");
  });

  test("an action can set a system property of the copy", async () => {
    const rm = client.createRuleManager(T.action, "sys");
    await rm.deleteRule("$Default");
    await rm.createRule("relabel", { sqlExpression: "1=1" }, { sqlExpression: "SET sys.Label = 'relabelled'" });
    const sender = client.createSender(T.action);
    await sender.sendMessages({ body: "y", subject: "original", correlationId: "c1" });
    await sender.close();
    const msgs = await peekAll(client, `${T.action}/Subscriptions/sys`);
    const m = msgs.find((x) => x.body === "y")!;
    assert.equal(m.subject, "relabelled");
    assert.equal(m.correlationId, "c1");
    const plain = (await peekAll(client, `${T.action}/Subscriptions/sub`)).find((x) => x.body === "y")!;
    assert.equal(plain.subject, "original", "the other subscription's copy is unchanged");
  });
});
