// `eventjobs servicebus topic [subscription [rule]] create|show|list|update|delete`: az's commands, names and
// flags, against the running server's control API (create replaces an existing entity's properties, as ARM's
// PUT does; update changes only the properties given).
import type { Command } from "commander";
import { flagProperties, type FlagSpec } from "./az-args.js";
import { ApiClient, addAzCommandOptions } from "./client.js";
import { print, type Column } from "./output.js";
import {
  addEntityFlags,
  ENTITY_FLAGS,
  RECEIVE_ENTITY_COLUMNS,
  specsOf,
  writeEntity,
  type EntityFlag,
} from "./servicebus-entity.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;
const enc = encodeURIComponent;

const TOPIC_COLUMNS: Column[] = [
  { header: "Name", get: (t) => t.name },
  { header: "Status", get: (t) => t.properties.status },
  { header: "DefaultMessageTimeToLive", get: (t) => t.properties.defaultMessageTimeToLive },
  { header: "RequiresDuplicateDetection", get: (t) => t.properties.requiresDuplicateDetection },
  { header: "MaxSizeInMegabytes", get: (t) => t.properties.maxSizeInMegabytes },
  { header: "SubscriptionCount", get: (t) => t.properties.subscriptionCount },
];
const SUBSCRIPTION_COLUMNS = RECEIVE_ENTITY_COLUMNS;
const RULE_COLUMNS: Column[] = [
  { header: "Name", get: (r) => r.name },
  { header: "FilterType", get: (r) => r.properties.filterType },
  {
    header: "Filter",
    get: (r) =>
      r.properties.filterType === "SqlFilter"
        ? r.properties.sqlFilter.sqlExpression
        : JSON.stringify(r.properties.correlationFilter),
  },
  { header: "Action", get: (r) => r.properties.action?.sqlExpression ?? "" },
];

const F = ENTITY_FLAGS;
const TOPIC_FLAGS: EntityFlag[] = [
  F.defaultMessageTimeToLive,
  F.maxSizeInMegabytes,
  F.maxMessageSizeInKilobytes,
  F.requiresDuplicateDetection,
  F.duplicateDetectionHistoryTimeWindow,
];
const SUBSCRIPTION_FLAGS: EntityFlag[] = [
  F.lockDuration,
  F.maxDeliveryCount,
  F.defaultMessageTimeToLive,
  F.deadLetteringOnMessageExpiration,
  F.deadLetteringOnFilterEvaluationExceptions,
  F.requiresSession,
  F.forwardTo,
  F.forwardDeadLetteredMessagesTo,
];
/** correlation filter flags → ARM's correlationFilter keys */
const CORRELATION_FLAGS: Array<[key: string, arm: string]> = [
  ["correlationId", "correlationId"],
  ["messageId", "messageId"],
  ["to", "to"],
  ["replyTo", "replyTo"],
  ["label", "label"],
  ["subject", "label"],
  ["sessionId", "sessionId"],
  ["replyToSessionId", "replyToSessionId"],
  ["contentType", "contentType"],
];

const topicsPath = (o: Obj) => `/servicebus/namespaces/${enc(o.namespaceName)}/topics`;
const topicPath = (o: Obj, name = o.name) => `${topicsPath(o)}/${enc(name)}`;
const subsPath = (o: Obj) => `${topicPath(o, o.topicName)}/subscriptions`;
const subPath = (o: Obj, name = o.name) => `${subsPath(o)}/${enc(name)}`;
const rulesPath = (o: Obj) => `${subPath(o, o.subscriptionName)}/rules`;

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  eventjobs servicebus ${l}\n`).join("")}`;

interface Level {
  group: Command;
  /** the parent options every command of this level takes */
  scope: (cmd: Command) => Command;
  what: string;
  list: (o: Obj) => string;
  one: (o: Obj) => string;
  cols: Column[];
  flags: FlagSpec[];
  addFlags: (cmd: Command) => Command;
  body: (o: Obj) => Obj;
  ex: Record<"create" | "show" | "list" | "update" | "delete", string[]>;
}

function crud(l: Level): void {
  const named = (cmd: Command) =>
    l.scope(addAzCommandOptions(cmd)).requiredOption("-n, --name <name>", `the ${l.what}`);
  l.addFlags(named(l.group.command("create")))
    .description(`Create a ${l.what}, or replace an existing one's properties (unset ones take the defaults)`)
    .addHelpText("after", examples(...l.ex.create))
    .action((o: Obj) => writeEntity(o, "PUT", l.one(o), l.body(o), l.flags, l.cols));
  l.addFlags(named(l.group.command("update")))
    .description(`Change the given properties of a ${l.what}`)
    .addHelpText("after", examples(...l.ex.update))
    .action((o: Obj) => writeEntity(o, "PATCH", l.one(o), l.body(o), l.flags, l.cols));
  named(l.group.command("show"))
    .description(`Show a ${l.what}`)
    .addHelpText("after", examples(...l.ex.show))
    .action(async (o: Obj) => print(await new ApiClient(o.dataDir).request("GET", l.one(o)), o.output, l.cols));
  l.scope(addAzCommandOptions(l.group.command("list")))
    .description(`List the ${l.what}s`)
    .addHelpText("after", examples(...l.ex.list))
    .action(async (o: Obj) =>
      print((await new ApiClient(o.dataDir).request("GET", l.list(o))).value, o.output, l.cols),
    );
  named(l.group.command("delete"))
    .description(`Delete a ${l.what}`)
    .addHelpText("after", examples(...l.ex.delete))
    .action(async (o: Obj) => {
      await new ApiClient(o.dataDir).request("DELETE", l.one(o));
    });
}

function ruleBody(o: Obj): Obj {
  const props: Obj = {};
  const cf: Obj = {};
  for (const [key, arm] of CORRELATION_FLAGS) if (o[key] !== undefined) cf[arm] = o[key];
  if (o.correlationFilterProperty) {
    const p: Obj = {};
    for (const kv of o.correlationFilterProperty as string[]) {
      const i = kv.indexOf("=");
      if (i <= 0) fail(`--correlation-filter-property "${kv}": expected KEY=VALUE`);
      p[kv.slice(0, i)] = kv.slice(i + 1);
    }
    cf.properties = p;
  }
  if (o.filterType !== undefined) {
    if (o.filterType !== "SqlFilter" && o.filterType !== "CorrelationFilter")
      fail(`argument --filter-type: invalid choice: '${o.filterType}' (choose from 'CorrelationFilter', 'SqlFilter')`);
    props.filterType = o.filterType;
  }
  if (o.filterSqlExpression !== undefined) props.sqlFilter = { sqlExpression: o.filterSqlExpression };
  if (Object.keys(cf).length) props.correlationFilter = cf;
  if (props.sqlFilter && props.correlationFilter)
    fail("--filter-sql-expression and the correlation filter arguments exclude each other");
  if (o.actionSqlExpression !== undefined) props.action = { sqlExpression: o.actionSqlExpression };
  return props;
}

export function registerTopics(sb: Command): void {
  const topic = sb.command("topic").description("Topics, their subscriptions and rules (az servicebus topic)");
  const withNs = (cmd: Command) => cmd.requiredOption("--namespace-name <namespace>", "the namespace");
  crud({
    group: topic,
    scope: withNs,
    what: "topic",
    list: topicsPath,
    one: (o) => topicPath(o),
    cols: TOPIC_COLUMNS,
    flags: specsOf(TOPIC_FLAGS),
    addFlags: (cmd) => addEntityFlags(cmd, TOPIC_FLAGS),
    body: (o) => flagProperties(o, specsOf(TOPIC_FLAGS)),
    ex: {
      create: [
        "topic create --namespace-name sbemulatorns --name orders",
        "topic create --namespace-name sbemulatorns -n orders --enable-duplicate-detection --duplicate-detection-history-time-window PT5M -o table",
      ],
      update: ["topic update --namespace-name sbemulatorns -n orders --default-message-time-to-live P1D"],
      show: ["topic show --namespace-name sbemulatorns -n orders"],
      list: ["topic list --namespace-name sbemulatorns -o table"],
      delete: ["topic delete --namespace-name sbemulatorns -n orders"],
    },
  });

  const sub = topic.command("subscription").description("A topic's subscriptions (az servicebus topic subscription)");
  const withTopic = (cmd: Command) => withNs(cmd).requiredOption("--topic-name <topic>", "the topic");
  crud({
    group: sub,
    scope: withTopic,
    what: "subscription",
    list: subsPath,
    one: (o) => subPath(o),
    cols: SUBSCRIPTION_COLUMNS,
    flags: specsOf(SUBSCRIPTION_FLAGS),
    addFlags: (cmd) => addEntityFlags(cmd, SUBSCRIPTION_FLAGS),
    body: (o) => flagProperties(o, specsOf(SUBSCRIPTION_FLAGS)),
    ex: {
      create: [
        "topic subscription create --namespace-name sbemulatorns --topic-name orders --name audit --lock-duration PT30S --max-delivery-count 5",
        "topic subscription create --namespace-name sbemulatorns --topic-name orders -n sessions --enable-session true -o table",
      ],
      update: [
        "topic subscription update --namespace-name sbemulatorns --topic-name orders -n audit --forward-to archive",
      ],
      show: ["topic subscription show --namespace-name sbemulatorns --topic-name orders -n audit"],
      list: ["topic subscription list --namespace-name sbemulatorns --topic-name orders -o table"],
      delete: ["topic subscription delete --namespace-name sbemulatorns --topic-name orders -n audit"],
    },
  });

  const rule = sub.command("rule").description("A subscription's rules (az servicebus topic subscription rule)");
  const withSub = (cmd: Command) =>
    withTopic(cmd).requiredOption("--subscription-name <subscription>", "the subscription");
  crud({
    group: rule,
    scope: withSub,
    what: "rule",
    list: rulesPath,
    one: (o) => `${rulesPath(o)}/${enc(o.name)}`,
    cols: RULE_COLUMNS,
    flags: [],
    addFlags: (cmd) =>
      cmd
        .option("--filter-type <type>", "SqlFilter or CorrelationFilter (default: from the other arguments)")
        .option("--filter-sql-expression <sql>", "the SQL filter, e.g. \"region = 'eu'\" (default 1=1)")
        .option("--action-sql-expression <sql>", 'a SQL action applied to matching messages, e.g. "SET seen = 1"')
        .option("--correlation-id <id>", "correlation filter: correlation id")
        .option("--message-id <id>", "correlation filter: message id")
        .option("--to <to>", "correlation filter: to")
        .option("--reply-to <address>", "correlation filter: reply to")
        .option("--label <label>", "correlation filter: label (subject)")
        .option("--subject <subject>", "correlation filter: subject (the same as --label)")
        .option("--session-id <id>", "correlation filter: session id")
        .option("--reply-to-session-id <id>", "correlation filter: reply-to session id")
        .option("--content-type <type>", "correlation filter: content type")
        .option("--correlation-filter-property <pairs...>", "correlation filter: application properties KEY=VALUE"),
    body: ruleBody,
    ex: {
      create: [
        "topic subscription rule create --namespace-name sbemulatorns --topic-name orders --subscription-name audit --name eu --filter-sql-expression \"region = 'eu'\"",
        "topic subscription rule create --namespace-name sbemulatorns --topic-name orders --subscription-name audit -n gold --filter-type CorrelationFilter --label order --correlation-filter-property tier=gold",
      ],
      update: [
        "topic subscription rule update --namespace-name sbemulatorns --topic-name orders --subscription-name audit -n eu --action-sql-expression \"SET seen = 'yes'\"",
      ],
      show: [
        "topic subscription rule show --namespace-name sbemulatorns --topic-name orders --subscription-name audit -n eu",
      ],
      list: [
        "topic subscription rule list --namespace-name sbemulatorns --topic-name orders --subscription-name audit -o table",
      ],
      delete: [
        "topic subscription rule delete --namespace-name sbemulatorns --topic-name orders --subscription-name audit -n $Default",
      ],
    },
  });
}
