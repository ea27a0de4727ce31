// Duplicate detection's memory: the message ids an entity accepted within its
// duplicateDetectionHistoryTimeWindow. What it holds follows the send rate times the window and nothing
// else: ids are kept as 64-bit hashes in typed-array tables, one per slice of the window, and a slice is
// dropped whole once all of it is older than the window. That is ~30 bytes an id where a Map of the id
// strings took ~180 (a 10-minute window at 1 000 messages/s is 600 000 ids). Two different ids count as
// one only if their 64-bit hashes are equal: about once in 10^13 messages with a million ids in the window.

/** Slices a window is cut into: memory overshoots the window by at most one slice. */
const SLICES = 4;
/** A slice's table holds at most this share of its slots (linear probing stays short). */
const MAX_LOAD = 0.7;
const MIN_SLOTS = 1024;

/** Open addressing with linear probing; nothing is ever removed from it, it is dropped whole. */
class Slice {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  /** when the id was accepted (ms epoch); 0 = empty slot */
  readonly at: Float64Array;
  size = 0;
  newest = 0;

  constructor(
    readonly slots: number,
    readonly started: number,
  ) {
    this.hi = new Uint32Array(slots);
    this.lo = new Uint32Array(slots);
    this.at = new Float64Array(slots);
  }

  full(): boolean {
    return this.size >= this.slots * MAX_LOAD;
  }

  /** When the id with hash (h1, h2) was accepted, if this slice has it; else 0. */
  find(h1: number, h2: number): number {
    const mask = this.slots - 1;
    for (let i = h1 & mask; this.at[i] !== 0; i = (i + 1) & mask) {
      if (this.hi[i] === h1 && this.lo[i] === h2) return this.at[i];
    }
    return 0;
  }

  /** Records (or re-records, later) the id with hash (h1, h2). */
  put(h1: number, h2: number, now: number): void {
    const mask = this.slots - 1;
    let i = h1 & mask;
    while (this.at[i] !== 0 && !(this.hi[i] === h1 && this.lo[i] === h2)) i = (i + 1) & mask;
    if (this.at[i] === 0) this.size++;
    this.hi[i] = h1;
    this.lo[i] = h2;
    this.at[i] = now;
    this.newest = now;
  }
}

let H1 = 0;
let H2 = 0;

/** A 64-bit hash of `s` into H1, H2 (two multiply-xorshift lanes over its UTF-16 code units, mixed at the end). */
function hash(s: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  H1 = h1 >>> 0;
  H2 = h2 >>> 0;
}

export class RecentIds {
  /** oldest first; new ids go to the last */
  private slices: Slice[] = [];

  /** Ids held (some may be past the window, until their slice goes). */
  get size(): number {
    let n = 0;
    for (const s of this.slices) n += s.size;
    return n;
  }

  /** True if `id` was accepted less than `windowMs` before `now`; otherwise records it as accepted now. */
  check(id: string, now: number, windowMs: number): boolean {
    while (this.slices.length && now - this.slices[0].newest >= windowMs) this.slices.shift();
    hash(id);
    const h1 = H1;
    const h2 = H2;
    for (const s of this.slices) {
      const at = s.find(h1, h2);
      if (at !== 0 && now - at < windowMs) return true;
    }
    let last = this.slices[this.slices.length - 1];
    if (!last || last.full() || now - last.started >= windowMs / SLICES) {
      // sized for a few more ids than the last slice took: a steady rate fills it to 30-55%
      last = new Slice(slotsFor(last ? last.size * 1.25 : 0), now);
      this.slices.push(last);
    }
    last.put(h1, h2, now);
    return false;
  }
}

function slotsFor(n: number): number {
  let slots = MIN_SLOTS;
  while (slots * MAX_LOAD < n) slots *= 2;
  return slots;
}
