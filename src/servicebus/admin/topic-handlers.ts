// The admin API's operations on a namespace's topics, subscriptions and rules: what GET / PUT / DELETE of
// `/<topic>`, `/<topic>/Subscriptions/<sub>` and `…/Rules/<rule>` and their feeds do, independent of
// routing. Changes go through the namespace's TopicRegistry (the AMQP side sees them at once; the store
// records them, so they survive a restart).
import type { Broker } from "../broker.js";
import type { Namespace } from "../entities/namespace.js";
import { feed, type Origin } from "./atom.js";
import { checkQueueName } from "./description.js";
import { AdminError } from "./fields.js";
import { pageOf } from "./handlers.js";
import { checkRuleName, parseRule, ruleEntry, rulePath, subscriptionPath } from "./rule-description.js";
import {
  parseSubscriptionDefinition,
  subscriptionEntry,
  type SubscriptionExtras,
  type SubscriptionView,
} from "./subscription-description.js";
import { parseTopicDefinition, topicEntry, type TopicExtras, type TopicView } from "./topic-description.js";
import type { XmlElement } from "./xml.js";

type Put = { status: number; body: string };

export class TopicAdminOperations {
  /** last send, receive or settlement per topic / subscription object (0: never) */
  private readonly accessed = new WeakMap<object, number>();

  constructor(broker: Broker) {
    broker.on("change", (_ns: Namespace, e: object) => this.accessed.set(e, Date.now()));
  }

  // --- topics ------------------------------------------------------------------------------

  topicExists(ns: Namespace, name: string): boolean {
    return ns.topics.topic(name) !== undefined;
  }

  private topicView(ns: Namespace, name: string): TopicView {
    const t = ns.topics.getTopic(name);
    if (!t) throw notFound(`${ns.name}:Topic:${name}`);
    const entity = ns.topics.topic(name)!;
    const accessed = Math.max(
      this.accessed.get(entity) ?? 0,
      ...[...entity.subscriptions.values()].map((s) => this.accessed.get(s) ?? 0),
    );
    return {
      name: t.name,
      props: t.properties,
      extras: t.extras as TopicExtras,
      times: { createdAt: t.createdAt, updatedAt: t.updatedAt, accessedAt: accessed },
      counts: t.counts,
    };
  }

  getTopic(origin: Origin, ns: Namespace, name: string): string {
    return topicEntry(origin, this.topicView(ns, name));
  }

  async putTopic(
    origin: Origin,
    ns: Namespace,
    name: string,
    desc: XmlElement | undefined,
    update: boolean,
  ): Promise<Put> {
    checkQueueName(name);
    const existing = ns.topics.getTopic(name);
    const queue = ns.queue(name);
    if (queue) throw alreadyExists(`${ns.name}:Queue:${queue.path.slice(ns.name.length + 1)}`);
    if (update && !existing) throw notFound(`${ns.name}:Topic:${name}`);
    if (!update && existing) throw alreadyExists(`${ns.name}:Topic:${existing.name}`);
    const current = existing && { props: existing.properties, extras: existing.extras as TopicExtras };
    const def = parseTopicDefinition(desc, current);
    const extras = def.extras as Record<string, unknown>;
    if (existing) await ns.topics.updateTopic(name, def.props, extras);
    else await ns.topics.createTopic(name, def.props, extras);
    return { status: existing ? 200 : 201, body: this.getTopic(origin, ns, name) };
  }

  async deleteTopic(ns: Namespace, name: string): Promise<void> {
    if (!(await ns.topics.deleteTopic(name))) throw notFound(`${ns.name}:Topic:${name}`);
  }

  listTopics(origin: Origin, ns: Namespace, query: URLSearchParams): string {
    const p = pageOf(ns.topics.topicNames(), query);
    const entries = p.page.map((n) => topicEntry(origin, this.topicView(ns, n)));
    return feed(origin, "$Resources/Topics", "Topics", entries, p);
  }

  // --- subscriptions -----------------------------------------------------------------------

  private subscriptionView(ns: Namespace, topic: string, name: string): SubscriptionView {
    const s = ns.topics.getSubscription(topic, name);
    if (!s) throw notFound(`${ns.name}:Topic:${topic}|${name}`);
    const entity = ns.topics.subscription(topic, name)!;
    return {
      topicName: s.topicName,
      name: s.name,
      props: s.properties,
      extras: s.extras as SubscriptionExtras,
      times: { createdAt: s.createdAt, updatedAt: s.updatedAt, accessedAt: this.accessed.get(entity) ?? 0 },
      counts: s.counts,
    };
  }

  private needTopic(ns: Namespace, topic: string): string {
    const t = ns.topics.topic(topic);
    if (!t) throw notFound(`${ns.name}:Topic:${topic}`);
    return t.name;
  }

  getSubscription(origin: Origin, ns: Namespace, topic: string, name: string): string {
    this.needTopic(ns, topic);
    return subscriptionEntry(origin, this.subscriptionView(ns, topic, name));
  }

  async putSubscription(
    origin: Origin,
    ns: Namespace,
    topic: string,
    name: string,
    desc: XmlElement | undefined,
    update: boolean,
  ): Promise<Put> {
    const topicName = this.needTopic(ns, topic);
    checkSubscriptionName(name);
    const existing = ns.topics.getSubscription(topicName, name);
    if (update && !existing) throw notFound(`${ns.name}:Topic:${topicName}|${name}`);
    if (!update && existing) throw alreadyExists(`${ns.name}:Topic:${topicName}|${existing.name}`);
    const lookup = (n: string) => (ns.queue(n) || ns.topics.topic(n) ? n : undefined);
    const current = existing && { props: existing.properties, extras: existing.extras as SubscriptionExtras };
    const def = parseSubscriptionDefinition(desc, subscriptionPath(topicName, name), current, lookup);
    const extras = def.extras as Record<string, unknown>;
    if (existing) await ns.topics.updateSubscription(topicName, name, def.props, extras);
    else {
      const rules = def.defaultRule ? [def.defaultRule] : undefined;
      await ns.topics.createSubscription(topicName, name, def.props, { rules, extras });
    }
    return { status: existing ? 200 : 201, body: this.getSubscription(origin, ns, topicName, name) };
  }

  async deleteSubscription(ns: Namespace, topic: string, name: string): Promise<void> {
    const topicName = this.needTopic(ns, topic);
    if (!(await ns.topics.deleteSubscription(topicName, name))) throw notFound(`${ns.name}:Topic:${topicName}|${name}`);
  }

  listSubscriptions(origin: Origin, ns: Namespace, topic: string, query: URLSearchParams): string {
    const topicName = this.needTopic(ns, topic);
    const p = pageOf(ns.topics.subscriptionNames(topicName), query);
    const entries = p.page.map((n) => subscriptionEntry(origin, this.subscriptionView(ns, topicName, n)));
    return feed(origin, `${topicName}/Subscriptions`, "Subscriptions", entries, p);
  }

  // --- rules -------------------------------------------------------------------------------

  private needSubscription(ns: Namespace, topic: string, name: string): { topic: string; sub: string } {
    const topicName = this.needTopic(ns, topic);
    const s = ns.topics.subscription(topicName, name);
    if (!s) throw notFound(`${ns.name}:Topic:${topicName}|${name}`);
    return { topic: topicName, sub: s.name };
  }

  getRule(origin: Origin, ns: Namespace, topic: string, sub: string, name: string): string {
    const at = this.needSubscription(ns, topic, sub);
    const r = ns.topics.getRule(at.topic, at.sub, name);
    if (!r) throw notFound(`${ns.name}:Topic:${at.topic}|${at.sub}|${name}`);
    return ruleEntry(origin, at.topic, at.sub, r);
  }

  async putRule(
    origin: Origin,
    ns: Namespace,
    topic: string,
    sub: string,
    name: string,
    desc: XmlElement | undefined,
    update: boolean,
  ): Promise<Put> {
    const at = this.needSubscription(ns, topic, sub);
    checkRuleName(name);
    const existing = ns.topics.getRule(at.topic, at.sub, name);
    if (update && !existing) throw notFound(`${ns.name}:Topic:${at.topic}|${at.sub}|${name}`);
    if (!update && existing) throw alreadyExists(`${ns.name}:Topic:${at.topic}|${at.sub}|${existing.name}`);
    const rule = parseRule(desc, existing?.name ?? name);
    const saved = existing
      ? await ns.topics.updateRule(at.topic, at.sub, rule)
      : await ns.topics.createRule(at.topic, at.sub, rule);
    return { status: existing ? 200 : 201, body: ruleEntry(origin, at.topic, at.sub, saved) };
  }

  async deleteRule(ns: Namespace, topic: string, sub: string, name: string): Promise<void> {
    const at = this.needSubscription(ns, topic, sub);
    if (!ns.topics.getRule(at.topic, at.sub, name)) throw notFound(`${ns.name}:Topic:${at.topic}|${at.sub}|${name}`);
    await ns.topics.deleteRule(at.topic, at.sub, name);
  }

  listRules(origin: Origin, ns: Namespace, topic: string, sub: string, query: URLSearchParams): string {
    const at = this.needSubscription(ns, topic, sub);
    // rules keep the order they were added in (the order the service lists them)
    const all = ns.topics.rules(at.topic, at.sub);
    const p = pageOf(
      all.map((r) => r.name),
      query,
      false,
    );
    const byName = new Map(all.map((r) => [r.name, r]));
    const entries = p.page.map((n) => ruleEntry(origin, at.topic, at.sub, byName.get(n)!));
    return feed(origin, `${rulePath(at.topic, at.sub, "").slice(0, -1)}`, "Rules", entries, p);
  }
}

function notFound(what: string): AdminError {
  return new AdminError("EntityNotFound", `The messaging entity '${what}' was not found.`);
}

function alreadyExists(what: string): AdminError {
  return new AdminError("EntityAlreadyExists", `The messaging entity '${what}' already exists.`);
}

function checkSubscriptionName(name: string): void {
  if (!/^[A-Za-z0-9][\w.-]{0,49}$/.test(name) || /[.-]$/.test(name)) {
    throw new AdminError(
      "ArgumentError",
      `The subscription name '${name}' is invalid: expected 1 to 50 letters, digits, '.', '-' or '_', starting with a letter or digit and not ending with '.' or '-'.`,
    );
  }
}
