// What an entity keeps in memory about its messages, and how it reads the rest: every message's fields
// (meta-table.ts), the ready queue, a bounded cache of bodies (bodies.ts) with reading ahead of delivery,
// expiry without a timer per message, and recovery from the store after a restart. Locks are in locks.ts;
// what the messages mean (delivery, settlement, dead-lettering) is queue.ts's.
import {
  MessageState,
  type MessageMeta,
  type MessageStore,
  type MessageUpdate,
  type StoredMessage,
} from "../store/types.js";
import { BodyCache, entryCost, type Body } from "./bodies.js";
import { SeqQueue, type TimerQueue } from "./heap.js";
import type { Lock, LockTable } from "./locks.js";
import { MetaTable, type IndexedMeta } from "./meta-table.js";

/** Bytes of message bodies an entity keeps in memory (off the V8 heap, see bodies.ts). */
const BODY_CACHE_BYTES = 32 * 1024 * 1024;
/** Messages read ahead of delivery in one go when a body is not cached. */
const READ_AHEAD = 64;
/** Expired messages handled per turn of the event loop (the rest in the next): a mass expiry must not stall it. */
const EXPIRE_BATCH = 5000;

export class MessageIndex {
  readonly metas = new MetaTable();
  /** active messages not locked, smallest sequence number first (may hold ones that are gone: check on pop) */
  readonly ready = new SeqQueue();
  private readonly bodies = new BodyCache(this.metas, BODY_CACHE_BYTES);
  /** bytes rewritten in place (abandon or defer with properties) until the store has committed them */
  private readonly pinned = new Map<number, StoredMessage>();
  /** messages that expire in sequence order (MetaTable.add) before this one are all handled */
  private sweptTo = 0;
  private sweepArmed = false;

  constructor(
    private readonly path: string,
    private readonly store: MessageStore,
    private readonly locks: LockTable,
    /** the entity's timers: "schedule" and "expire" for single messages, "sweep" for the rest */
    private readonly timers: TimerQueue,
  ) {}

  get size(): number {
    return this.metas.size;
  }

  get(seq: number): IndexedMeta | undefined {
    return this.metas.get(seq);
  }

  has(seq: number): boolean {
    return this.metas.has(seq);
  }

  /**
   * Rebuilds the index from the store after a restart, a page of rows at a time. Locks that ran out while
   * the broker was down end with a delivery counted; messages then over `overLimit` are returned rather than
   * made available (the entity dead-letters them). Returns them and the last sequence number used.
   */
  recover(overLimit: (deliveryCount: number) => boolean): { lastSequence: number; overLimit: number[] } {
    const { lastSequence, messages } = this.store.recover(this.path);
    let last = lastSequence;
    const now = Date.now();
    const over: number[] = [];
    for (const m of messages) {
      if (m.seq > last) last = m.seq;
      const held = m.lockToken !== undefined && m.lockedUntil !== undefined && m.lockedUntil > now;
      if (m.lockToken && !held) {
        m.lockToken = undefined;
        m.lockedUntil = undefined;
        m.deliveryCount++;
        void this.store.update(this.path, m);
      }
      this.track(m);
      if (held) this.locks.add(m.seq, m.lockToken!, m.lockedUntil!, true);
      else if (m.state === MessageState.Active && overLimit(m.deliveryCount)) over.push(m.seq);
      else this.makeAvailable(m);
    }
    return { lastSequence: last, overLimit: over };
  }

  /** Adds a message (or replaces it), with its expiry; `body` when its bytes may be worth caching (just sent). */
  track(m: MessageMeta, body?: Body): void {
    if (this.metas.add(m)) this.armSweep(m.expiresAt!);
    else if (m.expiresAt !== undefined) this.timers.add(m.expiresAt, m.seq, "expire");
    if (body) this.bodies.admit(m.seq, body);
  }

  /** Queues an active message for delivery, or times a scheduled one. */
  makeAvailable(m: Pick<MessageMeta, "seq" | "state" | "scheduledAt">): void {
    if (m.state === MessageState.Active) this.ready.push(m.seq);
    else if (m.state === MessageState.Scheduled) this.timers.add(m.scheduledAt ?? 0, m.seq, "schedule");
  }

  /** Drops a message and its lock. */
  forget(seq: number): void {
    this.bodies.delete(seq);
    this.metas.remove(seq);
    const lock = this.locks.ofSeq(seq);
    if (lock) this.locks.delete(lock);
  }

  /** New bytes for a message (properties modified): delivery must see them before the store commits them. */
  rewrote(m: StoredMessage, written: Promise<void>): void {
    this.bodies.delete(m.seq);
    this.pinned.set(m.seq, m);
    this.metas.setSize(m.seq, m.size);
    const done = () => {
      if (this.pinned.get(m.seq) === m) this.pinned.delete(m.seq);
    };
    written.then(done, done);
  }

  /**
   * A message's bytes: from the cache, else from the store. On the delivery path (`readAhead`) a miss also
   * reads the next active messages in one go, as delivery goes on in sequence order.
   */
  body(seq: number, readAhead = false): Body | undefined {
    const cached = this.pinned.get(seq) ?? this.bodies.get(seq);
    if (cached) return cached;
    if (!readAhead) return this.store.load(this.path, seq);
    const seqs = [seq];
    // only as many as the cache has room for (what it cannot keep would be read again), and not far past
    // messages in flight (a redelivered message can be far behind the others)
    let room = this.bodies.room();
    let looked = 0;
    for (
      let s = this.metas.nextActive(seq + 1);
      s >= 0 && seqs.length < READ_AHEAD && looked++ < 4 * READ_AHEAD;
      s = this.metas.nextActive(s + 1)
    ) {
      if (this.locks.ofSeq(s) || this.bodies.has(s) || this.pinned.has(s)) continue;
      room -= entryCost(this.metas.bytes(s));
      if (room < 0) break;
      seqs.push(s);
    }
    if (seqs.length === 1) return this.store.load(this.path, seq);
    let found: Body | undefined;
    for (const m of this.store.loadMany(this.path, seqs)) {
      if (m.seq === seq) found = m;
      else this.bodies.offer(m.seq, m);
    }
    return found;
  }

  /**
   * The whole message as it is now (fields, lock, bytes and id) to be rewritten or moved: read from the store,
   * its own copy, not a view of the cache.
   */
  read(seq: number): StoredMessage | undefined {
    const meta = this.metas.get(seq);
    const body = meta && (this.pinned.get(seq) ?? this.store.load(this.path, seq));
    return body && withBody(meta!, this.locks.ofSeq(seq), body);
  }

  /** Messages from a sequence number on, in order (of one session, if given), their bytes read together. */
  peek(fromSeq: number, count: number, sessionId?: string): StoredMessage[] {
    const seqs: number[] = [];
    for (let s = this.metas.next(fromSeq); s >= 0 && seqs.length < count; s = this.metas.next(s + 1)) {
      if (sessionId === undefined || this.metas.get(s)!.sessionId === sessionId) seqs.push(s);
    }
    const missing = seqs.filter((s) => !this.pinned.has(s) && !this.bodies.has(s));
    const loaded = new Map(missing.length ? this.store.loadMany(this.path, missing).map((m) => [m.seq, m]) : []);
    const out: StoredMessage[] = [];
    for (const s of seqs) {
      const body = this.pinned.get(s) ?? this.bodies.get(s) ?? loaded.get(s);
      if (body) out.push(withBody(this.metas.get(s)!, this.locks.ofSeq(s), body));
    }
    return out;
  }

  /** What the store keeps of a message's changing fields. */
  updateOf(seq: number): MessageUpdate {
    const m = this.metas.get(seq);
    const lock = this.locks.ofSeq(seq);
    return {
      seq,
      state: m?.state ?? MessageState.Active,
      scheduledAt: m?.scheduledAt,
      expiresAt: m?.expiresAt,
      deliveryCount: m?.deliveryCount ?? 0,
      lockToken: lock?.token,
      lockedUntil: lock?.until,
    };
  }

  /** The entity closes: its cached bodies go. */
  close(): void {
    this.bodies.clear();
  }

  /** Keeps one timer armed no later than the first expiry among messages that expire in sequence order. */
  private armSweep(at: number): void {
    if (this.sweepArmed) return;
    this.sweepArmed = true;
    this.timers.add(at, 0, "sweep");
  }

  /**
   * The "sweep" timer: hands the messages that expire in sequence order and are due to `expire`, oldest
   * first; from then on they are like messages with their own expiry timer (a locked one waits for its lock).
   */
  sweep(expire: (seq: number) => void): void {
    this.sweepArmed = false;
    const now = Date.now();
    let budget = EXPIRE_BATCH;
    for (let seq = this.metas.nextExpiring(this.sweptTo); seq >= 0; seq = this.metas.nextExpiring(seq + 1)) {
      const at = this.metas.expiresAt(seq)!;
      this.sweptTo = seq;
      if (at > now || budget-- === 0) return this.armSweep(Math.max(at, now));
      this.metas.clearMono(seq);
      expire(seq);
    }
  }
}

/**
 * The message as it is now: the index's fields, its lock, the stored bytes (messageId only when read from the
 * store; the bytes carry it anyway). Spelled out field by field, which is much cheaper than spreads.
 */
export function withBody(meta: IndexedMeta, lock: Lock | undefined, body: Body): StoredMessage {
  return {
    seq: meta.seq,
    enqueuedAt: body.enqueuedAt,
    state: meta.state,
    scheduledAt: meta.scheduledAt,
    expiresAt: meta.expiresAt,
    deliveryCount: meta.deliveryCount,
    lockToken: lock?.token,
    lockedUntil: lock?.until,
    sessionId: meta.sessionId,
    messageId: body.messageId,
    size: meta.size,
    annotations: body.annotations,
    bare: body.bare,
  };
}
