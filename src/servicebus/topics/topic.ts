// A topic: accepts sends like a queue (size limits, duplicate detection, default TTL, scheduling) and keeps
// nothing itself: each accepted message is offered to every subscription, which takes a copy when one of its
// rules matches. The copies carry the topic's sequence number (as in Service Bus). A message no subscription
// takes is dropped, as the service does.
import { EventEmitter } from "node:events";
import { QUEUE_DEFAULTS, type TopicProperties } from "../../model/config.js";
import { errors } from "../errors.js";
import type { ParsedMessage } from "../message/codec.js";
import { buildMessages } from "../entities/incoming.js";
import { RecentIds } from "../entities/recent-ids.js";
import type { StoredMessage } from "../store/types.js";
import { filterMessageOf } from "./filter-message.js";
import type { FilterMessage } from "../filters/index.js";
import type { SubscriptionEntity } from "./subscription.js";

export interface TopicCounts {
  active: number;
  deadLetter: number;
  scheduled: number;
  transferMessageCount: number;
  transferDeadLetterMessageCount: number;
  sizeInBytes: number;
  subscriptionCount: number;
}

/** The largest message an entity that takes sends (a queue or a topic) accepts, in bytes. */
export function maxMessageBytes(entity: TopicEntity | { props: { maxMessageSizeInKilobytes: number } }): number {
  return (
    (entity instanceof TopicEntity ? entity.maxMessageSizeInKilobytes : entity.props.maxMessageSizeInKilobytes) * 1024
  );
}

export class TopicEntity extends EventEmitter {
  /** by lowercase subscription name */
  readonly subscriptions = new Map<string, SubscriptionEntity>();
  private lastSeq = 0;
  private readonly recentIds = new RecentIds();
  /** set when the topic is deleted at run time: links that still hold it get entity-not-found */
  deleted = false;

  constructor(
    readonly path: string,
    public props: TopicProperties,
  ) {
    super();
  }

  get name(): string {
    return this.path.slice(this.path.indexOf("/") + 1);
  }

  /** The limits the wire layer checks before parsing (as on a queue). */
  get maxMessageSizeInKilobytes(): number {
    return this.props.maxMessageSizeInKilobytes ?? QUEUE_DEFAULTS.maxMessageSizeInKilobytes;
  }

  addSubscription(sub: SubscriptionEntity): void {
    this.subscriptions.set(sub.name.toLowerCase(), sub);
    // subscriptions keep the topic's sequence numbers: continue after the highest any of them recovered
    this.lastSeq = Math.max(this.lastSeq, sub.lastSequence, sub.deadLetter?.lastSequence ?? 0);
  }

  /** Accepts messages (duplicates left out) and fans them out; resolves with their sequence numbers. */
  async send(input: ParsedMessage[]): Promise<number[]> {
    if (this.deleted) throw errors.entityNotFound(`sb://${this.path}`);
    const limit = this.maxMessageSizeInKilobytes * 1024;
    for (const p of input) if (p.bare.length > limit) throw errors.sizeExceeded(p.bare.length, limit);
    const max = (this.props.maxSizeInMegabytes ?? QUEUE_DEFAULTS.maxSizeInMegabytes) * 1024 * 1024;
    // the subscriptions' sizes, read once per send (their tallies are kept as messages come and go)
    let size = 0;
    for (const sub of this.subscriptions.values()) size += sub.counts().sizeInBytes;
    if (size > max) throw errors.entityFull("Topic", this.path, size, max);
    const now = Date.now();
    const fresh = input.filter(
      (p) =>
        !(
          this.props.requiresDuplicateDetection &&
          p.messageId !== undefined &&
          this.recentIds.check(p.messageId, now, this.props.duplicateDetectionHistoryTimeWindowMs)
        ),
    );
    const built = buildMessages(fresh, now, {
      defaultTtlMs: this.props.defaultMessageTimeToLiveMs,
      expires: true,
      nextSeq: () => ++this.lastSeq,
    });
    await this.fanOut(built, 0);
    return built.map((m) => m.seq);
  }

  /** Schedules messages (a scheduled copy in each subscription that takes one). */
  schedule(input: ParsedMessage[]): Promise<number[]> {
    return this.send(input);
  }

  /** Cancels scheduled messages by the sequence numbers the topic gave them: every copy goes. */
  async cancelScheduled(seqs: number[]): Promise<void> {
    for (const sub of this.subscriptions.values()) await sub.cancelScheduled(seqs);
  }

  /** Messages forwarded here from another entity: new sequence numbers, then the subscriptions. */
  async forwardIn(messages: StoredMessage[], hops: number): Promise<void> {
    if (this.deleted) throw errors.entityNotFound(`sb://${this.path}`);
    const now = Date.now();
    const moved = messages.map((m) => ({ ...m, seq: ++this.lastSeq, enqueuedAt: now, deliveryCount: 0 }));
    await this.fanOut(moved, hops);
  }

  private async fanOut(messages: StoredMessage[], hops: number): Promise<void> {
    const subs = [...this.subscriptions.values()];
    if (subs.length === 0) return;
    const writes: Promise<boolean>[] = [];
    for (const m of messages) {
      let seen: FilterMessage | undefined;
      const view = () => (seen ??= filterMessageOf(m));
      for (const sub of subs) writes.push(sub.offer(m, view, hops, () => ++this.lastSeq));
    }
    await Promise.all(writes);
    this.emit("change", this);
  }

  counts(): TopicCounts {
    const out: TopicCounts = {
      active: 0,
      deadLetter: 0,
      scheduled: 0,
      transferMessageCount: 0,
      transferDeadLetterMessageCount: 0,
      sizeInBytes: 0,
      subscriptionCount: this.subscriptions.size,
    };
    for (const s of this.subscriptions.values()) {
      const c = s.counts();
      out.active += c.active;
      out.deadLetter += c.deadLetter;
      out.scheduled += c.scheduled;
      out.sizeInBytes += c.sizeInBytes;
    }
    return out;
  }

  close(): void {
    for (const s of this.subscriptions.values()) s.close();
  }
}
