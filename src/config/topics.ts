// Topics, subscriptions and rules in eventjobs.yaml, named as in ARM (camelCase, `filterType: SqlFilter`,
// `correlationFilter.label`). Rules are stored in the emulator's Config.json shape, so the filters layer
// reads one form whichever file declared them.
import type {
  RuleConfig,
  SubscriptionConfig,
  SubscriptionProperties,
  TopicConfig,
  TopicProperties,
} from "../model/config.js";
import { QUEUE_DEFAULTS } from "../model/config.js";
import { SUBSCRIPTION_SPECS, TOPIC_SPECS } from "../model/properties.js";
import {
  at,
  Checker,
  checkUnique,
  ENTITY_NAME,
  readProps,
  toJS,
  type EntityRef,
  type Named,
  type SrcNode,
} from "../model/validate.js";

export const TOPIC_KEYS = ["name", "properties", "subscriptions"] as const;
export const SUBSCRIPTION_KEYS = ["name", "properties", "rules"] as const;
export const RULE_KEYS = ["name", "filterType", "sqlFilter", "correlationFilter", "action"] as const;
/** correlationFilter keys → the emulator's names */
export const CORRELATION_KEYS: Record<string, string> = {
  contentType: "ContentType",
  correlationId: "CorrelationId",
  label: "Label",
  messageId: "MessageId",
  replyTo: "ReplyTo",
  replyToSessionId: "ReplyToSessionId",
  sessionId: "SessionId",
  to: "To",
  properties: "Properties",
};

const CHILD_NAME = {
  test: (s: string) => /^[A-Za-z0-9._-]{1,50}$/.test(s),
  expected: "1-50 letters, digits, periods, hyphens and underscores",
};

/** An entity whose forwardTo references are resolved once every queue and topic name is known. */
export interface ForwardOwner {
  name: string;
  props: Record<string, unknown>;
  refs: EntityRef[];
}

function name(
  c: Checker,
  f: Map<string, { value: SrcNode }>,
  node: SrcNode,
  path: string,
  what: string,
  rule: { test: (s: string) => boolean; expected: string },
): Named | undefined {
  const p = at(path, "name");
  const v = c.need(f.get("name") as never, node, p, `${what} name (${rule.expected})`);
  const n = v && c.str(v, p, `${what} name (${rule.expected})`, rule.test);
  return n === undefined ? undefined : { name: n, node: v!, path: p };
}

function sql(c: Checker, node: SrcNode, path: string): Record<string, string> | undefined {
  const f = c.fields(node, path, ["sqlExpression"]);
  if (!f) return undefined;
  const e = c.need(f.get("sqlExpression"), node, at(path, "sqlExpression"), "a SQL expression");
  const text =
    e &&
    c.str(
      e,
      at(path, "sqlExpression"),
      "a non-empty SQL expression (at most 1024 characters)",
      (s) => s.trim() !== "" && s.length <= 1024,
    );
  return text === undefined ? undefined : { SqlExpression: text };
}

function readRule(c: Checker, node: SrcNode, path: string): (RuleConfig & { named: Named }) | undefined {
  const f = c.fields(node, path, RULE_KEYS);
  if (!f) return undefined;
  const named = name(c, f, node, path, "a rule", {
    test: (s) => s === "$Default" || CHILD_NAME.test(s),
    expected: `"$Default" or ${CHILD_NAME.expected}`,
  });
  const tp = at(path, "filterType");
  const typeNode = c.need(f.get("filterType"), node, tp, "SqlFilter or CorrelationFilter");
  const type =
    typeNode &&
    c.str(typeNode, tp, "SqlFilter or CorrelationFilter", (s) => s === "SqlFilter" || s === "CorrelationFilter");
  const props: Record<string, unknown> = {};
  if (type === "SqlFilter") {
    props.FilterType = "Sql";
    const s = c.need(
      f.get("sqlFilter"),
      node,
      at(path, "sqlFilter"),
      "an object with sqlExpression (filterType is SqlFilter)",
    );
    if (s) props.SqlFilter = sql(c, s, at(path, "sqlFilter"));
  } else if (type === "CorrelationFilter") {
    props.FilterType = "Correlation";
    const cp = at(path, "correlationFilter");
    const cn = c.need(
      f.get("correlationFilter"),
      node,
      cp,
      `an object with at least one of ${Object.keys(CORRELATION_KEYS).join(", ")}`,
    );
    const cf = cn && c.fields(cn, cp, Object.keys(CORRELATION_KEYS));
    if (cf && cf.size === 0) c.bad(cn!, cp, `at least one of ${Object.keys(CORRELATION_KEYS).join(", ")}`);
    const out: Record<string, unknown> = {};
    for (const [k, e] of cf ?? []) {
      if (k !== "properties") out[CORRELATION_KEYS[k]] = c.str(e.value, at(cp, k), "a string");
      else if (e.value.kind !== "map" || e.value.entries.length === 0)
        c.bad(e.value, at(cp, k), "a mapping with at least one application property");
      else out.Properties = toJS(e.value);
    }
    props.CorrelationFilter = out;
  }
  for (const [k, other] of [
    ["sqlFilter", "SqlFilter"],
    ["correlationFilter", "CorrelationFilter"],
  ] as const) {
    const e = f.get(k);
    if (e && type && type !== other) c.bad(e.value, at(path, k), `nothing (filterType is ${type})`);
  }
  const action = f.get("action");
  if (action) props.Action = sql(c, action.value, at(path, "action"));
  return named ? { name: named.name, properties: props, named } : undefined;
}

function readSubscription(
  c: Checker,
  node: SrcNode,
  path: string,
  owners: ForwardOwner[],
): (SubscriptionConfig & { named: Named }) | undefined {
  const f = c.fields(node, path, SUBSCRIPTION_KEYS);
  if (!f) return undefined;
  const named = name(c, f, node, path, "a subscription", CHILD_NAME);
  const defaults: SubscriptionProperties = {
    lockDurationMs: QUEUE_DEFAULTS.lockDurationMs,
    maxDeliveryCount: QUEUE_DEFAULTS.maxDeliveryCount,
    defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
    deadLetteringOnMessageExpiration: false,
    requiresSession: false,
  };
  const refs: EntityRef[] = [];
  const properties = readProps(
    c,
    f.get("properties")?.value,
    at(path, "properties"),
    SUBSCRIPTION_SPECS,
    defaults,
    refs,
  );
  const rp = at(path, "rules");
  const list = f.get("rules");
  const rules = ((list && c.seq(list.value, rp, "rules")) || [])
    .map((r, i) => readRule(c, r, at(rp, i)))
    .filter((r) => r !== undefined);
  checkUnique(
    c,
    rules.map((r) => r.named),
    "rule",
  );
  if (!named) return undefined;
  owners.push({ name: named.name, props: properties as unknown as Record<string, unknown>, refs });
  return { name: named.name, properties, rules: rules.map(({ named: _, ...r }) => r), named };
}

/** A namespace's `topics:`; `owners` collects subscriptions whose forwarding targets are resolved later. */
export function readTopics(
  c: Checker,
  node: SrcNode | undefined,
  path: string,
  owners: ForwardOwner[],
): Array<TopicConfig & { named: Named }> {
  const out: Array<TopicConfig & { named: Named }> = [];
  ((node && c.seq(node, path, "topics")) || []).forEach((t, i) => {
    const p = at(path, i);
    const f = c.fields(t, p, TOPIC_KEYS);
    if (!f) return;
    const named = name(c, f, t, p, "a topic", ENTITY_NAME);
    const defaults: TopicProperties = {
      defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
      requiresDuplicateDetection: false,
      duplicateDetectionHistoryTimeWindowMs: QUEUE_DEFAULTS.duplicateDetectionHistoryTimeWindowMs,
    };
    const properties = readProps(c, f.get("properties")?.value, at(p, "properties"), TOPIC_SPECS, defaults, []);
    const sp = at(p, "subscriptions");
    const list = f.get("subscriptions");
    const subs = ((list && c.seq(list.value, sp, "subscriptions")) || [])
      .map((s, j) => readSubscription(c, s, at(sp, j), owners))
      .filter((s) => s !== undefined);
    checkUnique(
      c,
      subs.map((s) => s.named),
      "subscription",
    );
    if (named) out.push({ name: named.name, properties, subscriptions: subs.map(({ named: _, ...s }) => s), named });
  });
  return out;
}
