import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigFile } from "../../src/config/load.ts";
import { ConfigError, QUEUE_DEFAULTS } from "../../src/model/config.ts";
import { tempFiles } from "../helpers/files.ts";

const { write } = tempFiles("eventjobs-config-");

/** The error lines with the temp directory replaced by FILE, for exact comparisons. */
function problems(file: string): string[] {
  try {
    loadConfigFile(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.message.split("\n").length, err.issues.length);
    return err.message.split("\n").map((l) => l.replaceAll(file, "FILE"));
  }
  assert.fail("expected a ConfigError");
}

test("every queue property parses into the model", () => {
  const file = write(
    "eventjobs.yaml",
    `namespaces:
  - name: servicebus-ns-job
    queues:
      - name: queue-messages
        properties:
          lockDuration: PT5M
          maxDeliveryCount: 1
          defaultMessageTimeToLive: P10675199DT2H48M5.4775807S
          deadLetteringOnMessageExpiration: true
          requiresSession: true
          requiresDuplicateDetection: true
          duplicateDetectionHistoryTimeWindow: PT20S
          forwardTo: Other-Queue
          forwardDeadLetteredMessagesTo: dlq/queue
          maxSizeInMegabytes: 5120
          maxMessageSizeInKilobytes: 102400
      - name: other-queue
      - name: dlq/queue
        properties:
          forwardTo: ""
`,
  );
  const cfg = loadConfigFile(file);
  assert.equal(cfg.defaultNamespace, "servicebus-ns-job");
  const [ns] = cfg.namespaces;
  assert.deepEqual(ns.queues[0], {
    name: "queue-messages",
    properties: {
      lockDurationMs: 300_000,
      maxDeliveryCount: 1,
      defaultMessageTimeToLiveMs: 922337203685477.6,
      deadLetteringOnMessageExpiration: true,
      requiresSession: true,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindowMs: 20_000,
      forwardTo: "other-queue",
      forwardDeadLetteredMessagesTo: "dlq/queue",
      maxSizeInMegabytes: 5120,
      maxMessageSizeInKilobytes: 102400,
    },
  });
  assert.deepEqual(ns.queues[1].properties, QUEUE_DEFAULTS);
  assert.deepEqual(ns.queues[2].properties, QUEUE_DEFAULTS, "an empty forwardTo means not forwarding");
  assert.deepEqual(ns.policies, [
    { name: "RootManageSharedAccessKey", rights: ["Manage", "Send", "Listen"], primaryKey: "SAS_KEY_VALUE" },
  ]);
});

test("default namespace, authorization rules, identities and jobs passed on", () => {
  const file = write(
    "eventjobs.yaml",
    `namespaces:
  - name: first-namespace
  - name: second-namespace
    default: true
    authorizationRules:
      - name: sender
        rights: [Send]
        primaryKey: "k1"
        secondaryKey: "k2"
      - name: RootManageSharedAccessKey
        rights: [Listen, Send, Manage]
identities:
  - name: identity-aca
jobs:
  - name: job-python
    properties:
      configuration: { triggerType: Manual, replicaTimeout: 60 }
      template: { containers: [{ name: main, image: busybox }] }
`,
  );
  const cfg = loadConfigFile(file);
  assert.equal(cfg.defaultNamespace, "second-namespace");
  const policies = cfg.namespaces[1].policies;
  assert.deepEqual(policies[0], { name: "sender", rights: ["Send"], primaryKey: "k1", secondaryKey: "k2" });
  assert.equal(policies[1].name, "RootManageSharedAccessKey");
  assert.equal(Buffer.from(policies[1].primaryKey, "base64").length, 32, "an absent key is a random 32-byte key");
  assert.deepEqual(cfg.extra, {
    identities: [{ name: "identity-aca" }],
    jobs: [
      {
        name: "job-python",
        properties: {
          configuration: { triggerType: "Manual", replicaTimeout: 60 },
          template: { containers: [{ name: "main", image: "busybox" }] },
        },
      },
    ],
  });
});

test("a file without namespaces gets the empty default namespace", () => {
  const cfg = loadConfigFile(write("eventjobs.yaml", "images: []\n"));
  assert.deepEqual(
    cfg.namespaces.map((n) => [n.name, n.queues.length]),
    [["sbemulatorns", 0]],
  );
  assert.equal(cfg.defaultNamespace, "sbemulatorns");
  assert.deepEqual(
    loadConfigFile(write("empty.yaml", "")).namespaces.map((n) => n.name),
    ["sbemulatorns"],
  );
});

test("each kind of problem names file, line:col, path, value and what was expected, all at once", () => {
  const file = write(
    "eventjobs.yaml",
    `namespaces:
  - name: servicebus-ns-job
    queues:
      - name: queue-messages
        properties:
          lockDuration: PT10M
          maxDeliveryCount: "1"
          lockDuraton: PT1M
          forwardTo: missing-queue
          requiresSession: yes
          duplicateDetectionHistoryTimeWindow: PT10S
      - name: Queue-Messages
      - name: /leading-slash
      - properties: {}
  - name: 9starts-with-digit
    default: true
    queues: {}
  - name: servicebus-ns-job
bogus: 1
`,
  );
  assert.deepEqual(problems(file), [
    'FILE:6:25: namespaces[0].queues[0].properties.lockDuration: "PT10M" — expected an ISO-8601 duration from PT5S to PT5M',
    'FILE:7:29: namespaces[0].queues[0].properties.maxDeliveryCount: "1" — expected an integer from 1 to 2000',
    'FILE:8:11: namespaces[0].queues[0].properties.lockDuraton: "PT1M" — expected a known key; did you mean "lockDuration"?',
    'FILE:9:22: namespaces[0].queues[0].properties.forwardTo: "missing-queue" — expected the name of a queue declared in the same namespace',
    'FILE:10:28: namespaces[0].queues[0].properties.requiresSession: "yes" — expected true or false',
    'FILE:11:48: namespaces[0].queues[0].properties.duplicateDetectionHistoryTimeWindow: "PT10S" — expected an ISO-8601 duration from PT20S to P7D',
    'FILE:12:15: namespaces[0].queues[1].name: "Queue-Messages" — expected a queue name not used before (namespaces[0].queues[0].name is "queue-messages")',
    'FILE:13:15: namespaces[0].queues[2].name: "/leading-slash" — expected a queue name (1-260 letters, digits, periods, hyphens, underscores and slashes, not starting or ending with a slash)',
    "FILE:14:9: namespaces[0].queues[3].name: (missing) — expected a queue name (1-260 letters, digits, periods, hyphens, underscores and slashes, not starting or ending with a slash)",
    'FILE:15:11: namespaces[1].name: "9starts-with-digit" — expected a namespace name (6-50 letters, digits and hyphens, starting with a letter, ending with a letter or digit, not ending in -sb or -mgmt)',
    "FILE:17:13: namespaces[1].queues: {} — expected a list of queues",
    'FILE:18:11: namespaces[2].name: "servicebus-ns-job" — expected a namespace name not used before (namespaces[0].name is "servicebus-ns-job")',
    "FILE:19:1: bogus: 1 — expected one of the known keys: namespaces, identities, roleAssignments, images, jobs",
  ]);
});

test("two default namespaces and bad rights are reported", () => {
  const file = write(
    "eventjobs.yaml",
    `namespaces:
  - name: namespace-one
    default: true
  - name: namespace-two
    default: true
    authorizationRules:
      - name: manager
        rights: [Manage]
      - name: reader
        rights: [Read]
      - name: Manager
        rights: []
`,
  );
  assert.deepEqual(problems(file), [
    "FILE:5:14: namespaces[1].default: true — expected one default namespace (namespace-one is already the default)",
    'FILE:8:17: namespaces[1].authorizationRules[0].rights: ["Manage"] — expected Manage together with Send and Listen (Service Bus requires all three)',
    'FILE:10:18: namespaces[1].authorizationRules[1].rights[0]: "Read" — expected Listen, Send or Manage, each once',
    'FILE:11:15: namespaces[1].authorizationRules[2].name: "Manager" — expected an authorization rule name not used before (namespaces[1].authorizationRules[0].name is "manager")',
    "FILE:12:17: namespaces[1].authorizationRules[2].rights: [] — expected at least one of Listen, Send, Manage",
  ]);
});

test("a secret never appears in an error", () => {
  const secret = "c2VjcmV0LWtleS12YWx1ZS10aGF0LW11c3Qtbm90LWxlYWs=";
  const file = write(
    "eventjobs.yaml",
    `namespaces:
  - name: namespace-one
    authorizationRules:
      - name: root
        rights: [Listen, Send, Manage]
        primaryKey: ["${secret}"]
        secondaryKey: ${"x".repeat(300)}
        primaryKy: ${secret}
        comment: ${secret}
  - name: namespace-two
    authorizationRules: { primaryKey: ${secret} }
    queues:
      - name: q
        properties:
          requiresSession: { secret: ${secret} }
`,
  );
  const lines = problems(file);
  assert.equal(lines.length, 6);
  for (const line of lines) assert.ok(!line.includes(secret) && !line.includes("xxxx"), line);
  assert.ok(
    lines[0].startsWith(
      'FILE:6:21: namespaces[0].authorizationRules[0].primaryKey: "***" — expected a non-empty string',
    ),
  );
  assert.ok(
    lines[2].startsWith(
      'FILE:8:9: namespaces[0].authorizationRules[0].primaryKy: "***" — expected a known key; did you mean "primaryKey"?',
    ),
  );
  assert.ok(
    lines[4].startsWith('FILE:11:25: namespaces[1].authorizationRules: {"primaryKey":"***"} — expected a list'),
  );
});

test("YAML syntax errors and repeated keys name the position", () => {
  const lines = problems(write("eventjobs.yaml", "namespaces:\n  - name: namespace-one\n    name: again\n"));
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^FILE:3:5: \(syntax error: Map keys must be unique\) — expected valid YAML$/);
  const broken = problems(write("broken.yaml", "namespaces:\n  - name: [unclosed\n"));
  assert.match(broken[0], /^FILE:\d+:\d+: \(syntax error: .+\) — expected valid YAML$/);
});

test("the emulator's Config.json content in a .yaml file gets a hint", () => {
  const lines = problems(write("config.yaml", '{"UserConfig": {"Namespaces": []}}'));
  assert.deepEqual(lines, [
    'FILE:1:2: UserConfig: {"Namespaces":[]} — expected one of the known keys: namespaces, identities, roleAssignments, images, jobs (this looks like the emulator\'s Config.json: give the file a .json extension)',
  ]);
});
