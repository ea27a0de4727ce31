// Seeded random AMQP values for the AMQP fuzzer: well-formed and not, strings with invalid UTF-8, and
// nesting of any depth. The methods are bound, so they can be destructured.

const BAD_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0x00],
];

export class Rng {
  private a: number;
  readonly badUtf8 = BAD_UTF8;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  /** mulberry32: small, seeded, good enough to pick inputs */
  next = (): number => {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  int = (n: number): number => Math.floor(this.next() * n);
  pick = <T>(xs: readonly T[]): T => xs[this.int(xs.length)];
  chance = (p: number): boolean => this.next() < p;
  bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => this.int(256)));

  /** Letters with invalid UTF-8 sequences among them. */
  randomText = (): Buffer => {
    const parts: number[] = [];
    for (let i = 0, n = this.int(12); i < n; i++)
      parts.push(...(this.chance(0.3) ? this.pick(BAD_UTF8) : [0x61 + this.int(26)]));
    return Buffer.from(parts);
  };

  /** A str8/sym8/vbin8 value (code -1: the length-prefixed bytes alone, as in an array). */
  str = (code: number, b: Buffer | string): Buffer => {
    const v = (Buffer.isBuffer(b) ? b : Buffer.from(b)).subarray(0, 255);
    return Buffer.concat([code < 0 ? Buffer.alloc(0) : Buffer.from([code]), Buffer.from([v.length]), v]);
  };

  /** A list32, map32 (code) of encoded items. */
  compound = (code: number, items: Buffer[]): Buffer => {
    const content = Buffer.concat(items);
    const head = Buffer.alloc(9);
    head[0] = code;
    head.writeUInt32BE(4 + content.length, 1);
    head.writeUInt32BE(items.length, 5);
    return Buffer.concat([head, content]);
  };

  /** Mostly valid values of every kind, now and then a stray constructor byte. */
  randomValue = (depth = 0): Buffer => {
    const { int, pick, chance, bytes, str } = this;
    if (depth > 3 || chance(0.6)) {
      switch (int(12)) {
        case 0:
          return Buffer.from([0x40]);
        case 1:
          return Buffer.from([pick([0x41, 0x42])]);
        case 2:
          return Buffer.from([0x52, int(256)]);
        case 3:
          return Buffer.concat([Buffer.from([0x70]), bytes(4)]);
        case 4:
          return Buffer.concat([Buffer.from([0x80]), bytes(8)]);
        case 5:
          return str(0xa1, this.randomText());
        case 6:
          return str(0xa3, this.randomText());
        case 7:
          return str(0xa0, bytes(int(40)));
        case 8:
          return Buffer.concat([Buffer.from([0x98]), bytes(16)]);
        case 9:
          return Buffer.from([int(256)]); // any constructor byte, whatever follows
        case 10:
          return Buffer.concat([Buffer.from([0x83]), bytes(8)]);
        default:
          return Buffer.from([0x60, int(256), int(256)]);
      }
    }
    const n = int(6);
    const items = Array.from({ length: n }, () => this.randomValue(depth + 1));
    switch (int(4)) {
      case 0:
        return this.compound(0xd0, items);
      case 1:
        return this.compound(0xd1, n % 2 ? items.slice(1) : items);
      case 2:
        return Buffer.concat([Buffer.from([0x00]), this.randomValue(depth + 1), this.randomValue(depth + 1)]);
      default: {
        // an array of one primitive type (null and booleans take no bytes)
        const code = pick([0x52, 0xa1, 0xa3, 0x40, 0x41, 0x70]);
        const el =
          code === 0x52
            ? Buffer.from([int(256)])
            : code === 0x70
              ? bytes(4)
              : code === 0xa1 || code === 0xa3
                ? str(-1, this.randomText())
                : Buffer.alloc(0);
        const body = Buffer.concat(Array.from({ length: n }, () => el));
        const head = Buffer.alloc(9);
        head[0] = 0xf0;
        head.writeUInt32BE(4 + 1 + body.length, 1);
        head.writeUInt32BE(n, 5);
        return Buffer.concat([head, Buffer.from([code]), body]);
      }
    }
  };

  /** `depth` levels of one kind of nesting: described values, lists, maps or arrays of arrays. */
  deep = (depth: number): Buffer => {
    const kind = this.int(4);
    if (kind === 0)
      return Buffer.concat([Buffer.alloc(depth * 2, 0).map((_, i) => (i % 2 ? 0x40 : 0x00)), Buffer.from([0x40])]);
    // each level: its head with a 4-byte size at `at` (counted from after it); then what the innermost holds
    const heads: Array<{ b: Buffer; at: number }> = [];
    for (let i = 0; i < depth; i++) {
      if (kind === 1) heads.push({ b: Buffer.from([0xd0, 0, 0, 0, 0, 0, 0, 0, 1]), at: 1 });
      else if (kind === 2) heads.push({ b: Buffer.from([0xd1, 0, 0, 0, 0, 0, 0, 0, 2, 0x40]), at: 1 });
      // an array's elements carry no constructor: an array of arrays repeats size, count and element type
      else
        heads.push(
          i === 0
            ? { b: Buffer.from([0xf0, 0, 0, 0, 0, 0, 0, 0, 1, 0xf0]), at: 1 }
            : { b: Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0xf0]), at: 0 },
        );
    }
    const inner = kind === 3 ? Buffer.from([0, 0, 0, 6, 0, 0, 0, 1, 0x52, 7]) : Buffer.from([0x40]);
    let rest = inner.length;
    for (let i = depth - 1; i >= 0; i--) {
      const { b, at } = heads[i];
      b.writeUInt32BE(b.length - at - 4 + rest, at);
      rest += b.length;
    }
    return Buffer.concat([...heads.map((h) => h.b), inner]);
  };
}
