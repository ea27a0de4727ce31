import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emptyConfig, loadConfigFile } from "../../src/config/load.ts";
import { ConfigError, QUEUE_DEFAULTS } from "../../src/model/config.ts";
import { tempFiles } from "../helpers/files.ts";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));
const ROOT_POLICY = {
  name: "RootManageSharedAccessKey",
  rights: ["Manage", "Send", "Listen"],
  primaryKey: "SAS_KEY_VALUE",
};

const { tempDir, write } = tempFiles("eventjobs-load-");

test("examples/basic/eventjobs.yaml loads with its queues", () => {
  const cfg = loadConfigFile(join(examples, "basic/eventjobs.yaml"));
  assert.equal(cfg.defaultNamespace, "sbemulatorns");
  assert.equal(cfg.namespaces.length, 1);
  const [ns] = cfg.namespaces;
  assert.deepEqual(ns.policies, [ROOT_POLICY]);
  assert.deepEqual(
    ns.queues.map((q) => [q.name, q.properties.requiresSession]),
    [
      ["orders", false],
      ["orders-sessions", true],
    ],
  );
  assert.deepEqual(ns.queues[0].properties, {
    ...QUEUE_DEFAULTS,
    lockDurationMs: 60_000,
    maxDeliveryCount: 5,
    deadLetteringOnMessageExpiration: true,
  });
  assert.equal(ns.queues[1].properties.lockDurationMs, 30_000);
});

test("examples/emulator/Config.json loads with queues, topic, subscriptions and rules", () => {
  const cfg = loadConfigFile(join(examples, "emulator/Config.json"));
  assert.equal(cfg.defaultNamespace, "sbemulatorns");
  const [ns] = cfg.namespaces;
  assert.deepEqual(ns.policies, [ROOT_POLICY]);
  assert.deepEqual(
    ns.queues.map((q) => q.name),
    ["invoices", "invoices-sessions"],
  );
  assert.equal(ns.queues[0].properties.lockDurationMs, 30_000);
  assert.equal(ns.queues[0].properties.maxDeliveryCount, 5);
  assert.equal(ns.queues[0].properties.forwardTo, undefined);
  assert.equal(ns.queues[1].properties.requiresSession, true);
  assert.equal(ns.queues[1].properties.maxDeliveryCount, 3, "the emulator's default");
  assert.equal(ns.queues[1].properties.forwardDeadLetteredMessagesTo, "invoices");
  const [topic] = ns.topics!;
  assert.equal(topic.name, "shipments");
  assert.equal(topic.properties.defaultMessageTimeToLiveMs, 30 * 60_000);
  assert.deepEqual(
    topic.subscriptions.map((s) => s.name),
    ["express", "large-parcels"],
  );
  assert.equal(topic.subscriptions[0].rules[0].properties.FilterType, "Correlation");
  assert.deepEqual(topic.subscriptions[1].rules[0].properties.SqlFilter, {
    SqlExpression: "weightKg > 20 AND sys.Label <> 'letter'",
  });
  assert.equal(topic.subscriptions[1].properties.maxDeliveryCount, 10);
});

test("the format follows the extension, else the content", () => {
  const json = '{ "UserConfig": { "Namespaces": [ { "Name": "sbemulatorns", "Queues": [ { "Name": "q" } ] } ] } }';
  assert.equal(loadConfigFile(write("Config.json", json)).namespaces[0].queues[0].properties.maxDeliveryCount, 3);
  assert.equal(loadConfigFile(write("config.conf", `// emulator\n${json}`)).namespaces[0].queues[0].name, "q");
  const yaml = "namespaces:\n  - name: sbemulatorns\n    queues: [{ name: q }]\n";
  assert.equal(loadConfigFile(write("eventjobs.yml", yaml)).namespaces[0].queues[0].properties.maxDeliveryCount, 10);
  assert.equal(loadConfigFile(write("eventjobs", yaml)).namespaces[0].queues[0].name, "q");
});

test("an unreadable file is one ConfigError naming it", () => {
  const missing = join(tempDir(), "nope.yaml");
  assert.throws(
    () => loadConfigFile(missing),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `${missing}: (cannot read: ENOENT) — expected a readable config file`);
      assert.equal(err.issues.length, 1);
      return true;
    },
  );
});

test("emptyConfig is the default namespace with the emulator's root policy and no entities", () => {
  assert.deepEqual(emptyConfig(), {
    namespaces: [{ name: "sbemulatorns", queues: [], topics: [], policies: [ROOT_POLICY] }],
    defaultNamespace: "sbemulatorns",
    extra: {},
  });
  emptyConfig().namespaces[0].policies[0].rights.pop();
  assert.equal(emptyConfig().namespaces[0].policies[0].rights.length, 3, "each call returns a fresh copy");
});

test("ConfigError still accepts a single problem", () => {
  const err = new ConfigError("eventjobs.yaml", "jobs[0].name", "x y", "a job name");
  assert.equal(err.message, 'eventjobs.yaml: jobs[0].name: "x y" — expected a job name');
  assert.equal(err.issues.length, 1);
  assert.equal(err.path, "jobs[0].name");
});
