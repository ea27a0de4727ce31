// Queue semantics: enqueue, peek-lock / receive-and-delete delivery, settlement, lock expiry, max delivery
// count and TTL dead-lettering (dead-lettering.ts moves the messages), scheduling and deferral. One instance
// per queue and per dead-letter queue.
// The wire layer talks to it through Receiver and plain calls; the store keeps it durable. What it keeps in
// memory is in message-index.ts (every message, compactly), bodies.ts (a bounded few bodies) and locks.ts.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { QueueProperties } from "../../model/config.js";
import { errors } from "../errors.js";
import { withApplicationProperties, type ParsedMessage } from "../message/codec.js";
import { MessageState, type MessageStore, type StoredMessage } from "../store/types.js";
import { TimerQueue, type SeqQueue, type TimerKind } from "./heap.js";
import { DeadLettering, maxDeliveryReason } from "./dead-lettering.js";
import { buildMessages } from "./incoming.js";
import { LockTable, type Lock } from "./locks.js";
import { MessageIndex, withBody } from "./message-index.js";
import type { IndexedMeta } from "./meta-table.js";
import { RecentIds } from "./recent-ids.js";
import { SessionSet } from "./sessions.js";
import type { DeadLetterOptions, EntityCounts, ReceiveMode, Receiver, Forwarder, SettleOptions } from "./types.js";

export type { DeadLetterOptions, EntityCounts, ReceiveMode, Receiver, Forwarder, SettleOptions } from "./types.js";

export const DEAD_LETTER_SUFFIX = "/$DeadLetterQueue";

export class QueueEntity extends EventEmitter {
  private readonly timers = new TimerQueue((seq, kind) => this.onTimer(seq, kind));
  private readonly locks = new LockTable({
    expired: (lock) => void this.unlock(lock.seq),
    write: (lock) => void this.store.update(this.path, this.index.updateOf(lock.seq)),
    timers: this.timers,
  });
  private readonly index: MessageIndex;
  private readonly ready: SeqQueue;
  private readonly receivers: Receiver[] = [];
  private nextReceiver = 0;
  private lastSeq = 0;
  private readonly recentIds = new RecentIds();
  private pumping = false;
  private ignoredWrite?: Promise<void>;
  private readonly dl: DeadLettering;
  readonly deadLetter?: QueueEntity;
  /** session-aware delivery, for queues with requiresSession (not their dead-letter queues) */
  readonly sessions?: SessionSet;
  /** set when the queue is deleted at run time: links that still hold it get entity-not-found */
  deleted = false;

  constructor(
    readonly path: string,
    public props: QueueProperties,
    private readonly store: MessageStore,
    protected readonly forwarder: Forwarder,
    readonly isDeadLetter = false,
  ) {
    super();
    this.index = new MessageIndex(path, store, this.locks, this.timers);
    this.ready = this.index.ready;
    this.dl = new DeadLettering(this, this.index, store, forwarder, () => this.changed());
    if (!isDeadLetter) {
      this.deadLetter = new QueueEntity(path + DEAD_LETTER_SUFFIX, props, store, forwarder, true);
    }
    if (props.requiresSession && !isDeadLetter) this.sessions = new SessionSet(this, store);
    this.recover();
  }

  private recover(): void {
    const { lastSequence, overLimit } = this.index.recover((n) => this.overDeliveryLimit(n));
    this.lastSeq = lastSequence;
    if (overLimit.length) setImmediate(() => this.deadLetterOverLimit(overLimit));
  }

  private overDeliveryLimit(deliveryCount: number): boolean {
    return this.dl.overLimit(deliveryCount);
  }

  /** Recovered messages whose delivery count reached the limit (while the broker was down, or a lower limit). */
  private deadLetterOverLimit(seqs: number[]): void {
    for (const seq of seqs) {
      const m = this.index.get(seq);
      if (!m || m.state !== MessageState.Active || this.locks.ofSeq(seq)) continue;
      if (this.overDeliveryLimit(m.deliveryCount))
        void this.dl.move(seq, maxDeliveryReason(this.props.maxDeliveryCount));
      else this.ready.push(seq); // the limit was raised since
    }
    this.pump();
  }

  // --- sending -----------------------------------------------------------------------------

  /** Builds stored messages for accepted input (duplicates left out); assigns sequence numbers. */
  private build(input: ParsedMessage[], now: number): StoredMessage[] {
    const isDuplicate = (id: string | undefined) =>
      this.props.requiresDuplicateDetection &&
      id !== undefined &&
      this.recentIds.check(id, now, this.props.duplicateDetectionHistoryTimeWindowMs);
    return buildMessages(
      input.filter((p) => !isDuplicate(p.messageId)),
      now,
      {
        defaultTtlMs: this.props.defaultMessageTimeToLiveMs,
        expires: !this.isDeadLetter,
        nextSeq: () => ++this.lastSeq,
      },
    );
  }

  /** Enqueues messages; resolves with their sequence numbers once they are durable. */
  async send(input: ParsedMessage[]): Promise<number[]> {
    if (this.deleted) throw errors.entityNotFound(`sb://${this.path}`);
    this.sessions?.checkSend(input);
    const limit = this.props.maxMessageSizeInKilobytes * 1024;
    for (const p of input) if (p.bare.length > limit) throw errors.sizeExceeded(p.bare.length, limit);
    if (this.props.forwardTo && !this.isDeadLetter) {
      return this.forwarder.forward(this.props.forwardTo, this.build(input, Date.now())).then(() => []);
    }
    return this.add(this.build(input, Date.now()));
  }

  /** Adds already-built messages (from send, dead-lettering or forwarding) and makes them visible. */
  async add(messages: StoredMessage[], alreadyStored = false): Promise<number[]> {
    if (messages.length === 0) return [];
    if (!alreadyStored) await this.store.enqueue(this.path, messages);
    for (const m of messages) {
      if (m.seq > this.lastSeq) this.lastSeq = m.seq;
      this.index.track(m, m);
      this.index.makeAvailable(m);
    }
    this.changed();
    this.pump();
    return messages.map((m) => m.seq);
  }

  /** The highest sequence number used so far. */
  get lastSequence(): number {
    return this.lastSeq;
  }

  /** The next sequence number, for messages moved here from elsewhere. */
  allocateSequence(): number {
    return ++this.lastSeq;
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
  private takeForDelivery(
    meta: IndexedMeta,
    mode: ReceiveMode,
    lockedUntil = Date.now() + this.props.lockDurationMs,
  ): StoredMessage | undefined {
    const body = this.index.body(meta.seq, true);
    if (!body) return undefined;
    if (mode === "receiveAndDelete") {
      const msg = withBody(meta, undefined, body);
      this.index.forget(meta.seq);
      void this.store.remove(this.path, meta.seq);
      this.changed();
      return msg;
    }
    return withBody(meta, this.locks.add(meta.seq, randomUUID(), lockedUntil), body);
  }

  // --- settlement --------------------------------------------------------------------------

  private locked(lockToken: string): Lock {
    const lock = this.heldLock(lockToken);
    if (!lock) throw errors.lockLost();
    return lock;
  }

  /** The lock, if it is current. */
  private heldLock(lockToken: string): Lock | undefined {
    const lock = this.locks.get(lockToken);
    if (!lock || lock.until <= Date.now() || !this.index.has(lock.seq)) return undefined;
    return lock;
  }

  /** What the index holds about a message in this entity (sessions.ts routes messages by it). */
  messageMeta(seq: number): IndexedMeta | undefined {
    return this.index.get(seq);
  }

  /**
   * Locks (or removes) ready message `seq` for a receiver, optionally until `lockedUntil` (session delivery);
   * undefined if it is no longer deliverable.
   */
  takeReady(seq: number, mode: ReceiveMode, lockedUntil?: number): StoredMessage | undefined {
    const meta = this.index.get(seq);
    if (!meta || meta.state !== MessageState.Active || this.locks.ofSeq(seq)) return undefined;
    if (meta.expiresAt !== undefined && meta.expiresAt <= Date.now()) {
      this.dl.expire(seq);
      return undefined;
    }
    return this.takeForDelivery(meta, mode, lockedUntil);
  }

  /**
   * Gives a locked message back: without counting a delivery (a closed session receiver; the AMQP released
   * outcome), or counting one (a session lock that expired).
   */
  async release(lockToken: string, countDelivery = false): Promise<void> {
    const lock = this.heldLock(lockToken);
    if (lock) await this.unlock(lock.seq, undefined, countDelivery);
  }

  hasLock(lockToken: string): boolean {
    return this.locks.get(lockToken) !== undefined;
  }

  async complete(lockToken: string): Promise<void> {
    const { seq } = this.locked(lockToken);
    this.index.forget(seq);
    this.changed();
    await this.store.remove(this.path, seq);
  }

  /**
   * complete() for a message whose settlement nobody waits on (the client settled its delivery first, so no
   * outcome goes back): the same state change and write, without an error for a lost lock or a promise.
   */
  completeSettled(lockToken: string): void {
    const lock = this.heldLock(lockToken);
    if (!lock) return;
    this.index.forget(lock.seq);
    this.changed();
    const written = this.store.remove(this.path, lock.seq);
    if (written !== this.ignoredWrite) {
      // one handler per group commit: a failed commit has nobody to tell here
      this.ignoredWrite = written;
      written.catch(() => {});
    }
  }

  async abandon(lockToken: string, opts: SettleOptions = {}): Promise<void> {
    const { seq } = this.locked(lockToken);
    await this.unlock(seq, opts.propertiesToModify);
  }

  /** Defers a locked message: it leaves the normal flow; the delivery that ended in defer counts. */
  async defer(lockToken: string, opts: SettleOptions = {}): Promise<void> {
    const lock = this.locked(lockToken);
    this.locks.delete(lock);
    this.index.metas.setDeliveryCount(lock.seq, this.index.metas.deliveryCount(lock.seq) + 1);
    this.index.metas.setState(lock.seq, MessageState.Deferred);
    await this.persist(lock.seq, opts.propertiesToModify);
    this.changed();
  }

  async deadLetterLocked(lockToken: string, opts: DeadLetterOptions = {}): Promise<void> {
    const { seq } = this.locked(lockToken);
    const props: Record<string, unknown> = { ...opts.propertiesToModify };
    if (opts.reason !== undefined) props.DeadLetterReason = opts.reason;
    if (opts.description !== undefined) props.DeadLetterErrorDescription = opts.description;
    await this.dl.move(seq, props);
  }

  async renewLock(lockToken: string, until = Date.now() + this.props.lockDurationMs): Promise<number> {
    const lock = this.locked(lockToken);
    this.locks.renew(lock, until);
    await this.store.update(this.path, this.index.updateOf(lock.seq));
    return until;
  }

  /** Abandon and lock expiry: the message becomes available again with delivery count + 1. */
  private async unlock(seq: number, propertiesToModify?: Record<string, unknown>, countDelivery = true): Promise<void> {
    const lock = this.locks.ofSeq(seq);
    if (lock) this.locks.delete(lock);
    if (!this.index.has(seq)) return;
    if (countDelivery) {
      const deliveryCount = this.index.metas.deliveryCount(seq) + 1;
      this.index.metas.setDeliveryCount(seq, deliveryCount);
      if (this.overDeliveryLimit(deliveryCount)) {
        await this.dl.move(seq, { ...propertiesToModify, ...maxDeliveryReason(this.props.maxDeliveryCount) });
        return;
      }
    }
    const done = this.persist(seq, propertiesToModify);
    this.ready.push(seq);
    this.changed();
    this.pump();
    await done;
  }

  private async persist(seq: number, propertiesToModify?: Record<string, unknown>): Promise<void> {
    if (!propertiesToModify || Object.keys(propertiesToModify).length === 0) {
      return this.store.update(this.path, this.index.updateOf(seq));
    }
    const msg = this.index.read(seq);
    if (!msg) return;
    const bare = withApplicationProperties(msg.bare, propertiesToModify);
    const rewritten: StoredMessage = { ...msg, bare, size: bare.length + msg.annotations.length };
    const written = this.store.rewrite(this.path, rewritten);
    this.index.rewrote(rewritten, written);
    return written;
  }

  private onTimer(seq: number, kind: TimerKind): void {
    if (kind === "sweep") return this.index.sweep((s) => this.onTimer(s, "expire"));
    const meta = this.index.get(seq);
    if (!meta) return;
    const now = Date.now();
    const lock = this.locks.ofSeq(seq);
    if (kind === "lock") {
      if (lock && lock.until <= now) void this.unlock(seq);
    } else if (kind === "schedule") {
      if (meta.state === MessageState.Scheduled && (meta.scheduledAt ?? 0) <= now) {
        // (scheduledAt stays: the message is enqueued at that time and reports the scheduled state)
        this.index.metas.setState(seq, MessageState.Active);
        void this.store.update(this.path, this.index.updateOf(seq));
        this.ready.push(seq);
        this.changed();
        this.pump();
      }
    } else if (meta.expiresAt !== undefined && meta.expiresAt <= now && !lock) {
      // locked messages expire when their lock is released (as in Service Bus)
      this.dl.expire(seq);
    } else if (lock && meta.expiresAt !== undefined) {
      this.timers.add(Math.max(lock.until, now) + 1, seq, "expire");
    }
  }

  // --- management operations ---------------------------------------------------------------

  /** Messages from a sequence number on, in order, including locked, deferred and scheduled ones. */
  peek(fromSeq: number, count: number, sessionId?: string): StoredMessage[] {
    return this.index.peek(fromSeq, count, sessionId);
  }

  /** Schedules messages; resolves with their sequence numbers. */
  async schedule(input: ParsedMessage[]): Promise<number[]> {
    return this.send(input);
  }

  async cancelScheduled(seqs: number[]): Promise<void> {
    for (const seq of seqs) {
      if (this.index.get(seq)?.state !== MessageState.Scheduled) continue;
      this.index.forget(seq);
      await this.store.remove(this.path, seq);
    }
    this.changed();
  }

  /** Receives deferred messages by sequence number (locking them in peek-lock mode). */
  receiveDeferred(seqs: number[], mode: ReceiveMode): StoredMessage[] {
    const metas = seqs.map((seq) => {
      const meta = this.index.get(seq);
      if (!meta || meta.state !== MessageState.Deferred || this.locks.ofSeq(seq)) throw errors.messageNotFound(seq);
      return meta;
    });
    const out: StoredMessage[] = [];
    for (const meta of metas) {
      const m = this.takeForDelivery(meta, mode);
      if (m) out.push(m);
    }
    return out;
  }

  counts(): EntityCounts {
    const { active, scheduled, deferred, size } = this.index.metas.tallies;
    const dl = this.deadLetter?.index.size ?? 0;
    return { active, scheduled, deferred, deadLetter: dl, total: this.index.size + dl, sizeInBytes: size };
  }

  private changed(): void {
    this.emit("change", this);
  }

  close(): void {
    this.locks.close();
    this.index.close();
    this.timers.stop();
    this.sessions?.close();
    this.deadLetter?.close();
    this.receivers.length = 0;
  }
}
