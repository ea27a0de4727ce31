// Encoding a delivery: header, delivery annotations (lock token), message annotations and the stored bare
// message, in one buffer.
import rhea from "rhea";
import {
  decodeAnnotations,
  encodeAnnotations,
  encodeDeliveryAnnotations,
  encodeHeader,
  SECTION,
  skipValue,
} from "./codec.js";
import { headerWidths, splitStoredHeader, writeHeaderFirstAcquirer, writeHeaderStart } from "./header.js";
import { uuidToBuffer, writeUuid } from "./ids.js";

const types = rhea.types as any; // rhea's typings omit Reader, Writer and Map32
type Typed = any; // rhea's Typed values carry no TypeScript types

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
  /** as stored: the sender's header (header.ts; optional), then its message-annotations section (may be empty) */
  annotations: Buffer;
  bare: Buffer;
}

const symbolKey = (name: string): Buffer =>
  Buffer.concat([Buffer.from([0xa3, name.length]), Buffer.from(name, "latin1")]);
const KEY_SEQUENCE = symbolKey("x-opt-sequence-number");
const KEY_ENQUEUED = symbolKey("x-opt-enqueued-time");
const KEY_LOCKED_UNTIL = symbolKey("x-opt-locked-until");
const KEY_STATE = symbolKey("x-opt-message-state");
const KEY_LOCK_TOKEN = symbolKey("x-opt-lock-token");
const TWO_32 = 4294967296;

/** Bytes of an AMQP uint in its smallest encoding (uint0, smalluint, uint), as rhea writes it. */
export function uintWidth(v: number): number {
  return v === 0 ? 1 : v > 255 ? 5 : 2;
}

export function writeUintValue(b: Buffer, at: number, v: number): number {
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
function clientEntries(
  section: Buffer,
  drop: (key: string) => boolean,
): { ranges: number[]; count: number } | undefined {
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
      const key = textual
        ? section.toString(code === 0xa3 || code === 0xb3 ? "latin1" : "utf8", pos + head, keyEnd)
        : undefined;
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
  const { header: sent, annotations } = splitStoredHeader(f.annotations);
  // header: durable, priority (the sender's), ttl, first-acquirer (the sender's), delivery-count
  const widths = headerWidths(sent);
  const headerValues =
    widths.before + (ttl === undefined ? 1 : uintWidth(ttl)) + widths.after + uintWidth(f.deliveryCount);

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
  if (annotations.length) {
    const lockedUntil = f.lockedUntil !== undefined;
    const state = f.messageState !== undefined;
    client = clientEntries(
      annotations,
      (k) =>
        k === "x-opt-sequence-number" ||
        k === "x-opt-enqueued-time" ||
        (lockedUntil && k === "x-opt-locked-until") ||
        (state && k === "x-opt-message-state"),
    );
    if (!client) return encodeDeliveryTyped(f);
  }
  let clientBytes = 0;
  if (client) for (let i = 0; i < client.ranges.length; i += 2) clientBytes += client.ranges[i + 1] - client.ranges[i];
  const annotationsBody = clientBytes + brokerBytes;
  const withToken = f.lockToken !== undefined;

  const total =
    12 + headerValues + (withToken ? 12 + KEY_LOCK_TOKEN.length + 17 : 0) + 12 + annotationsBody + f.bare.length;
  const b = Buffer.allocUnsafe(total);
  let at = 0;
  b[at++] = 0x00;
  b[at++] = 0x53;
  b[at++] = SECTION.header;
  b[at++] = 0xd0;
  b.writeUInt32BE(4 + headerValues, at);
  b.writeUInt32BE(5, at + 4);
  at += 8;
  at = writeHeaderStart(b, at, sent);
  at = ttl === undefined ? ((b[at] = 0x40), at + 1) : writeUintValue(b, at, ttl);
  at = writeHeaderFirstAcquirer(b, at, sent);
  at = writeUintValue(b, at, f.deliveryCount);

  if (withToken) {
    b[at++] = 0x00;
    b[at++] = 0x53;
    b[at++] = SECTION.deliveryAnnotations;
    b[at++] = 0xd1;
    b.writeUInt32BE(4 + KEY_LOCK_TOKEN.length + 17, at);
    b.writeUInt32BE(2, at + 4);
    at += 8;
    at += KEY_LOCK_TOKEN.copy(b, at);
    b[at++] = 0x98;
    if (!writeUuid(b, at, f.lockToken!, false)) uuidToBuffer(f.lockToken!).copy(b, at);
    at += 16;
  }

  b[at++] = 0x00;
  b[at++] = 0x53;
  b[at++] = SECTION.messageAnnotations;
  b[at++] = 0xd1;
  b.writeUInt32BE(4 + annotationsBody, at);
  b.writeUInt32BE((client?.count ?? 0) + brokerCount, at + 4);
  at += 8;
  if (client)
    for (let i = 0; i < client.ranges.length; i += 2)
      at += annotations.copy(b, at, client.ranges[i], client.ranges[i + 1]);
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
  const { header: sent, annotations } = splitStoredHeader(f.annotations);
  const parts = [encodeHeader({ deliveryCount: f.deliveryCount, ttlMs: f.ttlMs, sent })];
  if (f.lockToken !== undefined) {
    parts.push(encodeDeliveryAnnotations([["x-opt-lock-token", types.wrap_uuid(uuidToBuffer(f.lockToken))]]));
  }
  parts.push(encodeAnnotations(decodeAnnotations(annotations), broker), f.bare);
  return Buffer.concat(parts);
}
