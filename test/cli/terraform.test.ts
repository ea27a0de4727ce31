// eventjobs terraform init/plan/apply/output/destroy spawned as a lab user runs them, on a copy of
// examples/seed/terraform (the lab's shape: the image built and the job made by `az` in local-exec provisioners)
// against a server in this process: without `eventjobs login` the folder's data.azurerm_client_config is refused;
// the lab's resources are made, the role assignments for "me" go to the developer principal, a message sent with the
// SDK (to the connection string `terraform output` gives) starts an execution of the processor that Succeeds, a
// second plan shows no changes, -var overrides a default, secrets are never printed, an unknown resource type is
// refused with file:line before anything changes, and destroy leaves nothing it made (the az-made job included).
// The same folder with the Python processor: test/python/terraform.test.ts.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";
import { consoleText, systemReasons, waitFor, waitForExecution } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";

const NS = "servicebus-ns-job";
const JOB = "job-python";
// the data dir lives in the checkout: the TypeScript processor's packages resolve from its node_modules
const DATA = join(ROOT, `.eventjobs-tf-test-${process.pid}`);
const TS = ["-var", "image_name=job-ts", "-var", "app=app-ts"];
const SECRET = /SharedAccessKey=|Endpoint=sb:/;

describe("eventjobs terraform: the lab's folder", () => {
  let broker: TestBroker;
  let dir: string;
  const tf = (args: string[], o: { cwd?: string } = {}) =>
    cli(broker.dataDir, ["terraform", ...args], { cwd: o.cwd ?? dir });

  before(async () => {
    mkdirSync(DATA, { recursive: true });
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n", { dataDir: join(DATA, "server") });
    // the folder and the processors next to it, as in examples/seed/
    for (const f of ["terraform", "app", "app-ts"])
      cpSync(join(ROOT, "examples/seed", f), join(DATA, "lab", f), { recursive: true });
    dir = join(DATA, "lab", "terraform");
  });
  after(async () => {
    await broker?.close();
    rmSync(DATA, { recursive: true, force: true });
  });

  it("init checks the folder and says what it will emulate, with file:line", async () => {
    const r = await tf(["init"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /azurerm_servicebus_queue\.queue_messages \(main\.tf:\d+\): a queue/);
    assert.match(r.stdout, /terraform_data\.deploy_job \(main\.tf:\d+\): local-exec provisioners/);
    assert.match(r.stdout, /successfully initialized/);
  });

  it("without eventjobs login, data.azurerm_client_config is refused as Terraform refuses it without az login", async () => {
    const r = await tf(["plan", ...TS]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /providers\.tf:\d+: data\.azurerm_client_config\.current: no developer principal on this server: run `eventjobs login` first/,
    );
    assert.equal((await tf(["validate", ...TS])).code, 0, "validate reads no data source");
    assert.equal((await cli(broker.dataDir, ["login"])).code, 0);
  });

  it("an unknown resource type is refused with file:line before anything changes", async () => {
    const bad = join(DATA, "lab", "bad");
    cpSync(dir, bad, { recursive: true });
    writeFileSync(join(bad, "extra.tf"), '\n\nresource "azurerm_storage_account" "sa" {\n  name = "x"\n}\n');
    for (const cmd of [["init"], ["plan"], ["apply", "-auto-approve"]]) {
      const r = await tf([`-chdir=${bad}`, ...cmd]);
      assert.equal(r.code, 1, `${cmd}: ${r.stdout}`);
      assert.match(r.stderr, /extra\.tf:3: resource type "azurerm_storage_account" is not emulated/);
    }
    writeFileSync(
      join(bad, "extra.tf"),
      'resource "azurerm_servicebus_topic" "t" {\n  name = "t"\n  namespace_id = azurerm_servicebus_namespace.service_bus.id\n  enable_everything = true\n}\n',
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
      new RegExp(
        `main\\.tf:${line}: azurerm_servicebus_queue\\.queue_messages: properties\\.maxDeliveryCount: 0 — expected`,
      ),
    );
    assert.equal(broker.platform.broker.namespace(NS), undefined, "nothing changed");
  });

  it("plan -out tfplan shows what apply tfplan makes; the job is made by az; secrets masked; -var overrides a default", async () => {
    const plan = await tf(["plan", "-out", "tfplan", ...TS]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /# azurerm_servicebus_queue\.queue_messages will be created/);
    assert.match(plan.stdout, /\+ lock_duration\s+= "PT5M"/);
    assert.match(plan.stdout, /\+ max_delivery_count\s+= 1/);
    assert.match(plan.stdout, /-t job-ts:1\.0\.0 --no-format/, "-var image_name=job-ts");
    assert.match(plan.stdout, /# terraform_data\.deploy_job will be created/);
    assert.match(plan.stdout, /\+ command\s+= \(sensitive value\)/, "the job's command holds the connection string");
    assert.match(plan.stdout, /^Plan: 14 to add, 0 to change, 0 to destroy\.$/m);
    assert.doesNotMatch(plan.stdout, SECRET);
    assert.equal(broker.platform.broker.namespace(NS), undefined, "plan changes nothing");

    const apply = await tf(["apply", "tfplan"]);
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.match(apply.stdout, /terraform_data\.deploy_job: Provisioning with 'local-exec'/);
    assert.match(apply.stdout, /\(output suppressed due to sensitive value in config\)/);
    assert.match(apply.stdout, /Apply complete! Resources: 14 added, 0 changed, 0 destroyed\./);
    assert.match(apply.stdout, /servicebus_connection_string = <sensitive>/);
    assert.match(apply.stdout, /acr_login_server = "eventjobsdemo\.azurecr\.io"/);
    assert.doesNotMatch(apply.stdout + apply.stderr, SECRET);

    const q = broker.platform.broker.namespace(NS)!.queue("queue-messages")!;
    assert.equal(q.props.lockDurationMs, 5 * 60_000);
    assert.equal(q.props.maxDeliveryCount, 1);
    // the job `az containerapp job create` made, with the registry identity as its identity (as az gives it)
    const job = broker.platform.jobs.engine.job(JOB)!;
    assert.equal(job.template.containers[0].image, "eventjobsdemo.azurecr.io/job-ts:1.0.0");
    assert.equal(job.scale!.rules[0].name, "azure-servicebus-queue-rule");
    assert.equal(job.scale!.maxExecutions, 1);
    assert.deepEqual(
      Object.keys(job.identity?.userAssignedIdentities ?? {}).map((k) => k.split("/").pop()),
      ["identity-aca"],
    );
    const id = broker.platform.identity.registry.user("identity-aca")!;
    const env = Object.fromEntries((job.template.containers[0].env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.MANAGED_IDENTITY_CLIENT_ID, id.clientId);
    assert.doesNotMatch(env.SERVICEBUS_FQDN!, /servicebus\.windows\.net/, "the cloud name became this server's");

    // the lab's role assignments for "me": the developer principal of `eventjobs login`
    const mine = await cli(broker.dataDir, ["role", "assignment", "list", "--assignee", "developer@eventjobs.local"]);
    assert.equal(mine.code, 0, mine.stderr);
    const roles = (JSON.parse(mine.stdout) as Array<{ roleDefinitionName: string; scope: string }>).map(
      (a) => `${a.roleDefinitionName} ${a.scope.split("/").slice(-2).join("/")}`,
    );
    assert.deepEqual(roles.sort(), [
      "Azure Service Bus Data Receiver queues/queue-messages",
      "Azure Service Bus Data Sender queues/queue-messages",
    ]);

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
    assert.match(changed.stdout, /# terraform_data\.deploy_job will be updated in-place/);
    assert.match(changed.stdout, /^Plan: 0 to add, 2 to change, 0 to destroy\.$/m);
  });

  it("local-exec provisioners run with az mapped to eventjobs; a failed one runs again at the next apply", async () => {
    const extra = (command: string) =>
      writeFileSync(
        join(dir, "extra.tf"),
        `resource "null_resource" "show" {\n  provisioner "local-exec" {\n    command = "${command}"\n  }\n}\n`,
      );
    extra("az servicebus queue list --namespace-name ${azurerm_servicebus_namespace.service_bus.name} -o table");
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

  it("destroy removes exactly what apply made, the job az made included", async () => {
    const r = await tf(["destroy", "-auto-approve"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /job job-python \(made by a local-exec command\) deleted/);
    assert.match(r.stdout, /Destroy complete! Resources: 14 destroyed\./);
    assert.equal(broker.platform.broker.namespace(NS), undefined);
    assert.equal(broker.platform.jobs.engine.job(JOB), undefined);
    assert.equal(broker.platform.identity.registry.user("identity-aca"), undefined);
    const mine = await cli(broker.dataDir, ["role", "assignment", "list", "--assignee", "developer@eventjobs.local"]);
    assert.deepEqual(JSON.parse(mine.stdout), [], "the developer's role assignments went with the queue");
    assert.ok(broker.platform.broker.namespace("sbemulatorns"), "what the project did not make stays");
    const after = await tf(["plan", ...TS]);
    assert.match(after.stdout, /^Plan: 14 to add, 0 to change, 0 to destroy\.$/m);
  });
});
