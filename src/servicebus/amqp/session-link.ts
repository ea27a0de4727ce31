// Session receivers on the wire (docs/compatibility.md, sessions): the attach's source filter
// `com.microsoft:session-filter` names the session (a string, or null for the next available one); the attach
// reply echoes the filter with the locked session id and carries `com.microsoft:locked-until-utc` (.NET ticks).
// Waiting for a next-available session holds the attach reply back until one frees up or the timeout passes.
import rhea from "rhea";
import type { QueueEntity } from "../entities/queue.js";
import { DEFAULT_ACCEPT_TIMEOUT_MS, type SessionLock, type SessionReceiver } from "../entities/sessions.js";
import { BrokerError } from "../errors.js";
import { msToTicksBuffer } from "../message/ids.js";
import type { ClientConnection } from "./connection.js";
import { DeliveryLink } from "./delivery.js";

const types = rhea.types as any; // rhea's typings omit wrap_long with a Buffer
type Sender = any; // rhea's Sender has no usable TypeScript types

export const SESSION_FILTER = "com.microsoft:session-filter";
const LOCKED_UNTIL = "com.microsoft:locked-until-utc";
/** JS's acceptNextSession sends its operation timeout (ms) as this link property; Python sends none */
const TIMEOUT = "com.microsoft:timeout";

export class SessionLink extends DeliveryLink implements SessionReceiver {
  constructor(
    sender: Sender,
    entity: QueueEntity,
    readonly owner: ClientConnection,
  ) {
    super(sender, entity);
  }

  /** The service detaches a session receiver whose lock expired. */
  sessionLost(e: BrokerError): void {
    if (this.sender.is_open()) this.sender.close(e.toAmqp());
  }
}

/** Whether an attach's source asks for a session: the filter key is present, even with a null value. */
export function asksForSession(source: { filter?: Record<string, unknown> } | undefined): boolean {
  const filter = source?.filter;
  return !!filter && typeof filter === "object" && SESSION_FILTER in filter;
}

/**
 * Opens a session receiver on `entity` for the client's attach. Throws (the caller refuses the link) when the
 * entity and the receiver disagree about sessions, or when the named session is locked by someone else.
 */
export function openSessionLink(sender: Sender, entity: QueueEntity, owner: ClientConnection): SessionLink {
  const source = sender.remote.attach.source;
  const sessions = entity.sessions;
  if (!sessions) {
    throw new BrokerError(
      "NotAllowed",
      `It is not possible for an entity that does not require sessions to create a sessionful message receiver. Entity: '${entity.path}'.`,
    );
  }
  if (!asksForSession(source)) {
    throw new BrokerError(
      "NotAllowed",
      "It is not possible for an entity that requires sessions to create a non-sessionful message receiver.",
    );
  }
  const requested = source.filter[SESSION_FILTER];
  const link = new SessionLink(sender, entity, owner);
  const lock = sessions.lock(link, requested === null || requested === undefined ? null : String(requested));
  if (lock) {
    answer(sender, lock);
    return link;
  }
  // No session has messages yet: rhea replies to the attach on its next tick unless the link is un-opened
  // here; it is opened again (and the reply sent) once a session is locked or the wait times out.
  sender.state.local_open = false;
  sender.state.open_requests = 0;
  const timeout = Number(sender.remote.attach.properties?.[TIMEOUT]);
  sessions.waitForNext(link, timeout > 0 ? timeout : DEFAULT_ACCEPT_TIMEOUT_MS).then(
    (l) => {
      if (!sender.is_remote_open()) return sessions.release(link);
      answer(sender, l);
      sender.attach();
      entity.pump();
    },
    (e: BrokerError) => {
      if (!sender.is_remote_open()) return;
      // refusing: an attach with no source or target, then the detach with the error
      sender.local.attach.source = null;
      sender.local.attach.target = null;
      sender.attach();
      sender.close(e.toAmqp());
    },
  );
  return link;
}

function answer(sender: Sender, lock: SessionLock): void {
  const source = sender.remote.attach.source;
  sender.set_source({ ...source, filter: { ...source.filter, [SESSION_FILTER]: lock.sessionId } });
  sender.local.attach.properties = {
    ...sender.local.attach.properties,
    [LOCKED_UNTIL]: types.wrap_long(msToTicksBuffer(lock.lockedUntil)),
  };
}
