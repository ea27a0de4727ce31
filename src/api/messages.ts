// Messages for the control API and the CLI: a stored message as JSON (the SDK's received-message fields),
// and a short-lived receiver that takes up to N messages from a queue the way a receiver link would.
import rhea from "rhea";
import type { QueueEntity, ReceiveMode, Receiver } from "../servicebus/entities/queue.js";
import type { StoredMessage } from "../servicebus/store/types.js";

type Obj = Record<string, unknown>;
const decode = (rhea.message as unknown as { decode(b: Buffer): Obj }).decode;
const STATES = ["Active", "Deferred", "Scheduled"];

/**
 * The body as the SDKs read it: an AMQP value as is; data as JSON when it parses (the JS SDK sends its
 * bodies JSON-encoded in a data section), else as text, else base64 with a marker.
 */
function bodyOf(body: unknown): { body: unknown; bodyEncoding?: string } {
  const section = body as { typecode?: number; content?: unknown } | undefined;
  const raw = section && section.typecode === 117 ? section.content : body;
  if (!Buffer.isBuffer(raw)) return { body: raw };
  const text = raw.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(raw)) return { body: raw.toString("base64"), bodyEncoding: "base64" };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { body: text };
  }
}

export function decodeStored(m: StoredMessage, withLock = false): Obj {
  const msg = decode(Buffer.concat([m.annotations, m.bare]));
  const ann = (msg.message_annotations ?? {}) as Obj;
  return {
    sequenceNumber: m.seq,
    messageId: msg.message_id === undefined ? undefined : String(msg.message_id),
    ...bodyOf(msg.body),
    contentType: msg.content_type,
    subject: msg.subject,
    correlationId: msg.correlation_id === undefined ? undefined : String(msg.correlation_id),
    sessionId: msg.group_id ?? m.sessionId,
    to: msg.to,
    replyTo: msg.reply_to,
    applicationProperties: msg.application_properties ?? {},
    enqueuedTimeUtc: new Date(m.enqueuedAt).toISOString(),
    deliveryCount: m.deliveryCount,
    state: STATES[m.state] ?? "Active",
    ...(m.expiresAt !== undefined ? { expiresAtUtc: new Date(m.expiresAt).toISOString() } : {}),
    ...(m.scheduledAt !== undefined ? { scheduledEnqueueTimeUtc: new Date(m.scheduledAt).toISOString() } : {}),
    // dead-lettering writes the reason as application properties, which the SDKs surface as these fields
    ...deadLetterFields(ann, (msg.application_properties ?? {}) as Obj),
    ...(withLock && m.lockToken
      ? { lockToken: m.lockToken, lockedUntilUtc: new Date(m.lockedUntil!).toISOString() }
      : {}),
  };
}

function deadLetterFields(ann: Obj, app: Obj): Obj {
  const reason = ann["x-opt-dead-letter-reason"] ?? app.DeadLetterReason;
  const description = ann["x-opt-dead-letter-description"] ?? app.DeadLetterErrorDescription;
  return {
    ...(reason !== undefined ? { deadLetterReason: String(reason) } : {}),
    ...(description !== undefined ? { deadLetterErrorDescription: String(description) } : {}),
  };
}

/** Up to `count` messages, waiting at most `waitMs` for the first (then briefly for more, as the SDKs do). */
export function receiveBatch(
  q: QueueEntity,
  count: number,
  mode: ReceiveMode,
  waitMs: number,
): Promise<StoredMessage[]> {
  return new Promise((resolve) => {
    const got: StoredMessage[] = [];
    let done = false;
    let timer = setTimeout(finish, waitMs);
    const receiver: Receiver = {
      mode,
      capacity: () => (done ? 0 : count - got.length),
      deliver(m) {
        got.push(m);
        if (got.length >= count) return finish();
        if (got.length === 1) {
          clearTimeout(timer);
          timer = setTimeout(finish, 20);
        }
      },
    };
    function finish() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      q.detach(receiver);
      resolve(got);
    }
    q.attach(receiver);
  });
}
