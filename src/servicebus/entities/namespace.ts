// A namespace: its queues and topics (names are case-insensitive, as in Service Bus; the topics, their
// subscriptions and rules live in topics/registry.ts), its shared access policies, and the routing between
// its entities (auto-forwarding, dead-letter forwarding).
import { EventEmitter } from "node:events";
import type { NamespaceConfig, QueueProperties, SasPolicyConfig } from "../../model/config.js";
import { resourcePath } from "../../identity/sas.js";
import { BrokerError, errors } from "../errors.js";
import type { MessageStore, StoredMessage } from "../store/types.js";
import { TopicRegistry } from "../topics/registry.js";
import { SUBSCRIPTIONS_SEGMENT } from "../topics/subscription.js";
import type { TopicEntity } from "../topics/topic.js";
import { DEAD_LETTER_SUFFIX, QueueEntity, type Forwarder } from "./queue.js";

export class Namespace extends EventEmitter implements Forwarder {
  private readonly queues = new Map<string, QueueEntity>();
  policies: SasPolicyConfig[];
  /** entity-level policies by lowercase queue name */
  private readonly entityPolicies = new Map<string, SasPolicyConfig[]>();
  /** the namespace's topics, subscriptions and rules */
  readonly topics: TopicRegistry;

  constructor(
    readonly name: string,
    private readonly store: MessageStore,
    config?: NamespaceConfig,
  ) {
    super();
    this.policies = config?.policies ?? [];
    this.topics = new TopicRegistry(
      { name, hasQueue: (n) => this.queues.has(n.toLowerCase()), changed: (e) => this.emit("change", e) },
      store,
      this,
    );
    for (const q of config?.queues ?? []) {
      this.createQueue(q.name, q.properties);
      if (q.policies?.length) this.setQueuePolicies(q.name, q.policies);
    }
    this.topics.declare(config?.topics ?? []);
  }

  /** A queue's own policies (none: only the namespace's apply to it). */
  queuePolicies(name: string): SasPolicyConfig[] {
    return this.entityPolicies.get(name.toLowerCase()) ?? [];
  }

  setQueuePolicies(name: string, policies: SasPolicyConfig[]): void {
    if (policies.length) this.entityPolicies.set(name.toLowerCase(), policies);
    else this.entityPolicies.delete(name.toLowerCase());
  }

  /** The policies that can have signed a token for `resource` (its `sr`): the namespace's and that entity's. */
  policiesFor(resource: string | undefined): SasPolicyConfig[] {
    const entity = resource ? resourcePath(resource).split("/")[0] : "";
    const own = entity ? this.entityPolicies.get(entity) : undefined;
    return own ? [...own, ...this.policies] : this.policies;
  }

  queueNames(): string[] {
    return [...this.queues.values()].map((q) => q.path.slice(this.name.length + 1));
  }

  createQueue(name: string, props: QueueProperties): QueueEntity {
    const key = name.toLowerCase();
    if (this.topics.topic(name)) {
      // queues and topics share one name space
      throw new BrokerError("EntityAlreadyExists", `The messaging entity '${this.name}/${name}' already exists.`);
    }
    const existing = this.queues.get(key);
    if (existing) {
      existing.props = props;
      if (existing.deadLetter) existing.deadLetter.props = props;
      return existing;
    }
    const q = new QueueEntity(`${this.name}/${name}`, props, this.store, this);
    const relay = (e: QueueEntity) => this.emit("change", e);
    q.on("change", relay);
    q.deadLetter?.on("change", () => this.emit("change", q));
    this.queues.set(key, q);
    return q;
  }

  async deleteQueue(name: string): Promise<boolean> {
    const q = this.queues.get(name.toLowerCase());
    if (!q) return false;
    q.deleted = true;
    q.close();
    this.queues.delete(name.toLowerCase());
    this.entityPolicies.delete(name.toLowerCase());
    await this.store.deleteEntity(q.path);
    return true;
  }

  queue(name: string): QueueEntity | undefined {
    return this.queues.get(name.toLowerCase());
  }

  /**
   * Resolves an entity path as clients address it: `q`, `q/$DeadLetterQueue`, `t`,
   * `t/Subscriptions/s[/$DeadLetterQueue]`. Throws the service's not-found error (JS maps it to
   * MessagingEntityNotFound by its wording).
   */
  resolveEntity(entityPath: string, displayHost: string): QueueEntity | TopicEntity {
    const lower = entityPath.toLowerCase();
    const dlq = lower.endsWith(DEAD_LETTER_SUFFIX.toLowerCase());
    const base = dlq ? entityPath.slice(0, -DEAD_LETTER_SUFFIX.length) : entityPath;
    const parts = base.split("/");
    let found: QueueEntity | TopicEntity | undefined;
    if (parts.length === 1) found = this.queues.get(base.toLowerCase()) ?? (dlq ? undefined : this.topics.topic(base));
    else if (parts.length === 3 && parts[1].toLowerCase() === SUBSCRIPTIONS_SEGMENT.toLowerCase())
      found = this.topics.subscription(parts[0], parts[2]);
    if (!found) throw errors.entityNotFound(`sb://${displayHost}/${entityPath}`);
    return found instanceof QueueEntity && dlq ? found.deadLetter! : found;
  }

  /** An entity messages are received from: a queue, a subscription, or their dead-letter queues. */
  resolve(entityPath: string, displayHost: string): QueueEntity {
    const e = this.resolveEntity(entityPath, displayHost);
    if (!(e instanceof QueueEntity)) {
      throw new BrokerError(
        "NotAllowed",
        `Cannot receive from the topic '${entityPath}'; receive from one of its subscriptions (${entityPath}/Subscriptions/<name>).`,
      );
    }
    return e;
  }

  async forward(target: string, messages: StoredMessage[], hops = 1): Promise<void> {
    const q = this.queues.get(target.toLowerCase());
    if (q) {
      const moved = messages.map((m) => ({ ...m, seq: q.allocateSequence(), enqueuedAt: Date.now() }));
      await q.add(moved);
      return;
    }
    const topic = this.topics.topic(target);
    if (!topic) throw errors.entityNotFound(`sb://${this.name}/${target}`);
    await topic.forwardIn(messages, hops);
  }

  close(): void {
    for (const q of this.queues.values()) q.close();
    this.topics.close();
  }
}
