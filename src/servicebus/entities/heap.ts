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

/**
 * Sequence numbers popped smallest first, like a MinHeap. Most arrive in increasing order (new messages), so
 * those go to a plain FIFO and only the ones that come back out of order (abandoned, unlocked, scheduled,
 * moved) to a heap; pop takes the smaller head. Keeps delivery cheap however long the queue is.
 */
export class SeqQueue {
  private fifo: number[] = [];
  private head = 0;
  private readonly late = new MinHeap<number>((s) => s);

  get size(): number {
    return this.fifo.length - this.head + this.late.size;
  }

  push(seq: number): void {
    const n = this.fifo.length;
    if (n === this.head || seq >= this.fifo[n - 1]) this.fifo.push(seq);
    else this.late.push(seq);
  }

  pop(): number | undefined {
    const late = this.late.peek();
    if (this.head < this.fifo.length && (late === undefined || this.fifo[this.head] <= late)) {
      const seq = this.fifo[this.head++];
      if (this.head === this.fifo.length) {
        this.fifo = [];
        this.head = 0;
      } else if (this.head >= 4096 && this.head * 2 >= this.fifo.length) {
        this.fifo = this.fifo.slice(this.head);
        this.head = 0;
      }
      return seq;
    }
    return this.late.pop();
  }
}

type TimerKind = "lock" | "schedule" | "expire";
const KINDS: readonly TimerKind[] = ["lock", "schedule", "expire"];

/** Timers due at one millisecond, as parallel arrays of small numbers (nothing for the GC to trace). */
interface Due {
  seqs: number[];
  kinds: number[];
}

// setTimeout overflows past 2^31-1 ms; far timers are re-armed when that much time has passed.
const MAX_DELAY = 2_147_000_000;

/**
 * One setTimeout per entity, armed for the earliest due timer. Every peek-lock delivery adds a lock timer
 * that outlives most locks (settled long before they expire), so timers are grouped by due millisecond:
 * a delivery adds two array slots rather than an object that lives for the whole lock duration.
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
