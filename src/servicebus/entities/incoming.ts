// Messages as they enter an entity: what the broker adds to what the client sent (sequence number, enqueue
// time, message id if none, expiry, scheduled state), ready for the store.
import { randomUUID } from "node:crypto";
import { encodeClientAnnotations, withMessageId, type ParsedMessage } from "../message/codec.js";
import { encodeSentHeader } from "../message/header.js";
import { TIMESPAN_MAX_MS } from "../../model/duration.js";
import { MessageState, NO_ANNOTATIONS, type StoredMessage } from "../store/types.js";

export interface Intake {
  /** the entity's defaultMessageTimeToLive */
  defaultTtlMs: number;
  /** false in a dead-letter queue: its messages never expire */
  expires: boolean;
  /** assigns the next sequence number */
  nextSeq(): number;
}

export function buildMessages(input: ParsedMessage[], now: number, intake: Intake): StoredMessage[] {
  const out: StoredMessage[] = [];
  for (const p of input) {
    // TimeSpan.MaxValue (the service's default) is "never"
    const least = Math.min(p.ttlMs ?? Infinity, intake.defaultTtlMs);
    const ttl = least >= TIMESPAN_MAX_MS ? Infinity : least;
    const scheduled = p.scheduledEnqueueTime !== undefined && p.scheduledEnqueueTime > now;
    // the sender's header (durable, priority, first-acquirer) is kept in front of its annotations
    const clientAnnotations = p.annotations.length ? encodeClientAnnotations(p.annotations) : NO_ANNOTATIONS;
    const annotations = p.header ? Buffer.concat([encodeSentHeader(p.header), clientAnnotations]) : clientAnnotations;
    const messageId = p.messageId ?? randomUUID().replace(/-/g, "");
    const bare = p.messageId === undefined ? withMessageId(p.bare, messageId) : Buffer.from(p.bare);
    out.push({
      seq: intake.nextSeq(),
      enqueuedAt: now,
      state: scheduled ? MessageState.Scheduled : MessageState.Active,
      scheduledAt: scheduled ? p.scheduledEnqueueTime : undefined,
      expiresAt: intake.expires && Number.isFinite(ttl) ? (scheduled ? p.scheduledEnqueueTime! : now) + ttl : undefined,
      deliveryCount: 0,
      sessionId: p.sessionId,
      messageId,
      size: bare.length + annotations.length,
      annotations,
      bare,
    });
  }
  return out;
}
