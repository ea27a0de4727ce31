// Black-box tests of the ATOM admin API for subscription rules: ServiceBusAdministrationClient's rule
// operations, the RuleDescription XML itself (filters, actions, typed values), and rules created over
// HTTP deciding which messages a subscription takes (sent and received through ServiceBusClient).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient, type ServiceBusAdministrationClient } from "@azure/service-bus";
import { child, children } from "../../src/servicebus/admin/xml.js";
import { uniqueName, type TestBroker } from "../helpers/broker.js";
import { adminClient, atomCall, atomEntry } from "../helpers/admin.js";
import { receiveN } from "../helpers/sdk.js";
import { startTopics } from "../helpers/topics.js";

const SB = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect";
const XSI = "http://www.w3.org/2001/XMLSchema-instance";
const NO_ACTION = { sqlExpression: undefined, sqlParameters: undefined };
const NO_CORRELATION = {
  correlationId: undefined,
  messageId: undefined,
  to: undefined,
  replyTo: undefined,
  subject: undefined,
  sessionId: undefined,
  replyToSessionId: undefined,
  contentType: undefined,
  applicationProperties: undefined,
};

let broker: TestBroker;
let sdk: ServiceBusClient;
let admin: ServiceBusAdministrationClient;

before(async () => {
  ({ broker, client: sdk } = await startTopics([]));
  admin = adminClient(broker);
});
after(async () => {
  await sdk?.close();
  await broker?.close();
});

async function topicWithSubscription(prefix: string): Promise<string> {
  const t = uniqueName(prefix);
  await admin.createTopic(t);
  await admin.createSubscription(t, "s");
  return t;
}

const plain = (o: object) => {
  const out: Record<string, unknown> = { ...o };
  delete out.createdAt;
  return out;
};

describe("rules through ServiceBusAdministrationClient", () => {
  test("a correlation filter with every field and typed properties round-trips", async () => {
    const t = await topicWithSubscription("adr-c");
    const when = new Date("2024-05-06T07:08:09.123Z");
    const filter = {
      correlationId: "corr",
      messageId: "mid",
      to: "to-x",
      replyTo: "reply",
      subject: "subj",
      sessionId: "sess",
      replyToSessionId: "rsess",
      contentType: "application/json",
      applicationProperties: { s: "text", i: 25, d: 12.5, b: true, f: false, when },
    };
    const created = await admin.createRule(t, "s", "corr", filter, { sqlExpression: "SET sys.label='GREEN'" });
    const expected = {
      name: "corr",
      filter,
      action: { sqlExpression: "SET sys.label='GREEN'", sqlParameters: undefined },
    };
    assert.deepEqual(plain(created), expected);
    assert.deepEqual(plain(await admin.getRule(t, "s", "corr")), expected);
    await admin.deleteTopic(t);
  });

  test("a SQL filter with typed parameters and a SQL action with parameters round-trip", async () => {
    const t = await topicWithSubscription("adr-sql");
    const filter = {
      sqlExpression: "stringValue = @s AND intValue = @n AND (ratio > @x OR flag = @ok) AND sent < @when",
      sqlParameters: { "@s": "b", "@n": 1, "@x": 2.5, "@ok": true, "@when": new Date("2030-01-02T03:04:05.000Z") },
    };
    const created = await admin.createRule(t, "s", "sql", filter, {
      sqlExpression: "SET a = @p",
      sqlParameters: { "@p": "v" },
    });
    assert.deepEqual(plain(created), {
      name: "sql",
      filter,
      action: { sqlExpression: "SET a = @p", sqlParameters: { "@p": "v" } },
    });
    assert.deepEqual(plain(await admin.getRule(t, "s", "sql")), plain(created));
    const noAction = await admin.createRule(t, "s", "plain", { sqlExpression: "1=0" });
    assert.deepEqual(plain(noAction), {
      name: "plain",
      filter: { sqlExpression: "1=0", sqlParameters: undefined },
      action: NO_ACTION,
    });
    await admin.deleteTopic(t);
  });

  test("listRules pages by rule name, as the service lists them; updateRule, deleteRule, ruleExists", async () => {
    const t = await topicWithSubscription("adr-l");
    for (const n of ["zeta", "alpha", "mid"]) await admin.createRule(t, "s", n, { correlationId: n });
    const pages: string[][] = [];
    for await (const page of admin.listRules(t, "s").byPage({ maxPageSize: 2 })) pages.push(page.map((r) => r.name));
    assert.deepEqual(pages, [
      ["$Default", "alpha"],
      ["mid", "zeta"],
    ]);
    const rule = await admin.getRule(t, "s", "alpha");
    rule.filter = { subject: "changed" };
    rule.action = { sqlExpression: "SET x='y'" };
    const updated = await admin.updateRule(t, "s", rule);
    assert.deepEqual(plain(updated), {
      name: "alpha",
      filter: { ...NO_CORRELATION, subject: "changed" },
      action: { sqlExpression: "SET x='y'", sqlParameters: undefined },
    });
    assert.equal(await admin.ruleExists(t, "s", "alpha"), true);
    await admin.deleteRule(t, "s", "alpha");
    assert.equal(await admin.ruleExists(t, "s", "alpha"), false);
    await admin.deleteTopic(t);
  });

  test("errors: 409 for a rule name in use, 404 for missing rules and subscriptions, 400 for bad SQL and names", async () => {
    const t = await topicWithSubscription("adr-e");
    await admin.createRule(t, "s", "r", { correlationId: "x" });
    await assert.rejects(admin.createRule(t, "s", "r", { correlationId: "y" }), {
      code: "MessageEntityAlreadyExistsError",
      statusCode: 409,
    });
    await assert.rejects(admin.getRule(t, "s", "none"), { code: "MessageEntityNotFoundError", statusCode: 404 });
    await assert.rejects(admin.deleteRule(t, "s", "none"), { code: "MessageEntityNotFoundError", statusCode: 404 });
    await assert.rejects(admin.updateRule(t, "s", { name: "none", filter: { correlationId: "z" } }), {
      statusCode: 404,
    });
    await assert.rejects(admin.createRule(t, "missing", "r", { correlationId: "x" }), {
      code: "MessageEntityNotFoundError",
    });
    await assert.rejects(
      admin.createRule(t, "s", "bad", { sqlExpression: "((( NOT" }),
      (e: Error & { code?: string; statusCode?: number }) => {
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, "ServiceError");
        assert.ok(e.message.length > 0);
        return true;
      },
    );
    assert.equal(await admin.ruleExists(t, "s", "bad"), false, "a refused rule is not kept");
    await assert.rejects(
      admin.createRule(t, "s", "unbound", { sqlExpression: "a = @p" }),
      /the parameter '@p' is not defined/,
    );
    await assert.rejects(
      admin.createRule(t, "s", "bad-action", { correlationId: "x" }, { sqlExpression: "SET" }),
      (e: Error & { statusCode?: number }) => e.statusCode === 400,
    );
    await assert.rejects(admin.createRule(t, "s", "x".repeat(51), { correlationId: "x" }), { statusCode: 400 });
    await admin.deleteTopic(t);
  });
});

describe("RuleDescription XML", () => {
  test("filters and actions carry xsi:type; typed values are KeyValueOfstringanyType", async () => {
    const t = await topicWithSubscription("adr-x");
    await admin.createRule(t, "s", "typed", { correlationId: "c", applicationProperties: { n: 5, s: "v" } });
    const r = await atomCall(broker, `${t}/Subscriptions/s/Rules/typed?api-version=2021-05`);
    assert.equal(r.status, 200, r.text);
    assert.equal(new URL(child(r.xml, "id")!.text).pathname, `/${t}/Subscriptions/s/Rules/typed`);
    const desc = child(r.xml, "content")!.children[0];
    assert.equal(desc.name, "RuleDescription");
    assert.equal(desc.attrs.xmlns, SB);
    assert.equal(desc.attrs["xmlns:i"], XSI);
    const filter = child(desc, "Filter")!;
    assert.equal(filter.attrs["i:type"], "CorrelationFilter");
    assert.equal(child(filter, "CorrelationId")!.text, "c");
    const pairs = children(child(filter, "Properties"), "KeyValueOfstringanyType").map((p) => [
      child(p, "Key")!.text,
      child(p, "Value")!.attrs["i:type"],
      child(p, "Value")!.text,
    ]);
    assert.deepEqual(pairs, [
      ["n", "d6p1:double", "5"], // the JS SDK sends every number as a double
      ["s", "d6p1:string", "v"],
    ]);
    assert.equal(child(desc, "Action")!.attrs["i:type"], "EmptyRuleAction");
    assert.equal(child(desc, "Name")!.text, "typed");
    assert.ok(!Number.isNaN(Date.parse(child(desc, "CreatedAt")!.text)));

    const def = await atomCall(broker, `${t}/Subscriptions/s/Rules/$Default`);
    const defFilter = child(child(def.xml, "content")!.children[0], "Filter")!;
    assert.equal(defFilter.attrs["i:type"], "TrueFilter");
    assert.equal(child(defFilter, "SqlExpression")!.text, "1=1");
    await admin.deleteTopic(t);
  });

  test("TrueFilter and FalseFilter PUT over HTTP; a missing description is a 400 only for bad input", async () => {
    const t = await topicWithSubscription("adr-tf");
    const rule = (type: string) =>
      atomEntry(
        `<RuleDescription xmlns="${SB}" xmlns:i="${XSI}"><Filter i:type="${type}"/><Action i:type="EmptyRuleAction"/></RuleDescription>`,
      );
    const put = await atomCall(broker, `${t}/Subscriptions/s/Rules/never`, {
      method: "PUT",
      body: rule("FalseFilter"),
    });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual(plain(await admin.getRule(t, "s", "never")), {
      name: "never",
      filter: { sqlExpression: "1=0", sqlParameters: undefined },
      action: NO_ACTION,
    });
    const again = await atomCall(broker, `${t}/Subscriptions/s/Rules/never`, {
      method: "PUT",
      body: rule("TrueFilter"),
    });
    assert.equal(again.status, 409);
    const update = await atomCall(broker, `${t}/Subscriptions/s/Rules/never`, {
      method: "PUT",
      body: rule("TrueFilter"),
      headers: { "if-match": "*" },
    });
    assert.equal(update.status, 200, update.text);
    // a 64-bit integer keeps every digit
    const big = "9007199254740993";
    const long = await atomCall(broker, `${t}/Subscriptions/s/Rules/long`, {
      method: "PUT",
      body: atomEntry(
        `<RuleDescription xmlns="${SB}" xmlns:i="${XSI}"><Filter i:type="SqlFilter"><SqlExpression>n = @n</SqlExpression>` +
          `<Parameters><KeyValueOfstringanyType><Key>@n</Key><Value i:type="l28:long" xmlns:l28="http://www.w3.org/2001/XMLSchema">${big}</Value>` +
          `</KeyValueOfstringanyType></Parameters></Filter><Action i:type="EmptyRuleAction"/></RuleDescription>`,
      ),
    });
    assert.equal(long.status, 201, long.text);
    const value = child(
      child(child(child(child(long.xml, "content")!.children[0], "Filter"), "Parameters"), "KeyValueOfstringanyType"),
      "Value",
    )!;
    assert.deepEqual([value.attrs["i:type"], value.text], ["d6p1:long", big]);
    const odd = await atomCall(broker, `${t}/Subscriptions/s/Rules/odd`, { method: "PUT", body: rule("OddFilter") });
    assert.equal(odd.status, 400);
    assert.match(child(odd.xml, "Detail")!.text, /'OddFilter' of property 'Filter'/);
    const feed = await atomCall(broker, `${t}/Subscriptions/s/Rules?$top=1&$skip=2`);
    assert.equal(feed.xml!.name, "feed");
    assert.deepEqual(
      children(feed.xml, "entry").map((e) => child(e, "title")!.text),
      ["never"],
    );
    assert.equal((await atomCall(broker, `${t}/Subscriptions/s/Rules`, { method: "POST" })).status, 405);
    await admin.deleteTopic(t);
  });
});

describe("rules created over HTTP decide what subscriptions take", () => {
  test("a correlation rule with an action, a false filter, and the $Default rule", async () => {
    const t = uniqueName("adr-f");
    await admin.createTopic(t);
    await admin.createSubscription(t, "everything");
    await admin.createSubscription(t, "red", {
      defaultRuleOptions: { name: "red", filter: { subject: "red" }, action: { sqlExpression: "SET tagged='yes'" } },
    });
    await admin.createSubscription(t, "nothing");
    await admin.deleteRule(t, "nothing", "$Default");
    await admin.createRule(t, "nothing", "never", { sqlExpression: "1=0" });
    // a rule added after the subscription was created applies to later messages
    await admin.createRule(t, "red", "vip", { applicationProperties: { vip: true } });
    await admin.createSubscription(t, "big", {
      defaultRuleOptions: {
        name: "big",
        filter: { sqlExpression: "size > @min AND sys.label <> 'red'", sqlParameters: { "@min": 2 } },
        action: { sqlExpression: "SET sys.label = 'big'; REMOVE size" },
      },
    });

    await sdk.createSender(t).sendMessages([
      { body: "r1", subject: "red" },
      { body: "b1", subject: "blue", applicationProperties: { size: 1 } },
      { body: "v1", subject: "blue", applicationProperties: { vip: true, size: 5 } },
      { body: "r2", subject: "red", applicationProperties: { size: 9 } },
    ]);
    const take = async (sub: string, n: number) =>
      (await receiveN(sdk.createReceiver(t, sub, { receiveMode: "receiveAndDelete" }), n)).map((m) => [
        m.body,
        m.applicationProperties?.tagged,
      ]);
    assert.deepEqual(
      (await take("everything", 4)).map(([b]) => b),
      ["r1", "b1", "v1", "r2"],
    );
    assert.deepEqual(await take("red", 3), [
      ["r1", "yes"],
      ["v1", undefined],
      ["r2", "yes"],
    ]);
    const big = await receiveN(sdk.createReceiver(t, "big", { receiveMode: "receiveAndDelete" }), 2, 2_000);
    assert.deepEqual(
      big.map((m) => [m.body, m.subject, m.applicationProperties]),
      [["v1", "big", { vip: true, RuleName: "big" }]],
    );
    const peeker = sdk.createReceiver(t, "nothing");
    assert.deepEqual(await peeker.peekMessages(10), []);
    await peeker.close();
    const rt = await admin.getSubscriptionRuntimeProperties(t, "nothing");
    assert.equal(rt.totalMessageCount, 0);
    await admin.deleteTopic(t);
  });
});
