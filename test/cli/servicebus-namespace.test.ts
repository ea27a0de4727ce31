// `servicebus namespace create|show|list|delete` and `queue update` against `eventjobs up` run as a child
// process: a namespace made at run time is served at once with its own keys, shows az's shape with the -g it
// was made in, outlives a restart (keys, queues and messages included), and delete takes its entities with it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { cli } from "../helpers/cli.js";
import { receiveOne, RETRY } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const NS = `ns-made-${process.pid}`;
const RG = "rg-lab";

describe("servicebus namespace create|show|list|delete at run time", () => {
  let dir: string;
  let dataDir: string;
  let server: ServerProcess | undefined;
  const run = (args: string[]) => cli(dataDir, args);
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `eventjobs ${args.join(" ")}\n${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await ok(args));
  const restart = async () => {
    assert.deepEqual(await server?.stop(), { code: 0, signal: null });
    server = await startServer({ dataDir });
  };
  /** The namespace's own connection string (keys list, as the lab reads it), pointed at this server's port. */
  const sdk = async () => {
    const cs = (
      await ok([
        "servicebus",
        "namespace",
        "authorization-rule",
        "keys",
        "list",
        "-g",
        RG,
        "--namespace-name",
        NS,
        "-n",
        "RootManageSharedAccessKey",
        "--query",
        "primaryConnectionString",
        "-o",
        "tsv",
      ])
    ).trim();
    assert.match(
      cs,
      new RegExp(
        `^Endpoint=sb://${NS}\\.localhost:\\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[A-Za-z0-9+/]{43}=;`,
      ),
    );
    return new ServiceBusClient(cs, { ...RETRY, customEndpointAddress: `sb://127.0.0.1:${server!.amqpPort}` });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "eventjobs-ns-"));
    dataDir = join(dir, "data");
    server = await startServer({ dataDir });
  });
  after(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("create serves the namespace at once, with new keys and az's shape; show and list find it by -g", async () => {
    await ok(["group", "create", "-n", RG, "-l", "westeurope"]);
    const made = await json(["servicebus", "namespace", "create", "-g", RG, "-n", NS, "--sku", "Standard"]);
    const id = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${RG}/providers/Microsoft.ServiceBus/namespaces/${NS}`;
    assert.equal(made.id, id);
    assert.equal(made.name, NS);
    assert.equal(made.type, "Microsoft.ServiceBus/Namespaces");
    assert.equal(made.resourceGroup, RG);
    assert.equal(made.location, "westeurope", "the resource group's location");
    assert.deepEqual(made.sku, { name: "Standard", tier: "Standard" });
    assert.equal(made.serviceBusEndpoint, `https://${NS}.servicebus.windows.net:443/`);
    assert.equal(made.provisioningState, "Succeeded");
    assert.equal(made.status, "Active");
    assert.doesNotMatch(JSON.stringify(made), /[Kk]ey"/, "no keys in the namespace");

    const [shown, listed, elsewhere, rules] = await Promise.all([
      ok(["servicebus", "namespace", "show", "-g", RG, "-n", NS, "--query", "id", "-o", "tsv"]),
      ok(["servicebus", "namespace", "list", "-g", RG, "--query", "[].name", "-o", "tsv"]),
      run(["servicebus", "namespace", "show", "-g", "rg-other", "-n", NS]),
      json(["servicebus", "namespace", "authorization-rule", "list", "--namespace-name", NS]),
    ]);
    assert.equal(shown, `${id}\n`);
    assert.equal(listed, `${NS}\n`);
    assert.equal(elsewhere.code, 1);
    assert.equal(
      elsewhere.stderr,
      `eventjobs: The Resource 'Microsoft.ServiceBus/namespaces/${NS}' under resource group 'rg-other' was not found.\n`,
    );
    assert.deepEqual(
      rules.map((r: { name: string; rights: string[]; id: string }) => [r.name, r.rights, r.id]),
      [
        [
          "RootManageSharedAccessKey",
          ["Listen", "Manage", "Send"],
          `${id}/authorizationRules/RootManageSharedAccessKey`,
        ],
      ],
    );

    // a queue in it: its id carries the namespace's group; the SDK sends with the namespace's own key
    const q = await json(["servicebus", "queue", "create", "-g", RG, "--namespace-name", NS, "-n", "jobs-in"]);
    assert.equal(q.id, `${id}/queues/jobs-in`);
    const topic = await ok([
      "servicebus",
      "topic",
      "create",
      "--namespace-name",
      NS,
      "-n",
      "events",
      "--query",
      "id",
      "-o",
      "tsv",
    ]);
    assert.equal(topic, `${id}/topics/events\n`);
    const wrongGroup = await run([
      "servicebus",
      "queue",
      "create",
      "-g",
      "rg-other",
      "--namespace-name",
      NS,
      "-n",
      "x",
    ]);
    assert.equal(wrongGroup.code, 1);
    assert.match(wrongGroup.stderr, /under resource group 'rg-other' was not found/);
    const client = await sdk();
    try {
      await client.createSender("jobs-in").sendMessages({ body: "kept" });
    } finally {
      await client.close();
    }
    // the emulator's well-known key does not open it
    const emulator = new ServiceBusClient(
      `Endpoint=sb://${NS}.localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
      {
        retryOptions: { maxRetries: 0, timeoutInMs: 10_000 },
        customEndpointAddress: `sb://127.0.0.1:${server!.amqpPort}`,
      },
    );
    try {
      await assert.rejects(emulator.createSender("jobs-in").sendMessages({ body: "no" }));
    } finally {
      await emulator.close();
    }
  });

  it("queue update changes only the flags given", async () => {
    const before = await json([
      "servicebus",
      "queue",
      "update",
      "-g",
      RG,
      "--namespace-name",
      NS,
      "-n",
      "jobs-in",
      "--max-delivery-count",
      "3",
      "--lock-duration",
      "PT2M",
    ]);
    assert.equal(before.properties.maxDeliveryCount, 3);
    assert.equal(before.properties.lockDuration, "PT2M");
    const after = await json([
      "servicebus",
      "queue",
      "update",
      "--namespace-name",
      NS,
      "-n",
      "jobs-in",
      "--max-delivery-count",
      "4",
    ]);
    assert.equal(after.properties.maxDeliveryCount, 4);
    assert.equal(after.properties.lockDuration, "PT2M", "what was not given stays");
    const bad = await run([
      "servicebus",
      "queue",
      "update",
      "--namespace-name",
      NS,
      "-n",
      "jobs-in",
      "--lock-duration",
      "PT10M",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--lock-duration: "?PT10M/);
  });

  it("a restart serves it again with the same keys, its queue and its message", async () => {
    const keys = (
      await json([
        "servicebus",
        "namespace",
        "authorization-rule",
        "keys",
        "list",
        "--namespace-name",
        NS,
        "-n",
        "RootManageSharedAccessKey",
      ])
    ).primaryKey;
    await restart();
    const [shown, keysAfter, queue] = await Promise.all([
      json(["servicebus", "namespace", "show", "-n", NS]),
      json([
        "servicebus",
        "namespace",
        "authorization-rule",
        "keys",
        "list",
        "--namespace-name",
        NS,
        "-n",
        "RootManageSharedAccessKey",
      ]),
      json(["servicebus", "queue", "show", "--namespace-name", NS, "-n", "jobs-in"]),
    ]);
    assert.equal(shown.resourceGroup, RG);
    assert.equal(shown.location, "westeurope");
    assert.equal(keysAfter.primaryKey, keys);
    assert.equal(queue.properties.maxDeliveryCount, 4);
    const client = await sdk();
    try {
      const receiver = client.createReceiver("jobs-in");
      const m = await receiveOne(receiver);
      assert.equal(m.body, "kept");
      await receiver.abandonMessage(m);
    } finally {
      await client.close();
    }
  });

  it("delete takes the namespace with its queues and messages; it stays gone after a restart", async () => {
    const refused = await run(["servicebus", "namespace", "delete", "-n", "sbemulatorns"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot be deleted/);
    await ok(["servicebus", "namespace", "delete", "-g", RG, "-n", NS]);
    const gone = await run(["servicebus", "namespace", "show", "-n", NS]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Microsoft\.ServiceBus\/namespaces\/.* was not found/);
    await restart();
    const names = await json(["servicebus", "namespace", "list", "--query", "[].name"]);
    assert.deepEqual(names, ["sbemulatorns"]);
    // made again under the same name, it starts empty with new keys
    await ok(["servicebus", "namespace", "create", "-g", RG, "-n", NS]);
    assert.deepEqual(await json(["servicebus", "queue", "list", "--namespace-name", NS]), []);
  });
});
