// Broker → client: a receiver link attached to a queue. Implements the entity's Receiver on top of a rhea
// sender, with credit accounting that never queues more transfers than the client granted (rhea only
// counts credit down when a frame is written, and an over-queued link blocks its whole session).
import { createRequire } from "node:module";
import type { QueueEntity, ReceiveMode, Receiver } from "../entities/queue.js";
import { reportedEnqueuedAt, reportedState } from "../entities/types.js";
import { encodeDelivery, uintWidth, writeUintValue } from "../message/delivery-encoding.js";
import { lockTokenToTag } from "../message/ids.js";
import type { StoredMessage } from "../store/types.js";

type Any = any; // rhea's internals have no TypeScript types

// --- transfer frames -------------------------------------------------------------------------
// rhea builds every outgoing transfer as a typed composite (one wrapped value per field) and encodes it
// into a zero-filled 1 KB buffer, grown (and zero-filled again) for any larger payload. Per 1 KB delivery
// that is most of rhea's cost, so the transfers rhea's session sends (always the same six fields) are kept
// as plain values and encoded by hand, byte for byte as rhea would; every other frame takes rhea's path.
const rheaFrames = createRequire(import.meta.url)("rhea/lib/frames.js") as Any;
const PATCHED = Symbol.for("eventjobs.frames");

class PlainTransfer {
  constructor(
    readonly handle: number,
    readonly delivery_id: number,
    readonly delivery_tag: Buffer,
    readonly message_format: number,
    readonly settled: boolean,
    readonly more: boolean,
  ) {}
}

const isUint = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** frame header, transfer performative (list32 of six fields), payload: what rhea's Writer would produce */
function writeTransferFrame(channel: number, t: PlainTransfer, payload: Buffer): Buffer {
  const tag = t.delivery_tag;
  const tagSize = (tag.length > 255 ? 5 : 2) + tag.length;
  const fields = uintWidth(t.handle) + uintWidth(t.delivery_id) + tagSize + uintWidth(t.message_format) + 2;
  const size = 8 + 3 + 9 + fields + payload.length;
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32BE(size, 0);
  b[4] = 2; // doff
  b[5] = 0; // AMQP frame
  b.writeUInt16BE(channel, 6);
  b[8] = 0x00;
  b[9] = 0x53;
  b[10] = 0x14; // transfer
  b[11] = 0xd0;
  b.writeUInt32BE(4 + fields, 12);
  b.writeUInt32BE(6, 16);
  let at = writeUintValue(b, 20, t.handle);
  at = writeUintValue(b, at, t.delivery_id);
  if (tag.length > 255) {
    b[at] = 0xb0;
    b.writeUInt32BE(tag.length, at + 1);
    at += 5;
  } else {
    b[at] = 0xa0;
    b[at + 1] = tag.length;
    at += 2;
  }
  at += tag.copy(b, at);
  at = writeUintValue(b, at, t.message_format);
  b[at++] = t.settled ? 0x41 : 0x42;
  b[at++] = t.more ? 0x41 : 0x42;
  payload.copy(b, at);
  return b;
}

if (!rheaFrames[PATCHED]) {
  rheaFrames[PATCHED] = true;
  const makeTransfer = rheaFrames.transfer;
  rheaFrames.transfer = (f: Any) => {
    if (
      isUint(f.handle) &&
      isUint(f.delivery_id) &&
      Buffer.isBuffer(f.delivery_tag) &&
      isUint(f.message_format) &&
      typeof f.settled === "boolean" &&
      typeof f.more === "boolean" &&
      Object.keys(f).length === 6
    ) {
      return new PlainTransfer(f.handle, f.delivery_id, f.delivery_tag, f.message_format, f.settled, f.more);
    }
    return makeTransfer(f);
  };
  const writeFrame = rheaFrames.write_frame;
  rheaFrames.write_frame = (frame: Any) => {
    const p = frame.performative;
    if (
      p instanceof PlainTransfer &&
      frame.type === rheaFrames.TYPE_AMQP &&
      Buffer.isBuffer(frame.payload) &&
      isUint(frame.channel)
    ) {
      return writeTransferFrame(frame.channel, p, frame.payload);
    }
    if (p instanceof PlainTransfer) {
      // not expected from rhea's session; encode it as rhea would have
      return writeFrame({ ...frame, performative: makeTransfer({ ...p }) });
    }
    return writeFrame(frame);
  };
}

/** The full wire form of a stored message: header + annotations + the client's bare message. */
export function encodeForDelivery(m: StoredMessage, opts: { lockToken?: boolean } = {}): Buffer {
  return encodeDelivery({
    seq: m.seq,
    enqueuedAt: reportedEnqueuedAt(m),
    deliveryCount: m.deliveryCount,
    ttlMs: ttlOf(m),
    lockedUntil: m.lockedUntil,
    messageState: reportedState(m),
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
