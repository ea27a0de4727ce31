// eventjobs terraform init/plan/apply/output/destroy spawned as a lab user runs them, on a copy of
// examples/seed/terraform against a server in this process: the lab's resources are made, a message sent with the
// SDK (to the connection string `terraform output` gives) starts an execution of the processor that Succeeds, a
// second plan shows no changes, -var overrides a default, secrets are never printed, an unknown resource type is
// refused with file:line before anything changes, and destroy leaves nothing it made.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";
import { consoleText, systemReasons, waitFor, waitForExecution } from "../helpers/jobs.js";
import { receiveN, RETRY } from "../helpers/sdk.js";

const NS = "servicebus-ns-job";
const JOB = "job-python";
// the data dir lives in the checkout: the TypeScript processor's packages resolve from its node_modules
const DATA = join(ROOT, `.eventjobs-tf-test-${process.pid}`);
const TS = ["-var", "image_name=job-ts", "-var", `app_dir=${join(ROOT, "examples/seed/app-ts")}`];
const SECRET = /SharedAccessKey=|Endpoint=sb:/;

describe("eventjobs terraform", () => {
  let broker: TestBroker;
  let dir: string;
  const tf = (args: string[], o: { cwd?: string } = {}) =>
    cli(broker.dataDir, ["terraform", ...args], { cwd: o.cwd ?? dir });

  before(async () => {
    mkdirSync(DATA, { recursive: true });
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n", { dataDir: join(DATA, "server") });
    dir = join(DATA, "lab", "terraform");
    cpSync(join(ROOT, "examples/seed/terraform"), dir, { recursive: true });
  });
  after(async () => {
    await broker?.close();
    rmSync(DATA, { recursive: true, force: true });
  });

  it("init checks the folder and says what it will emulate, with file:line", async () => {
    const r = await tf(["init"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /azurerm_servicebus_queue\.queue \(main\.tf:\d+\): a queue/);
    assert.match(r.stdout, /azurerm_container_app_job\.job \(main\.tf:\d+\): a job/);
    assert.match(r.stdout, /successfully initialized/);
  });

  it("an unknown resource type is refused with file:line before anything changes", async () => {
    const bad = join(DATA, "bad");
    cpSync(dir, bad, { recursive: true });
    writeFileSync(join(bad, "extra.tf"), '\n\nresource "azurerm_storage_account" "sa" {\n  name = "x"\n}\n');
    for (const cmd of [["init"], ["plan"], ["apply", "-auto-approve"]]) {
      const r = await tf([`-chdir=${bad}`, ...cmd]);
      assert.equal(r.code, 1, `${cmd}: ${r.stdout}`);
      assert.match(r.stderr, /extra\.tf:3: resource type "azurerm_storage_account" is not emulated/);
    }
    writeFileSync(
      join(bad, "extra.tf"),
      'resource "azurerm_servicebus_topic" "t" {\n  name = "t"\n  namespace_id = azurerm_servicebus_namespace.sb.id\n  enable_everything = true\n}\n',
    );
    const topic = await tf([`-chdir=${bad}`, "plan"]);
    assert.equal(topic.code, 1);
    assert.match(topic.stderr, /extra\.tf:1: azurerm_servicebus_topic: "enable_everything" is not supported here/);

    // what the server refuses is named by the Terraform block it comes from
    rmSync(join(bad, "extra.tf"));
    const main = readFileSync(join(bad, "main.tf"), "utf8");
    writeFileSync(join(bad, "main.tf"), main.replace("max_delivery_count = 1", "max_delivery_count = 0"));
    const line = main.slice(0, main.indexOf('resource "azurerm_servicebus_queue"')).split("\n").length;
    const refused = await tf([`-chdir=${bad}`, "apply", "-auto-approve"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`main\\.tf:${line}: azurerm_servicebus_queue\\.queue: properties\\.maxDeliveryCount: 0 — expected`),
    );
    assert.equal(broker.platform.broker.namespace(NS), undefined, "nothing changed");
  });

  it("plan -out tfplan shows what apply tfplan makes; secrets masked; -var overrides a default", async () => {
    const plan = await tf(["plan", "-out", "tfplan", ...TS]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /# azurerm_servicebus_queue\.queue will be created/);
    assert.match(plan.stdout, /\+ lock_duration\s+= "PT5M"/);
    assert.match(plan.stdout, /\+ max_delivery_count\s+= 1/);
    assert.match(plan.stdout, /\+ image\s+= "eventjobsdemo\.azurecr\.io\/job-ts:1\.0\.0"/, "-var image_name=job-ts");
    assert.match(plan.stdout, /\+ value\s+= \(sensitive value\)/);
    assert.match(plan.stdout, /^Plan: 12 to add, 0 to change, 0 to destroy\.$/m);
    assert.doesNotMatch(plan.stdout, SECRET);
    assert.equal(broker.platform.broker.namespace(NS), undefined, "plan changes nothing");

    const apply = await tf(["apply", "tfplan"]);
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.match(apply.stdout, /Apply complete! Resources: 12 added, 0 changed, 0 destroyed\./);
    assert.match(apply.stdout, /servicebus_connection_string = <sensitive>/);
    assert.match(apply.stdout, /acr_login_server = "eventjobsdemo\.azurecr\.io"/);
    assert.doesNotMatch(apply.stdout + apply.stderr, SECRET);

    const q = broker.platform.broker.namespace(NS)!.queue("queue-messages")!;
    assert.equal(q.props.lockDurationMs, 5 * 60_000);
    assert.equal(q.props.maxDeliveryCount, 1);
    const job = broker.platform.jobs.engine.job(JOB)!;
    assert.equal(job.template.containers[0].image, "eventjobsdemo.azurecr.io/job-ts:1.0.0");
    assert.equal(job.scale!.rules[0].name, "azure-servicebus-queue-rule");
    const id = broker.platform.identity.registry.user("identity-aca")!;
    const env = Object.fromEntries((job.template.containers[0].env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.MANAGED_IDENTITY_CLIENT_ID, id.clientId);

    const out = await tf(["output"]);
    assert.match(out.stdout, /identity_client_id = "[0-9a-f-]{36}"/);
    assert.match(out.stdout, /servicebus_connection_string = <sensitive>/);
    assert.doesNotMatch(out.stdout, SECRET);
  });

  it("a message sent with the SDK starts an execution of the processor that Succeeds", async (t) => {
    const t0 = Date.now();
    const cs = (await tf(["output", "-raw", "servicebus_connection_string"])).stdout.trim();
    assert.match(cs, /^Endpoint=sb:/);
    const client = new ServiceBusClient(cs, RETRY);
    try {
      await client.createSender("queue-messages").sendMessages({ body: "hello from terraform" });
    } finally {
      await client.close();
    }
    const started = await waitFor("an execution", () => broker.platform.jobs.engine.executions(JOB)[0], 60_000);
    t.diagnostic(`execution started after ${Date.now() - t0} ms`);
    const done = await waitForExecution(broker.platform, started.name, 150_000).catch((e: Error) => {
      const env = broker.platform.jobs.engine.job(JOB)?.template.containers[0].env;
      throw new Error(
        `${e.message}\nenv: ${JSON.stringify(env)}\nconsole: ${consoleText(broker.platform, started.name)}\nsystem: ${systemReasons(broker.platform, { execution: started.name }).join(", ")}`,
      );
    });
    t.diagnostic(`execution finished after ${Date.now() - t0} ms`);
    assert.equal(done.status, "Succeeded", consoleText(broker.platform, started.name));
    assert.match(consoleText(broker.platform, started.name), /Received: hello from terraform/);
  });

  it("plan after apply shows no changes; a changed -var is an update", async () => {
    const again = await tf(["plan", "-detailed-exitcode", ...TS]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /No changes\. Your infrastructure matches the configuration\./);
    const changed = await tf(["plan", ...TS, "-var", "image_tag=2.0.0"]);
    assert.match(changed.stdout, /# azurerm_container_app_job\.job will be updated in-place/);
    assert.match(changed.stdout, /^Plan: 0 to add, 2 to change, 0 to destroy\.$/m);
  });

  it("local-exec provisioners run with az mapped to eventjobs; a failed one runs again at the next apply", async () => {
    const extra = (command: string) =>
      writeFileSync(
        join(dir, "extra.tf"),
        `resource "null_resource" "show" {\n  provisioner "local-exec" {\n    command = "${command}"\n  }\n}\n`,
      );
    extra("az servicebus queue list --namespace-name ${azurerm_servicebus_namespace.sb.name} -o table");
    const ok = await tf(["apply", "-auto-approve", ...TS]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /null_resource\.show \(local-exec\): queue-messages\s+Active\s+PT5M/);
    assert.match(ok.stdout, /Resources: 1 added, 0 changed, 0 destroyed\./);

    extra("echo failing; exit 3");
    const failed = await tf(["apply", "-auto-approve", ...TS]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /local-exec provisioner error: "echo failing; exit 3" exited with 3/);
    const plan = await tf(["plan", ...TS]);
    assert.match(plan.stdout, /# null_resource\.show will be created/);
    assert.match(plan.stdout, /^Plan: 1 to add, 0 to change, 0 to destroy\.$/m);
    rmSync(join(dir, "extra.tf"));
    const clean = await tf(["plan", "-detailed-exitcode", ...TS]);
    assert.equal(clean.code, 0, clean.stdout);
  });

  it("destroy removes exactly what apply made", async () => {
    const made = await broker.platform.broker.namespace("sbemulatorns");
    const r = await tf(["destroy", "-auto-approve"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Destroy complete! Resources: 12 destroyed\./);
    assert.equal(broker.platform.broker.namespace(NS), undefined);
    assert.equal(broker.platform.jobs.engine.job(JOB), undefined);
    assert.equal(broker.platform.identity.registry.user("identity-aca"), undefined);
    assert.ok(made && broker.platform.broker.namespace("sbemulatorns"), "what the project did not make stays");
    const after = await tf(["plan", ...TS]);
    assert.match(after.stdout, /^Plan: 12 to add, 0 to change, 0 to destroy\.$/m);
  });
});

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
