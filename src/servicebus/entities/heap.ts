// A binary min-heap ordered by a numeric key. Used for the ready queue (by sequence number) and for
// timers (by due time); stale entries are skipped by the caller rather than removed.

export class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly key: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    const k = this.key(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.key(a[p]) <= k) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const k = this.key(last);
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && this.key(a[r]) < this.key(a[l]) ? r : l;
        if (this.key(a[c]) >= k) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

/** Largest chunk of SeqQueue's FIFO; chunks start small (one per session on session queues) and double. */
const FIFO_CHUNK = 4096;

/**
 * Sequence numbers popped smallest first, like a MinHeap. Most arrive in increasing order (new messages), so
 * those go to a plain FIFO and only the ones that come back out of order (abandoned, unlocked, scheduled,
 * moved) to a heap; pop takes the smaller head. Keeps delivery cheap however long the queue is. The FIFO is a
 * list of Float64Array chunks: 8 bytes a message, nothing for the GC to trace, no copy as it grows.
 */
export class SeqQueue {
  private chunks: Float64Array[] = [];
  /** next slot to pop in chunks[0] */
  private head = 0;
  /** slots used in the last chunk */
  private tail = 0;
  private count = 0;
  private readonly late = new MinHeap<number>((s) => s);

  get size(): number {
    return this.count + this.late.size;
  }

  push(seq: number): void {
    const last = this.chunks[this.chunks.length - 1];
    if (this.count > 0 && seq < last[this.tail - 1]) {
      this.late.push(seq);
      return;
    }
    let c = last;
    if (!c || this.tail === c.length) {
      c = new Float64Array(c ? Math.min(FIFO_CHUNK, c.length * 2) : 16);
      this.chunks.push(c);
      this.tail = 0;
    }
    c[this.tail++] = seq;
    this.count++;
  }

  pop(): number | undefined {
    const late = this.late.peek();
    if (this.count > 0 && (late === undefined || this.chunks[0][this.head] <= late)) {
      const seq = this.chunks[0][this.head++];
      if (--this.count === 0) {
        // empty: the chunk is kept for the next messages (a queue kept near empty empties it all the time)
        this.head = this.tail = 0;
      } else if (this.head === this.chunks[0].length) {
        this.chunks.shift();
        this.head = 0;
      }
      return seq;
    }
    return this.late.pop();
  }
}

export type TimerKind = "lock" | "schedule" | "expire" | "sweep";
const KINDS: readonly TimerKind[] = ["lock", "schedule", "expire", "sweep"];

/** Timers due at one millisecond, as parallel arrays of small numbers (nothing for the GC to trace). */
interface Due {
  seqs: number[];
  kinds: number[];
}

// setTimeout overflows past 2^31-1 ms; far timers are re-armed when that much time has passed.
const MAX_DELAY = 2_147_000_000;

/**
 * One setTimeout per entity, armed for the earliest due timer: schedules, and the expiries and locks that do
 * not come due in the order they were made (those that do need no timer each: see message-index.ts and
 * locks.ts). Timers are grouped by due millisecond, so many due at once cost two array slots each.
 */
export class TimerQueue {
  private readonly times = new MinHeap<number>((t) => t);
  private readonly due = new Map<number, Due>();
  private handle?: NodeJS.Timeout;
  private armedAt = Infinity;

  constructor(private readonly fire: (seq: number, kind: TimerKind) => void) {}

  add(at: number, seq: number, kind: TimerKind): void {
    let d = this.due.get(at);
    if (!d) {
      d = { seqs: [], kinds: [] };
      this.due.set(at, d);
      this.times.push(at);
    }
    d.seqs.push(seq);
    d.kinds.push(KINDS.indexOf(kind));
    if (at < this.armedAt) this.arm();
  }

  private arm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    const next = this.times.peek();
    if (next === undefined) {
      this.armedAt = Infinity;
      return;
    }
    this.armedAt = next;
    const delay = Math.min(Math.max(0, next - Date.now()), MAX_DELAY);
    this.handle = setTimeout(() => this.run(), delay);
    this.handle.unref();
  }

  private run(): void {
    this.handle = undefined;
    this.armedAt = Infinity;
    const now = Date.now();
    while (this.times.size && this.times.peek()! <= now) {
      const at = this.times.pop()!;
      const d = this.due.get(at)!;
      this.due.delete(at);
      for (let i = 0; i < d.seqs.length; i++) this.fire(d.seqs[i], KINDS[d.kinds[i]]);
    }
    this.arm();
  }

  stop(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.times.clear();
    this.due.clear();
    this.armedAt = Infinity;
  }
}
