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

type TimerKind = "lock" | "schedule" | "expire";
interface Timer {
  at: number;
  seq: number;
  kind: TimerKind;
}

// setTimeout overflows past 2^31-1 ms; far timers are re-armed when that much time has passed.
const MAX_DELAY = 2_147_000_000;

/** One setTimeout per entity, armed for the earliest due timer. */
export class TimerQueue {
  private readonly heap = new MinHeap<Timer>((t) => t.at);
  private handle?: NodeJS.Timeout;
  private armedAt = Infinity;

  constructor(private readonly fire: (seq: number, kind: TimerKind) => void) {}

  add(at: number, seq: number, kind: TimerKind): void {
    this.heap.push({ at, seq, kind });
    if (at < this.armedAt) this.arm();
  }

  private arm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    const next = this.heap.peek();
    if (!next) {
      this.armedAt = Infinity;
      return;
    }
    this.armedAt = next.at;
    const delay = Math.min(Math.max(0, next.at - Date.now()), MAX_DELAY);
    this.handle = setTimeout(() => this.run(), delay);
    this.handle.unref();
  }

  private run(): void {
    this.handle = undefined;
    this.armedAt = Infinity;
    const now = Date.now();
    while (this.heap.size && this.heap.peek()!.at <= now) {
      const t = this.heap.pop()!;
      this.fire(t.seq, t.kind);
    }
    this.arm();
  }

  stop(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.heap.clear();
    this.armedAt = Infinity;
  }
}
