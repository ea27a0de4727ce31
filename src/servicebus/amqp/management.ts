// <entity>/$management request/response operations the SDKs use on queues, subscriptions and topics
// (docs/compatibility.md); the rule operations of subscriptions are in rule-management.ts.
import rhea from "rhea";
import { BrokerError } from "../errors.js";
import { parseMessage, withoutBody } from "../message/codec.js";
import { uuidToBuffer, uuidToString } from "../message/ids.js";
import type { ClientConnection } from "./connection.js";
import { encodeForDelivery } from "./delivery.js";
import { errorReply, type Reply } from "./replies.js";
import { ruleOperations } from "./rule-management.js";
import { ok, sessionIdOf, sessionOperations, type Body, type Operation } from "./session-management.js";
import { TopicEntity } from "../topics/topic.js";

const types = rhea.types as any; // rhea's typings omit Reader, Writer and Map32

function lockTokens(body: Body): string[] {
  const tokens = body["lock-tokens"] ?? [];
  return (Array.isArray(tokens) ? tokens : [tokens]).map((t: unknown) =>
    Buffer.isBuffer(t) ? uuidToString(t) : String(t),
  );
}

function seqNumbers(body: Body): number[] {
  const seqs = body["sequence-numbers"] ?? [];
  return (Array.isArray(seqs) ? seqs : [seqs]).map((s: unknown) =>
    Buffer.isBuffer(s) ? Number(s.readBigInt64BE()) : Number(s),
  );
}

function asProps(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

const operations: Record<string, { right: "Send" | "Listen" | "Manage"; run: Operation }> = {
  "com.microsoft:renew-lock": {
    right: "Listen",
    run: async (entity, body) => {
      const expirations: number[] = [];
      for (const t of lockTokens(body)) expirations.push(await entity.renewLock(t));
      return ok({ expirations: types.wrap_array(expirations, 0x83) });
    },
  },
  "com.microsoft:peek-message": {
    right: "Listen",
    run: (entity, body) => {
      const from = Number(body["from-sequence-number"] ?? 1);
      const count = Number(body["message-count"] ?? 1);
      const found = entity.peek(from, count, sessionIdOf(body));
      if (found.length === 0) return { status: 204, description: "No messages to peek" };
      const omitBody = body["omit-message-body"] === true;
      const messages = found.map((m) => ({
        message: encodeForDelivery({
          ...m,
          bare: omitBody ? withoutBody(m.bare) : m.bare,
          lockedUntil: undefined,
          lockToken: undefined,
        }),
      }));
      return ok({ messages });
    },
  },
  "com.microsoft:schedule-message": {
    right: "Send",
    run: async (entity, body) => {
      const items: Body[] = body.messages ?? [];
      const seqs = await entity.schedule(items.map((i) => parseMessage(Buffer.from(i.message))));
      return ok({ "sequence-numbers": types.wrap_array(seqs, 0x81) });
    },
  },
  "com.microsoft:cancel-scheduled-message": {
    right: "Send",
    run: async (entity, body) => {
      await entity.cancelScheduled(seqNumbers(body));
      return ok();
    },
  },
  "com.microsoft:receive-by-sequence-number": {
    right: "Listen",
    run: (entity, body, conn) => {
      const mode = Number(body["receiver-settle-mode"] ?? 1) === 0 ? "receiveAndDelete" : "peekLock";
      const session = entity.sessions && sessionIdOf(body);
      const found = session
        ? entity.sessions!.receiveDeferred(session, seqNumbers(body), mode, conn)
        : entity.receiveDeferred(seqNumbers(body), mode);
      const messages = found.map((m) => {
        const item: Record<string, unknown> = { message: encodeForDelivery(m, { lockToken: true }) };
        if (m.lockToken) item["lock-token"] = types.wrap_uuid(uuidToBuffer(m.lockToken));
        return item;
      });
      return ok({ messages });
    },
  },
  "com.microsoft:update-disposition": {
    right: "Listen",
    run: async (entity, body, conn) => {
      const status = String(body["disposition-status"] ?? "");
      const session = entity.sessions && sessionIdOf(body);
      if (session) entity.sessions!.checkHeld(session, conn);
      const propertiesToModify = asProps(body["properties-to-modify"]);
      for (const t of lockTokens(body)) {
        if (status === "completed") await entity.complete(t);
        else if (status === "abandoned") await entity.abandon(t, { propertiesToModify });
        else if (status === "defered") await entity.defer(t, { propertiesToModify });
        else if (status === "suspended") {
          await entity.deadLetterLocked(t, {
            propertiesToModify,
            reason: body["deadletter-reason"],
            description: body["deadletter-description"],
          });
        } else {
          throw new BrokerError("ArgumentError", `The disposition status '${status}' is not valid.`);
        }
      }
      return ok();
    },
  },
  ...sessionOperations,
  ...ruleOperations,
};

/** What a topic's $management node answers (a topic only takes sends): scheduling and its cancellation. */
async function topicOperation(topic: TopicEntity, op: string, body: Body): Promise<Reply> {
  if (op === "com.microsoft:schedule-message") {
    const items: Body[] = body.messages ?? [];
    const seqs = await topic.schedule(items.map((i) => parseMessage(Buffer.from(i.message))));
    return ok({ "sequence-numbers": types.wrap_array(seqs, 0x81) });
  }
  if (op === "com.microsoft:cancel-scheduled-message") {
    await topic.cancelScheduled(seqNumbers(body));
    return ok();
  }
  throw new BrokerError("NotAllowed", `The operation '${op}' is not supported on a topic ('${topic.path}').`);
}

export async function handleManagement(conn: ClientConnection, entityPath: string, request: any): Promise<Reply> {
  const op = String(request.application_properties?.operation ?? "");
  const handler = operations[op];
  try {
    if (!handler) throw new BrokerError("NotImplemented", `The operation '${op}' is not supported.`);
    conn.authorize(entityPath, handler.right);
    const entity = conn.namespace.resolveEntity(entityPath, conn.host);
    const body = (request.body && typeof request.body === "object" ? request.body : {}) as Body;
    if (entity instanceof TopicEntity) return await topicOperation(entity, op, body);
    return await handler.run(entity, body, conn, entityPath);
  } catch (e) {
    if (e instanceof BrokerError) return errorReply(e);
    return errorReply("InternalError", `Internal error: ${(e as Error).message}`);
  }
}
