// The lab's az commands, literally, through the CLI as a child process: a group, an identity read back with
// `--query … -o tsv`, a role assignment by object id, and `containerapp job create … --registry-identity <identity
// id> --registry-server <acr>.azurecr.io`, which gives the job that identity (as az does): the execution a message
// starts authenticates with it. Then `containerapp job identity assign|remove|show`.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { consoleText, waitFor, waitForExecution } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";

const ROOT = resolve(import.meta.dirname, "../..");
const MI_PROCESSOR = join(ROOT, "test/fixtures/mi-processor.mjs");
const RG = "rg-lab";

describe("the lab's az commands, literally", () => {
  let broker: TestBroker;
  const run = (args: string[]) => cli(broker.dataDir, args);
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `eventjobs ${args.join(" ")}\n${r.stderr}`);
    return r.stdout;
  };
  const tsv = async (args: string[]) => (await ok([...args, "-o", "tsv"])).trim();
  const queue = uniqueName("queue-messages");
  const identity = uniqueName("identity-aca");
  let identityId = "";
  let clientId = "";

  before(async () => {
    broker = await startBroker("");
    await ok(["group", "create", "--name", RG, "--location", "eastus"]);
    await ok(["identity", "create", "--name", identity, "--resource-group", RG]);
    clientId = await tsv(["identity", "show", "--name", identity, "--resource-group", RG, "--query", "clientId"]);
    identityId = await tsv(["identity", "show", "--name", identity, "--resource-group", RG, "--query", "id"]);
  });
  after(() => broker?.close());

  it("create --registry-identity <identity id> --registry-server x.azurecr.io: the job runs with that identity", async () => {
    const principalId = await tsv(["identity", "show", "-n", identity, "-g", RG, "--query", "principalId"]);
    await ok([
      "servicebus",
      "queue",
      "create",
      "--resource-group",
      RG,
      "--namespace-name",
      "sbemulatorns",
      "--name",
      queue,
      "--lock-duration",
      "PT5M",
      "--max-delivery-count",
      "1",
    ]);
    const scope = await tsv([
      "servicebus",
      "queue",
      "show",
      "-g",
      RG,
      "--namespace-name",
      "sbemulatorns",
      "-n",
      queue,
      "--query",
      "id",
    ]);
    assert.match(
      scope,
      new RegExp(`/resourceGroups/${RG}/providers/Microsoft\\.ServiceBus/namespaces/sbemulatorns/queues/${queue}$`),
    );
    await ok([
      "role",
      "assignment",
      "create",
      "--role",
      "Azure Service Bus Data Receiver",
      "--assignee-object-id",
      principalId,
      "--assignee-principal-type",
      "ServicePrincipal",
      "--scope",
      scope,
    ]);
    const fqdn = `localhost:${broker.platform.endpoints.amqpsPort}`;
    // prettier-ignore
    const created = JSON.parse(await ok(["containerapp", "job", "create", "--name", "job-python", "--resource-group", RG,
      "--environment", "environment-lab", "--trigger-type", "Event", "--replica-timeout", "120", "--replica-retry-limit", "0",
      "--replica-completion-count", "1", "--parallelism", "1", "--image", "acrlab.azurecr.io/job-python:1.0.0",
      "--command", "node", MI_PROCESSOR, "--cpu", "0.25", "--memory", "0.5", "--min-executions", "0", "--max-executions", "1",
      "--secrets", `service-bus-connection-string=${broker.connectionString}`,
      "--scale-rule-name", "azure-servicebus-queue-rule", "--scale-rule-type", "azure-servicebus",
      "--scale-rule-auth", "connection=service-bus-connection-string",
      "--scale-rule-metadata", `queueName=${queue}`, "namespace=sbemulatorns", "messageCount=1",
      "--env-vars", `SERVICEBUS_FQDN=${fqdn}`, `SERVICEBUS_QUEUE_NAME=${queue}`, `MANAGED_IDENTITY_CLIENT_ID=${clientId}`, "NO_RETRY=1",
      "--registry-identity", identityId, "--registry-server", "acrlab.azurecr.io"]));
    assert.deepEqual(created.identity, { type: "UserAssigned", userAssignedIdentities: { [identityId]: {} } });
    assert.deepEqual(created.properties.configuration.registries, [
      { server: "acrlab.azurecr.io", identity: identityId },
    ]);
    const shown = JSON.parse(await ok(["containerapp", "job", "identity", "show", "-n", "job-python", "-g", RG]));
    assert.deepEqual(shown, {
      type: "UserAssigned",
      userAssignedIdentities: { [identityId]: { clientId, principalId } },
    });

    const sender = new ServiceBusClient(broker.connectionString, RETRY);
    try {
      await sender.createSender(queue).sendMessages({ body: "hello from the lab" });
    } finally {
      await sender.close();
    }
    const started = await waitFor(
      "an execution to start",
      () => broker.platform.jobs.engine.executions("job-python")[0],
    );
    const done = await waitForExecution(broker.platform, started.name, 60_000);
    const out = consoleText(broker.platform, started.name);
    assert.equal(done.status, "Succeeded", out);
    assert.match(out, /Received: hello from the lab/);
    assert.match(out, /RESULT \{"ok":true,"body":"hello from the lab"\}/);
    const executionId = await tsv([
      "containerapp",
      "job",
      "execution",
      "list",
      "-n",
      "job-python",
      "--query",
      "[0].id",
    ]);
    assert.match(
      executionId,
      new RegExp(`/resourceGroups/${RG}/providers/Microsoft\\.App/jobs/job-python/executions/`),
    );
  });

  it("--registry-identity system gives the job its system-assigned identity; a registry identity needs a server", async () => {
    const job = uniqueName("reg-sys");
    const made = JSON.parse(
      await ok([
        "containerapp",
        "job",
        "create",
        "-n",
        job,
        "--trigger-type",
        "Manual",
        "--image",
        "acrlab.azurecr.io/tool:1",
        "--command",
        "node",
        MI_PROCESSOR,
        "--registry-server",
        "acrlab.azurecr.io",
        "--registry-identity",
        "system",
      ]),
    );
    assert.deepEqual(made.identity, { type: "SystemAssigned" });
    assert.deepEqual(made.properties.configuration.registries, [{ server: "acrlab.azurecr.io", identity: "system" }]);
    const [noServer, notAcr, withPassword] = await Promise.all([
      run([
        "containerapp",
        "job",
        "create",
        "-n",
        uniqueName("reg-x"),
        "--trigger-type",
        "Manual",
        "--image",
        "a/b:1",
        "--command",
        "node",
        MI_PROCESSOR,
        "--registry-identity",
        identityId,
      ]),
      run([
        "containerapp",
        "job",
        "create",
        "-n",
        uniqueName("reg-y"),
        "--trigger-type",
        "Manual",
        "--image",
        "a/b:1",
        "--command",
        "node",
        MI_PROCESSOR,
        "--registry-identity",
        identityId,
        "--registry-server",
        "docker.io",
      ]),
      run([
        "containerapp",
        "job",
        "create",
        "-n",
        uniqueName("reg-z"),
        "--trigger-type",
        "Manual",
        "--image",
        "a/b:1",
        "--command",
        "node",
        MI_PROCESSOR,
        "--registry-server",
        "acrlab.azurecr.io",
        "--registry-username",
        "lab",
        "--registry-password",
        "s3cret-pass",
        "-o",
        "json",
      ]),
    ]);
    assert.equal(noServer.code, 1);
    assert.equal(noServer.stderr, "eventjobs: Usage error: --registry-server is required with --registry-identity\n");
    assert.equal(notAcr.code, 1);
    assert.match(notAcr.stderr, /Invalid value "docker\.io" for --registry-server/);
    assert.equal(withPassword.code, 0, withPassword.stderr);
    const conf = JSON.parse(withPassword.stdout).properties.configuration;
    assert.deepEqual(conf.registries, [
      { server: "acrlab.azurecr.io", username: "lab", passwordSecretRef: "acrlabazurecrio-lab" },
    ]);
    assert.deepEqual(conf.secrets, [{ name: "acrlabazurecrio-lab" }], "the password is a secret: its name only");
    assert.doesNotMatch(withPassword.stdout, /s3cret-pass/);
  });

  it("containerapp job identity assign|remove|show", async () => {
    const job = uniqueName("idjob");
    await ok([
      "containerapp",
      "job",
      "create",
      "-n",
      job,
      "--trigger-type",
      "Manual",
      "--image",
      "a/b:1",
      "--command",
      "node",
      MI_PROCESSOR,
      "-o",
      "none",
    ]);
    assert.deepEqual(JSON.parse(await ok(["containerapp", "job", "identity", "show", "-n", job])), { type: "None" });
    const system = JSON.parse(await ok(["containerapp", "job", "identity", "assign", "-n", job, "--system-assigned"]));
    assert.equal(system.type, "SystemAssigned");
    assert.equal(system.principalId, broker.platform.identity.registry.system(job).principalId);
    assert.equal(system.tenantId, broker.platform.identity.registry.tenantId);
    const both = JSON.parse(
      await ok(["containerapp", "job", "identity", "assign", "-n", job, "--user-assigned", identityId]),
    );
    assert.equal(both.type, "SystemAssigned,UserAssigned");
    assert.equal(both.userAssignedIdentities[identityId].clientId, clientId);
    assert.equal(
      await tsv(["containerapp", "job", "identity", "remove", "-n", job, "--user-assigned", "--query", "type"]),
      "SystemAssigned",
    );
    const notThere = await run(["containerapp", "job", "identity", "remove", "-n", job, "--user-assigned", identity]);
    assert.equal(notThere.code, 1);
    assert.match(notThere.stderr, /does not have specified user identity '.*' assigned, so it cannot be removed/);
    assert.deepEqual(
      JSON.parse(await ok(["containerapp", "job", "identity", "remove", "-n", job, "--system-assigned"])),
      {
        type: "None",
      },
    );
    const none = await run(["containerapp", "job", "identity", "assign", "-n", job]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, "eventjobs: Usage error: give --system-assigned, --user-assigned or both\n");
  });
});
