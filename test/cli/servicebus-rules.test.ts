// `eventjobs servicebus namespace|queue authorization-rule ...` spawned as a user runs them: az's shapes,
// keys only from `keys list|renew`, connection strings that the SDK accepts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";

const NS = "servicebus-ns-job";
const YAML = `namespaces:
  - name: ${NS}
    authorizationRules:
      - name: RootManageSharedAccessKey
        rights: [Manage, Send, Listen]
  - name: sbemulatorns
    default: true
    queues:
      - name: queue-messages
        authorizationRules:
          - name: scaler
            rights: [Listen]
            primaryKey: scaler-key-0123456789
`;

describe("servicebus authorization-rule CLI", () => {
  let broker: TestBroker;
  const sb = (args: string[]) => cli(broker.dataDir, ["servicebus", ...args]);
  const ok = async (args: string[]) => {
    const r = await sb(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    broker = await startBroker(YAML);
  });
  after(() => broker?.close());

  it("namespace rules: list/show (no keys, -o table/tsv/yaml), create --rights, keys list in az's shape, delete", async () => {
    const [list, table, tsv, show] = await Promise.all([
      ok(["namespace", "authorization-rule", "list", "--namespace-name", NS]),
      ok(["namespace", "authorization-rule", "list", "--namespace-name", NS, "-o", "table"]),
      ok(["namespace", "authorization-rule", "list", "--namespace-name", NS, "-o", "tsv"]),
      ok([
        "namespace",
        "authorization-rule",
        "show",
        "--namespace-name",
        NS,
        "--name",
        "RootManageSharedAccessKey",
        "-o",
        "yaml",
        "-g",
        "rg-lab",
      ]),
    ]);
    const rules = JSON.parse(list);
    assert.deepEqual(rules, [
      {
        id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/eventjobs/providers/Microsoft.ServiceBus/namespaces/${NS}/authorizationRules/RootManageSharedAccessKey`,
        name: "RootManageSharedAccessKey",
        type: "Microsoft.ServiceBus/Namespaces/AuthorizationRules",
        location: "local",
        resourceGroup: "eventjobs",
        rights: ["Listen", "Manage", "Send"],
      },
    ]);
    assert.match(table, /^Name\s+ResourceGroup\s+Rights\n-+/);
    assert.match(table, /\nRootManageSharedAccessKey\s+eventjobs\s+Listen, Manage, Send\n/);
    assert.equal(tsv.trim(), "RootManageSharedAccessKey\teventjobs\tListen, Manage, Send");
    assert.match(show, /^id: .*\/authorizationRules\/RootManageSharedAccessKey\nname: RootManageSharedAccessKey\n/);
    for (const out of [list, table, tsv, show]) assert.doesNotMatch(out, /[Kk]ey"?: |primaryKey/);

    const created = JSON.parse(
      await ok([
        "namespace",
        "authorization-rule",
        "create",
        "--namespace-name",
        NS,
        "--name",
        "app",
        "--rights",
        "Send",
        "Listen",
      ]),
    );
    assert.deepEqual([created.name, created.rights], ["app", ["Listen", "Send"]]);
    const keys = JSON.parse(
      await ok(["namespace", "authorization-rule", "keys", "list", "--namespace-name", NS, "--name", "app"]),
    );
    assert.deepEqual(Object.keys(keys), [
      "keyName",
      "primaryKey",
      "secondaryKey",
      "primaryConnectionString",
      "secondaryConnectionString",
    ]);
    assert.equal(Buffer.from(keys.primaryKey, "base64").length, 32);
    const port = broker.platform.endpoints.amqpPort;
    assert.equal(
      keys.primaryConnectionString,
      `Endpoint=sb://${NS}.localhost:${port};SharedAccessKeyName=app;SharedAccessKey=${keys.primaryKey};UseDevelopmentEmulator=true;`,
    );
    assert.equal(
      keys.secondaryConnectionString,
      `Endpoint=sb://${NS}.localhost:${port};SharedAccessKeyName=app;SharedAccessKey=${keys.secondaryKey};UseDevelopmentEmulator=true;`,
    );
    const [tls, query] = await Promise.all([
      ok(["namespace", "authorization-rule", "keys", "list", "--namespace-name", NS, "-n", "app", "--tls"]),
      ok([
        "namespace",
        "authorization-rule",
        "keys",
        "list",
        "--namespace-name",
        NS,
        "-n",
        "app",
        "--query",
        "primaryConnectionString",
        "-o",
        "tsv",
      ]),
    ]);
    assert.equal(
      JSON.parse(tls).primaryConnectionString,
      `Endpoint=sb://${NS}.localhost:${broker.platform.endpoints.amqpsPort}/;SharedAccessKeyName=app;SharedAccessKey=${keys.primaryKey};`,
    );
    assert.equal(query, keys.primaryConnectionString + "\n");

    const bad = await sb([
      "namespace",
      "authorization-rule",
      "create",
      "--namespace-name",
      NS,
      "-n",
      "x",
      "--rights",
      "Manage",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Manage must come with Send and Listen/);
    await ok(["namespace", "authorization-rule", "delete", "--namespace-name", NS, "--name", "app"]);
    const gone = await sb(["namespace", "authorization-rule", "show", "--namespace-name", NS, "--name", "app"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /The authorization rule 'app' .* was not found/);
  });

  it("queue rules: keys list has EntityPath and the SDK takes it; keys renew refuses the old key", async () => {
    // the default namespace: its host is localhost (the SDK resolves the connection string's host)
    const q = ["--namespace-name", "sbemulatorns", "--queue-name", "queue-messages"];
    const list = JSON.parse(await ok(["queue", "authorization-rule", "list", ...q]));
    assert.deepEqual(
      list.map((r: any) => [r.name, r.type]),
      [["scaler", "Microsoft.ServiceBus/Namespaces/Queues/AuthorizationRules"]],
    );
    assert.match(list[0].id, /\/namespaces\/sbemulatorns\/queues\/queue-messages\/authorizationRules\/scaler$/);
    const keys = JSON.parse(await ok(["queue", "authorization-rule", "keys", "list", ...q, "--name", "scaler"]));
    assert.equal(keys.primaryKey, "scaler-key-0123456789");
    assert.match(
      keys.primaryConnectionString,
      /^Endpoint=sb:\/\/localhost:\d+;SharedAccessKeyName=scaler;SharedAccessKey=scaler-key-0123456789;EntityPath=queue-messages;UseDevelopmentEmulator=true;$/,
    );

    const peek = async (cs: string) => {
      const c = new ServiceBusClient(cs, { retryOptions: { maxRetries: 0, timeoutInMs: 15_000 } });
      try {
        return await c.createReceiver("queue-messages").peekMessages(1);
      } finally {
        await c.close();
      }
    };
    assert.deepEqual(await peek(keys.primaryConnectionString), []);
    const renewed = JSON.parse(
      await ok(["queue", "authorization-rule", "keys", "renew", ...q, "--name", "scaler", "--key", "PrimaryKey"]),
    );
    assert.notEqual(renewed.primaryKey, keys.primaryKey);
    await assert.rejects(peek(keys.primaryConnectionString), (e: { code?: string }) => e.code === "UnauthorizedAccess");
    assert.deepEqual(await peek(renewed.primaryConnectionString), []);
    const own = JSON.parse(
      await ok([
        "queue",
        "authorization-rule",
        "keys",
        "renew",
        ...q,
        "-n",
        "scaler",
        "--key",
        "SecondaryKey",
        "--key-value",
        "chosen-secondary",
      ]),
    );
    assert.equal(own.secondaryKey, "chosen-secondary");
    const wrong = await sb([
      "queue",
      "authorization-rule",
      "keys",
      "renew",
      ...q,
      "-n",
      "scaler",
      "--key",
      "TertiaryKey",
    ]);
    assert.match(wrong.stderr, /invalid choice: 'TertiaryKey' \(choose from 'PrimaryKey', 'SecondaryKey'\)/);
  });

  it("--help shows az's flags with examples", async () => {
    const [ns, q] = await Promise.all([
      ok(["namespace", "authorization-rule", "keys", "list", "--help"]),
      ok(["queue", "authorization-rule", "create", "--help"]),
    ]);
    assert.match(ns, /--namespace-name <namespace>/);
    assert.match(
      ns,
      /Examples:\n {2}eventjobs servicebus namespace authorization-rule keys list --namespace-name sbemulatorns --name RootManageSharedAccessKey/,
    );
    assert.match(q, /--queue-name <queue>/);
    assert.match(q, /--rights <rights\.\.\.>/);
  });
});
