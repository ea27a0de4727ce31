// Where a queue's messages go when they end without being completed: into its dead-letter queue (or where
// ForwardDeadLetteredMessagesTo points) after MaxDeliveryCount deliveries, an explicit dead-letter or an
// expiry with DeadLetteringOnMessageExpiration; otherwise, on expiry, away. Used by queue.ts.
import type { QueueProperties } from "../../model/config.js";
import { withApplicationProperties } from "../message/codec.js";
import { MessageState, type MessageStore, type StoredMessage } from "../store/types.js";
import type { MessageIndex } from "./message-index.js";
import type { Forwarder } from "./types.js";

/** What dead-lettering needs of its queue (QueueEntity provides it). */
export interface DeadLetterSource {
  readonly path: string;
  readonly props: QueueProperties;
  readonly isDeadLetter: boolean;
  /** the queue's dead-letter queue (none for a dead-letter queue itself) */
  readonly deadLetter?: {
    readonly path: string;
    add(messages: StoredMessage[], alreadyStored: boolean): Promise<number[]>;
  };
  add(messages: StoredMessage[], alreadyStored: boolean): Promise<number[]>;
}

export function maxDeliveryReason(max: number): Record<string, unknown> {
  return {
    DeadLetterReason: "MaxDeliveryCountExceeded",
    DeadLetterErrorDescription: `Message could not be consumed after ${max} delivery attempts.`,
  };
}

export class DeadLettering {
  constructor(
    private readonly queue: DeadLetterSource,
    private readonly index: MessageIndex,
    private readonly store: MessageStore,
    private readonly forwarder: Forwarder,
    private readonly changed: () => void,
  ) {}

  /** Whether `deliveryCount` deliveries reach the queue's limit (never in a dead-letter queue). */
  overLimit(deliveryCount: number): boolean {
    return !this.queue.isDeadLetter && deliveryCount >= this.queue.props.maxDeliveryCount;
  }

  /** Moves a message to the dead-letter queue (or where ForwardDeadLetteredMessagesTo points). */
  async move(seq: number, props: Record<string, unknown>): Promise<void> {
    const q = this.queue;
    const msg = this.index.read(seq);
    this.index.forget(seq);
    this.changed();
    if (!msg) return;
    if (q.isDeadLetter) {
      // messages in a dead-letter queue are not dead-lettered again; they just stay
      await q.add([{ ...msg, bare: withApplicationProperties(msg.bare, props) }], false);
      return;
    }
    const moved: StoredMessage = {
      ...msg,
      bare: withApplicationProperties(msg.bare, props),
      state: MessageState.Active,
      lockToken: undefined,
      lockedUntil: undefined,
      expiresAt: undefined,
      scheduledAt: undefined,
    };
    moved.size = moved.bare.length + moved.annotations.length;
    const forwardTo = q.props.forwardDeadLetteredMessagesTo;
    if (forwardTo) {
      await this.store.remove(q.path, seq);
      await this.forwarder.forward(forwardTo, [{ ...moved, deliveryCount: 0 }]);
      return;
    }
    // dead-lettered messages keep their sequence number
    await this.store.move(q.path, seq, q.deadLetter!.path, moved);
    await q.deadLetter!.add([moved], true);
  }

  /** An expired message: dead-lettered with TTLExpiredException if the queue says so, otherwise removed. */
  expire(seq: number): void {
    if (this.queue.props.deadLetteringOnMessageExpiration && !this.queue.isDeadLetter) {
      void this.move(seq, {
        DeadLetterReason: "TTLExpiredException",
        DeadLetterErrorDescription: "The message expired and was dead lettered.",
      });
    } else {
      this.index.forget(seq);
      void this.store.remove(this.queue.path, seq);
      this.changed();
    }
  }
}
