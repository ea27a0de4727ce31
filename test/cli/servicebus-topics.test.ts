// `eventjobs servicebus topic [subscription [rule]] ...` and the message commands on topics, spawned as a user
// runs them, against a server in this process; az's names, flags and ARM-shaped output.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";

const NS = "topics-cli-ns";

describe("servicebus topic CLI", () => {
  let broker: TestBroker;
  const sb = async (args: string[], code = 0) => {
    const r = await cli(broker.dataDir, ["servicebus", ...args]);
    assert.equal(r.code, code, `servicebus ${args.join(" ")}\n${r.stderr}`);
    return r;
  };
  const json = async (args: string[]) => JSON.parse((await sb(args)).stdout);
  const ns = ["--namespace-name", NS];
  before(async () => {
    broker = await startBroker(`namespaces:\n  - name: ${NS}\n    queues:\n      - name: archive\n`);
  });
  after(() => broker?.close());

  it("topic create/update/show/list/delete with az's flags print the ARM resource", async () => {
    // prettier-ignore
    const t = await json(["topic", "create", ...ns, "--name", "orders", "-g", "rg-lab", "--default-message-time-to-live", "P2D",
      "--max-size", "2048", "--enable-duplicate-detection", "--duplicate-detection-history-time-window", "PT5M"]);
    assert.equal(t.type, "Microsoft.ServiceBus/namespaces/topics");
    assert.match(t.id, new RegExp(`/providers/Microsoft.ServiceBus/namespaces/${NS}/topics/orders$`));
    assert.equal(t.properties.defaultMessageTimeToLive, "P2D");
    assert.equal(t.properties.maxSizeInMegabytes, 2048);
    assert.equal(t.properties.requiresDuplicateDetection, true);
    assert.equal(t.properties.duplicateDetectionHistoryTimeWindow, "PT5M");
    const u = await json(["topic", "update", ...ns, "-n", "orders", "--enable-duplicate-detection", "false"]);
    assert.equal(u.properties.requiresDuplicateDetection, false);
    assert.equal(u.properties.maxSizeInMegabytes, 2048, "update keeps what it is not given");
    assert.equal((await json(["topic", "show", ...ns, "-n", "ORDERS"])).name, "orders");
    await sb(["topic", "create", ...ns, "-n", "scratch"]);
    const table = (await sb(["topic", "list", ...ns, "-o", "table"])).stdout;
    assert.match(table, /^Name\s+Status\s+DefaultMessageTimeToLive/);
    assert.match(table, /orders\s+Active\s+P2D/);
    await sb(["topic", "delete", ...ns, "-n", "scratch"]);
    assert.deepEqual(
      (await json(["topic", "list", ...ns])).map((x: { name: string }) => x.name),
      ["orders"],
    );
    const bad = await sb(
      ["topic", "create", ...ns, "-n", "t2", "--duplicate-detection-history-time-window", "PT1S"],
      1,
    );
    assert.match(bad.stderr, /--duplicate-detection-history-time-window: "PT1S" — expected/);
  });

  it("subscription and rule commands, then send to the topic and receive from a subscription", async () => {
    // prettier-ignore
    const s = await json(["topic", "subscription", "create", ...ns, "--topic-name", "orders", "--name", "audit",
      "--lock-duration", "PT30S", "--max-delivery-count", "5", "--enable-dead-lettering-on-message-expiration", "true",
      "--dead-letter-on-filter-exceptions", "--default-message-time-to-live", "PT1H"]);
    assert.equal(s.type, "Microsoft.ServiceBus/namespaces/topics/subscriptions");
    assert.deepEqual(
      [s.properties.lockDuration, s.properties.maxDeliveryCount, s.properties.deadLetteringOnMessageExpiration],
      ["PT30S", 5, true],
    );
    assert.equal(s.properties.deadLetteringOnFilterEvaluationExceptions, true);
    assert.equal(s.properties.defaultMessageTimeToLive, "PT1H");
    const fw = await json([
      "topic",
      "subscription",
      "update",
      ...ns,
      "--topic-name",
      "orders",
      "-n",
      "audit",
      "--forward-dead-lettered-messages-to",
      "archive",
    ]);
    assert.equal(fw.properties.forwardDeadLetteredMessagesTo, "archive");
    assert.equal(fw.properties.lockDuration, "PT30S");
    await sb([
      "topic",
      "subscription",
      "create",
      ...ns,
      "--topic-name",
      "orders",
      "-n",
      "gold",
      "--enable-session",
      "false",
    ]);
    const sub = [...ns, "--topic-name", "orders", "--subscription-name", "gold"];
    // the $Default rule a new subscription has, replaced by a correlation filter
    assert.deepEqual(
      (await json(["topic", "subscription", "rule", "list", ...sub])).map((r: { name: string }) => r.name),
      ["$Default"],
    );
    // prettier-ignore
    const r = await json(["topic", "subscription", "rule", "create", ...sub, "--name", "gold-eu", "--filter-type", "CorrelationFilter",
      "--label", "eu", "--correlation-filter-property", "tier=gold", "--content-type", "application/json"]);
    assert.equal(r.type, "Microsoft.ServiceBus/namespaces/topics/subscriptions/rules");
    assert.deepEqual(r.properties, {
      filterType: "CorrelationFilter",
      correlationFilter: { label: "eu", contentType: "application/json", properties: { tier: "gold" } },
    });
    await sb(["topic", "subscription", "rule", "delete", ...sub, "-n", "$Default"]);
    const upd = await json([
      "topic",
      "subscription",
      "rule",
      "update",
      ...sub,
      "-n",
      "gold-eu",
      "--action-sql-expression",
      "SET seen = 'yes'",
    ]);
    assert.deepEqual(upd.properties.action, { sqlExpression: "SET seen = 'yes'", compatibilityLevel: 20 });
    assert.equal(upd.properties.correlationFilter.label, "eu", "update keeps the filter");
    const sql = await json([
      "topic",
      "subscription",
      "rule",
      "create",
      ...sub,
      "-n",
      "all",
      "--filter-sql-expression",
      "1=1",
    ]);
    assert.deepEqual(sql.properties, {
      filterType: "SqlFilter",
      sqlFilter: { sqlExpression: "1=1", compatibilityLevel: 20 },
    });
    const shown = await json(["topic", "subscription", "rule", "show", ...sub, "-n", "all"]);
    assert.equal(shown.name, "all");
    await sb(["topic", "subscription", "rule", "delete", ...sub, "-n", "all"]);
    const rules = (await sb(["topic", "subscription", "rule", "list", ...sub, "-o", "table"])).stdout;
    assert.match(rules, /gold-eu\s+CorrelationFilter/);

    const send = (subject: string, tier: string) =>
      json([
        "message",
        "send",
        ...ns,
        "--topic-name",
        "orders",
        "--body",
        `${subject}-${tier}`,
        "--content-type",
        "application/json",
        "--subject",
        subject,
        "--properties",
        `tier=${tier}`,
      ]);
    await send("eu", "gold");
    await send("us", "gold");
    const peek = await json([
      "message",
      "peek",
      ...ns,
      "--topic-name",
      "orders",
      "--subscription-name",
      "audit",
      "--count",
      "10",
    ]);
    assert.equal(peek.length, 2, "audit ($Default) takes every message");
    const got = await json([
      "message",
      "receive",
      ...ns,
      "--topic-name",
      "orders",
      "--subscription-name",
      "gold",
      "--count",
      "5",
      "--max-wait-time",
      "1",
    ]);
    assert.deepEqual(
      got.map((m: { body: unknown }) => m.body),
      ["eu-gold"],
    );
    const listed = await json(["topic", "subscription", "list", ...ns, "--topic-name", "orders"]);
    assert.deepEqual(
      listed.map((x: { name: string; properties: { countDetails: { activeMessageCount: number } } }) => [
        x.name,
        x.properties.countDetails.activeMessageCount,
      ]),
      [
        ["audit", 2],
        ["gold", 0],
      ],
    );
    const wrong = await sb(["message", "peek", ...ns, "--topic-name", "orders"], 1);
    assert.match(wrong.stderr, /--subscription-name/);
    await sb(["topic", "subscription", "delete", ...ns, "--topic-name", "orders", "-n", "gold"]);
    const gone = await sb(["topic", "subscription", "show", ...ns, "--topic-name", "orders", "-n", "gold"], 1);
    assert.match(gone.stderr, /was not found/);
  });
});
