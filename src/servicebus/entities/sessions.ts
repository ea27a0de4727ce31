// Sessions of a queue with requiresSession: each session's messages go only to the receiver that holds the
// session's lock, in order. A receiver locks a named session or the next one with messages (waiting for one
// up to a timeout); the lock expires unless renewed; state set by the holder is kept in the store. The wire
// layer (amqp/session-link.ts) maps attach filters and $management operations onto these calls.
import type { ParsedMessage } from "../message/codec.js";
import { BrokerError, errors } from "../errors.js";
import type { MessageStore, StoredMessage } from "../store/types.js";
import { SeqQueue } from "./heap.js";
import type { QueueProperties } from "../../model/config.js";
import type { IndexedMeta } from "./meta-table.js";
import type { ReceiveMode, Receiver } from "./types.js";

/** What sessions need of their queue (QueueEntity provides it); declared here so the queue may own a SessionSet. */
export interface SessionQueue {
  readonly path: string;
  readonly props: QueueProperties;
  pump(): void;
  messageMeta(seq: number): IndexedMeta | undefined;
  takeReady(seq: number, mode: ReceiveMode, lockedUntil?: number): StoredMessage | undefined;
  receiveDeferred(seqs: number[], mode: ReceiveMode): StoredMessage[];
  release(lockToken: string, countDelivery?: boolean): Promise<void>;
  hasLock(lockToken: string): boolean;
  renewLock(lockToken: string, until?: number): Promise<number>;
}

/** A receiver that holds a session (implemented by the wire layer). */
export interface SessionReceiver extends Receiver {
  /** who may use the session through $management too (the wire layer's connection) */
  readonly owner?: unknown;
  /** the lock expired while the receiver was attached (the service then detaches it) */
  sessionLost?(error: BrokerError): void;
}

export interface SessionLock {
  sessionId: string;
  lockedUntil: number;
}

interface Session {
  readonly id: string;
  /** sequence numbers of its messages that are ready for delivery */
  readonly ready: SeqQueue;
  holder?: SessionReceiver;
  lockedUntil: number;
  timer?: NodeJS.Timeout;
  /** lock tokens of messages delivered under the current lock */
  readonly tokens: Set<string>;
}

interface Waiter {
  receiver: SessionReceiver;
  resolve(lock: SessionLock): void;
  reject(e: BrokerError): void;
  timer: NodeJS.Timeout;
}

/** The service answers an accept-next-session without a timeout after 65 s (what Python 7.8.2 users see). */
export const DEFAULT_ACCEPT_TIMEOUT_MS = 65_000;

/**
 * Messages received under a session are held by the session's lock. Their own lock runs this much longer, so
 * that the session's expiry (which gives them back without counting a delivery) always comes first.
 */
const MESSAGE_LOCK_GRACE_MS = 1000;

export class SessionSet {
  private readonly sessions = new Map<string, Session>();
  private readonly held = new Map<SessionReceiver, Session>();
  private waiters: Waiter[] = [];
  private pumping = false;

  constructor(
    private readonly queue: SessionQueue,
    private readonly store: MessageStore,
  ) {}

  /** The service refuses messages without a session id on a session entity. */
  checkSend(input: ParsedMessage[]): void {
    if (input.some((m) => m.sessionId === undefined)) {
      throw new BrokerError(
        "NotAllowed",
        "The SessionId was not set on a message, and it cannot be sent to the entity. Entities that have session support enabled can only receive messages that have the SessionId set to a valid value.",
      );
    }
  }

  private session(id: string): Session {
    let s = this.sessions.get(id);
    if (!s) this.sessions.set(id, (s = { id, ready: new SeqQueue(), lockedUntil: 0, tokens: new Set() }));
    return s;
  }

  /** Forgets a session that has nothing left in memory (its state, if any, stays in the store). */
  private prune(s: Session): void {
    if (!s.holder && s.ready.size === 0 && s.tokens.size === 0) this.sessions.delete(s.id);
  }

  private isHeld(s: Session, now = Date.now()): boolean {
    return s.holder !== undefined && s.lockedUntil > now;
  }

  /**
   * The queue's pump for session entities: sorts the queue's ready messages into their sessions, delivers to
   * the receivers holding those sessions, then hands sessions with messages to receivers waiting for one.
   */
  pump(ready: { readonly size: number; pop(): number | undefined }): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (ready.size > 0) {
        const seq = ready.pop()!;
        const meta = this.queue.messageMeta(seq);
        if (meta) this.session(meta.sessionId ?? "").ready.push(seq);
      }
      for (const [r, s] of this.held) this.deliver(r, s);
      this.serveWaiters();
    } finally {
      this.pumping = false;
    }
  }

  private deliver(r: SessionReceiver, s: Session): void {
    while (s.ready.size > 0 && r.capacity() > 0) {
      const m = this.queue.takeReady(s.ready.pop()!, r.mode, s.lockedUntil + MESSAGE_LOCK_GRACE_MS);
      if (!m) continue;
      if (m.lockToken) {
        s.tokens.add(m.lockToken);
        m.lockedUntil = s.lockedUntil; // what the client sees: the session's lock
      }
      r.deliver(m);
    }
  }

  /**
   * Locks a session for `r`: the one named, or (null) the next unlocked one with messages. Undefined when
   * none is available now (see `waitForNext`); throws session-cannot-be-locked if another receiver holds it.
   */
  lock(r: SessionReceiver, requested: string | null): SessionLock | undefined {
    const now = Date.now();
    let s: Session | undefined;
    if (requested !== null) {
      s = this.session(requested);
      if (s.holder && s.holder !== r) {
        if (this.isHeld(s, now)) throw errors.sessionCannotBeLocked(requested);
        this.quietly(() => this.unhold(s!, true)); // its lock ran out; the timer just has not fired yet
      }
    } else {
      if (!this.pumping) this.queue.pump(); // sorts in messages not seen yet (after a restart, say)
      for (const c of this.sessions.values()) {
        if (c.ready.size > 0 && !this.isHeld(c, now)) {
          s = c;
          break;
        }
      }
      if (!s) return undefined;
      if (s.holder) this.quietly(() => this.unhold(s!));
    }
    this.hold(s, r);
    return { sessionId: s.id, lockedUntil: s.lockedUntil };
  }

  /** Waits until a session with messages can be locked for `r`, or rejects with the service's timeout error. */
  waitForNext(r: SessionReceiver, timeoutMs: number): Promise<SessionLock> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        receiver: r,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(errors.timeout(timeoutMs));
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.push(waiter);
    });
  }

  /** Receivers waiting for a session (tests and diagnostics). */
  get waiting(): number {
    return this.waiters.length;
  }

  private serveWaiters(): void {
    while (this.waiters.length) {
      const lock = this.lock(this.waiters[0].receiver, null);
      if (!lock) return;
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      w.resolve(lock);
    }
  }

  /** Runs `fn` without nested pumps (which could hand the session being locked to a waiter); callers pump after. */
  private quietly(fn: () => void): void {
    const was = this.pumping;
    this.pumping = true;
    try {
      fn();
    } finally {
      this.pumping = was;
    }
  }

  private hold(s: Session, r: SessionReceiver): void {
    const previous = this.held.get(r);
    if (previous && previous !== s) this.quietly(() => this.unhold(previous));
    s.holder = r;
    this.held.set(r, s);
    this.extend(s);
  }

  private extend(s: Session): void {
    s.lockedUntil = Date.now() + this.queue.props.lockDurationMs;
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => this.onTimer(s), s.lockedUntil - Date.now() + 1);
    s.timer.unref();
  }

  private onTimer(s: Session): void {
    s.timer = undefined;
    if (!s.holder) return;
    if (s.lockedUntil > Date.now()) {
      s.timer = setTimeout(() => this.onTimer(s), s.lockedUntil - Date.now() + 1);
      s.timer.unref();
      return;
    }
    const holder = s.holder;
    this.unhold(s, true);
    this.queue.pump();
    holder.sessionLost?.(errors.sessionLockLost());
  }

  /**
   * Ends `s`'s lock. Its locked messages come back: with a delivery counted when the lock expired
   * (`expired`), without one when the receiver closed or moved on (as the service does).
   */
  private unhold(s: Session, expired = false): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    if (s.holder) this.held.delete(s.holder);
    s.holder = undefined;
    s.lockedUntil = 0;
    const tokens = [...s.tokens];
    s.tokens.clear();
    for (const t of tokens) if (this.queue.hasLock(t)) void this.queue.release(t, expired).catch(() => {});
    this.prune(s);
  }

  /** A receiver went away: its session (if any) is unlocked, and it stops waiting for one. */
  release(r: Receiver): void {
    for (const w of this.waiters.filter((x) => x.receiver === r)) {
      clearTimeout(w.timer);
      w.reject(new BrokerError("NotAllowed", "The receiver was closed."));
    }
    this.waiters = this.waiters.filter((w) => w.receiver !== r);
    const s = this.held.get(r as SessionReceiver);
    if (!s) return;
    this.unhold(s);
    this.queue.pump();
  }

  /** The session, if `owner` (when given) holds its lock; otherwise the service's session-lock-lost error. */
  private heldSession(sessionId: string, owner?: unknown): Session {
    const s = this.sessions.get(sessionId);
    if (!s || !this.isHeld(s) || (owner !== undefined && s.holder!.owner !== owner)) throw errors.sessionLockLost();
    return s;
  }

  /** Renews the session's lock and the locks of the messages received under it; resolves with the new expiry. */
  async renew(sessionId: string, owner?: unknown): Promise<number> {
    const s = this.heldSession(sessionId, owner);
    this.extend(s);
    const until = s.lockedUntil + MESSAGE_LOCK_GRACE_MS;
    const renewals = [...s.tokens]
      .filter((t) => this.queue.hasLock(t))
      .map((t) => this.queue.renewLock(t, until).catch(() => 0));
    await Promise.all(renewals);
    return s.lockedUntil;
  }

  getState(sessionId: string, owner?: unknown): Buffer | undefined {
    this.heldSession(sessionId, owner);
    return this.store.sessionState(this.queue.path, sessionId);
  }

  async setState(sessionId: string, state: Buffer | undefined, owner?: unknown): Promise<void> {
    this.heldSession(sessionId, owner);
    await this.store.saveSessionState(this.queue.path, sessionId, state);
  }

  /** Checks that `owner` holds the session before a settlement through $management. */
  checkHeld(sessionId: string, owner?: unknown): void {
    this.heldSession(sessionId, owner);
  }

  /** Deferred messages of a held session, received by sequence number (their locks end with the session's). */
  receiveDeferred(sessionId: string, seqs: number[], mode: ReceiveMode, owner?: unknown): StoredMessage[] {
    const s = this.heldSession(sessionId, owner);
    for (const seq of seqs) {
      if (this.queue.messageMeta(seq)?.sessionId !== sessionId) throw errors.messageNotFound(seq);
    }
    const messages = this.queue.receiveDeferred(seqs, mode);
    const until = s.lockedUntil + MESSAGE_LOCK_GRACE_MS;
    for (const m of messages) {
      if (!m.lockToken) continue;
      s.tokens.add(m.lockToken);
      void this.queue.renewLock(m.lockToken, until).catch(() => {}); // held by the session from now on
      m.lockedUntil = s.lockedUntil;
    }
    return messages;
  }

  /** The queue closes (shutdown or deletion): receivers still waiting for a session get entity-not-found. */
  close(): void {
    for (const s of this.sessions.values()) if (s.timer) clearTimeout(s.timer);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(errors.entityNotFound(`sb://${this.queue.path}`));
    }
  }
}
