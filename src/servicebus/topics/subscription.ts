// A subscription: a queue-like entity (QueueEntity: receive, settle, defer, sessions, dead-letter queue,
// expiry, forwarding) that is fed by its topic instead of by senders, through its rules.
import {
  QUEUE_DEFAULTS,
  type QueueProperties,
  type SubscriptionProperties,
  type TopicProperties,
} from "../../model/config.js";
import { TIMESPAN_MAX_MS } from "../../model/duration.js";
import { BrokerError } from "../errors.js";
import type { ParsedMessage } from "../message/codec.js";
import { QueueEntity, type Forwarder } from "../entities/queue.js";
import { MessageState, type MessageStore, type StoredMessage } from "../store/types.js";
import type { FilterMessage } from "../filters/index.js";
import { RuleSet, type RuleDescription } from "./rules.js";
import { withApplicationProperties } from "../message/codec.js";

/** Service Bus forwards a message through at most this many entities. */
export const MAX_FORWARD_HOPS = 4;

export const SUBSCRIPTIONS_SEGMENT = "Subscriptions";

/** The queue properties a subscription's messages live by (its own, with the topic's size limits). */
export function subscriptionQueueProps(sub: SubscriptionProperties, topic: TopicProperties): QueueProperties {
  return {
    lockDurationMs: sub.lockDurationMs,
    maxDeliveryCount: sub.maxDeliveryCount,
    defaultMessageTimeToLiveMs: sub.defaultMessageTimeToLiveMs,
    deadLetteringOnMessageExpiration: sub.deadLetteringOnMessageExpiration,
    requiresSession: sub.requiresSession,
    // the topic detects duplicates, once for all its subscriptions
    requiresDuplicateDetection: false,
    duplicateDetectionHistoryTimeWindowMs: topic.duplicateDetectionHistoryTimeWindowMs,
    forwardTo: sub.forwardTo,
    forwardDeadLetteredMessagesTo: sub.forwardDeadLetteredMessagesTo,
    maxSizeInMegabytes: topic.maxSizeInMegabytes ?? QUEUE_DEFAULTS.maxSizeInMegabytes,
    maxMessageSizeInKilobytes: topic.maxMessageSizeInKilobytes ?? QUEUE_DEFAULTS.maxMessageSizeInKilobytes,
  };
}

export class SubscriptionEntity extends QueueEntity {
  readonly rules: RuleSet;

  constructor(
    path: string,
    readonly topicName: string,
    readonly name: string,
    public subscriptionProps: SubscriptionProperties,
    topicProps: TopicProperties,
    rules: RuleDescription[],
    store: MessageStore,
    forwarder: Forwarder,
  ) {
    super(path, subscriptionQueueProps(subscriptionProps, topicProps), store, forwarder);
    this.rules = new RuleSet(rules);
  }

  /** Changes the subscription's properties (admin API update). */
  update(props: SubscriptionProperties, topicProps: TopicProperties): void {
    this.subscriptionProps = props;
    this.props = subscriptionQueueProps(props, topicProps);
    if (this.deadLetter) this.deadLetter.props = this.props;
  }

  /** Clients cannot send to a subscription; only its topic feeds it. */
  override send(_input: ParsedMessage[]): Promise<number[]> {
    return Promise.reject(
      new BrokerError("NotAllowed", `Cannot send to a subscription ('${this.path}'); send to its topic instead.`),
    );
  }

  /**
   * Takes a copy of `m` if the rules match it (with the matching rules' actions applied); `view` gives the
   * message as filters see it, shared by the topic's subscriptions. Resolves with whether it took one.
   */
  async offer(m: StoredMessage, view: () => FilterMessage, hops: number): Promise<boolean> {
    if (this.deleted) return false;
    const routed = this.rules.route(m, view, this.subscriptionProps.deadLetteringOnFilterEvaluationExceptions === true);
    if (routed.kind === "none") return false;
    let copy: StoredMessage = routed.message;
    const ttl = this.subscriptionProps.defaultMessageTimeToLiveMs;
    if (ttl && ttl < TIMESPAN_MAX_MS) {
      // the subscription's own default TTL can only shorten the copy's life (TimeSpan.MaxValue is "never")
      const own = (copy.scheduledAt ?? copy.enqueuedAt) + ttl;
      if (copy.expiresAt === undefined || own < copy.expiresAt) copy = { ...copy, expiresAt: own };
    }
    if (routed.kind === "error") {
      await this.deadLetterCopy(copy, "FilterEvaluationException", routed.description);
      return true;
    }
    if (this.sessions && copy.sessionId === undefined) {
      // as the service: a session subscription dead-letters a copy without a session id
      await this.deadLetterCopy(
        copy,
        "Session id is null.",
        "Session enabled entity doesn't allow a message whose session identifier is null.",
      );
      return true;
    }
    const forwardTo = this.props.forwardTo;
    if (forwardTo && hops < MAX_FORWARD_HOPS) {
      await this.forwarder.forward(forwardTo, [copy], hops + 1);
      return true;
    }
    await this.add([copy]);
    return true;
  }

  /** Puts a copy straight into the dead-letter queue (it never was in the subscription). */
  private async deadLetterCopy(copy: StoredMessage, reason: string, description: string): Promise<void> {
    const dlq = this.deadLetter!;
    const bare = withApplicationProperties(copy.bare, {
      DeadLetterReason: reason,
      DeadLetterErrorDescription: description,
    });
    const dead: StoredMessage = {
      ...copy,
      bare,
      size: bare.length + copy.annotations.length,
      state: MessageState.Active,
      scheduledAt: undefined,
      expiresAt: undefined,
    };
    await dlq.add([dead]);
  }
}
