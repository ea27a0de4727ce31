// What the broker decides with about every message of an entity (state, delivery count, size, expiry,
// schedule, session), as columns of typed arrays in segments sorted by sequence number: about 25 bytes a
// message and nothing for the GC to trace, where an object and a Map entry per message cost over 200 (a
// million queued messages took ~170 MB). Also keeps the tallies that the scaler reads on every change.
import { MessageState } from "../store/types.js";

/** What the index holds about a message. */
export interface IndexedMeta {
  seq: number;
  state: MessageState;
  deliveryCount: number;
  size: number;
  /** ms epoch; undefined = never */
  expiresAt?: number;
  scheduledAt?: number;
  sessionId?: string;
}

export interface Tallies {
  active: number;
  scheduled: number;
  deferred: number;
  size: number;
}

/** Slots of a full segment; a segment starts small and doubles up to this. */
const SEGMENT = 4096;
const MIN_SEGMENT = 64;

// the flags byte of a slot: 0 = empty (a removed message), else LIVE | state, and MONO
const LIVE = 0x80;
/** expires in sequence order after every other MONO message: the entity's sweep finds it, it has no timer */
const MONO = 0x40;
const STATE = 0x03;

/** Sorted slots [0, n), some of them empty; the numeric columns share one buffer. */
class Segment {
  readonly seqs: Float64Array;
  readonly expires: Float64Array; // NaN = never
  readonly counts: Uint32Array;
  readonly sizes: Uint32Array;
  readonly flags: Uint8Array;
  /** only in segments that hold scheduled messages (NaN = none) */
  scheduled?: Float64Array;
  /** where bodies.ts keeps a message's bytes, in segments that have any (NaN = not cached) */
  places?: Float64Array;
  /** only in segments that hold messages with a session id */
  sessions?: Array<string | undefined>;
  n = 0;
  live = 0;

  constructor(readonly cap: number) {
    const b = new ArrayBuffer(cap * 25);
    this.seqs = new Float64Array(b, 0, cap);
    this.expires = new Float64Array(b, cap * 8, cap);
    this.counts = new Uint32Array(b, cap * 16, cap);
    this.sizes = new Uint32Array(b, cap * 20, cap);
    this.flags = new Uint8Array(b, cap * 24, cap);
  }

  last(): number {
    return this.seqs[this.n - 1];
  }

  setScheduled(i: number, at: number | undefined): void {
    if (at === undefined && !this.scheduled) return;
    this.scheduled ??= new Float64Array(this.cap).fill(NaN);
    this.scheduled[i] = at ?? NaN;
  }

  setPlace(i: number, at: number): void {
    if (Number.isNaN(at) && !this.places) return;
    this.places ??= new Float64Array(this.cap).fill(NaN);
    this.places[i] = at;
  }

  setSession(i: number, id: string | undefined): void {
    if (id === undefined && !this.sessions) return;
    this.sessions ??= new Array(this.cap).fill(undefined);
    this.sessions[i] = id;
  }

  /** Appends the non-empty slots of `src` [from, to). */
  takeLive(src: Segment, from = 0, to = src.n): void {
    for (let i = from; i < to; i++) {
      if (!src.flags[i]) continue;
      copySlot(src, i, this, this.n++);
      this.live++;
    }
  }

  /** Moves the non-empty slots to the front, in order. */
  compact(): void {
    let j = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.flags[i]) continue;
      if (i !== j) copySlot(this, i, this, j);
      j++;
    }
    this.flags.fill(0, j, this.n);
    this.sessions?.fill(undefined, j, this.n);
    this.n = j;
  }

  /** Opens an empty slot at `i` (the segment has room). */
  shiftRight(i: number): void {
    const n = this.n;
    this.seqs.copyWithin(i + 1, i, n);
    this.expires.copyWithin(i + 1, i, n);
    this.counts.copyWithin(i + 1, i, n);
    this.sizes.copyWithin(i + 1, i, n);
    this.flags.copyWithin(i + 1, i, n);
    this.scheduled?.copyWithin(i + 1, i, n);
    this.places?.copyWithin(i + 1, i, n);
    if (this.sessions) for (let k = n; k > i; k--) this.sessions[k] = this.sessions[k - 1];
    this.flags[i] = 0;
    this.n++;
  }
}

function copySlot(src: Segment, i: number, dst: Segment, j: number): void {
  dst.seqs[j] = src.seqs[i];
  dst.expires[j] = src.expires[i];
  dst.counts[j] = src.counts[i];
  dst.sizes[j] = src.sizes[i];
  dst.flags[j] = src.flags[i];
  if (src.scheduled) dst.setScheduled(j, src.scheduled[i]);
  else if (dst.scheduled) dst.scheduled[j] = NaN;
  if (src.places) dst.setPlace(j, src.places[i]);
  else if (dst.places) dst.places[j] = NaN;
  if (src.sessions) dst.setSession(j, src.sessions[i]);
  else if (dst.sessions) dst.sessions[j] = undefined;
}

/** First slot of `s` whose seq is ≥ `seq` (n if none). */
function lowerBound(s: Segment, seq: number): number {
  let lo = 0;
  let hi = s.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.seqs[mid] < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function capFor(live: number): number {
  let cap = MIN_SEGMENT;
  while (cap < live && cap < SEGMENT) cap *= 2;
  return cap;
}

function repacked(sources: Segment[], cap: number): Segment {
  const s = new Segment(cap);
  for (const src of sources) s.takeLive(src);
  return s;
}

export class MetaTable {
  private segs: Segment[] = [];
  /** an emptied last segment, kept for the next appends (a near-empty queue would otherwise allocate one per burst) */
  private spare?: Segment;
  /** the segment of the slot found by the last find() */
  private at!: Segment;
  private count = 0;
  private monoSeq = -Infinity;
  private monoAt = -Infinity;
  /** kept as messages come, go and change state: the scaler reads counts on every change, so no scan */
  readonly tallies: Tallies = { active: 0, scheduled: 0, deferred: 0, size: 0 };

  /** Messages in the index. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds (or replaces) a message. True if it expires no earlier than every message added before it with a
   * lower sequence number: such messages expire in sequence order, so one sweep (see nextExpiring) replaces
   * a timer each. With one time to live for the queue that is every message.
   */
  add(m: IndexedMeta): boolean {
    if (this.find(m.seq) >= 0) this.remove(m.seq);
    const mono = m.expiresAt !== undefined && m.seq > this.monoSeq && m.expiresAt >= this.monoAt;
    if (mono) {
      this.monoSeq = m.seq;
      this.monoAt = m.expiresAt!;
    }
    const i = this.insert(m.seq);
    const s = this.at;
    s.seqs[i] = m.seq;
    s.expires[i] = m.expiresAt ?? NaN;
    s.counts[i] = m.deliveryCount;
    s.sizes[i] = m.size;
    s.flags[i] = LIVE | m.state | (mono ? MONO : 0);
    s.setScheduled(i, m.scheduledAt);
    s.setPlace(i, NaN);
    s.setSession(i, m.sessionId);
    s.live++;
    this.count++;
    this.tally(m.state, m.size, 1);
    return mono;
  }

  remove(seq: number): boolean {
    const i = this.find(seq);
    if (i < 0) return false;
    const s = this.at;
    this.tally(s.flags[i] & STATE, s.sizes[i], -1);
    s.flags[i] = 0;
    if (s.sessions) s.sessions[i] = undefined;
    s.live--;
    this.count--;
    const k = this.segmentFor(seq);
    if (s.live === 0) {
      this.segs.splice(k, 1);
      if (k === this.segs.length) this.spare = s;
    } else if (k < this.segs.length - 1 && s.n >= MIN_SEGMENT && s.live * 4 <= s.n) {
      // a sparse segment (messages removed out of order, or its front consumed): repack it, with its
      // neighbour if both fit in half a segment, so a few long-lived messages do not each hold a segment
      const prev = this.segs[k - 1];
      if (prev && prev.live + s.live <= SEGMENT / 2)
        this.segs.splice(k - 1, 2, repacked([prev, s], capFor(prev.live + s.live)));
      else this.segs[k] = repacked([s], capFor(s.live));
    }
    return true;
  }

  has(seq: number): boolean {
    return this.find(seq) >= 0;
  }

  get(seq: number): IndexedMeta | undefined {
    const i = this.find(seq);
    if (i < 0) return undefined;
    const s = this.at;
    const expires = s.expires[i];
    const scheduled = s.scheduled?.[i];
    return {
      seq,
      state: s.flags[i] & STATE,
      deliveryCount: s.counts[i],
      size: s.sizes[i],
      expiresAt: Number.isNaN(expires) ? undefined : expires,
      scheduledAt: scheduled === undefined || Number.isNaN(scheduled) ? undefined : scheduled,
      sessionId: s.sessions?.[i],
    };
  }

  /** A message's size in bytes (0 if not in the table). */
  bytes(seq: number): number {
    const i = this.find(seq);
    return i < 0 ? 0 : this.at.sizes[i];
  }

  deliveryCount(seq: number): number {
    const i = this.find(seq);
    return i < 0 ? 0 : this.at.counts[i];
  }

  expiresAt(seq: number): number | undefined {
    const i = this.find(seq);
    const t = i < 0 ? NaN : this.at.expires[i];
    return Number.isNaN(t) ? undefined : t;
  }

  setState(seq: number, state: MessageState): void {
    const i = this.find(seq);
    if (i < 0) return;
    const s = this.at;
    this.tally(s.flags[i] & STATE, s.sizes[i], -1);
    s.flags[i] = (s.flags[i] & ~STATE) | state;
    this.tally(state, s.sizes[i], 1);
  }

  setSize(seq: number, size: number): void {
    const i = this.find(seq);
    if (i < 0) return;
    const s = this.at;
    this.tallies.size += size - s.sizes[i];
    s.sizes[i] = size;
  }

  setDeliveryCount(seq: number, n: number): void {
    const i = this.find(seq);
    if (i >= 0) this.at.counts[i] = n;
  }

  setScheduledAt(seq: number, at: number | undefined): void {
    const i = this.find(seq);
    if (i >= 0) this.at.setScheduled(i, at);
  }

  /** Where bodies.ts keeps the message's bytes (NaN: not cached, or not in the table). */
  place(seq: number): number {
    const i = this.find(seq);
    return i < 0 ? NaN : (this.at.places?.[i] ?? NaN);
  }

  setPlace(seq: number, at: number): void {
    const i = this.find(seq);
    if (i >= 0) this.at.setPlace(i, at);
  }

  /** The message no longer expires in sequence order (it got a timer of its own). */
  clearMono(seq: number): void {
    const i = this.find(seq);
    if (i >= 0) this.at.flags[i] &= ~MONO;
  }

  /** The first message with a sequence number ≥ `seq` (-1: none). */
  next(seq: number): number {
    return this.scan(seq, LIVE, LIVE);
  }

  /** The first active message from `seq` on (-1: none). */
  nextActive(seq: number): number {
    return this.scan(seq, LIVE | STATE, LIVE | MessageState.Active);
  }

  /** The first message from `seq` on that expires in sequence order (see add); -1: none. */
  nextExpiring(seq: number): number {
    return this.scan(seq, LIVE | MONO, LIVE | MONO);
  }

  private scan(seq: number, mask: number, value: number): number {
    const segs = this.segs;
    if (segs.length === 0) return -1;
    let k = this.segmentFor(seq);
    let i = lowerBound(segs[k], seq);
    for (; k < segs.length; k++, i = 0) {
      const s = segs[k];
      for (; i < s.n; i++) if ((s.flags[i] & mask) === value) return s.seqs[i];
    }
    return -1;
  }

  private tally(state: number, size: number, sign: 1 | -1): void {
    const t = this.tallies;
    t.size += sign * size;
    if (state === MessageState.Active) t.active += sign;
    else if (state === MessageState.Scheduled) t.scheduled += sign;
    else t.deferred += sign;
  }

  /** The segment that holds or would hold `seq`: the last whose first slot is ≤ seq (0 if none). */
  private segmentFor(seq: number): number {
    const segs = this.segs;
    let hi = segs.length - 1;
    if (hi <= 0 || segs[hi].seqs[0] <= seq) return Math.max(hi, 0);
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid].seqs[0] <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The slot of a message in the index (its segment in `at`), or -1. */
  private find(seq: number): number {
    if (this.segs.length === 0) return -1;
    const s = this.segs[this.segmentFor(seq)];
    const i = lowerBound(s, seq);
    if (i < s.n && s.seqs[i] === seq && s.flags[i]) {
      this.at = s;
      return i;
    }
    return -1;
  }

  /** An empty slot where `seq` (not in the index) belongs, its segment in `at`. */
  private insert(seq: number): number {
    const segs = this.segs;
    const k = segs.length - 1;
    if (k < 0 || seq > segs[k].last()) {
      // appending: new messages come in sequence order
      let s = segs[k];
      if (!s || s.n === s.cap) {
        if (s && s.live <= s.n / 2) s.compact();
        else if (s && s.cap < SEGMENT) s = segs[k] = repacked([s], s.cap * 2);
        else {
          s = this.spare ?? new Segment(MIN_SEGMENT);
          this.spare = undefined;
          s.n = s.live = 0;
          s.scheduled = s.places = s.sessions = undefined;
          segs.push(s);
        }
      }
      this.at = s;
      return s.n++;
    }
    // out of order (dead-lettered messages keep their sequence numbers)
    let j = this.segmentFor(seq);
    let s = segs[j];
    if (s.n === s.cap) {
      if (s.live < s.n) s.compact();
      else if (s.cap < SEGMENT) s = segs[j] = repacked([s], s.cap * 2);
      else {
        const a = new Segment(SEGMENT);
        const b = new Segment(SEGMENT);
        a.takeLive(s, 0, s.n >> 1);
        b.takeLive(s, s.n >> 1);
        segs.splice(j, 1, a, b);
        if (seq > a.last()) j++;
        s = segs[j];
      }
    }
    const i = lowerBound(s, seq);
    s.shiftRight(i);
    this.at = s;
    return i;
  }
}
