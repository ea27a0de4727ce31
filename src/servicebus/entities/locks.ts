// The peek-lock table of an entity: which message each lock token holds and until when, lock expiry, and
// the delayed writes of locks to the store. It holds only current locks: settling a message drops its lock
// and everything about it at once, so its size follows the messages in flight, not the delivery rate.
import type { TimerQueue } from "./heap.js";

export interface Lock {
  readonly seq: number;
  readonly token: string;
  until: number;
}

export interface LockHooks {
  /** the lock ran out (it is still in the table; the entity unlocks the message) */
  expired(lock: Lock): void;
  /** persist the lock (the message is still locked) */
  write(lock: Lock): void;
  /** for locks that expire before locks given out earlier (see schedule) */
  timers: TimerQueue;
}

/**
 * Locks are written only if the message is still locked this long after delivery: most messages are
 * settled sooner, which saves a write per message. A crash inside this window redelivers the message
 * at once instead of at lock expiry (at-least-once either way); a clean shutdown writes them all.
 */
const LOCK_WRITE_DELAY_MS = 500;

export class LockTable {
  private readonly byToken = new Map<string, Lock>();
  private readonly bySeq = new Map<number, Lock>();
  /**
   * Locks in the order they expire. With one lock duration per entity, each new lock expires last, so a
   * Set in insertion order is that order and one timer for its first lock serves them all; a lock that
   * would expire before the last one added (a session's, a custom renewal) takes a timer of its own.
   */
  private readonly ordered = new Set<Lock>();
  private orderedUntil = -Infinity;
  private timer?: NodeJS.Timeout;
  private armedAt = Infinity;
  private unwritten = new Set<Lock>();
  private writer?: NodeJS.Timeout;

  constructor(private readonly hooks: LockHooks) {}

  get size(): number {
    return this.byToken.size;
  }

  get(token: string): Lock | undefined {
    return this.byToken.get(token);
  }

  ofSeq(seq: number): Lock | undefined {
    return this.bySeq.get(seq);
  }

  /** Locks message `seq` until `until`; `written` if the store has it already (recovered locks). */
  add(seq: number, token: string, until: number, written = false): Lock {
    const lock: Lock = { seq, token, until };
    this.byToken.set(token, lock);
    this.bySeq.set(seq, lock);
    this.schedule(lock);
    if (!written) {
      this.unwritten.add(lock);
      this.writer ??= setTimeout(() => this.writeAll(), LOCK_WRITE_DELAY_MS).unref();
    }
    return lock;
  }

  renew(lock: Lock, until: number): void {
    this.ordered.delete(lock);
    lock.until = until;
    this.schedule(lock);
  }

  delete(lock: Lock): void {
    if (this.byToken.get(lock.token) !== lock) return;
    this.byToken.delete(lock.token);
    this.bySeq.delete(lock.seq);
    this.ordered.delete(lock);
    this.unwritten.delete(lock);
  }

  private schedule(lock: Lock): void {
    if (this.ordered.size === 0) this.orderedUntil = -Infinity;
    if (lock.until < this.orderedUntil) {
      this.hooks.timers.add(lock.until, lock.seq, "lock");
      return;
    }
    this.ordered.add(lock);
    this.orderedUntil = lock.until;
    if (lock.until < this.armedAt) this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    const first = this.ordered.values().next();
    if (first.done) return;
    this.armedAt = first.value.until;
    this.timer = setTimeout(() => this.expire(), Math.max(0, this.armedAt - Date.now())).unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = Date.now();
    for (const lock of this.ordered) {
      if (lock.until > now) break;
      this.ordered.delete(lock);
      this.hooks.expired(lock);
    }
    this.arm();
  }

  /** Writes the locks that are still held, now (the delay ran out, or the entity closes). */
  private writeAll(): void {
    if (this.writer) clearTimeout(this.writer);
    this.writer = undefined;
    const locks = this.unwritten;
    this.unwritten = new Set();
    for (const lock of locks) if (this.byToken.get(lock.token) === lock) this.hooks.write(lock);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writeAll();
  }
}
