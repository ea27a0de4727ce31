// Topics, subscriptions and rules as plan/apply resources: their fields (durations in ISO-8601, rules in ARM's
// shape), what runs now, and how apply creates, changes and deletes them in the broker
// (docs/configuration.md, plan and apply).
import type { ConfigIssue, RuleConfig, SubscriptionConfig, TopicConfig } from "../model/config.js";
import type { Broker } from "../servicebus/broker.js";
import { ruleFromConfig, RuleSet, type RuleDescription } from "../servicebus/topics/rules.js";
import { entityFields, ruleFields } from "./topic-fields.js";
import type { Resource } from "./resources.js";

type Undo = () => void | Promise<void>;

/** `ns/topic/sub/rule` → its parts (a topic name may hold slashes; subscription and rule names do not). */
function split(id: string, tail: number): { ns: string; topic: string; rest: string[] } {
  const parts = id.split("/");
  return { ns: parts[0], topic: parts.slice(1, parts.length - tail).join("/"), rest: parts.slice(parts.length - tail) };
}

export interface TopicSpec {
  namespace: string;
  topic: TopicConfig;
}
export interface SubscriptionSpec {
  namespace: string;
  topic: string;
  subscription: SubscriptionConfig;
}
export interface RuleSpec {
  namespace: string;
  topic: string;
  subscription: string;
  rule: RuleConfig;
}

/** The topic, subscription or rule that runs now. */
export function liveTopicResource(broker: Broker, r: { kind: string; id: string }): Resource | undefined {
  if (r.kind === "topic") {
    const { ns, topic } = split(r.id, 0);
    const n = broker.namespace(ns);
    const t = n?.topics.getTopic(topic);
    return t && { kind: "topic", id: `${n!.name}/${t.name}`, fields: entityFields(t.properties) };
  }
  if (r.kind === "subscription") {
    const { ns, topic, rest } = split(r.id, 1);
    const n = broker.namespace(ns);
    const s = n?.topics.getSubscription(topic, rest[0]);
    return s && { kind: "subscription", id: `${n!.name}/${s.topicName}/${s.name}`, fields: entityFields(s.properties) };
  }
  const { ns, topic, rest } = split(r.id, 2);
  const n = broker.namespace(ns);
  const sub = n?.topics.subscription(topic, rest[0]);
  const rule = sub?.rules.get(rest[1]);
  return (
    rule && { kind: "rule", id: `${n!.name}/${sub!.topicName}/${sub!.name}/${rule.name}`, fields: ruleFields(rule) }
  );
}

/** Creates or changes a topic, subscription or rule; returns the undo. */
export async function putTopicResource(broker: Broker, r: Resource): Promise<Undo> {
  if (r.kind === "topic") {
    const { namespace, topic } = r.spec as TopicSpec;
    const reg = broker.namespace(namespace)!.topics;
    const before = reg.getTopic(topic.name);
    if (!before) {
      await reg.createTopic(topic.name, { ...topic.properties });
      return () => reg.deleteTopic(topic.name).then(() => undefined);
    }
    await reg.updateTopic(topic.name, { ...topic.properties });
    return () => reg.updateTopic(topic.name, before.properties).then(() => undefined);
  }
  if (r.kind === "subscription") {
    const { namespace, topic, subscription: s } = r.spec as SubscriptionSpec;
    const reg = broker.namespace(namespace)!.topics;
    const before = reg.getSubscription(topic, s.name);
    if (!before) {
      // created with the file's rules (none declared: the $Default rule), as the emulator's Config.json does
      await reg.createSubscription(
        topic,
        s.name,
        { ...s.properties },
        { rules: s.rules.map((x) => ruleFromConfig(x)) },
      );
      return () => reg.deleteSubscription(topic, s.name).then(() => undefined);
    }
    await reg.updateSubscription(topic, s.name, { ...s.properties });
    return () => reg.updateSubscription(topic, s.name, before.properties).then(() => undefined);
  }
  const { namespace, topic, subscription, rule } = r.spec as RuleSpec;
  const reg = broker.namespace(namespace)!.topics;
  const before = reg.getRule(topic, subscription, rule.name);
  const { createdAt: _c, ...desc } = ruleFromConfig(rule);
  if (!before) {
    await reg.createRule(topic, subscription, desc);
    return () => reg.deleteRule(topic, subscription, rule.name).catch(() => undefined);
  }
  await reg.updateRule(topic, subscription, desc);
  return () => reg.updateRule(topic, subscription, before).then(() => undefined);
}

/**
 * Deletes a topic, subscription or rule the project made. Children go first, so a subscription still in a topic
 * (or a rule in a subscription) was made another way: the parent and its messages stay, and the delete fails.
 */
export async function removeTopicResource(broker: Broker, r: Resource): Promise<void> {
  if (r.kind === "topic") {
    const { ns, topic } = split(r.id, 0);
    const reg = broker.namespace(ns)?.topics;
    if (!reg?.topic(topic)) return;
    const others = reg.subscriptionNames(topic);
    if (others.length)
      throw new Error(
        `it holds subscriptions the project did not create (${others.join(", ")}); delete them (eventjobs servicebus topic subscription delete) or declare them in the file, then try again`,
      );
    await reg.deleteTopic(topic);
    return;
  }
  if (r.kind === "subscription") {
    const { ns, topic, rest } = split(r.id, 1);
    await broker.namespace(ns)?.topics.deleteSubscription(topic, rest[0]);
    return;
  }
  const { ns, topic, rest } = split(r.id, 2);
  const reg = broker.namespace(ns)?.topics;
  if (reg?.getRule(topic, rest[0], rest[1])) await reg.deleteRule(topic, rest[0], rest[1]);
}

/** Every declared rule whose filter or action does not compile, as the service's 400 would name it. */
export function ruleIssues(declared: Resource[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const fails = (d: RuleDescription) => {
    try {
      new RuleSet([d]);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
  for (const r of declared) {
    if (r.kind !== "rule") continue;
    const { rule } = r.spec as RuleSpec;
    const p = rule.properties as { SqlFilter?: { SqlExpression?: string }; Action?: { SqlExpression?: string } };
    const d = ruleFromConfig(rule);
    const filter = fails({ ...d, action: undefined });
    const action = filter === undefined && d.action ? fails(d) : undefined;
    if (filter !== undefined)
      out.push({
        path: `${r.path}.${p.SqlFilter ? "sqlFilter.sqlExpression" : "correlationFilter"}`,
        value: JSON.stringify(p.SqlFilter?.SqlExpression ?? ""),
        expected: `a filter Service Bus accepts (${filter})`,
      });
    if (action !== undefined)
      out.push({
        path: `${r.path}.action.sqlExpression`,
        value: JSON.stringify(p.Action?.SqlExpression ?? ""),
        expected: `an action Service Bus accepts (${action})`,
      });
  }
  return out;
}
