// Queue semantics: enqueue, peek-lock / receive-and-delete delivery, settlement, lock expiry, max delivery
// count and TTL dead-lettering, scheduling and deferral. One instance per queue and per dead-letter queue.
// The wire layer talks to it through Receiver and plain calls; the store keeps it durable.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { QueueProperties } from "../../config/model.js";
import { errors } from "../errors.js";
import { encodeClientAnnotations, withApplicationProperties, withMessageId, type ParsedMessage } from "../message/codec.js";
import { MessageState, metaOf, type MessageMeta, type MessageStore, type StoredMessage } from "../store/types.js";
import { SeqQueue, TimerQueue } from "./heap.js";
import { SessionSet } from "./sessions.js";

export type ReceiveMode = "peekLock" | "receiveAndDelete";

/** A consumer of messages: a receiver link, implemented by the wire layer. */
export interface Receiver {
  readonly mode: ReceiveMode;
  /** How many more messages it can take right now. */
  capacity(): number;
  deliver(message: StoredMessage): void;
}

export interface SettleOptions {
  propertiesToModify?: Record<string, unknown>;
}

export interface DeadLetterOptions extends SettleOptions {
  reason?: string;
  description?: string;
}

export interface EntityCounts {
  active: number;
  deadLetter: number;
  scheduled: number;
  deferred: number;
  total: number;
  sizeInBytes: number;
}

/** Where dead-lettered and forwarded messages go; provided by the namespace. */
export interface Router {
  forward(target: string, messages: StoredMessage[]): Promise<void>;
}

const HOT_BYTES = 32 * 1024 * 1024;
/**
 * Locks are written only if the message is still locked this long after delivery: most messages are
 * settled sooner, which saves a write per message. A crash inside this window redelivers the message
 * at once instead of at lock expiry (at-least-once either way); a clean shutdown writes them all.
 */
const LOCK_WRITE_DELAY_MS = 500;

export const DEAD_LETTER_SUFFIX = "/$DeadLetterQueue";

export class QueueEntity extends EventEmitter {
  private readonly metas = new Map<number, MessageMeta>();
  private readonly ready = new SeqQueue();
  private readonly locks = new Map<string, number>();
  private readonly timers = new TimerQueue((seq, kind) => this.onTimer(seq, kind));
  /** bodies of recent messages, so delivery right after a send needs no read */
  private readonly hot = new Map<number, StoredMessage>();
  private hotBytes = 0;
  private readonly receivers: Receiver[] = [];
  private nextReceiver = 0;
  private lastSeq = 0;
  private readonly recentIds = new Map<string, number>();
  private pumping = false;
  private unwrittenLocks = new Set<MessageMeta>();
  private lockWriter?: NodeJS.Timeout;
  private ignoredWrite?: Promise<void>;
  readonly deadLetter?: QueueEntity;
  /** session-aware delivery, for queues with requiresSession (not their dead-letter queues) */
  readonly sessions?: SessionSet;
  /** set when the queue is deleted at run time: links that still hold it get entity-not-found */
  deleted = false;

  constructor(
    readonly path: string,
    public props: QueueProperties,
    private readonly store: MessageStore,
    private readonly router: Router,
    readonly isDeadLetter = false,
  ) {
    super();
    if (!isDeadLetter) {
      this.deadLetter = new QueueEntity(path + DEAD_LETTER_SUFFIX, props, store, router, true);
    }
    if (props.requiresSession && !isDeadLetter) this.sessions = new SessionSet(this, store);
    this.recover();
  }

  private recover(): void {
    const { lastSequence, messages } = this.store.recover(this.path);
    this.lastSeq = lastSequence;
    const now = Date.now();
    for (const m of messages) {
      if (m.seq > this.lastSeq) this.lastSeq = m.seq;
      this.track(m);
      if (m.lockToken && m.lockedUntil !== undefined && m.lockedUntil > now) {
        // locked at shutdown: stays locked until its lock expires, then comes back with delivery count + 1
        this.locks.set(m.lockToken, m.seq);
        this.timers.add(m.lockedUntil, m.seq, "lock");
      } else if (m.lockToken) {
        m.lockToken = undefined;
        m.lockedUntil = undefined;
        m.deliveryCount++;
        void this.store.update(this.path, m);
        if (!this.overDeliveryLimit(m)) this.makeAvailable(m);
      } else {
        this.makeAvailable(m);
      }
      if (m.expiresAt !== undefined) this.timers.add(m.expiresAt, m.seq, "expire");
    }
    if (this.metas.size) setImmediate(() => this.sweepOverLimit());
  }

  private overDeliveryLimit(m: MessageMeta): boolean {
    return !this.isDeadLetter && m.deliveryCount >= this.props.maxDeliveryCount;
  }

  private sweepOverLimit(): void {
    for (const m of this.metas.values()) {
      if (!m.lockToken && m.state === MessageState.Active && this.overDeliveryLimit(m)) {
        void this.deadLetterMessage(m, maxDeliveryReason(this.props.maxDeliveryCount));
      }
    }
  }

  private makeAvailable(m: MessageMeta): void {
    if (m.state === MessageState.Active) this.ready.push(m.seq);
    else if (m.state === MessageState.Scheduled) this.timers.add(m.scheduledAt ?? 0, m.seq, "schedule");
  }

  // --- sending -----------------------------------------------------------------------------

  /** Builds stored messages for accepted input; assigns sequence numbers. */
  private build(input: ParsedMessage[], now: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const p of input) {
      if (this.isDuplicate(p.messageId, now)) continue;
      const ttl = Math.min(p.ttlMs ?? Infinity, this.props.defaultMessageTimeToLiveMs);
      const scheduled = p.scheduledEnqueueTime !== undefined && p.scheduledEnqueueTime > now;
      const annotations = encodeClientAnnotations(p.annotations);
      const messageId = p.messageId ?? randomUUID().replace(/-/g, "");
      const bare = p.messageId === undefined ? withMessageId(p.bare, messageId) : Buffer.from(p.bare);
      out.push({
        seq: ++this.lastSeq,
        enqueuedAt: now,
        state: scheduled ? MessageState.Scheduled : MessageState.Active,
        scheduledAt: scheduled ? p.scheduledEnqueueTime : undefined,
        expiresAt: this.isDeadLetter || !Number.isFinite(ttl) ? undefined : (scheduled ? p.scheduledEnqueueTime! : now) + ttl,
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

  private isDuplicate(messageId: string | undefined, now: number): boolean {
    if (!this.props.requiresDuplicateDetection || messageId === undefined) return false;
    const window = this.props.duplicateDetectionHistoryTimeWindowMs;
    const seen = this.recentIds.get(messageId);
    if (seen !== undefined && now - seen < window) return true;
    this.recentIds.set(messageId, now);
    if (this.recentIds.size > 100_000) {
      for (const [id, at] of this.recentIds) if (now - at >= window) this.recentIds.delete(id);
    }
    return false;
  }

  /** Enqueues messages; resolves with their sequence numbers once they are durable. */
  async send(input: ParsedMessage[]): Promise<number[]> {
    if (this.deleted) throw errors.entityNotFound(`sb://${this.path}`);
    this.sessions?.checkSend(input);
    const limit = this.props.maxMessageSizeInKilobytes * 1024;
    for (const p of input) if (p.bare.length > limit) throw errors.sizeExceeded(p.bare.length, limit);
    if (this.props.forwardTo && !this.isDeadLetter) {
      return this.router.forward(this.props.forwardTo, this.build(input, Date.now())).then(() => []);
    }
    return this.add(this.build(input, Date.now()));
  }

  /** Adds already-built messages (from send, dead-lettering or forwarding) and makes them visible. */
  async add(messages: StoredMessage[], alreadyStored = false): Promise<number[]> {
    if (messages.length === 0) return [];
    if (!alreadyStored) await this.store.enqueue(this.path, messages);
    for (const m of messages) {
      if (m.seq > this.lastSeq) this.lastSeq = m.seq;
      const meta = metaOf(m);
      this.track(meta);
      this.cache(m);
      this.makeAvailable(meta);
      if (meta.expiresAt !== undefined) this.timers.add(meta.expiresAt, meta.seq, "expire");
    }
    this.changed();
    this.pump();
    return messages.map((m) => m.seq);
  }

  /** The next sequence number, for messages moved here from elsewhere. */
  allocateSequence(): number {
    return ++this.lastSeq;
  }

  private cache(m: StoredMessage): void {
    if (this.hotBytes + m.size > HOT_BYTES) return;
    this.hot.set(m.seq, m);
    this.hotBytes += m.size;
  }

  private uncache(seq: number): void {
    const m = this.hot.get(seq);
    if (m) {
      this.hot.delete(seq);
      this.hotBytes -= m.size;
    }
  }

  /** Full message (meta as it is now + bytes). */
  private read(meta: MessageMeta): StoredMessage | undefined {
    const body = this.hot.get(meta.seq) ?? this.store.load(this.path, meta.seq);
    if (!body) return undefined;
    return withBody(meta, body);
  }

  // --- delivery ----------------------------------------------------------------------------

  attach(r: Receiver): void {
    this.receivers.push(r);
    this.pump();
  }

  detach(r: Receiver): void {
    this.sessions?.release(r);
    const i = this.receivers.indexOf(r);
    if (i >= 0) this.receivers.splice(i, 1);
  }

  /** Call when a receiver gained capacity (credit). */
  pump(): void {
    if (this.sessions) return this.sessions.pump(this.ready);
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.ready.size > 0) {
        const r = this.pickReceiver();
        if (!r) break;
        const msg = this.takeReady(this.ready.pop()!, r.mode);
        if (msg) r.deliver(msg);
      }
    } finally {
      this.pumping = false;
    }
  }

  private pickReceiver(): Receiver | undefined {
    const n = this.receivers.length;
    for (let i = 0; i < n; i++) {
      const r = this.receivers[(this.nextReceiver + i) % n];
      if (r.capacity() > 0) {
        this.nextReceiver = (this.nextReceiver + i + 1) % n;
        return r;
      }
    }
    return undefined;
  }

  /** Locks (peek-lock) or removes (receive-and-delete) a message being handed to a receiver. */
  private takeForDelivery(meta: MessageMeta, mode: ReceiveMode, lockedUntil = Date.now() + this.props.lockDurationMs): StoredMessage | undefined {
    const body = this.hot.get(meta.seq) ?? this.store.load(this.path, meta.seq);
    if (!body) return undefined;
    if (mode === "receiveAndDelete") {
      const msg = withBody(meta, body);
      this.forget(meta);
      void this.store.remove(this.path, meta.seq);
      this.changed();
      return msg;
    }
    meta.lockToken = randomUUID();
    meta.lockedUntil = lockedUntil;
    this.locks.set(meta.lockToken, meta.seq);
    this.timers.add(meta.lockedUntil, meta.seq, "lock");
    this.unwrittenLocks.add(meta);
    this.lockWriter ??= setTimeout(() => this.writeLocks(), LOCK_WRITE_DELAY_MS).unref();
    return withBody(meta, body);
  }

  private writeLocks(): void {
    this.lockWriter = undefined;
    const metas = this.unwrittenLocks;
    this.unwrittenLocks = new Set();
    for (const meta of metas) {
      if (meta.lockToken && this.metas.get(meta.seq) === meta) void this.store.update(this.path, meta);
    }
  }

  private forget(meta: MessageMeta): void {
    if (this.metas.delete(meta.seq)) this.tally(meta, -1);
    this.unwrittenLocks.delete(meta);
    if (meta.lockToken) this.locks.delete(meta.lockToken);
    this.uncache(meta.seq);
  }

  // --- settlement --------------------------------------------------------------------------

  private locked(lockToken: string): MessageMeta {
    const meta = this.heldLock(lockToken);
    if (!meta) throw errors.lockLost();
    return meta;
  }

  /** The message this lock token still holds, if the lock is current. */
  private heldLock(lockToken: string): MessageMeta | undefined {
    const seq = this.locks.get(lockToken);
    const meta = seq === undefined ? undefined : this.metas.get(seq);
    if (!meta || meta.lockToken !== lockToken || (meta.lockedUntil ?? 0) <= Date.now()) return undefined;
    return meta;
  }

  /** The meta of a message in this entity (sessions.ts routes messages by it). */
  messageMeta(seq: number): MessageMeta | undefined {
    return this.metas.get(seq);
  }

  /**
   * Locks (or removes) ready message `seq` for a receiver, optionally until `lockedUntil` (session delivery);
   * undefined if it is no longer deliverable.
   */
  takeReady(seq: number, mode: ReceiveMode, lockedUntil?: number): StoredMessage | undefined {
    const meta = this.metas.get(seq);
    if (!meta || meta.state !== MessageState.Active || meta.lockToken) return undefined;
    if (meta.expiresAt !== undefined && meta.expiresAt <= Date.now()) {
      this.expire(meta);
      return undefined;
    }
    return this.takeForDelivery(meta, mode, lockedUntil);
  }

  /** Gives a locked message back without counting a delivery (a released session; the AMQP released outcome). */
  async release(lockToken: string): Promise<void> {
    const meta = this.heldLock(lockToken);
    if (meta) await this.unlock(meta, undefined, false);
  }

  hasLock(lockToken: string): boolean {
    return this.locks.has(lockToken);
  }

  async complete(lockToken: string): Promise<void> {
    const meta = this.locked(lockToken);
    this.forget(meta);
    this.changed();
    await this.store.remove(this.path, meta.seq);
  }

  /**
   * complete() for a message whose settlement nobody waits on (the client settled its delivery first, so no
   * outcome goes back): the same state change and write, without an error for a lost lock or a promise.
   */
  completeSettled(lockToken: string): void {
    const meta = this.heldLock(lockToken);
    if (!meta) return;
    this.forget(meta);
    this.changed();
    const written = this.store.remove(this.path, meta.seq);
    if (written !== this.ignoredWrite) {
      // one handler per group commit: a failed commit has nobody to tell here
      this.ignoredWrite = written;
      written.catch(() => {});
    }
  }

  async abandon(lockToken: string, opts: SettleOptions = {}): Promise<void> {
    const meta = this.locked(lockToken);
    await this.unlock(meta, opts.propertiesToModify);
  }

  async defer(lockToken: string, opts: SettleOptions = {}): Promise<void> {
    const meta = this.locked(lockToken);
    this.locks.delete(lockToken);
    meta.lockToken = undefined;
    meta.lockedUntil = undefined;
    this.retally(meta, () => (meta.state = MessageState.Deferred));
    await this.persist(meta, opts.propertiesToModify);
    this.changed();
  }

  async deadLetterLocked(lockToken: string, opts: DeadLetterOptions = {}): Promise<void> {
    const meta = this.locked(lockToken);
    const props: Record<string, unknown> = { ...opts.propertiesToModify };
    if (opts.reason !== undefined) props.DeadLetterReason = opts.reason;
    if (opts.description !== undefined) props.DeadLetterErrorDescription = opts.description;
    await this.deadLetterMessage(meta, props);
  }

  async renewLock(lockToken: string, until = Date.now() + this.props.lockDurationMs): Promise<number> {
    const meta = this.locked(lockToken);
    meta.lockedUntil = until;
    this.timers.add(meta.lockedUntil, meta.seq, "lock");
    await this.store.update(this.path, meta);
    return meta.lockedUntil;
  }

  /** Abandon and lock expiry: the message becomes available again with delivery count + 1. */
  private async unlock(meta: MessageMeta, propertiesToModify?: Record<string, unknown>, countDelivery = true): Promise<void> {
    if (meta.lockToken) this.locks.delete(meta.lockToken);
    meta.lockToken = undefined;
    meta.lockedUntil = undefined;
    if (countDelivery) meta.deliveryCount++;
    if (countDelivery && this.overDeliveryLimit(meta)) {
      await this.deadLetterMessage(meta, { ...propertiesToModify, ...maxDeliveryReason(this.props.maxDeliveryCount) });
      return;
    }
    const done = this.persist(meta, propertiesToModify);
    this.ready.push(meta.seq);
    this.changed();
    this.pump();
    await done;
  }

  private async persist(meta: MessageMeta, propertiesToModify?: Record<string, unknown>): Promise<void> {
    if (!propertiesToModify || Object.keys(propertiesToModify).length === 0) {
      return this.store.update(this.path, meta);
    }
    const msg = this.read(meta);
    if (!msg) return;
    const rewritten = { ...msg, bare: withApplicationProperties(msg.bare, propertiesToModify) };
    rewritten.size = rewritten.bare.length + rewritten.annotations.length;
    if (this.hot.has(meta.seq)) {
      this.uncache(meta.seq);
      this.cache(rewritten);
    }
    this.retally(meta, () => (meta.size = rewritten.size));
    return this.store.rewrite(this.path, rewritten);
  }

  /** Moves a message to the dead-letter queue (or where ForwardDeadLetteredMessagesTo points). */
  private async deadLetterMessage(meta: MessageMeta, props: Record<string, unknown>): Promise<void> {
    const msg = this.read(meta);
    this.forget(meta);
    this.changed();
    if (!msg) return;
    if (this.isDeadLetter) {
      // messages in a dead-letter queue are not dead-lettered again; they just stay
      await this.add([{ ...msg, bare: withApplicationProperties(msg.bare, props) }], false);
      return;
    }
    const moved: StoredMessage = {
      ...msg,
      bare: withApplicationProperties(msg.bare, props),
      state: MessageState.Active,
      lockToken: undefined,
      lockedUntil: undefined,
      expiresAt: undefined,
      scheduledAt: undefined,
    };
    moved.size = moved.bare.length + moved.annotations.length;
    const forwardTo = this.props.forwardDeadLetteredMessagesTo;
    if (forwardTo) {
      await this.store.remove(this.path, meta.seq);
      await this.router.forward(forwardTo, [{ ...moved, deliveryCount: 0 }]);
      return;
    }
    // dead-lettered messages keep their sequence number
    await this.store.move(this.path, meta.seq, this.deadLetter!.path, moved);
    await this.deadLetter!.add([moved], true);
  }

  private expire(meta: MessageMeta): void {
    if (this.props.deadLetteringOnMessageExpiration && !this.isDeadLetter) {
      void this.deadLetterMessage(meta, {
        DeadLetterReason: "TTLExpiredException",
        DeadLetterErrorDescription: "The message expired and was dead lettered.",
      });
    } else {
      this.forget(meta);
      void this.store.remove(this.path, meta.seq);
      this.changed();
    }
  }

  private onTimer(seq: number, kind: "lock" | "schedule" | "expire"): void {
    const meta = this.metas.get(seq);
    if (!meta) return;
    const now = Date.now();
    if (kind === "lock") {
      if (meta.lockToken && meta.lockedUntil !== undefined && meta.lockedUntil <= now) void this.unlock(meta);
    } else if (kind === "schedule") {
      if (meta.state === MessageState.Scheduled && (meta.scheduledAt ?? 0) <= now) {
        this.retally(meta, () => (meta.state = MessageState.Active));
        meta.scheduledAt = undefined;
        void this.store.update(this.path, meta);
        this.ready.push(seq);
        this.changed();
        this.pump();
      }
    } else if (meta.expiresAt !== undefined && meta.expiresAt <= now && !meta.lockToken) {
      // locked messages expire when their lock is released (as in Service Bus)
      this.expire(meta);
    } else if (meta.lockToken && meta.expiresAt !== undefined) {
      this.timers.add(Math.max(meta.lockedUntil ?? now, now) + 1, seq, "expire");
    }
  }

  // --- management operations ---------------------------------------------------------------

  /** Messages from a sequence number on, in order, including locked, deferred and scheduled ones. */
  peek(fromSeq: number, count: number, sessionId?: string): StoredMessage[] {
    const inSession = (s: number) => sessionId === undefined || this.metas.get(s)!.sessionId === sessionId;
    const seqs = [...this.metas.keys()].filter((s) => s >= fromSeq && inSession(s)).sort((a, b) => a - b).slice(0, count);
    const out: StoredMessage[] = [];
    for (const s of seqs) {
      const m = this.read(this.metas.get(s)!);
      if (m) out.push(m);
    }
    return out;
  }

  /** Schedules messages; resolves with their sequence numbers. */
  async schedule(input: ParsedMessage[]): Promise<number[]> {
    return this.send(input);
  }

  async cancelScheduled(seqs: number[]): Promise<void> {
    for (const seq of seqs) {
      const meta = this.metas.get(seq);
      if (!meta || meta.state !== MessageState.Scheduled) continue;
      this.forget(meta);
      await this.store.remove(this.path, seq);
    }
    this.changed();
  }

  /** Receives deferred messages by sequence number (locking them in peek-lock mode). */
  receiveDeferred(seqs: number[], mode: ReceiveMode): StoredMessage[] {
    const metas = seqs.map((seq) => {
      const meta = this.metas.get(seq);
      if (!meta || meta.state !== MessageState.Deferred || meta.lockToken) throw errors.messageNotFound(seq);
      return meta;
    });
    const out: StoredMessage[] = [];
    for (const meta of metas) {
      const m = this.takeForDelivery(meta, mode);
      if (m) out.push(m);
    }
    return out;
  }

  /** Kept as messages come, go and change state: the scaler reads counts on every change, so no scan. */
  private readonly tallies = { active: 0, scheduled: 0, deferred: 0, size: 0 };

  private track(m: MessageMeta): void {
    const old = this.metas.get(m.seq);
    if (old) this.tally(old, -1);
    this.metas.set(m.seq, m);
    this.tally(m, 1);
  }

  /** Applies a change to a message's state or size, keeping the tallies right. */
  private retally(m: MessageMeta, change: () => void): void {
    const counted = this.metas.get(m.seq) === m;
    if (counted) this.tally(m, -1);
    change();
    if (counted) this.tally(m, 1);
  }

  private tally(m: MessageMeta, sign: 1 | -1): void {
    const t = this.tallies;
    t.size += sign * m.size;
    if (m.state === MessageState.Active) t.active += sign;
    else if (m.state === MessageState.Scheduled) t.scheduled += sign;
    else t.deferred += sign;
  }

  counts(): EntityCounts {
    const { active, scheduled, deferred, size } = this.tallies;
    const dl = this.deadLetter?.metas.size ?? 0;
    return { active, scheduled, deferred, deadLetter: dl, total: this.metas.size + dl, sizeInBytes: size };
  }

  private changed(): void {
    this.emit("change", this);
  }

  close(): void {
    if (this.lockWriter) clearTimeout(this.lockWriter);
    this.writeLocks();
    this.timers.stop();
    this.sessions?.close();
    this.deadLetter?.close();
    this.receivers.length = 0;
  }
}

/** The meta as it is now with the stored bytes; spelled out field by field, which is much cheaper than spreads. */
function withBody(meta: MessageMeta, body: StoredMessage): StoredMessage {
  return {
    seq: meta.seq,
    enqueuedAt: meta.enqueuedAt,
    state: meta.state,
    scheduledAt: meta.scheduledAt,
    expiresAt: meta.expiresAt,
    deliveryCount: meta.deliveryCount,
    lockToken: meta.lockToken,
    lockedUntil: meta.lockedUntil,
    sessionId: meta.sessionId,
    messageId: meta.messageId,
    size: meta.size,
    annotations: body.annotations,
    bare: body.bare,
  };
}

function maxDeliveryReason(max: number): Record<string, unknown> {
  return {
    DeadLetterReason: "MaxDeliveryCountExceeded",
    DeadLetterErrorDescription: `Message could not be consumed after ${max} delivery attempts.`,
  };
}
