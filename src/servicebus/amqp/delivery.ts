// Broker → client: a receiver link attached to a queue. Implements the entity's Receiver on top of a rhea
// sender, with credit accounting that never queues more transfers than the client granted (rhea only
// counts credit down when a frame is written, and an over-queued link blocks its whole session).
import type { QueueEntity, ReceiveMode, Receiver } from "../entities/queue.js";
import { encodeDelivery, lockTokenToTag } from "../message/codec.js";
import { MessageState, type StoredMessage } from "../store/types.js";

/** The full wire form of a stored message: header + annotations + the client's bare message. */
export function encodeForDelivery(m: StoredMessage, opts: { lockToken?: boolean } = {}): Buffer {
  return encodeDelivery({
    seq: m.seq,
    enqueuedAt: m.enqueuedAt,
    deliveryCount: m.deliveryCount,
    ttlMs: ttlOf(m),
    lockedUntil: m.lockedUntil,
    messageState: m.state !== MessageState.Active ? m.state : undefined,
    // Python reads the lock token of messages received by sequence number from the delivery annotations
    lockToken: opts.lockToken && m.lockToken ? m.lockToken : undefined,
    annotations: m.annotations,
    bare: m.bare,
  });
}

function ttlOf(m: StoredMessage): number | undefined {
  return m.expiresAt === undefined ? undefined : m.expiresAt - (m.scheduledAt ?? m.enqueuedAt);
}

type Sender = any; // rhea's Sender has no usable TypeScript types

export class DeliveryLink implements Receiver {
  readonly mode: ReceiveMode;
  private sent = 0;
  private readonly baseCount: number;

  constructor(
    readonly sender: Sender,
    readonly entity: QueueEntity,
  ) {
    this.mode = sender.local.attach.snd_settle_mode === 1 ? "receiveAndDelete" : "peekLock";
    this.baseCount = sender.delivery_count;
  }

  /** Transfers queued in rhea but not yet written. */
  private unsent(): number {
    return this.sent - (this.sender.delivery_count - this.baseCount);
  }

  capacity(): number {
    if (!this.sender.is_open()) return 0;
    return this.sender.credit - this.unsent();
  }

  deliver(m: StoredMessage): void {
    const tag = m.lockToken ? lockTokenToTag(m.lockToken) : Buffer.from(String(m.seq));
    const delivery = this.sender.send(encodeForDelivery(m), tag, 0);
    this.sent++;
    if (m.lockToken) delivery.lockToken = m.lockToken;
  }

  /** Answers a drain request: deliver what is available now, then report the rest of the credit used. */
  drain(): void {
    this.entity.pump();
    // rhea spends the unused credit when it writes the drained flow; count it as used so capacity stays 0
    this.sent += Math.max(0, this.capacity());
    this.sender.set_drained(true);
  }
}
