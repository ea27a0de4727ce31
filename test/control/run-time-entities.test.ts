// What a user makes at run time (CLI, the admin API, an SDK) is not the project's: no apply, restart,
// `up --config` of another file or destroy may take it away, and messages are never deleted as a side effect
// of configuration. Every step runs `eventjobs up` and the CLI as child processes on one data dir.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusAdministrationClient, ServiceBusClient } from "@azure/service-bus";
import { cli } from "../helpers/cli.js";
import { receiveOne, RETRY } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const PROJECT_NS = "proj-ns";
const OTHER_NS = "other-ns";
const project = `namespaces:\n  - name: ${PROJECT_NS}\n    queues:\n      - name: proj-q\nidentities:\n  - name: proj-id\n`;
const other = `namespaces:\n  - name: ${OTHER_NS}\n    queues:\n      - name: other-q\n`;

describe("what a user made at run time outlives applies, restarts and destroy", () => {
  let dir: string;
  let dataDir: string;
  let server: ServerProcess | undefined;
  let clientId: string;
  const run = async (args: string[]) => {
    const r = await cli(dataDir, args);
    assert.equal(r.code, 0, `eventjobs ${args.join(" ")}\n${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await run([...args, "-o", "json"]));
  const restart = async (args: string[] = []) => {
    const exit = await server?.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    server = await startServer({ dataDir, args });
  };
  /** The bodies waiting in a queue, peeked through the CLI (the queue must be served). */
  const bodies = async (ns: string, queue: string) =>
    (await json(["servicebus", "message", "peek", "--namespace-name", ns, "--queue-name", queue, "--count", "10"])).map(
      (m: { body: unknown }) => m.body,
    );
  const queues = async (ns: string) =>
    (await json(["servicebus", "queue", "list", "--namespace-name", ns])).map((q: { name: string }) => q.name).sort();

  /** Everything made at run time is there, as it was made (the commands run side by side). */
  async function assertUserThingsThere(): Promise<void> {
    const [names, cliBodies, adminBodies, adminQ, rule, identity, roles, job] = await Promise.all([
      queues("sbemulatorns"),
      bodies("sbemulatorns", "cli-q"),
      bodies("sbemulatorns", "admin-q"),
      json(["servicebus", "queue", "show", "--namespace-name", "sbemulatorns", "-n", "admin-q"]),
      json([
        "servicebus",
        "namespace",
        "authorization-rule",
        "show",
        "--namespace-name",
        "sbemulatorns",
        "-n",
        "cli-rule",
      ]),
      json(["identity", "show", "-n", "cli-id"]),
      json(["role", "assignment", "list", "--assignee", "cli-id"]),
      json(["containerapp", "job", "show", "-n", "cli-job"]),
    ]);
    assert.deepEqual(names, ["admin-q", "cli-q"]);
    assert.deepEqual(cliBodies, ["from the cli"]);
    assert.deepEqual(adminBodies, ["from the sdk"]);
    assert.equal(adminQ.properties.maxDeliveryCount, 7);
    assert.deepEqual(rule.rights, ["Listen"]);
    assert.equal(identity.clientId, clientId);
    assert.deepEqual(
      roles.map((a: { roleDefinitionName: string; scope: string }) => [
        a.roleDefinitionName,
        a.scope.replace(/.*\/namespaces\//, ""),
      ]),
      [["Azure Service Bus Data Receiver", "sbemulatorns/queues/cli-q"]],
    );
    assert.equal(job.properties.configuration.triggerType, "Manual");
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "eventjobs-runtime-"));
    dataDir = join(dir, "data");
    writeFileSync(join(dir, "project.yaml"), project);
    writeFileSync(join(dir, "other.yaml"), other);
    writeFileSync(
      join(dir, "hello.mjs"),
      "console.log(`identity endpoint: ${process.env.IDENTITY_ENDPOINT ? 'yes' : 'no'}`);\n",
    );
    server = await startServer({ dataDir });
  });
  after(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("apply of a project that declares another namespace leaves what the CLI, the admin API and the SDK made alone", async () => {
    await run(["servicebus", "queue", "create", "--namespace-name", "sbemulatorns", "-n", "cli-q"]);
    await run([
      "servicebus",
      "message",
      "send",
      "--namespace-name",
      "sbemulatorns",
      "--queue-name",
      "cli-q",
      "--body",
      "from the cli",
    ]);
    // the admin client only speaks https to the Endpoint's host:port: one policy points it at the http port
    const admin = new ServiceBusAdministrationClient(server!.connectionString);
    admin.pipeline.addPolicy({
      name: "http",
      sendRequest: (req, next) =>
        next(
          Object.assign(req, {
            url: req.url.replace(/^https:\/\/[^/]+/, `http://localhost:${server!.httpPort}`),
            allowInsecureConnection: true,
          }),
        ),
    });
    await admin.createQueue("admin-q", { maxDeliveryCount: 7 });
    const sdk = new ServiceBusClient(server!.connectionString, RETRY);
    await sdk.createSender("admin-q").sendMessages({ body: "from the sdk" });
    await sdk.close();
    await run([
      "servicebus",
      "namespace",
      "authorization-rule",
      "create",
      "--namespace-name",
      "sbemulatorns",
      "-n",
      "cli-rule",
      "--rights",
      "Listen",
    ]);
    clientId = (await json(["identity", "create", "-n", "cli-id"])).clientId;
    await run([
      "role",
      "assignment",
      "create",
      "--assignee",
      "cli-id",
      "--role",
      "Azure Service Bus Data Receiver",
      "--scope",
      "sbemulatorns/queues/cli-q",
    ]);
    await run([
      "containerapp",
      "job",
      "create",
      "-n",
      "cli-job",
      "--trigger-type",
      "Manual",
      "--image",
      "busybox",
      "--mi-user-assigned",
      "cli-id",
      "--command",
      "node",
      join(dir, "hello.mjs"),
    ]);

    const plan = await run(["plan", "--config", join(dir, "project.yaml")]);
    assert.doesNotMatch(plan, /^ {2}- /m, `the plan deletes nothing:\n${plan}`);
    const applied = await run(["apply", "--config", join(dir, "project.yaml")]);
    assert.match(applied, /Apply complete: 3 created, 0 updated, 0 deleted\./);
    await assertUserThingsThere();
  });

  it("a restart without --config serves them again, messages included, next to the project", async () => {
    await restart();
    assert.match(server!.stderr(), /using the project last applied/);
    await assertUserThingsThere();
    assert.deepEqual(await queues(PROJECT_NS), ["proj-q"]);
    // the SDK reaches the emulator's namespace by name (the project's namespace is now the default)
    const cs = (await run(["servicebus", "namespace", "connection-string", "-n", "sbemulatorns"])).trim();
    const sdk = new ServiceBusClient(cs, { ...RETRY, customEndpointAddress: `sb://127.0.0.1:${server!.amqpPort}` });
    try {
      const receiver = sdk.createReceiver("admin-q");
      const m = await receiveOne(receiver);
      assert.equal(m.body, "from the sdk");
      await receiver.abandonMessage(m); // it stays for the next checks
    } finally {
      await sdk.close();
    }
    // the job made at run time runs, with the identity made at run time
    const started = await json(["containerapp", "job", "start", "-n", "cli-job"]);
    const deadline = Date.now() + 20_000;
    let status = "";
    while (status !== "Succeeded" && Date.now() < deadline) {
      status = (
        await json(["containerapp", "job", "execution", "show", "-n", "cli-job", "--job-execution-name", started.name])
      ).properties.status;
      if (status === "Failed") break;
    }
    assert.equal(status, "Succeeded");
    assert.match(
      await run(["containerapp", "job", "logs", "show", "-n", "cli-job", "--format", "text"]),
      /identity endpoint: yes/,
    );
  });

  it("up --config another file replaces the project's namespace and nothing else; a queue made in that namespace keeps it", async () => {
    await run(["servicebus", "queue", "create", "--namespace-name", PROJECT_NS, "-n", "cli-in-proj"]);
    await run([
      "servicebus",
      "message",
      "send",
      "--namespace-name",
      PROJECT_NS,
      "--queue-name",
      "cli-in-proj",
      "--body",
      "in the project's namespace",
    ]);
    await restart(["--config", join(dir, "other.yaml")]);
    const log = server!.stderr();
    assert.match(log, new RegExp(`^Deleting queue ${PROJECT_NS}/proj-q\\.\\.\\. done$`, "m"));
    assert.match(
      log,
      new RegExp(
        `^Deleting namespace ${PROJECT_NS}\\.\\.\\. failed: it holds queues the project did not create \\(cli-in-proj\\); delete them .* then try again$`,
        "m",
      ),
    );
    await assertUserThingsThere();
    assert.deepEqual(await queues(OTHER_NS), ["other-q"]);
    assert.deepEqual(await queues(PROJECT_NS), ["cli-in-proj"]);
    assert.deepEqual(await bodies(PROJECT_NS, "cli-in-proj"), ["in the project's namespace"]);

    await restart(); // the namespace that could not be deleted is served after a restart too
    await assertUserThingsThere();
    assert.deepEqual(await bodies(PROJECT_NS, "cli-in-proj"), ["in the project's namespace"]);
  });

  it("destroy deletes what the project made, and only that", async () => {
    const r = await cli(dataDir, ["destroy", "--yes"]);
    assert.equal(r.code, 1, "a namespace that could not be deleted is an error");
    assert.match(r.stdout, new RegExp(`Deleting namespace ${OTHER_NS}\\.\\.\\. done`));
    assert.match(r.stdout, /1 could not be deleted/);
    assert.match(r.stdout, /it holds queues the project did not create \(cli-in-proj\)/);
    await assertUserThingsThere();
    assert.deepEqual(await bodies(PROJECT_NS, "cli-in-proj"), ["in the project's namespace"]);
    const namespaces = (await json(["servicebus", "namespace", "list"])).map((n: { name: string }) => n.name).sort();
    assert.deepEqual(namespaces, [PROJECT_NS, "sbemulatorns"]);

    await restart();
    await assertUserThingsThere();
    assert.deepEqual(await bodies(PROJECT_NS, "cli-in-proj"), ["in the project's namespace"]);
  });
});
