// A namespace's topics, their subscriptions and the subscriptions' rules: creation, change, deletion and
// listing with run-time counts (what the admin API and the AMQP layer use), and their records in the store.
import type { SubscriptionProperties, TopicConfig, TopicProperties } from "../../model/config.js";
import { BrokerError, errors } from "../errors.js";
import type { Forwarder } from "../entities/types.js";
import type { EntityRecord, MessageStore } from "../store/types.js";
import {
  parseTopicsDefinition,
  stringifyTopicsDefinition,
  type SubscriptionDefinition,
  type TopicDefinition,
} from "./records.js";
import { defaultRule, ruleFromConfig, type RuleDescription } from "./rules.js";
import { SUBSCRIPTIONS_SEGMENT, SubscriptionEntity } from "./subscription.js";
import { TopicEntity, type TopicCounts } from "./topic.js";

export interface EntityTimes {
  createdAt: number;
  updatedAt: number;
  /** admin-API properties the broker does not act on, echoed back as given */
  extras: Record<string, unknown>;
}

export interface TopicInfo extends EntityTimes {
  name: string;
  properties: TopicProperties;
  counts: TopicCounts;
}

export interface SubscriptionCounts {
  active: number;
  deadLetter: number;
  scheduled: number;
  deferred: number;
  transferMessageCount: number;
  transferDeadLetterMessageCount: number;
  sizeInBytes: number;
  /** every message in the subscription and its dead-letter queue */
  messageCount: number;
}

export interface SubscriptionInfo extends EntityTimes {
  topicName: string;
  name: string;
  properties: SubscriptionProperties;
  counts: SubscriptionCounts;
}

/** What the registry needs of its namespace. */
export interface TopicHost {
  readonly name: string;
  /** a queue of that name exists (queues and topics share one name space) */
  hasQueue(name: string): boolean;
  changed(entity: unknown): void;
}

export class TopicRegistry {
  private readonly topics = new Map<string, TopicEntity>();
  /** times and extras by lowercase entity path */
  private readonly times = new Map<string, EntityTimes>();

  constructor(
    private readonly host: TopicHost,
    private readonly store: MessageStore,
    private readonly forwarder: Forwarder,
  ) {}

  // --- topics ------------------------------------------------------------------------------

  topic(name: string): TopicEntity | undefined {
    return this.topics.get(name.toLowerCase());
  }

  topicNames(): string[] {
    return [...this.topics.values()].map((t) => t.name);
  }

  /** The topics (with subscriptions and rules) a config file declares; not recorded in the store. */
  declare(configs: TopicConfig[]): void {
    const now = Date.now();
    for (const t of configs) {
      const topic = this.makeTopic(t.name, t.properties, { createdAt: now, updatedAt: now, extras: {} });
      for (const s of t.subscriptions) {
        const rules = s.rules.length ? s.rules.map((r) => ruleFromConfig(r, now)) : [defaultRule(now)];
        this.makeSubscription(topic, s.name, s.properties, rules, { createdAt: now, updatedAt: now, extras: {} });
      }
    }
  }

  /** Creates a topic at run time (recorded, so it comes back after a restart). */
  async createTopic(name: string, props: TopicProperties, extras: Record<string, unknown> = {}): Promise<TopicEntity> {
    if (this.topic(name) || this.host.hasQueue(name)) {
      throw new BrokerError("EntityAlreadyExists", `The messaging entity '${this.host.name}/${name}' already exists.`);
    }
    const now = Date.now();
    const topic = this.makeTopic(name, props, { createdAt: now, updatedAt: now, extras });
    await this.saveTopic(topic);
    return topic;
  }

  async updateTopic(name: string, props: TopicProperties, extras?: Record<string, unknown>): Promise<TopicInfo> {
    const topic = this.needTopic(name);
    topic.props = props;
    const t = this.timesOf(topic.path);
    t.updatedAt = Date.now();
    if (extras) t.extras = extras;
    for (const s of topic.subscriptions.values()) s.update(s.subscriptionProps, props);
    await this.saveTopic(topic);
    return this.getTopic(name)!;
  }

  /** Every topic with its properties and counts, in creation order. */
  listTopics(): TopicInfo[] {
    return this.topicNames().map((n) => this.getTopic(n)!);
  }

  getTopic(name: string): TopicInfo | undefined {
    const topic = this.topic(name);
    if (!topic) return undefined;
    return { name: topic.name, properties: topic.props, counts: topic.counts(), ...this.timesOf(topic.path) };
  }

  /** Deletes a topic with its subscriptions and their messages. */
  async deleteTopic(name: string): Promise<boolean> {
    const topic = this.topic(name);
    if (!topic) return false;
    for (const s of [...topic.subscriptions.values()]) await this.deleteSubscription(topic.name, s.name);
    topic.deleted = true;
    topic.close();
    this.topics.delete(name.toLowerCase());
    this.times.delete(topic.path.toLowerCase());
    await this.store.deleteEntity(topic.path);
    return true;
  }

  // --- subscriptions -----------------------------------------------------------------------

  subscription(topicName: string, name: string): SubscriptionEntity | undefined {
    return this.topic(topicName)?.subscriptions.get(name.toLowerCase());
  }

  subscriptionNames(topicName: string): string[] {
    return [...this.needTopic(topicName).subscriptions.values()].map((s) => s.name);
  }

  /** Creates a subscription at run time, with the $Default rule unless `rules` are given. */
  async createSubscription(
    topicName: string,
    name: string,
    props: SubscriptionProperties,
    opts: { rules?: Array<Omit<RuleDescription, "createdAt">>; extras?: Record<string, unknown> } = {},
  ): Promise<SubscriptionEntity> {
    const topic = this.needTopic(topicName);
    if (topic.subscriptions.has(name.toLowerCase())) {
      throw new BrokerError(
        "EntityAlreadyExists",
        `The messaging entity '${topic.path}/${SUBSCRIPTIONS_SEGMENT}/${name}' already exists.`,
      );
    }
    const now = Date.now();
    const rules = opts.rules?.length ? opts.rules.map((r) => ({ ...r, createdAt: now })) : [defaultRule(now)];
    const sub = this.makeSubscription(topic, name, props, rules, {
      createdAt: now,
      updatedAt: now,
      extras: opts.extras ?? {},
    });
    await this.saveSubscription(sub);
    return sub;
  }

  async updateSubscription(
    topicName: string,
    name: string,
    props: SubscriptionProperties,
    extras?: Record<string, unknown>,
  ): Promise<SubscriptionInfo> {
    const sub = this.needSubscription(topicName, name);
    sub.update(props, this.needTopic(topicName).props);
    const t = this.timesOf(sub.path);
    t.updatedAt = Date.now();
    if (extras) t.extras = extras;
    await this.saveSubscription(sub);
    return this.getSubscription(topicName, name)!;
  }

  /** A topic's subscriptions with their properties and counts, in creation order. */
  listSubscriptions(topicName: string): SubscriptionInfo[] {
    return this.subscriptionNames(topicName).map((n) => this.getSubscription(topicName, n)!);
  }

  getSubscription(topicName: string, name: string): SubscriptionInfo | undefined {
    const sub = this.subscription(topicName, name);
    if (!sub) return undefined;
    const c = sub.counts();
    return {
      topicName: sub.topicName,
      name: sub.name,
      properties: sub.subscriptionProps,
      counts: {
        active: c.active,
        deadLetter: c.deadLetter,
        scheduled: c.scheduled,
        deferred: c.deferred,
        transferMessageCount: 0,
        transferDeadLetterMessageCount: 0,
        sizeInBytes: c.sizeInBytes,
        messageCount: c.total,
      },
      ...this.timesOf(sub.path),
    };
  }

  async deleteSubscription(topicName: string, name: string): Promise<boolean> {
    const topic = this.topic(topicName);
    const sub = topic?.subscriptions.get(name.toLowerCase());
    if (!topic || !sub) return false;
    sub.deleted = true;
    sub.close();
    topic.subscriptions.delete(name.toLowerCase());
    this.times.delete(sub.path.toLowerCase());
    await this.store.deleteEntity(sub.path);
    return true;
  }

  // --- rules -------------------------------------------------------------------------------

  rules(topicName: string, subscription: string): RuleDescription[] {
    return this.needSubscription(topicName, subscription).rules.list();
  }

  getRule(topicName: string, subscription: string, name: string): RuleDescription | undefined {
    return this.subscription(topicName, subscription)?.rules.get(name);
  }

  async createRule(
    topicName: string,
    subscription: string,
    rule: Omit<RuleDescription, "createdAt">,
  ): Promise<RuleDescription> {
    const sub = this.needSubscription(topicName, subscription);
    const created = { ...rule, createdAt: Date.now() };
    sub.rules.add(created, sub.path);
    await this.saveSubscription(sub);
    return created;
  }

  async updateRule(
    topicName: string,
    subscription: string,
    rule: Omit<RuleDescription, "createdAt">,
  ): Promise<RuleDescription> {
    const sub = this.needSubscription(topicName, subscription);
    const old = sub.rules.get(rule.name);
    if (!old) throw errors.entityNotFound(`${sub.path}/Rules/${rule.name}`);
    const updated = { ...rule, createdAt: old.createdAt };
    sub.rules.replace(updated);
    await this.saveSubscription(sub);
    return updated;
  }

  async deleteRule(topicName: string, subscription: string, name: string): Promise<void> {
    const sub = this.needSubscription(topicName, subscription);
    sub.rules.remove(name, sub.path);
    await this.saveSubscription(sub);
  }

  // --- restart -----------------------------------------------------------------------------

  /**
   * Brings back what the store recorded for this namespace: topics and subscriptions created at run time, and
   * the rules of declared subscriptions that were changed (a declared entity keeps the config's properties).
   */
  restore(records: EntityRecord[]): void {
    const prefix = `${this.host.name.toLowerCase()}/`;
    const mine = records
      .filter((r) => r.path.toLowerCase().startsWith(prefix))
      .map((r) => ({ path: r.path.slice(prefix.length), def: parseTopicsDefinition(r.definition) }));
    for (const { path, def } of mine) {
      if (def?.kind !== "topic" || path.includes("/")) continue;
      const times = { createdAt: def.createdAt, updatedAt: def.updatedAt, extras: def.extras ?? {} };
      if (!this.topic(path)) this.makeTopic(path, def.properties, times);
    }
    for (const { path, def } of mine) {
      if (def?.kind !== "subscription") continue;
      const [topicName, segment, name, ...rest] = path.split("/");
      const topic = this.topic(topicName);
      if (!topic || segment?.toLowerCase() !== SUBSCRIPTIONS_SEGMENT.toLowerCase() || !name || rest.length) continue;
      const existing = topic.subscriptions.get(name.toLowerCase());
      if (existing) {
        for (const r of existing.rules.list()) existing.rules.remove(r.name, existing.path);
        for (const r of def.rules) existing.rules.add(r, existing.path);
        continue;
      }
      const times = { createdAt: def.createdAt, updatedAt: def.updatedAt, extras: def.extras ?? {} };
      this.makeSubscription(topic, name, def.properties, def.rules, times);
    }
  }

  close(): void {
    for (const t of this.topics.values()) t.close();
  }

  // --- internals ---------------------------------------------------------------------------

  private needTopic(name: string): TopicEntity {
    const t = this.topic(name);
    if (!t) throw errors.entityNotFound(`${this.host.name}/${name}`);
    return t;
  }

  private needSubscription(topicName: string, name: string): SubscriptionEntity {
    const s = this.subscription(topicName, name);
    if (!s) throw errors.entityNotFound(`${this.host.name}/${topicName}/${SUBSCRIPTIONS_SEGMENT}/${name}`);
    return s;
  }

  private timesOf(path: string): EntityTimes {
    let t = this.times.get(path.toLowerCase());
    if (!t) this.times.set(path.toLowerCase(), (t = { createdAt: Date.now(), updatedAt: Date.now(), extras: {} }));
    return t;
  }

  private makeTopic(name: string, props: TopicProperties, times: EntityTimes): TopicEntity {
    const topic = new TopicEntity(`${this.host.name}/${name}`, props);
    topic.on("change", () => this.host.changed(topic));
    this.topics.set(name.toLowerCase(), topic);
    this.times.set(topic.path.toLowerCase(), times);
    return topic;
  }

  private makeSubscription(
    topic: TopicEntity,
    name: string,
    props: SubscriptionProperties,
    rules: RuleDescription[],
    times: EntityTimes,
  ): SubscriptionEntity {
    const path = `${topic.path}/${SUBSCRIPTIONS_SEGMENT}/${name}`;
    const sub = new SubscriptionEntity(path, topic.name, name, props, topic.props, rules, this.store, this.forwarder);
    sub.on("change", () => this.host.changed(sub));
    sub.deadLetter?.on("change", () => this.host.changed(sub));
    topic.addSubscription(sub);
    this.times.set(path.toLowerCase(), times);
    return sub;
  }

  private saveTopic(topic: TopicEntity): Promise<void> {
    const t = this.timesOf(topic.path);
    const def: TopicDefinition = {
      kind: "topic",
      properties: topic.props,
      extras: t.extras,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
    };
    return this.store.saveEntity({ path: topic.path, definition: stringifyTopicsDefinition(def) });
  }

  private saveSubscription(sub: SubscriptionEntity): Promise<void> {
    const t = this.timesOf(sub.path);
    const def: SubscriptionDefinition = {
      kind: "subscription",
      properties: sub.subscriptionProps,
      rules: sub.rules.list(),
      extras: t.extras,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
    };
    return this.store.saveEntity({ path: sub.path, definition: stringifyTopicsDefinition(def) });
  }
}
