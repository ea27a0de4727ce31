// Topics, subscriptions and rules in every export: az's topic commands with its flags, azurerm's topic,
// subscription and subscription-rule resources with their argument names, and a KEDA ScaledJob whose trigger
// names a subscription; still no secret in any output.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import { EXPORT_FORMATS, exportProject } from "../../src/config/export/index.js";
import type { ProjectConfig } from "../../src/model/config.js";
import { clone, lab, labJob, LITERAL_SECRET, LOCAL_KEY } from "../helpers/lab-project.js";
import { crdSchema, validate } from "../helpers/openapi.js";

const SCALED_JOB = crdSchema(new URL("../fixtures/keda/keda.sh_scaledjobs.yaml", import.meta.url));

const TOPICS = `namespaces:
  - name: servicebus-ns-job
    queues:
      - name: archive
    topics:
      - name: orders
        properties: { defaultMessageTimeToLive: P2D, requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: PT5M }
        subscriptions:
          - name: audit
          - name: eu-gold
            properties: { lockDuration: PT30S, maxDeliveryCount: 4, requiresSession: true, forwardDeadLetteredMessagesTo: archive }
            rules:
              - name: eu
                filterType: SqlFilter
                sqlFilter: { sqlExpression: "region = 'eu' AND sys.Label LIKE 'order%'" }
                action: { sqlExpression: "SET routed = 'yes'" }
              - name: gold
                filterType: CorrelationFilter
                correlationFilter: { label: order, contentType: application/json, properties: { tier: gold } }
`;

/** The lab with a topic, and a second job triggered by one of its subscriptions. */
function withTopics(): ProjectConfig {
  const c = lab();
  const topics = parseConfigText(TOPICS, "eventjobs.yaml").namespaces[0];
  c.namespaces[0].queues.push(...topics.queues);
  c.namespaces[0].topics = topics.topics;
  const job = clone(labJob(c));
  job.name = "job-orders";
  const rule = job.properties.configuration.eventTriggerConfig.scale.rules[0];
  delete rule.metadata.queueName;
  Object.assign(rule.metadata, { topicName: "orders", subscriptionName: "audit" });
  (c.extra!.jobs as unknown[]).push(job);
  return c;
}

/** Each command starting with `head`, its continuation lines joined, as words (quotes removed). */
function azCommands(script: string, head: string): string[][] {
  const joined = script.replace(/ \\\n\s*/g, " ");
  return joined
    .split("\n")
    .filter((l) => l.startsWith(head + " "))
    .map((l) => (l.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^['"]|['"]$/g, "")));
}
const flag = (words: string[], f: string) => (words.includes(f) ? words[words.indexOf(f) + 1] : undefined);

describe("export with topics", () => {
  test("az: topic, subscription and rule create with az's flags; $Default deleted where rules are declared", () => {
    const script = exportProject(withTopics(), { format: "az" });
    assert.doesNotMatch(script, /not exported/);
    assert.equal(spawnSync("bash", ["-n"], { input: script }).status, 0, "the script parses");
    const [topic] = azCommands(script, "az servicebus topic create");
    assert.deepEqual(
      [flag(topic, "--name"), flag(topic, "--namespace-name"), flag(topic, "--default-message-time-to-live")],
      ["orders", "servicebus-ns-job", "P2D"],
    );
    assert.equal(flag(topic, "--enable-duplicate-detection"), "true");
    assert.equal(flag(topic, "--duplicate-detection-history-time-window"), "PT5M");
    const subs = azCommands(script, "az servicebus topic subscription create");
    assert.deepEqual(
      subs.map((s) => flag(s, "--name")),
      ["audit", "eu-gold"],
    );
    assert.equal(subs[0].length, 13, "audit has only defaults: no property flags");
    assert.deepEqual(
      ["--lock-duration", "--max-delivery-count", "--enable-session", "--forward-dead-lettered-messages-to"].map((f) =>
        flag(subs[1], f),
      ),
      ["PT30S", "4", "true", "archive"],
    );
    const deletes = azCommands(script, "az servicebus topic subscription rule delete");
    assert.deepEqual(
      deletes.map((d) => [flag(d, "--subscription-name"), flag(d, "--name")]),
      [["eu-gold", "$Default"]],
    );
    const [sql, corr] = azCommands(script, "az servicebus topic subscription rule create");
    const quoted = /--filter-sql-expression ('(?:[^']|'\\'')*')/.exec(script)![1];
    assert.equal(
      spawnSync("bash", ["-c", `printf %s ${quoted}`]).stdout.toString(),
      "region = 'eu' AND sys.Label LIKE 'order%'",
    );
    assert.ok(sql.includes("--filter-sql-expression"));
    assert.match(script, /--filter-sql-expression 'region = '\\''eu'\\'' AND sys\.Label LIKE '\\''order%'\\'''/);
    assert.match(script, /--action-sql-expression 'SET routed = '\\''yes'\\'''/);
    assert.deepEqual(
      ["--filter-type", "--label", "--content-type", "--correlation-filter-property"].map((f) => flag(corr, f)),
      ["CorrelationFilter", "order", "application/json", "tier=gold"],
    );
    // topics after the queue a subscription forwards to, subscriptions after topics, rules after their subscription
    const at = (s: string) => script.indexOf(s);
    assert.ok(at("az servicebus queue create") < at("az servicebus topic create"));
    assert.ok(at("az servicebus topic create") < at("az servicebus topic subscription create"));
    assert.ok(at("rule delete") < at("rule create"));
  });

  test("terraform: azurerm_servicebus_topic, _subscription and _subscription_rule with azurerm's arguments", () => {
    const tf = exportProject(withTopics(), { format: "terraform" });
    assert.doesNotMatch(tf, /not exported/);
    const resource = (type: string, name: string) => {
      const m = new RegExp(`resource "${type}" "${name}" \\{\\n([\\s\\S]*?)\\n\\}`).exec(tf);
      assert.ok(m, `${type}.${name} in\n${tf}`);
      return m[1];
    };
    const topic = resource("azurerm_servicebus_topic", "servicebus_ns_job_topic_orders");
    assert.match(topic, /name\s+= "orders"/);
    assert.match(topic, /namespace_id\s+= azurerm_servicebus_namespace\.servicebus_ns_job\.id/);
    assert.match(topic, /default_message_ttl\s+= "P2D"/);
    assert.match(topic, /requires_duplicate_detection\s+= true/);
    assert.match(topic, /duplicate_detection_history_time_window = "PT5M"/);
    const audit = resource("azurerm_servicebus_subscription", "servicebus_ns_job_orders_sub_audit");
    assert.match(audit, /topic_id\s+= azurerm_servicebus_topic\.servicebus_ns_job_topic_orders\.id/);
    assert.match(audit, /max_delivery_count = 10/, "required by azurerm");
    const eu = resource("azurerm_servicebus_subscription", "servicebus_ns_job_orders_sub_eu_gold");
    assert.match(eu, /lock_duration\s+= "PT30S"/);
    assert.match(eu, /requires_session\s+= true/);
    assert.match(eu, /forward_dead_lettered_messages_to = azurerm_servicebus_queue\.servicebus_ns_job_archive\.name/);
    const sql = resource("azurerm_servicebus_subscription_rule", "servicebus_ns_job_orders_sub_eu_gold_rule_eu");
    assert.match(sql, /subscription_id = azurerm_servicebus_subscription\.servicebus_ns_job_orders_sub_eu_gold\.id/);
    assert.match(sql, /filter_type\s+= "SqlFilter"/);
    assert.match(sql, /sql_filter\s+= "region = 'eu' AND sys\.Label LIKE 'order%'"/);
    assert.match(sql, /action\s+= "SET routed = 'yes'"/);
    const corr = resource("azurerm_servicebus_subscription_rule", "servicebus_ns_job_orders_sub_eu_gold_rule_gold");
    assert.match(corr, /filter_type\s+= "CorrelationFilter"/);
    assert.match(
      corr,
      /correlation_filter \{\n\s+label\s+= "order"\n\s+content_type = "application\/json"\n\s+properties\s+= \{ "tier" = "gold" \}\n\s+\}/,
    );
    assert.match(tf, /rule delete .*--subscription-name eu-gold --name '\$Default'/);
  });

  test("keda: the subscription-triggered ScaledJob names topicName and subscriptionName and validates", () => {
    const docs = parseAllDocuments(exportProject(withTopics(), { format: "keda", job: "job-orders" })).map((d) =>
      d.toJS(),
    );
    const scaled = docs.find((d) => d.kind === "ScaledJob");
    assert.deepEqual(validate(SCALED_JOB, scaled), []);
    const [trigger] = scaled.spec.triggers;
    assert.equal(trigger.type, "azure-servicebus");
    assert.equal(trigger.metadata.topicName, "orders");
    assert.equal(trigger.metadata.subscriptionName, "audit");
    assert.equal(trigger.metadata.queueName, undefined);
    const aca = exportProject(withTopics(), { format: "aca-yaml", job: "job-orders" });
    assert.match(aca, /topicName: orders/);
    assert.match(aca, /subscriptionName: audit/);
  });

  test("no secret value in any format with topics", () => {
    for (const format of EXPORT_FORMATS) {
      const text = exportProject(withTopics(), { format });
      assert.ok(!text.includes(LOCAL_KEY), `${format}: the namespace key leaked`);
      assert.ok(!text.includes(LITERAL_SECRET), `${format}: a literal secret leaked`);
      assert.ok(!/SharedAccessKey=/.test(text), `${format}: a connection string leaked`);
    }
  });
});
