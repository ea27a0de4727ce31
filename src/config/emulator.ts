// The Microsoft Service Bus emulator's Config.json (its Config-schema.json), accepted as is. We accept a
// superset: other namespace names and several namespaces (the emulator serves one, "sbemulatorns"),
// MaxDeliveryCount up to Service Bus's 2000 (emulator: 10), TTLs above the emulator's PT1H cap, and
// missing Topics / Subscriptions / Logging. Everything else it rejects, we reject too.
import {
  ConfigError,
  EMULATOR_ROOT_POLICY,
  QUEUE_DEFAULTS,
  type NamespaceConfig,
  type ProjectConfig,
  type QueueConfig,
  type QueueProperties,
  type RuleConfig,
  type SubscriptionConfig,
  type SubscriptionProperties,
  type TopicConfig,
  type TopicProperties,
} from "../model/config.js";
import { TIMESPAN_MAX_MS } from "../model/duration.js";
import { JsoncSyntaxError, parseJsonc } from "./jsonc.js";
import {
  at,
  Checker,
  checkUnique,
  emulatorName,
  readProps,
  resolveRefs,
  toJS,
  type EntityRef,
  type MapEntry,
  type NameRule,
  type Named,
  type PropSpec,
  type SrcNode,
} from "../model/validate.js";

/** Where the emulator's defaults differ from Service Bus's (QUEUE_DEFAULTS). */
export const EMULATOR_QUEUE_DEFAULTS: QueueProperties = {
  ...QUEUE_DEFAULTS,
  lockDurationMs: 60_000,
  maxDeliveryCount: 3,
  defaultMessageTimeToLiveMs: 3_600_000,
  duplicateDetectionHistoryTimeWindowMs: 20_000,
};

const SEC = 1000;
const MIN = 60 * SEC;
const ENTITY = emulatorName(260);
const CHILD = emulatorName(50);
// Samples in the wild name a rule "$Default" (Service Bus's own default rule), outside the schema's pattern.
const RULE: NameRule = { test: (s) => s === "$Default" || CHILD.test(s), expected: `"$Default" or ${CHILD.expected}` };
// The emulator only warns about names other than "sbemulatorns" (Aspire writes its resource name there),
// so any host-name-safe name is accepted; the Service Bus 6-character minimum is not enforced here.
const NAMESPACE: NameRule = {
  test: (s) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$/.test(s),
  expected: "1-50 letters, digits and hyphens, starting and ending with a letter or digit",
};

const spec = {
  lock: { key: "LockDuration", field: "lockDurationMs", type: "duration", min: 5 * SEC, max: 5 * MIN },
  deliveries: {
    key: "MaxDeliveryCount",
    field: "maxDeliveryCount",
    type: "int",
    expected: "an integer from 1 to 2000",
    valid: (n: number) => n >= 1 && n <= 2000,
  },
  ttl: {
    key: "DefaultMessageTimeToLive",
    field: "defaultMessageTimeToLiveMs",
    type: "duration",
    min: SEC,
    max: TIMESPAN_MAX_MS,
  },
  deadLetter: { key: "DeadLetteringOnMessageExpiration", field: "deadLetteringOnMessageExpiration", type: "bool" },
  session: { key: "RequiresSession", field: "requiresSession", type: "bool" },
  dedupe: { key: "RequiresDuplicateDetection", field: "requiresDuplicateDetection", type: "bool" },
  // The emulator allows PT5S..PT5M, Service Bus PT20S..P7D: accept both.
  window: {
    key: "DuplicateDetectionHistoryTimeWindow",
    field: "duplicateDetectionHistoryTimeWindowMs",
    type: "duration",
    min: 5 * SEC,
    max: 7 * 24 * 60 * MIN,
  },
  forward: { key: "ForwardTo", field: "forwardTo", type: "entity" },
  forwardDlq: { key: "ForwardDeadLetteredMessagesTo", field: "forwardDeadLetteredMessagesTo", type: "entity" },
} satisfies Record<string, PropSpec>;

const QUEUE_SPECS: PropSpec[] = [
  spec.deadLetter,
  spec.ttl,
  spec.window,
  spec.forwardDlq,
  spec.forward,
  spec.lock,
  spec.deliveries,
  spec.dedupe,
  spec.session,
];
const TOPIC_SPECS: PropSpec[] = [spec.ttl, spec.window, spec.dedupe];
const SUBSCRIPTION_SPECS: PropSpec[] = [
  spec.deadLetter,
  spec.ttl,
  spec.lock,
  spec.deliveries,
  spec.forwardDlq,
  spec.forward,
  spec.session,
];
const CORRELATION_KEYS = [
  "ContentType",
  "CorrelationId",
  "Label",
  "MessageId",
  "ReplyTo",
  "ReplyToSessionId",
  "SessionId",
  "To",
  "Properties",
];
const LOGGING_TYPES = ["File", "Console", "File,Console", "Console,File"];

interface Owner {
  name: string;
  props: Record<string, unknown>;
  refs: EntityRef[];
}

/** The name of an item from its `Name` entry, reported when absent or invalid. */
function readName(
  c: Checker,
  f: Map<string, MapEntry> | undefined,
  node: SrcNode,
  path: string,
  what: string,
  rule = ENTITY,
): Named | undefined {
  if (!f) return undefined;
  const p = at(path, "Name");
  const expected = `${what} name (${rule.expected})`;
  const v = c.need(f.get("Name"), node, p, expected);
  const name = v && c.str(v, p, expected, rule.test);
  return name === undefined ? undefined : { name, node: v!, path: p };
}

function readRule(c: Checker, node: SrcNode, path: string): RuleConfig | undefined {
  const f = c.fields(node, path, ["Name", "Properties"]);
  const named = readName(c, f, node, path, "a rule", RULE);
  const propsNode = f && c.need(f.get("Properties"), node, at(path, "Properties"), "the rule's filter properties");
  if (!propsNode) return undefined;
  const pp = at(path, "Properties");
  const pf = c.fields(propsNode, pp, ["FilterType", "CorrelationFilter", "SqlFilter", "Action"]);
  if (!pf) return undefined;
  const typeNode = c.need(pf.get("FilterType"), propsNode, at(pp, "FilterType"), '"Correlation" or "Sql"');
  const type =
    typeNode &&
    c.str(typeNode, at(pp, "FilterType"), '"Correlation" or "Sql"', (s) => s === "Correlation" || s === "Sql");
  const sql = (key: string, required: boolean): void => {
    const entry = pf.get(key);
    if (!entry && !required) return;
    const kp = at(pp, key);
    const v = c.need(entry, propsNode, kp, "an object with a SqlExpression");
    const sf = v && c.fields(v, kp, ["SqlExpression"]);
    if (!sf) return;
    const expr = c.need(sf.get("SqlExpression"), v!, at(kp, "SqlExpression"), "a SQL expression");
    if (expr)
      c.str(
        expr,
        at(kp, "SqlExpression"),
        "a non-empty SQL expression (at most 1024 characters)",
        (s) => s.trim() !== "" && s.length <= 1024,
      );
  };
  const correlation = pf.get("CorrelationFilter");
  if (type === "Correlation" || correlation) {
    const kp = at(pp, "CorrelationFilter");
    const v = c.need(correlation, propsNode, kp, "an object with at least one of " + CORRELATION_KEYS.join(", "));
    const cf = v && c.fields(v, kp, CORRELATION_KEYS);
    if (cf && cf.size === 0) c.bad(v!, kp, "at least one of " + CORRELATION_KEYS.join(", "));
    for (const [key, entry] of cf ?? []) {
      if (key !== "Properties") c.str(entry.value, at(kp, key), "a string");
      else if (entry.value.kind !== "map" || entry.value.entries.length === 0)
        c.bad(entry.value, at(kp, key), "an object with at least one application property");
      else
        for (const e of entry.value.entries)
          if (e.value.kind !== "scalar" || e.value.value === null)
            c.bad(e.value, at(at(kp, key), e.key), "a string, number or boolean");
    }
  }
  if (type === "Sql" || pf.has("SqlFilter")) sql("SqlFilter", type === "Sql");
  sql("Action", false);
  if (!named) return undefined;
  return { name: named.name, properties: toJS(propsNode) as Record<string, unknown> };
}

function readSubscription(c: Checker, node: SrcNode, path: string, owners: Owner[]): SubscriptionConfig | undefined {
  const f = c.fields(node, path, ["Name", "Properties", "Rules"]);
  const named = readName(c, f, node, path, "a subscription", CHILD);
  const refs: EntityRef[] = [];
  const defaults: SubscriptionProperties = {
    lockDurationMs: EMULATOR_QUEUE_DEFAULTS.lockDurationMs,
    maxDeliveryCount: EMULATOR_QUEUE_DEFAULTS.maxDeliveryCount,
    defaultMessageTimeToLiveMs: EMULATOR_QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
    deadLetteringOnMessageExpiration: false,
    requiresSession: false,
  };
  const properties = readProps(
    c,
    f?.get("Properties")?.value,
    at(path, "Properties"),
    SUBSCRIPTION_SPECS,
    defaults,
    refs,
  );
  const rules: RuleConfig[] = [];
  const ruleNames: Named[] = [];
  const rulesEntry = f?.get("Rules");
  (rulesEntry && c.seq(rulesEntry.value, at(path, "Rules"), "rules"))?.forEach((r, i) => {
    const rule = readRule(c, r, at(at(path, "Rules"), i));
    if (rule) {
      rules.push(rule);
      ruleNames.push({ name: rule.name, node: r, path: at(at(path, "Rules"), i) });
    }
  });
  checkUnique(c, ruleNames, "rule");
  if (!named) return undefined;
  owners.push({ name: named.name, props: properties as unknown as Record<string, unknown>, refs });
  return { name: named.name, properties, rules };
}

function readNamespace(c: Checker, node: SrcNode, path: string): NamespaceConfig | undefined {
  const f = c.fields(node, path, ["Name", "Queues", "Topics"]);
  const named = readName(c, f, node, path, "a namespace", NAMESPACE);
  const queues: QueueConfig[] = [];
  const topics: TopicConfig[] = [];
  const entityNames: Named[] = [];
  const queueOwners: Owner[] = [];
  const subOwners: Owner[] = [];

  const qp = at(path, "Queues");
  const queueList = f?.get("Queues");
  (queueList && c.seq(queueList.value, qp, "queues"))?.forEach((q, i) => {
    const p = at(qp, i);
    const qf = c.fields(q, p, ["Name", "Properties"]);
    const qn = readName(c, qf, q, p, "a queue");
    const refs: EntityRef[] = [];
    const properties = readProps(
      c,
      qf?.get("Properties")?.value,
      at(p, "Properties"),
      QUEUE_SPECS,
      EMULATOR_QUEUE_DEFAULTS,
      refs,
    );
    if (!qn) return;
    entityNames.push(qn);
    queues.push({ name: qn.name, properties });
    queueOwners.push({ name: qn.name, props: properties as unknown as Record<string, unknown>, refs });
  });

  const tp = at(path, "Topics");
  const topicList = f?.get("Topics");
  (topicList && c.seq(topicList.value, tp, "topics"))?.forEach((t, i) => {
    const p = at(tp, i);
    const tf = c.fields(t, p, ["Name", "Properties", "Subscriptions"]);
    const tn = readName(c, tf, t, p, "a topic");
    const topicDefaults: TopicProperties = {
      defaultMessageTimeToLiveMs: EMULATOR_QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
      requiresDuplicateDetection: false,
      duplicateDetectionHistoryTimeWindowMs: EMULATOR_QUEUE_DEFAULTS.duplicateDetectionHistoryTimeWindowMs,
    };
    const properties = readProps(c, tf?.get("Properties")?.value, at(p, "Properties"), TOPIC_SPECS, topicDefaults, []);
    const subscriptions: SubscriptionConfig[] = [];
    const subNames: Named[] = [];
    const sp = at(p, "Subscriptions");
    const subList = tf?.get("Subscriptions");
    (subList && c.seq(subList.value, sp, "subscriptions"))?.forEach((s, j) => {
      const sub = readSubscription(c, s, at(sp, j), subOwners);
      if (sub) {
        subscriptions.push(sub);
        subNames.push({ name: sub.name, node: s, path: at(sp, j) });
      }
    });
    checkUnique(c, subNames, "subscription");
    if (!tn) return;
    entityNames.push(tn);
    topics.push({ name: tn.name, properties, subscriptions });
  });

  // Queues and topics share one name space in Service Bus; either can be a forwarding target.
  checkUnique(c, entityNames, "queue or topic");
  // Reversed so the first of two equally named entities (already reported) is the target.
  const targets = new Map(entityNames.map((n) => [n.name.toLowerCase(), n.name] as const).reverse());
  for (const o of [...queueOwners, ...subOwners]) resolveRefs(c, o.name, o.props, o.refs, targets, "a queue or topic");
  if (!named) return undefined;
  return {
    name: named.name,
    queues,
    topics,
    policies: [{ ...EMULATOR_ROOT_POLICY, rights: [...EMULATOR_ROOT_POLICY.rights] }],
  };
}

/** Parses the emulator's Config.json text; throws ConfigError listing every problem. */
export function parseEmulatorConfig(text: string, file = "Config.json"): ProjectConfig {
  const c = new Checker(file);
  let root: SrcNode;
  try {
    root = parseJsonc(text);
  } catch (err) {
    if (!(err instanceof JsoncSyntaxError)) throw err;
    c.report(
      { line: err.line, col: err.col },
      "",
      `(syntax error: ${err.message})`,
      "JSON (comments and trailing commas allowed)",
    );
    throw new ConfigError(c.issues);
  }
  const top = c.fields(root, "", ["UserConfig"]);
  const userNode = top && c.need(top.get("UserConfig"), root, "UserConfig", "the emulator's UserConfig object");
  const uf = userNode && c.fields(userNode, "UserConfig", ["Namespaces", "Logging"]);
  const namespaces: NamespaceConfig[] = [];
  const nsNames: Named[] = [];
  const nsNode = uf && c.need(uf.get("Namespaces"), userNode!, "UserConfig.Namespaces", "a list of namespaces");
  const list = nsNode && c.seq(nsNode, "UserConfig.Namespaces", "namespaces");
  if (list?.length === 0) c.bad(nsNode!, "UserConfig.Namespaces", "at least one namespace");
  list?.forEach((n, i) => {
    const ns = readNamespace(c, n, `UserConfig.Namespaces[${i}]`);
    if (ns) {
      namespaces.push(ns);
      nsNames.push({ name: ns.name, node: n, path: `UserConfig.Namespaces[${i}].Name` });
    }
  });
  checkUnique(c, nsNames, "namespace");
  const extra: Record<string, unknown> = {};
  const logging = uf?.get("Logging");
  if (logging) {
    const lf = c.fields(logging.value, "UserConfig.Logging", ["Type"]);
    const type = lf?.get("Type");
    if (type)
      c.str(type.value, "UserConfig.Logging.Type", LOGGING_TYPES.map((t) => JSON.stringify(t)).join(" or "), (s) =>
        LOGGING_TYPES.includes(s),
      );
    extra.Logging = toJS(logging.value);
  }
  c.throwIfAny();
  return { source: file, namespaces, defaultNamespace: namespaces[0].name, extra };
}
