import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigFile } from "../../src/config/load.ts";
import { ConfigError, QUEUE_DEFAULTS } from "../../src/model/config.ts";
import { tempFiles } from "../helpers/files.ts";

const { write } = tempFiles("eventjobs-emulator-");

function problems(file: string): string[] {
  try {
    loadConfigFile(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message.split("\n").map((l) => l.replaceAll(file, "FILE"));
  }
  assert.fail("expected a ConfigError");
}

const config = (queues: string, topics = "[]"): string => `{
  "UserConfig": {
    "Namespaces": [
      {
        "Name": "sbemulatorns",
        "Queues": ${queues},
        "Topics": ${topics}
      }
    ],
    "Logging": { "Type": "File" }
  }
}`;

test("every queue property of the emulator's schema parses; omitted ones take the emulator's defaults", () => {
  const file = write(
    "Config.json",
    config(`[
      { "Name": "full", "Properties": {
        "DeadLetteringOnMessageExpiration": true,
        "DefaultMessageTimeToLive": "PT5M",
        "DuplicateDetectionHistoryTimeWindow": "PT5S",
        "ForwardDeadLetteredMessagesTo": "target",
        "ForwardTo": "TARGET",
        "LockDuration": "PT5S",
        "MaxDeliveryCount": 2000,
        "RequiresDuplicateDetection": true,
        "RequiresSession": true } },
      { "Name": "target" },
      { "Name": "blank", "Properties": { "ForwardTo": "", "ForwardDeadLetteredMessagesTo": "" } }
    ]`),
  );
  const cfg = loadConfigFile(file);
  const [full, target, blank] = cfg.namespaces[0].queues;
  assert.deepEqual(full.properties, {
    ...QUEUE_DEFAULTS,
    deadLetteringOnMessageExpiration: true,
    defaultMessageTimeToLiveMs: 300_000,
    duplicateDetectionHistoryTimeWindowMs: 5_000,
    forwardDeadLetteredMessagesTo: "target",
    forwardTo: "target",
    lockDurationMs: 5_000,
    maxDeliveryCount: 2000,
    requiresDuplicateDetection: true,
    requiresSession: true,
  });
  const emulatorDefaults = {
    ...QUEUE_DEFAULTS,
    lockDurationMs: 60_000,
    maxDeliveryCount: 3,
    defaultMessageTimeToLiveMs: 3_600_000,
    duplicateDetectionHistoryTimeWindowMs: 20_000,
  };
  assert.deepEqual(target.properties, emulatorDefaults);
  assert.deepEqual(blank.properties, emulatorDefaults);
  assert.deepEqual(cfg.extra, { Logging: { Type: "File" } });
});

test("topics, subscriptions and rules are kept; a subscription may forward to a queue", () => {
  const file = write(
    "Config.json",
    config(
      `[{ "Name": "audit" }]`,
      `[{ "Name": "events", "Properties": { "RequiresDuplicateDetection": true },
         "Subscriptions": [
           { "Name": "all", "Properties": { "ForwardTo": "audit", "LockDuration": "PT2M" } },
           { "Name": "filtered", "Rules": [
             { "Name": "c", "Properties": { "FilterType": "Correlation", "CorrelationFilter": { "To": "x", "Properties": { "n": 1 } } } },
             { "Name": "s", "Properties": { "FilterType": "Sql", "SqlFilter": { "SqlExpression": "1=1" }, "Action": { "SqlExpression": "SET a = 1" } } }
           ] }
         ] }]`,
    ),
  );
  const [topic] = loadConfigFile(file).namespaces[0].topics!;
  assert.equal(topic.name, "events");
  assert.deepEqual(topic.properties, {
    defaultMessageTimeToLiveMs: 3_600_000,
    requiresDuplicateDetection: true,
    duplicateDetectionHistoryTimeWindowMs: 20_000,
  });
  assert.equal(topic.subscriptions[0].properties.forwardTo, "audit");
  assert.equal(topic.subscriptions[0].properties.lockDurationMs, 120_000);
  assert.deepEqual(topic.subscriptions[0].rules, []);
  assert.deepEqual(topic.subscriptions[1].rules, [
    { name: "c", properties: { FilterType: "Correlation", CorrelationFilter: { To: "x", Properties: { n: 1 } } } },
    {
      name: "s",
      properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "1=1" }, Action: { SqlExpression: "SET a = 1" } },
    },
  ]);
});

test("what emulator users write: other namespace names, dotted names, a rule named $Default", () => {
  const file = write(
    "Config.json",
    `{ "UserConfig": { "Namespaces": [ { "Name": "sb", "Queues": [ { "Name": "queue.1" } ], "Topics": [
      { "Name": "topic.1", "Subscriptions": [ { "Name": "sub.1", "Rules": [
        { "Name": "$Default", "Properties": { "FilterType": "Correlation", "CorrelationFilter": { "To": "sub.1" } } } ] } ] } ] } ] } }`,
  );
  const cfg = loadConfigFile(file);
  assert.equal(cfg.defaultNamespace, "sb");
  assert.equal(cfg.namespaces[0].queues[0].name, "queue.1");
  assert.equal(cfg.namespaces[0].topics![0].subscriptions[0].rules[0].name, "$Default");
});

test("a file the emulator's own sample style accepts: comments, trailing commas, no Topics", () => {
  const file = write(
    "Config.json",
    `// comment
{ /* block
   comment */ "UserConfig": { "Namespaces": [ { "Name": "sbemulatorns", "Queues": [ { "Name": "q", }, ], }, ], }, }`,
  );
  const cfg = loadConfigFile(file);
  assert.equal(cfg.defaultNamespace, "sbemulatorns");
  assert.deepEqual(cfg.namespaces[0].topics, []);
  assert.equal(cfg.namespaces[0].policies[0].primaryKey, "SAS_KEY_VALUE");
});

test("problems name file, line:col, the JSON path and the value, all at once", () => {
  const file = write(
    "Config.json",
    config(
      `[
      { "Name": "q1", "Properties": { "MaxDeliveryCount": 2001, "lockDuration": "PT1M", "ForwardTo": "q1" } },
      { "Name": "Q1", "Properties": { "LockDuration": "PT6M", "RequiresSession": "true", "ForwardTo": "nowhere" } },
      { "Name": "-bad", "Properties": { "DefaultMessageTimeToLive": "1h" } }
    ]`,
      `[{ "Name": "t", "Subscriptions": [ { "Name": "s", "Rules": [
        { "Name": "r1", "Properties": { "FilterType": "Sq" } },
        { "Name": "r2", "Properties": { "FilterType": "Correlation", "CorrelationFilter": {} } },
        { "Name": "r3", "Properties": { "FilterType": "Sql" } }
      ] } ] }]`,
    ),
  );
  assert.deepEqual(problems(file), [
    "FILE:7:59: UserConfig.Namespaces[0].Queues[0].Properties.MaxDeliveryCount: 2001 — expected an integer from 1 to 2000",
    'FILE:7:65: UserConfig.Namespaces[0].Queues[0].Properties.lockDuration: "PT1M" — expected a known key; did you mean "LockDuration"?',
    'FILE:7:102: UserConfig.Namespaces[0].Queues[0].Properties.ForwardTo: "q1" — expected another entity than the one forwarding',
    'FILE:8:17: UserConfig.Namespaces[0].Queues[1].Name: "Q1" — expected a queue or topic name not used before (UserConfig.Namespaces[0].Queues[0].Name is "q1")',
    'FILE:8:55: UserConfig.Namespaces[0].Queues[1].Properties.LockDuration: "PT6M" — expected an ISO-8601 duration from PT5S to PT5M',
    'FILE:8:82: UserConfig.Namespaces[0].Queues[1].Properties.RequiresSession: "true" — expected true or false',
    'FILE:8:103: UserConfig.Namespaces[0].Queues[1].Properties.ForwardTo: "nowhere" — expected the name of a queue or topic declared in the same namespace',
    'FILE:9:17: UserConfig.Namespaces[0].Queues[2].Name: "-bad" — expected a queue name (1-260 letters, digits, underscores, periods, hyphens and slashes, starting and ending with a letter or digit)',
    'FILE:9:69: UserConfig.Namespaces[0].Queues[2].Properties.DefaultMessageTimeToLive: "1h" — expected an ISO-8601 duration of at least PT1S',
    'FILE:12:55: UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.FilterType: "Sq" — expected "Correlation" or "Sql"',
    "FILE:13:91: UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[1].Properties.CorrelationFilter: {} — expected at least one of ContentType, CorrelationId, Label, MessageId, ReplyTo, ReplyToSessionId, SessionId, To, Properties",
    "FILE:14:39: UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[2].Properties.SqlFilter: (missing) — expected an object with a SqlExpression",
  ]);
});

test("top-level shape errors", () => {
  assert.deepEqual(
    problems(write("a.json", `{ "UserConfig": { "Namespaces": [], "Logging": { "Type": "Files" } }, "Extra": 1 }`)),
    [
      "FILE:1:33: UserConfig.Namespaces: [] — expected at least one namespace",
      'FILE:1:58: UserConfig.Logging.Type: "Files" — expected "File" or "Console" or "File,Console" or "Console,File"',
      "FILE:1:71: Extra: 1 — expected one of the known keys: UserConfig",
    ],
  );
  assert.deepEqual(
    problems(write("b.json", `{ "UserConfig": { "Namespaces": [ { "Name": "my.ns", "Queues": [] } ] } }`)),
    [
      'FILE:1:45: UserConfig.Namespaces[0].Name: "my.ns" — expected a namespace name (1-50 letters, digits and hyphens, starting and ending with a letter or digit)',
    ],
  );
  assert.deepEqual(problems(write("c.json", `{}`)), [
    "FILE:1:1: UserConfig: (missing) — expected the emulator's UserConfig object",
  ]);
});

test("JSON syntax errors and repeated keys name line and column", () => {
  assert.deepEqual(problems(write("Config.json", `{\n  "UserConfig": {\n    "Namespaces": [,]\n  }\n}`)), [
    "FILE:3:20: (syntax error: unexpected character) — expected JSON (comments and trailing commas allowed)",
  ]);
  // a hostile file nested far too deep is an error at the offending bracket, not a stack overflow
  assert.deepEqual(problems(write("Config.json", `{ "UserConfig": ${"[".repeat(100_000)}`)), [
    "FILE:1:272: (syntax error: nesting too deep) — expected JSON (comments and trailing commas allowed)",
  ]);
  assert.deepEqual(problems(write("Config.json", `{ "UserConfig": { /* never closed`)), [
    "FILE:1:19: (syntax error: unterminated /* comment) — expected JSON (comments and trailing commas allowed)",
  ]);
  assert.deepEqual(
    problems(write("Config.json", `{ "UserConfig": { "Namespaces": [{ "Name": "sbemulatorns", "Name": "x" }] } }`)),
    ['FILE:1:60: UserConfig.Namespaces[0].Name: "x" — expected each key once (repeated key)'],
  );
});
