// $management operations on sessions (docs/compatibility.md, sessions): renew the session lock, get and
// set its state. Only the connection whose receiver holds the session may use them; anyone else (or a lock
// that ran out) gets the service's session-lock-lost.
import type { QueueEntity } from "../entities/queue.js";
import type { SessionSet } from "../entities/sessions.js";
import { BrokerError } from "../errors.js";
import type { ClientConnection } from "./connection.js";
import type { Reply } from "./replies.js";

export type Body = Record<string, any>;
export type Operation = (
  entity: QueueEntity,
  body: Body,
  conn: ClientConnection,
  entityPath: string,
) => Promise<Reply> | Reply;

export const ok = (body?: unknown): Reply => ({ status: 200, description: "OK", body });

/** The session id a request names (JS and Python send it as `session-id` on session receivers). */
export function sessionIdOf(body: Body): string | undefined {
  const id = body["session-id"];
  return id === undefined || id === null ? undefined : String(id);
}

function sessionsOf(entity: QueueEntity, entityPath: string): SessionSet {
  if (!entity.sessions) throw new BrokerError("NotAllowed", `The entity '${entityPath}' does not require sessions.`);
  return entity.sessions;
}

function requireSessionId(body: Body): string {
  const id = sessionIdOf(body);
  if (id === undefined) throw new BrokerError("ArgumentError", "The session-id is required for this operation.");
  return id;
}

export const sessionOperations: Record<string, { right: "Listen"; run: Operation }> = {
  "com.microsoft:renew-session-lock": {
    right: "Listen",
    run: async (entity, body, conn, path) => {
      const until = await sessionsOf(entity, path).renew(requireSessionId(body), conn);
      return ok({ expiration: new Date(until) });
    },
  },
  "com.microsoft:get-session-state": {
    right: "Listen",
    run: (entity, body, conn, path) => {
      const state = sessionsOf(entity, path).getState(requireSessionId(body), conn);
      return ok({ "session-state": state ?? null });
    },
  },
  "com.microsoft:set-session-state": {
    right: "Listen",
    run: async (entity, body, conn, path) => {
      const raw = body["session-state"];
      const state =
        raw === undefined || raw === null ? undefined : Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
      await sessionsOf(entity, path).setState(requireSessionId(body), state, conn);
      return ok();
    },
  },
};
