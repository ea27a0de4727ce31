// Byte-level handling of AMQP messages. The broker keeps the client's bare message (properties,
// application-properties, body, footer) byte-for-byte, so every value round-trips with its exact AMQP
// type; only the header and message annotations are rebuilt on delivery.
import rhea from "rhea";

const types = rhea.types as any; // rhea's typings omit Reader, Writer and Map32
type Typed = any; // rhea's Typed values carry no TypeScript types

export const SECTION = {
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  sequence: 0x76,
  value: 0x77,
  footer: 0x78,
} as const;

/** Service Bus's batch message format (`sendMessages([...])`): a body of data sections, each a whole message. */
export const BATCH_FORMAT = 0x80013700;

export interface SectionSpan {
  code: number;
  start: number;
  /** offset of the section's value (after descriptor) */
  valueStart: number;
  end: number;
}

export class MalformedMessageError extends Error {}

/** Width of the size prefix (or fixed value) that follows a constructor byte. */
function skipValue(buf: Buffer, pos: number): number {
  const code = buf[pos];
  if (code === undefined) throw new MalformedMessageError("truncated AMQP value");
  if (code === 0x00) {
    // described: descriptor then value
    return skipValue(buf, skipValue(buf, pos + 1));
  }
  const cat = code & 0xf0;
  let end: number;
  switch (cat) {
    case 0x40: end = pos + 1; break;
    case 0x50: end = pos + 2; break;
    case 0x60: end = pos + 3; break;
    case 0x70: end = pos + 5; break;
    case 0x80: end = pos + 9; break;
    case 0x90: end = pos + 17; break;
    case 0xa0: case 0xc0: case 0xe0:
      if (pos + 1 >= buf.length) throw new MalformedMessageError("truncated AMQP value");
      end = pos + 2 + buf[pos + 1];
      break;
    case 0xb0: case 0xd0: case 0xf0:
      if (pos + 4 >= buf.length) throw new MalformedMessageError("truncated AMQP value");
      end = pos + 5 + buf.readUInt32BE(pos + 1);
      break;
    default:
      throw new MalformedMessageError(`invalid AMQP type code 0x${code.toString(16)}`);
  }
  if (end > buf.length) throw new MalformedMessageError("truncated AMQP value");
  return end;
}

function descriptorCode(buf: Buffer, pos: number): number {
  const c = buf[pos];
  if (c === 0x53) return buf[pos + 1];
  if (c === 0x80) return Number(buf.readBigUInt64BE(pos + 1));
  if (c === 0x44) return 0;
  // symbolic descriptors (amqp:properties:list ...) are legal but nobody sends them; map the ones we know
  const sym = new types.Reader(buf.subarray(pos)).read().value;
  const known: Record<string, number> = {
    "amqp:header:list": 0x70, "amqp:delivery-annotations:map": 0x71, "amqp:message-annotations:map": 0x72,
    "amqp:properties:list": 0x73, "amqp:application-properties:map": 0x74, "amqp:data:binary": 0x75,
    "amqp:amqp-sequence:list": 0x76, "amqp:value:*": 0x77, "amqp:footer:map": 0x78,
  };
  return known[String(sym)] ?? -1;
}

/** Splits an encoded message into its sections without decoding their contents. */
export function splitSections(buf: Buffer): SectionSpan[] {
  const spans: SectionSpan[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== 0x00) throw new MalformedMessageError("expected a described message section");
    const code = descriptorCode(buf, pos + 1);
    if (code < SECTION.header || code > SECTION.footer) throw new MalformedMessageError("unknown message section");
    const valueStart = skipValue(buf, pos + 1);
    const end = skipValue(buf, valueStart);
    spans.push({ code, start: pos, valueStart, end });
    pos = end;
  }
  return spans;
}

/** The inner messages of a Service Bus batch envelope (format 0x80013700). */
export function splitBatch(envelope: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (const s of splitSections(envelope)) {
    if (s.code === SECTION.sequence || s.code === SECTION.value) {
      throw new MalformedMessageError("a batch message's body must be data sections, each one encoded message");
    }
    if (s.code !== SECTION.data) continue;
    const c = envelope[s.valueStart];
    const head = c === 0xa0 ? 2 : c === 0xb0 ? 5 : -1;
    if (head < 0) throw new MalformedMessageError("batch data section is not binary");
    out.push(envelope.subarray(s.valueStart + head, s.end));
  }
  if (out.length === 0) throw new MalformedMessageError("a batch message must contain at least one message");
  return out;
}

export interface ParsedMessage {
  /** properties + application-properties + body + footer, byte-exact */
  bare: Buffer;
  /** the client's message annotations as typed [key, value] pairs */
  annotations: Array<[Typed, Typed]>;
  ttlMs?: number;
  messageId?: string;
  sessionId?: string;
  partitionKey?: string;
  scheduledEnqueueTime?: number;
}

function readSection(buf: Buffer, s: SectionSpan): Typed {
  return new types.Reader(buf.subarray(s.valueStart, s.end)).read();
}

function pairs(map: Typed): Array<[Typed, Typed]> {
  const items: Typed[] = map?.value ?? [];
  const out: Array<[Typed, Typed]> = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push([items[i], items[i + 1]]);
  return out;
}

function listField(list: Typed, i: number): unknown {
  const v = list?.value?.[i];
  return v === undefined ? undefined : types.unwrap(v);
}

function idString(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Buffer.isBuffer(v)) return v.toString("hex");
  return String(v);
}

/** Reads what the broker needs from an incoming message, keeping the bare message as sent. */
export function parseMessage(buf: Buffer): ParsedMessage {
  const spans = splitSections(buf);
  const bareStart = spans.find((s) => s.code >= SECTION.properties)?.start ?? buf.length;
  const out: ParsedMessage = { bare: buf.subarray(bareStart), annotations: [] };
  for (const s of spans) {
    if (s.code === SECTION.header) {
      const ttl = listField(readSection(buf, s), 2);
      if (typeof ttl === "number") out.ttlMs = ttl;
    } else if (s.code === SECTION.messageAnnotations) {
      out.annotations = pairs(readSection(buf, s));
      for (const [k, v] of out.annotations) {
        if (k.value === "x-opt-partition-key") out.partitionKey = String(types.unwrap(v));
        if (k.value === "x-opt-scheduled-enqueue-time") {
          const t = types.unwrap(v);
          out.scheduledEnqueueTime = t instanceof Date ? t.getTime() : Number(t);
        }
      }
    } else if (s.code === SECTION.properties) {
      const props = readSection(buf, s);
      out.messageId = idString(listField(props, 0));
      const group = listField(props, 10);
      if (group !== undefined && group !== null) out.sessionId = String(group);
    }
  }
  return out;
}

function writeAll(values: Typed[]): Buffer {
  const w = new types.Writer();
  for (const v of values) w.write(v);
  return w.toBuffer();
}

export interface DeliveryHeader {
  deliveryCount: number;
  ttlMs?: number;
}

/** Header section with an explicit delivery-count: clients show `undefined` without one. */
export function encodeHeader(h: DeliveryHeader): Buffer {
  const ttl = h.ttlMs !== undefined && h.ttlMs < 0xffffffff ? types.wrap_uint(h.ttlMs) : null;
  const list = types.wrap_list([true, null, ttl, false, types.wrap_uint(h.deliveryCount)]);
  return writeAll([types.described(types.wrap_ulong(SECTION.header), list)]);
}

/** Message annotations: the client's own, with the broker's x-opt-* values replacing same-named keys. */
export function encodeAnnotations(client: Array<[Typed, Typed]>, broker: Array<[string, Typed]>): Buffer {
  const ours = new Set(broker.map(([k]) => k));
  const items: Typed[] = [];
  for (const [k, v] of client) if (!ours.has(k.value)) items.push(k, v);
  for (const [k, v] of broker) items.push(types.wrap_symbol(k), v);
  return writeAll([types.described(types.wrap_ulong(SECTION.messageAnnotations), types.Map32(items))]);
}

export function encodeDeliveryAnnotations(entries: Array<[string, Typed]>): Buffer {
  const items: Typed[] = [];
  for (const [k, v] of entries) items.push(types.wrap_symbol(k), v);
  return writeAll([types.described(types.wrap_ulong(SECTION.deliveryAnnotations), types.Map32(items))]);
}

/**
 * Returns the bare message with application properties set (propertiesToModify, DeadLetterReason, ...).
 * Existing values keep their AMQP types; new ones are encoded from their JS values.
 */
export function withApplicationProperties(bare: Buffer, set: Record<string, unknown>): Buffer {
  if (Object.keys(set).length === 0) return bare;
  const spans = splitSections(bare);
  const app = spans.find((s) => s.code === SECTION.applicationProperties);
  const keep = app ? pairs(readSection(bare, app)).filter(([k]) => !(String(k.value) in set)) : [];
  const items: Typed[] = [];
  for (const [k, v] of keep) items.push(k, v);
  for (const [k, v] of Object.entries(set)) items.push(types.wrap_string(k), toTyped(v));
  const section = writeAll([types.described(types.wrap_ulong(SECTION.applicationProperties), types.Map32(items))]);
  if (app) return Buffer.concat([bare.subarray(0, app.start), section, bare.subarray(app.end)]);
  // application-properties sits right after properties (if any) and before the body
  const after = spans.find((s) => s.code > SECTION.applicationProperties)?.start ?? bare.length;
  return Buffer.concat([bare.subarray(0, after), section, bare.subarray(after)]);
}

function toTyped(v: unknown): Typed {
  if (typeof v === "number" && Number.isInteger(v)) return types.wrap_long(v);
  if (v instanceof Date) return types.wrap_timestamp(v.getTime());
  return types.wrap(v);
}

/** Application properties decoded to plain values (for filters, peek tooling and tests). */
export function readApplicationProperties(bare: Buffer): Record<string, unknown> {
  const app = splitSections(bare).find((s) => s.code === SECTION.applicationProperties);
  if (!app) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of pairs(readSection(bare, app))) out[String(k.value)] = types.unwrap(v);
  return out;
}

// --- lock tokens and .NET ticks -------------------------------------------------------------

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
function writeUuid(out: Buffer, at: number, token: string, dotnet: boolean): boolean {
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

/** The typed [key, value] pairs of an encoded message-annotations section (as stored). */
export function decodeAnnotations(section: Buffer): Array<[Typed, Typed]> {
  if (!section.length) return [];
  return pairs(new types.Reader(section).read());
}

/** Encodes the client's annotations alone, for storage. */
export function encodeClientAnnotations(client: Array<[Typed, Typed]>): Buffer {
  return client.length ? encodeAnnotations(client, []) : Buffer.alloc(0);
}

/**
 * Returns the bare message with a message-id: Service Bus gives every message one (32 hex digits) when the
 * sender set none, and the JS SDK's lock renewal keys on it.
 */
export function withMessageId(bare: Buffer, id: string): Buffer {
  const spans = splitSections(bare);
  const props = spans.find((s) => s.code === SECTION.properties);
  let fields: Typed[] = [];
  if (props) fields = [...(readSection(bare, props).value ?? [])];
  fields[0] = types.wrap_string(id);
  for (let i = 0; i < fields.length; i++) if (fields[i] === undefined) fields[i] = null;
  const section = writeAll([types.described(types.wrap_ulong(SECTION.properties), types.wrap_list(fields))]);
  if (props) return Buffer.concat([bare.subarray(0, props.start), section, bare.subarray(props.end)]);
  return Buffer.concat([section, bare]);
}

// --- delivery encoding -----------------------------------------------------------------------
// Every delivery rebuilds the header and message annotations; doing it by hand (same bytes as rhea's
// Writer would produce: list32/map32, smallest numeric encodings) avoids a typed-value tree and two
// 1 KB scratch buffers per message, and writes header, annotations and bare message into one buffer.

export interface DeliveryFields {
  seq: number;
  enqueuedAt: number;
  deliveryCount: number;
  ttlMs?: number;
  lockedUntil?: number;
  /** x-opt-message-state; omitted when undefined */
  messageState?: number;
  /** delivery annotations with x-opt-lock-token */
  lockToken?: string;
  /** the stored client message-annotations section (may be empty) */
  annotations: Buffer;
  bare: Buffer;
}

const symbolKey = (name: string): Buffer => Buffer.concat([Buffer.from([0xa3, name.length]), Buffer.from(name, "latin1")]);
const KEY_SEQUENCE = symbolKey("x-opt-sequence-number");
const KEY_ENQUEUED = symbolKey("x-opt-enqueued-time");
const KEY_LOCKED_UNTIL = symbolKey("x-opt-locked-until");
const KEY_STATE = symbolKey("x-opt-message-state");
const KEY_LOCK_TOKEN = symbolKey("x-opt-lock-token");
const TWO_32 = 4294967296;

function uintWidth(v: number): number {
  return v === 0 ? 1 : v > 255 ? 5 : 2;
}

function writeUintValue(b: Buffer, at: number, v: number): number {
  if (v === 0) b[at++] = 0x43;
  else if (v > 255) {
    b[at] = 0x70;
    b.writeUInt32BE(v, at + 1);
    at += 5;
  } else {
    b[at] = 0x52;
    b[at + 1] = v;
    at += 2;
  }
  return at;
}

/** 8-byte two's complement big-endian, as rhea writes longs and timestamps given as numbers. */
function writeInt64(b: Buffer, at: number, v: number): void {
  const abs = Math.abs(v);
  b.writeInt32BE(Math.floor(abs / TWO_32), at);
  b.writeUInt32BE(abs % TWO_32, at + 4);
  if (v < 0) {
    let carry = 1;
    for (let i = at + 7; i >= at; i--) {
      const x = (b[i] ^ 0xff) + carry;
      b[i] = x & 0xff;
      carry = x >> 8;
    }
  }
}

const smallSigned = (v: number) => v <= 127 && v >= -128;

/** Byte ranges [start, end) of the client's annotation entries we keep, or undefined if unparsable. */
function clientEntries(section: Buffer, drop: (key: string) => boolean): { ranges: number[]; count: number } | undefined {
  try {
    if (section[0] !== 0x00) return undefined;
    let pos = skipValue(section, 1); // descriptor
    let count: number;
    if (section[pos] === 0xd1) {
      count = section.readUInt32BE(pos + 5);
      pos += 9;
    } else if (section[pos] === 0xc1) {
      count = section[pos + 2];
      pos += 3;
    } else return undefined;
    const ranges: number[] = [];
    let kept = 0;
    for (let i = 0; i + 1 < count; i += 2) {
      const keyEnd = skipValue(section, pos);
      const end = skipValue(section, keyEnd);
      const code = section[pos];
      const textual = code === 0xa3 || code === 0xa1 || code === 0xb3 || code === 0xb1;
      const head = code === 0xa3 || code === 0xa1 ? 2 : 5;
      const key = textual ? section.toString(code === 0xa3 || code === 0xb3 ? "latin1" : "utf8", pos + head, keyEnd) : undefined;
      if (key === undefined || !drop(key)) {
        const last = ranges.length - 1;
        if (last > 0 && ranges[last] === pos) ranges[last] = end;
        else ranges.push(pos, end);
        kept += 2;
      }
      pos = end;
    }
    return { ranges, count: kept };
  } catch {
    return undefined;
  }
}

/** header + (delivery annotations) + message annotations + bare message, in one buffer. */
export function encodeDelivery(f: DeliveryFields): Buffer {
  const ttl = f.ttlMs !== undefined && f.ttlMs < 0xffffffff ? f.ttlMs : undefined;
  // header: durable true, priority null, ttl, first-acquirer false, delivery-count
  const headerValues = 3 + (ttl === undefined ? 1 : uintWidth(ttl)) + uintWidth(f.deliveryCount);

  const seqSmall = smallSigned(f.seq);
  let brokerBytes = KEY_SEQUENCE.length + (seqSmall ? 2 : 9) + KEY_ENQUEUED.length + 9;
  let brokerCount = 4;
  if (f.lockedUntil !== undefined) {
    brokerBytes += KEY_LOCKED_UNTIL.length + 9;
    brokerCount += 2;
  }
  if (f.messageState !== undefined) {
    brokerBytes += KEY_STATE.length + (smallSigned(f.messageState) ? 2 : 5);
    brokerCount += 2;
  }
  let client: { ranges: number[]; count: number } | undefined;
  if (f.annotations.length) {
    const lockedUntil = f.lockedUntil !== undefined;
    const state = f.messageState !== undefined;
    client = clientEntries(
      f.annotations,
      (k) =>
        k === "x-opt-sequence-number" || k === "x-opt-enqueued-time" || (lockedUntil && k === "x-opt-locked-until") || (state && k === "x-opt-message-state"),
    );
    if (!client) return encodeDeliveryTyped(f);
  }
  let clientBytes = 0;
  if (client) for (let i = 0; i < client.ranges.length; i += 2) clientBytes += client.ranges[i + 1] - client.ranges[i];
  const annotationsBody = clientBytes + brokerBytes;
  const withToken = f.lockToken !== undefined;

  const total = 12 + headerValues + (withToken ? 12 + KEY_LOCK_TOKEN.length + 17 : 0) + 12 + annotationsBody + f.bare.length;
  const b = Buffer.allocUnsafe(total);
  let at = 0;
  b[at++] = 0x00; b[at++] = 0x53; b[at++] = SECTION.header; b[at++] = 0xd0;
  b.writeUInt32BE(4 + headerValues, at); b.writeUInt32BE(5, at + 4); at += 8;
  b[at++] = 0x41;
  b[at++] = 0x40;
  at = ttl === undefined ? ((b[at] = 0x40), at + 1) : writeUintValue(b, at, ttl);
  b[at++] = 0x42;
  at = writeUintValue(b, at, f.deliveryCount);

  if (withToken) {
    b[at++] = 0x00; b[at++] = 0x53; b[at++] = SECTION.deliveryAnnotations; b[at++] = 0xd1;
    b.writeUInt32BE(4 + KEY_LOCK_TOKEN.length + 17, at); b.writeUInt32BE(2, at + 4); at += 8;
    at += KEY_LOCK_TOKEN.copy(b, at);
    b[at++] = 0x98;
    if (!writeUuid(b, at, f.lockToken!, false)) uuidToBuffer(f.lockToken!).copy(b, at);
    at += 16;
  }

  b[at++] = 0x00; b[at++] = 0x53; b[at++] = SECTION.messageAnnotations; b[at++] = 0xd1;
  b.writeUInt32BE(4 + annotationsBody, at); b.writeUInt32BE((client?.count ?? 0) + brokerCount, at + 4); at += 8;
  if (client) for (let i = 0; i < client.ranges.length; i += 2) at += f.annotations.copy(b, at, client.ranges[i], client.ranges[i + 1]);
  at += KEY_SEQUENCE.copy(b, at);
  if (seqSmall) {
    b[at++] = 0x55;
    b.writeInt8(f.seq, at++);
  } else {
    b[at++] = 0x81;
    writeInt64(b, at, f.seq);
    at += 8;
  }
  at += KEY_ENQUEUED.copy(b, at);
  b[at++] = 0x83;
  writeInt64(b, at, f.enqueuedAt);
  at += 8;
  if (f.lockedUntil !== undefined) {
    at += KEY_LOCKED_UNTIL.copy(b, at);
    b[at++] = 0x83;
    writeInt64(b, at, f.lockedUntil);
    at += 8;
  }
  if (f.messageState !== undefined) {
    at += KEY_STATE.copy(b, at);
    if (smallSigned(f.messageState)) {
      b[at++] = 0x54;
      b.writeInt8(f.messageState, at++);
    } else {
      b[at++] = 0x71;
      b.writeInt32BE(f.messageState, at);
      at += 4;
    }
  }
  f.bare.copy(b, at);
  return b;
}

/** The same through rhea's typed values: for stored annotations this encoder does not parse. */
export function encodeDeliveryTyped(f: DeliveryFields): Buffer {
  const broker: Array<[string, Typed]> = [
    ["x-opt-sequence-number", types.wrap_long(f.seq)],
    ["x-opt-enqueued-time", types.wrap_timestamp(f.enqueuedAt)],
  ];
  if (f.lockedUntil !== undefined) broker.push(["x-opt-locked-until", types.wrap_timestamp(f.lockedUntil)]);
  if (f.messageState !== undefined) broker.push(["x-opt-message-state", types.wrap_int(f.messageState)]);
  const parts = [encodeHeader({ deliveryCount: f.deliveryCount, ttlMs: f.ttlMs })];
  if (f.lockToken !== undefined) {
    parts.push(encodeDeliveryAnnotations([["x-opt-lock-token", types.wrap_uuid(uuidToBuffer(f.lockToken))]]));
  }
  parts.push(encodeAnnotations(decodeAnnotations(f.annotations), broker), f.bare);
  return Buffer.concat(parts);
}
