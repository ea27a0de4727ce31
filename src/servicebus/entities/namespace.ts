// A namespace: its queues (names are case-insensitive, as in Service Bus), its shared access policies,
// and the routing between its entities (auto-forwarding, dead-letter forwarding).
import { EventEmitter } from "node:events";
import type { NamespaceConfig, QueueProperties, SasPolicyConfig } from "../../model/config.js";
import { resourcePath } from "../../identity/sas.js";
import { errors } from "../errors.js";
import type { MessageStore, StoredMessage } from "../store/types.js";
import { DEAD_LETTER_SUFFIX, QueueEntity, type Forwarder } from "./queue.js";

export class Namespace extends EventEmitter implements Forwarder {
  private readonly queues = new Map<string, QueueEntity>();
  policies: SasPolicyConfig[];
  /** entity-level policies by lowercase queue name */
  private readonly entityPolicies = new Map<string, SasPolicyConfig[]>();

  constructor(
    readonly name: string,
    private readonly store: MessageStore,
    config?: NamespaceConfig,
  ) {
    super();
    this.policies = config?.policies ?? [];
    for (const q of config?.queues ?? []) {
      this.createQueue(q.name, q.properties);
      if (q.policies?.length) this.setQueuePolicies(q.name, q.policies);
    }
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
   * Resolves an entity path as clients address it: `q`, `q/$DeadLetterQueue`. Throws the service's
   * not-found error (JS maps it to MessagingEntityNotFound by its wording).
   */
  resolve(entityPath: string, displayHost: string): QueueEntity {
    const lower = entityPath.toLowerCase();
    const dlq = lower.endsWith(DEAD_LETTER_SUFFIX.toLowerCase());
    const base = dlq ? entityPath.slice(0, -DEAD_LETTER_SUFFIX.length) : entityPath;
    const q = this.queues.get(base.toLowerCase());
    if (!q) throw errors.entityNotFound(`sb://${displayHost}/${entityPath}`);
    return dlq ? q.deadLetter! : q;
  }

  async forward(target: string, messages: StoredMessage[]): Promise<void> {
    const q = this.queues.get(target.toLowerCase());
    if (!q) throw errors.entityNotFound(`sb://${this.name}/${target}`);
    const moved = messages.map((m) => ({ ...m, seq: q.allocateSequence(), enqueuedAt: Date.now() }));
    await q.add(moved);
  }

  close(): void {
    for (const q of this.queues.values()) q.close();
  }
}
