// A bounded cache of message bodies (the bytes delivery sends), so that most deliveries need no read from the
// store: messages just sent, while there is room, and the next ones in line, read ahead of delivery
// (MessageIndex.body). The bytes are copied into 1 MB slabs off the V8 heap, and where each message's bytes are
// is a column of the meta table: a cached message costs its bytes and 32 more, and nothing for the GC to trace.
// (As objects and Buffers on the heap, each cached message cost ~350 bytes more, then twice that in RSS.)
// A slab is never written again once full: delivery hands out views of it, not copies, and a slab stays
// valid as long as a view of it lives. It leaves the cache once all its messages are gone, or when room is
// needed and it is mostly empty (its remaining messages are read from the store again when their turn comes).
import { NO_ANNOTATIONS, type StoredMessage } from "../store/types.js";

/** What delivery needs of a stored message besides the index's fields. */
export type Body = Pick<StoredMessage, "enqueuedAt" | "messageId" | "annotations" | "bare">;

/** Where a message's bytes are: implemented by MetaTable (NaN: not cached). */
export interface Places {
  place(seq: number): number;
  setPlace(seq: number, at: number): void;
}

const SLAB = 1 << 20;
/** Slab bytes of all entities together: each has its own budget, and a broker may have many entities. */
const ALL_ENTITIES = 128 * 1024 * 1024;
let allSlabs = 0;
/** a place is slab id × SPACE + offset (a message of up to 16 MB gets a slab of its own) */
const SPACE = 1 << 24;
/** per message: seq, enqueuedAt (float64), annotations and bare lengths (uint32) */
const HEADER = 24;

class Slab {
  readonly buf: Buffer;
  used = 0;
  /** bytes of the messages still cached here */
  live = 0;

  constructor(
    readonly id: number,
    size: number,
  ) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }
}

/** What caching a message of `size` bytes takes. */
export function entryCost(size: number): number {
  return size + HEADER;
}

export class BodyCache {
  private readonly slabs = new Map<number, Slab>();
  private current?: Slab;
  private nextId = 0;
  /** bytes of all slabs */
  private allocated = 0;

  /**
   * @param budget bytes of slabs it may hold
   * @param sentShare part of the budget that messages just sent may fill, so some room is always left for
   *   reading ahead of delivery when the queue is long
   */
  constructor(
    private readonly places: Places,
    private readonly budget: number,
    private readonly sentShare = 0.75,
  ) {}

  get(seq: number): Body | undefined {
    const at = this.places.place(seq);
    const buf = Number.isNaN(at) ? undefined : this.slabs.get(Math.floor(at / SPACE))?.buf;
    if (!buf) return undefined;
    const o = at % SPACE;
    const annotations = buf.readUInt32LE(o + 16);
    const bare = buf.readUInt32LE(o + 20);
    const start = o + HEADER;
    return {
      enqueuedAt: buf.readDoubleLE(o + 8),
      annotations: annotations ? buf.subarray(start, start + annotations) : NO_ANNOTATIONS,
      bare: buf.subarray(start + annotations, start + annotations + bare),
    };
  }

  has(seq: number): boolean {
    const at = this.places.place(seq);
    return !Number.isNaN(at) && this.slabs.has(Math.floor(at / SPACE));
  }

  /** A message just sent; kept if there is room for it. */
  admit(seq: number, body: Body): void {
    this.put(seq, body, this.budget * this.sentShare);
  }

  /** A body read ahead of delivery; kept if there is room for it. */
  offer(seq: number, body: Body): void {
    this.put(seq, body, this.budget);
  }

  /** Room left for reading ahead, in bytes. */
  room(): number {
    const c = this.current;
    return this.budget - this.allocated + (c ? c.buf.length - c.used : 0);
  }

  delete(seq: number): void {
    const at = this.places.place(seq);
    if (Number.isNaN(at)) return;
    this.places.setPlace(seq, NaN);
    const slab = this.slabs.get(Math.floor(at / SPACE));
    if (!slab) return; // cleared
    const o = at % SPACE;
    slab.live -= HEADER + slab.buf.readUInt32LE(o + 16) + slab.buf.readUInt32LE(o + 20);
    if (slab.live === 0 && slab !== this.current) this.drop(slab);
  }

  private put(seq: number, body: Body, limit: number): void {
    const size = HEADER + body.annotations.length + body.bare.length;
    if (size > SPACE) return;
    let slab = this.current;
    if (!slab || slab.used + size > slab.buf.length) {
      if (slab && slab.live === 0) this.drop(slab);
      const bytes = Math.max(SLAB, size);
      const over = Math.max(this.allocated + bytes - limit, allSlabs + bytes - ALL_ENTITIES);
      if (over > 0 && !this.reclaim(this.allocated - over)) return;
      slab = this.current = new Slab(this.nextId++, bytes);
      this.slabs.set(slab.id, slab);
      this.allocated += bytes;
      allSlabs += bytes;
    }
    const buf = slab.buf;
    const o = slab.used;
    buf.writeDoubleLE(seq, o);
    buf.writeDoubleLE(body.enqueuedAt, o + 8);
    buf.writeUInt32LE(body.annotations.length, o + 16);
    buf.writeUInt32LE(body.bare.length, o + 20);
    body.annotations.copy(buf, o + HEADER);
    body.bare.copy(buf, o + HEADER + body.annotations.length);
    slab.used += size;
    slab.live += size;
    this.places.setPlace(seq, slab.id * SPACE + o);
  }

  /**
   * Makes room (allocated ≤ `target`) by dropping the emptiest full slabs, as long as they are less than half
   * used: their messages are uncached and read from the store again if need be.
   */
  private reclaim(target: number): boolean {
    while (this.allocated > target) {
      let worst: Slab | undefined;
      for (const s of this.slabs.values()) if (s !== this.current && (!worst || s.live < worst.live)) worst = s;
      if (!worst || worst.live * 2 > worst.used) return false;
      for (let o = 0; o < worst.used;) {
        const seq = worst.buf.readDoubleLE(o);
        if (this.places.place(seq) === worst.id * SPACE + o) this.places.setPlace(seq, NaN);
        o += HEADER + worst.buf.readUInt32LE(o + 16) + worst.buf.readUInt32LE(o + 20);
      }
      this.drop(worst);
    }
    return true;
  }

  private drop(slab: Slab): void {
    this.slabs.delete(slab.id);
    this.allocated -= slab.buf.length;
    allSlabs -= slab.buf.length;
    if (slab === this.current) this.current = undefined;
  }

  /** Empties the cache (the entity closes); places left in the meta table then find nothing. */
  clear(): void {
    for (const slab of [...this.slabs.values()]) this.drop(slab);
  }
}
