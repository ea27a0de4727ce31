// Lock tokens and times as Service Bus puts them on the wire: delivery tags in .NET Guid byte order,
// uuids, and .NET ticks.

/** Delivery tag for a lock token: the 16 bytes in .NET Guid.ToByteArray() order (first three groups LE). */
export function lockTokenToTag(token: string): Buffer {
  const out = Buffer.allocUnsafe(16);
  if (!writeUuid(out, 0, token, true)) return fallbackTag(token);
  return out;
}

function fallbackTag(token: string): Buffer {
  const b = uuidToBuffer(token);
  return Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
}

// hex digit value by char code (-1: not a hex digit)
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX["0123456789abcdef".charCodeAt(i)] = i;
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
}
// byte order of a canonical 8-4-4-4-12 uuid string, as is and as .NET lays it out
const UUID_ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const GUID_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
const UUID_CHAR_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** Writes a canonical uuid string's 16 bytes at `at` without intermediate strings; false if not canonical. */
export function writeUuid(out: Buffer, at: number, token: string, dotnet: boolean): boolean {
  if (token.length !== 36) return false;
  const order = dotnet ? GUID_ORDER : UUID_ORDER;
  for (let i = 0; i < 16; i++) {
    const c = UUID_CHAR_AT[i];
    const hi = HEX[token.charCodeAt(c)] ?? -1;
    const lo = HEX[token.charCodeAt(c + 1)] ?? -1;
    if (hi < 0 || lo < 0) return false;
    out[at + order[i]] = (hi << 4) | lo;
  }
  return true;
}

export function uuidToString(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uuidToBuffer(token: string): Buffer {
  return Buffer.from(token.replace(/-/g, ""), "hex");
}

const TICKS_AT_EPOCH = 621355968000000000n;

/** .NET ticks as the 8-byte buffer rhea encodes as a long (JS reads it with Long.fromBytesBE). */
export function msToTicksBuffer(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(Math.floor(ms)) * 10000n + TICKS_AT_EPOCH);
  return b;
}
