// eventjobs terraform with topics, subscriptions and rules written with azurerm's arguments: plan/apply, what the
// SDK sends to the topic reaches each subscription as its rules let it through, a second plan shows no changes,
// destroy removes them.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";
import { receiveN, RETRY } from "../helpers/sdk.js";

// A topic, three subscriptions (a SQL rule with an action, a correlation filter, none: $Default) and their rules,
// written with azurerm's arguments, go through plan/apply; what the SDK sends to the topic reaches each
// subscription as its rules let it through; a second plan shows no changes; destroy removes them.
const TOPICS_TF = `
resource "azurerm_resource_group" "rg" {
  name     = "rg-topics"
  location = "westeurope"
}

resource "azurerm_servicebus_namespace" "sb" {
  name                = "sb-tf-topics"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"
}

resource "azurerm_servicebus_topic" "orders" {
  name                         = "orders"
  namespace_id                 = azurerm_servicebus_namespace.sb.id
  default_message_ttl          = "P1D"
  requires_duplicate_detection = true
  max_size_in_megabytes        = 2048
  partitioning_enabled         = false
}

resource "azurerm_servicebus_subscription" "big" {
  name               = "big"
  topic_id           = azurerm_servicebus_topic.orders.id
  max_delivery_count = 5
  lock_duration      = "PT30S"
}

resource "azurerm_servicebus_subscription" "invoices" {
  name                                      = "invoices"
  topic_id                                  = azurerm_servicebus_topic.orders.id
  max_delivery_count                        = 3
  dead_lettering_on_filter_evaluation_error = true
  batched_operations_enabled                = true
}

resource "azurerm_servicebus_subscription" "all" {
  name               = "all"
  topic_id           = azurerm_servicebus_topic.orders.id
  max_delivery_count = 10
}

resource "azurerm_servicebus_subscription_rule" "big" {
  name            = "big-ones"
  subscription_id = azurerm_servicebus_subscription.big.id
  filter_type     = "SqlFilter"
  sql_filter      = "amount > 100"
  action          = "SET flagged = 'yes'"
}

resource "azurerm_servicebus_subscription_rule" "eu" {
  name            = "eu-invoices"
  subscription_id = azurerm_servicebus_subscription.invoices.id
  filter_type     = "CorrelationFilter"
  correlation_filter {
    label = "invoice"
    properties = {
      region = "eu"
    }
  }
}

output "topic_id" {
  value = azurerm_servicebus_topic.orders.id
}

output "connection_string" {
  value     = azurerm_servicebus_namespace.sb.default_primary_connection_string
  sensitive = true
}
`;

describe("eventjobs terraform: topics, subscriptions and rules", () => {
  const TNS = "sb-tf-topics";
  const TDATA = join(ROOT, `.eventjobs-tf-topics-test-${process.pid}`);
  let broker: TestBroker;
  let dir: string;
  const tf = (args: string[]) => cli(broker.dataDir, ["terraform", ...args], { cwd: dir });
  const topic = () => broker.platform.broker.namespace(TNS)?.topics.topic("orders");

  before(async () => {
    mkdirSync(join(TDATA, "tf"), { recursive: true });
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n", { dataDir: join(TDATA, "server") });
    dir = join(TDATA, "tf");
    writeFileSync(join(dir, "main.tf"), TOPICS_TF);
  });
  after(async () => {
    await broker?.close();
    rmSync(TDATA, { recursive: true, force: true });
  });

  it("what is not emulated, and what the server refuses, is named by its block before anything changes", async () => {
    const bad = (text: string) => {
      writeFileSync(join(dir, "main.tf"), text);
      return tf(["plan"]);
    };
    const lineOf = (text: string, header: string) => text.slice(0, text.indexOf(header)).split("\n").length;
    const unknown = await bad(TOPICS_TF.replace('lock_duration      = "PT30S"', 'lock_duration = "PT30S"\n  foo = 1'));
    assert.equal(unknown.code, 1);
    const subLine = lineOf(TOPICS_TF, 'resource "azurerm_servicebus_subscription" "big"');
    assert.match(
      unknown.stderr,
      new RegExp(`main\\.tf:${subLine}: azurerm_servicebus_subscription: "foo" is not supported`),
    );

    const ruleLine = lineOf(TOPICS_TF, 'resource "azurerm_servicebus_subscription_rule" "big"');
    const filter = await bad(TOPICS_TF.replace('filter_type     = "SqlFilter"', 'filter_type     = "TrueFilter"'));
    assert.equal(filter.code, 1);
    assert.match(
      filter.stderr,
      new RegExp(
        `main\\.tf:${ruleLine}: azurerm_servicebus_subscription_rule\\.big: filterType: .*SqlFilter or CorrelationFilter`,
      ),
    );
    const sql = await bad(TOPICS_TF.replace("amount > 100", "amount >"));
    assert.equal(sql.code, 1, sql.stdout);
    assert.match(sql.stderr, new RegExp(`main\\.tf:${ruleLine}: azurerm_servicebus_subscription_rule\\.big: `));

    const topicId = await bad(
      TOPICS_TF.replace("topic_id           = azurerm_servicebus_topic.orders.id", 'topic_id = "x"'),
    );
    assert.match(topicId.stderr, /main\.tf:\d+: topic_id must be an azurerm_servicebus_topic's id/);
    writeFileSync(join(dir, "main.tf"), TOPICS_TF);
    assert.equal(broker.platform.broker.namespace(TNS), undefined, "nothing changed");
  });

  it("init lists them; plan and apply make the topic, its subscriptions and their rules", async () => {
    const init = await tf(["init"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /azurerm_servicebus_topic\.orders \(main\.tf:\d+\): a topic/);
    assert.match(init.stdout, /azurerm_servicebus_subscription\.big \(main\.tf:\d+\): a subscription/);
    assert.match(init.stdout, /azurerm_servicebus_subscription_rule\.eu \(main\.tf:\d+\): a subscription rule/);

    const plan = await tf(["plan", "-out", "tfplan"]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /# azurerm_servicebus_subscription_rule\.big will be created/);
    assert.match(plan.stdout, /\+ sql_filter\s+= "amount > 100"/);
    assert.match(plan.stdout, /^Plan: 8 to add, 0 to change, 0 to destroy\.$/m);
    assert.equal(topic(), undefined, "plan changes nothing");

    const apply = await tf(["apply", "tfplan"]);
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.match(apply.stdout, /Apply complete! Resources: 8 added, 0 changed, 0 destroyed\./);
    assert.match(
      apply.stdout,
      /topic_id = "\/subscriptions\/[0-9a-f-]+\/resourceGroups\/rg-topics\/providers\/Microsoft\.ServiceBus\/namespaces\/sb-tf-topics\/topics\/orders"/,
    );

    const t = topic()!;
    assert.ok(t, "the topic is made");
    assert.equal(t.props.defaultMessageTimeToLiveMs, 24 * 3600_000);
    assert.equal(t.props.requiresDuplicateDetection, true);
    assert.equal(t.props.maxSizeInMegabytes, 2048);
    const sub = (name: string) => [...t.subscriptions.values()].find((s) => s.name === name)!;
    assert.equal(sub("big").props.lockDurationMs, 30_000);
    assert.equal(sub("big").props.maxDeliveryCount, 5);
    assert.equal(sub("invoices").subscriptionProps.deadLetteringOnFilterEvaluationExceptions, true);
    assert.deepEqual(
      sub("big")
        .rules.list()
        .map((r) => r.name),
      ["big-ones"],
      "a subscription with rules has only those",
    );
    assert.deepEqual(
      sub("all")
        .rules.list()
        .map((r) => r.name),
      ["$Default"],
    );
  });

  it("the SDK sends to the topic; each subscription receives what its rules let through", async () => {
    const cs = (await tf(["output", "-raw", "connection_string"])).stdout.trim();
    assert.match(cs, /^Endpoint=sb:/);
    const client = new ServiceBusClient(cs, RETRY);
    try {
      await client.createSender("orders").sendMessages([
        { body: "big order", applicationProperties: { amount: 150 } },
        { body: "small order", applicationProperties: { amount: 50 } },
        { body: "eu invoice", subject: "invoice", applicationProperties: { region: "eu" } },
        { body: "us invoice", subject: "invoice", applicationProperties: { region: "us" } },
      ]);
      const got = async (name: string, n: number) => {
        const r = client.createReceiver("orders", name, { receiveMode: "receiveAndDelete" });
        try {
          const ms = await receiveN(r, n + 1, 3_000);
          return ms;
        } finally {
          await r.close();
        }
      };
      const big = await got("big", 1);
      assert.deepEqual(
        big.map((m) => m.body),
        ["big order"],
      );
      assert.equal(big[0].applicationProperties?.flagged, "yes", "the rule's action ran");
      const invoices = await got("invoices", 1);
      assert.deepEqual(
        invoices.map((m) => m.body),
        ["eu invoice"],
      );
      const all = await got("all", 4);
      assert.deepEqual(all.map((m) => m.body).sort(), ["big order", "eu invoice", "small order", "us invoice"]);
    } finally {
      await client.close();
    }
  });

  it("plan after apply shows no changes; a changed rule is an update; destroy removes them", async () => {
    const again = await tf(["plan", "-detailed-exitcode"]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /No changes\. Your infrastructure matches the configuration\./);

    writeFileSync(join(dir, "main.tf"), TOPICS_TF.replace("amount > 100", "amount > 1000"));
    const changed = await tf(["plan"]);
    assert.match(changed.stdout, /# azurerm_servicebus_subscription_rule\.big will be updated in-place/);
    assert.match(changed.stdout, /^Plan: 0 to add, 1 to change, 0 to destroy\.$/m);
    writeFileSync(join(dir, "main.tf"), TOPICS_TF);

    const r = await tf(["destroy", "-auto-approve"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Destroy complete! Resources: 8 destroyed\./);
    assert.equal(broker.platform.broker.namespace(TNS), undefined);
    assert.ok(broker.platform.broker.namespace("sbemulatorns"), "what the project did not make stays");
  });
});
