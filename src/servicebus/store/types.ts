// The semantic storage interface of the broker. Operations are named after what the broker does with a
// message; implementations decide how (SQLite with group commit, or memory). Every write resolves only
// once it is durable, so the broker can accept a send or settle a message after the promise resolves.

export const enum MessageState {
  Active = 0,
  Deferred = 1,
  Scheduled = 2,
}

/**
 * Everything about a stored message except its body (the entities keep these fields compactly:
 * entities/meta-table.ts).
 */
export interface MessageMeta {
  seq: number;
  enqueuedAt: number;
  state: MessageState;
  /** when a scheduled message becomes active (ms epoch) */
  scheduledAt?: number;
  /** ms epoch; undefined = never */
  expiresAt?: number;
  /** the wire delivery-count: failed deliveries so far (abandon, lock expiry) */
  deliveryCount: number;
  lockToken?: string;
  lockedUntil?: number;
  sessionId?: string;
  messageId?: string;
  size: number;
}

/** The fields of a message that change while it is queued (what `update` persists). */
export type MessageUpdate = Pick<
  MessageMeta,
  "seq" | "state" | "scheduledAt" | "expiresAt" | "deliveryCount" | "lockToken" | "lockedUntil"
>;

/** A message with the bytes that go back on the wire. */
export interface StoredMessage extends MessageMeta {
  /** the client's message annotations section, encoded (may be empty) */
  annotations: Buffer;
  /** properties + application-properties + body + footer, byte-exact */
  bare: Buffer;
}

/** What a store reads back of a message for delivery: its bytes and the fields that never change. */
export type StoredBody = Pick<StoredMessage, "seq" | "enqueuedAt" | "messageId" | "annotations" | "bare">;

export interface EntityRecord {
  /** e.g. "sbemulatorns/orders" or "sbemulatorns/orders/$DeadLetterQueue" */
  path: string;
  /** JSON of the entity definition (properties), for entities created at run time */
  definition: string;
}

export interface RecoveredEntity {
  lastSequence: number;
  /** in sequence order; read a page at a time, so a long queue is never all in memory as objects at once */
  messages: Iterable<MessageMeta>;
}

export interface MessageStore {
  /** Entity definitions created at run time (those from the config file are applied again at start). */
  listEntities(): EntityRecord[];
  saveEntity(record: EntityRecord): Promise<void>;
  /** Deletes the entity, all its messages and session states. */
  deleteEntity(path: string): Promise<void>;

  /** Everything the broker needs to rebuild an entity's in-memory index after a restart. */
  recover(path: string): RecoveredEntity;
  /** The bytes of a stored message and what never changes about it (the entity's index has the rest). */
  load(path: string, seq: number): StoredBody | undefined;
  /** load() for several messages at once (reading ahead of delivery); those not found are left out, in any order. */
  loadMany(path: string, seqs: number[]): StoredBody[];

  /** Adds messages (their seq already assigned) and records the entity's last sequence number. */
  enqueue(path: string, messages: StoredMessage[]): Promise<void>;
  /** Persists a changed lock, delivery count or state of a message. */
  update(path: string, meta: MessageUpdate): Promise<void>;
  /** Persists changed bytes (properties modified on abandon/defer) together with the meta. */
  rewrite(path: string, message: StoredMessage): Promise<void>;
  /** Settles a message for good (complete, receive-and-delete, expiry without dead-lettering). */
  remove(path: string, seq: number): Promise<void>;
  /** Atomically removes a message from one entity and adds it to another (dead-letter, forward). */
  move(from: string, seq: number, to: string, message: StoredMessage): Promise<void>;

  /** A session's state (set-session-state on a session queue); undefined = none. */
  sessionState(path: string, sessionId: string): Buffer | undefined;
  /** Sets (or, with undefined, clears) a session's state. */
  saveSessionState(path: string, sessionId: string, state: Buffer | undefined): Promise<void>;

  /** Resolves once every write issued so far is durable. */
  flush(): Promise<void>;
  close(): void;
}

/** The metadata fields of a message (a stored message without its bytes, or a copy of a meta). */
export function metaOf(m: MessageMeta): MessageMeta {
  return {
    seq: m.seq,
    enqueuedAt: m.enqueuedAt,
    state: m.state,
    scheduledAt: m.scheduledAt,
    expiresAt: m.expiresAt,
    deliveryCount: m.deliveryCount,
    lockToken: m.lockToken,
    lockedUntil: m.lockedUntil,
    sessionId: m.sessionId,
    messageId: m.messageId,
    size: m.size,
  };
}

/** The empty annotations section most messages have: one shared Buffer instead of one per message. */
export const NO_ANNOTATIONS: Buffer = Buffer.alloc(0);
