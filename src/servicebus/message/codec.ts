// Byte-level handling of AMQP messages. The broker keeps the client's bare message (properties,
// application-properties, body, footer) byte-for-byte, so every value round-trips with its exact AMQP
// type; only the header and message annotations are rebuilt on delivery.
import rhea from "rhea";
import { DEFAULT_HEADER, sentHeader, type SentHeader } from "./header.js";

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

/** Deepest nesting (described values, lists, maps, arrays) accepted in a message section or a performative. */
export const MAX_NESTING = 64;

// What follows each constructor byte: a fixed width (0-16), or a size prefix (VAR*), or a size and a count
// (LIST*, ARRAY*); INVALID for bytes that are no AMQP type (rhea's decoder throws on them).
const INVALID = -1;
const VAR8 = 101;
const VAR32 = 104;
const LIST8 = 201;
const LIST32 = 204;
const ARRAY8 = 301;
const ARRAY32 = 304;
const KIND = new Int16Array(256).fill(INVALID);
for (const [width, codes] of [
  [0, [0x40, 0x41, 0x42, 0x43, 0x44, 0x45]],
  [1, [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56]],
  [2, [0x60, 0x61]],
  [4, [0x70, 0x71, 0x72, 0x73, 0x74]],
  [8, [0x80, 0x81, 0x82, 0x83, 0x84]],
  [16, [0x94, 0x98]],
  [VAR8, [0xa0, 0xa1, 0xa3]],
  [VAR32, [0xb0, 0xb1, 0xb3]],
  [LIST8, [0xc0, 0xc1]],
  [LIST32, [0xd0, 0xd1]],
  [ARRAY8, [0xe0]],
  [ARRAY32, [0xf0]],
] as Array<[number, number[]]>) {
  for (const c of codes) KIND[c] = width;
}

/**
 * End of the value at `pos`, skipping compound values by their size. Iterative: a chain of described
 * descriptors is as long as the client makes it.
 */
export function skipValue(buf: Buffer, pos: number): number {
  let pending = 1;
  while (pending > 0) {
    const code = buf[pos];
    if (code === undefined) throw new MalformedMessageError("truncated AMQP value");
    if (code === 0x00) {
      // described: a descriptor, then the value
      pos++;
      pending++;
      continue;
    }
    pos = skipBody(buf, pos + 1, code, buf.length);
    pending--;
  }
  return pos;
}

/** End of the value of type `code` whose body starts at `pos` (compound values are skipped whole). */
function skipBody(buf: Buffer, pos: number, code: number, end: number): number {
  const kind = KIND[code];
  let next: number;
  if (kind === INVALID) throw new MalformedMessageError(`invalid AMQP type code 0x${code.toString(16)}`);
  if (kind <= 16) next = pos + kind;
  else {
    const w = kind % 100;
    if (pos + w > end) throw new MalformedMessageError("truncated AMQP value");
    next = pos + w + (w === 1 ? buf[pos] : buf.readUInt32BE(pos));
  }
  if (next > end) throw new MalformedMessageError("truncated AMQP value");
  return next;
}

/**
 * End of the value at `pos` if it is a primitive (no nesting: a number, string, binary...), or -1 if it is
 * described or compound (walk it). Throws if it is no valid value or runs past `end`.
 */
export function primitiveEnd(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) throw new MalformedMessageError("truncated AMQP value");
  const code = buf[pos];
  return code === 0x00 || KIND[code] >= LIST8 ? -1 : skipBody(buf, pos + 1, code, end);
}

// Scratch stacks for walkValue (single-threaded, never re-entered), per open container: the values left,
// the offset its contents must not pass, whether they must end exactly there (a sized list, map or array),
// and the type of its elements (arrays; -1 none, -2 constructor not read yet).
const LEFT = new Float64Array(MAX_NESTING + 2);
const BOUND = new Float64Array(MAX_NESTING + 2);
const EXACT = new Uint8Array(MAX_NESTING + 2);
const ELEM = new Int16Array(MAX_NESTING + 2);

/**
 * Checks the encoded value at `pos` without decoding it and returns its end: every type code valid, every
 * size within `end` and matching its contents, and no deeper nesting than `maxDepth`. Iterative, so a
 * client's nesting depth cannot exhaust the stack of rhea's recursive decoder (or ours).
 */
export function walkValue(buf: Buffer, pos: number, end = buf.length, maxDepth = MAX_NESTING): number {
  if (maxDepth > MAX_NESTING) maxDepth = MAX_NESTING;
  if (end > buf.length) end = buf.length;
  let sp = 0;
  LEFT[0] = 1;
  BOUND[0] = end;
  EXACT[0] = 0;
  ELEM[0] = -1;
  for (;;) {
    const bound = BOUND[sp];
    if (ELEM[sp] === -2) {
      // an array's element constructor (read even for no elements): descriptors, each a value, then the type
      if (pos >= bound) throw new MalformedMessageError("truncated AMQP array");
      const c = buf[pos++];
      if (c === 0x00) {
        if (++sp > maxDepth) throw tooDeep();
        open(sp, 1, bound, 0, -1);
      } else if (KIND[c] === INVALID) {
        throw new MalformedMessageError(`invalid AMQP type code 0x${c.toString(16)}`);
      } else {
        ELEM[sp] = c;
      }
      continue;
    }
    if (LEFT[sp] === 0) {
      if (EXACT[sp] && pos !== bound)
        throw new MalformedMessageError("an AMQP compound's size does not match its contents");
      if (sp === 0) return pos;
      sp--;
      continue;
    }
    LEFT[sp]--;
    let code = ELEM[sp];
    if (code === -1) {
      if (pos >= bound) throw new MalformedMessageError("truncated AMQP value");
      code = buf[pos++];
      if (code === 0x00) {
        // described: the descriptor and the value follow, one level down
        if (++sp > maxDepth) throw tooDeep();
        open(sp, 2, bound, 0, -1);
        continue;
      }
    }
    const kind = KIND[code];
    if (kind < LIST8) {
      pos = skipBody(buf, pos, code, bound);
      continue;
    }
    // list, map or array: size (counted from after the size field), then count
    const w = kind % 100;
    if (pos + 2 * w > bound) throw new MalformedMessageError("truncated AMQP compound");
    const size = w === 1 ? buf[pos] : buf.readUInt32BE(pos);
    const count = w === 1 ? buf[pos + 1] : buf.readUInt32BE(pos + w);
    const stop = pos + w + size;
    // every element takes at least a byte, so a count cannot promise more work than there are bytes
    if (stop > bound || size < w || count > size) throw new MalformedMessageError("invalid AMQP compound size");
    pos += 2 * w;
    if (++sp > maxDepth) throw tooDeep();
    open(sp, count, stop, 1, kind >= ARRAY8 ? -2 : -1);
  }
}

function open(sp: number, left: number, bound: number, exact: number, elem: number): void {
  LEFT[sp] = left;
  BOUND[sp] = bound;
  EXACT[sp] = exact;
  ELEM[sp] = elem;
}

function tooDeep(): MalformedMessageError {
  return new MalformedMessageError(`AMQP values nested more than ${MAX_NESTING} levels deep`);
}

const SYMBOLIC_SECTIONS: Record<string, number> = {
  "amqp:header:list": 0x70,
  "amqp:delivery-annotations:map": 0x71,
  "amqp:message-annotations:map": 0x72,
  "amqp:properties:list": 0x73,
  "amqp:application-properties:map": 0x74,
  "amqp:data:binary": 0x75,
  "amqp:amqp-sequence:list": 0x76,
  "amqp:value:*": 0x77,
  "amqp:footer:map": 0x78,
};

function descriptorCode(buf: Buffer, pos: number): number {
  const c = buf[pos];
  if (c === 0x53 && pos + 1 < buf.length) return buf[pos + 1];
  if (c === 0x80 && pos + 9 <= buf.length) return Number(buf.readBigUInt64BE(pos + 1));
  if (c === 0x44) return 0;
  // symbolic descriptors (amqp:properties:list ...) are legal but nobody sends them; map the ones we know
  if (c === 0xa3 || c === 0xb3)
    return SYMBOLIC_SECTIONS[String(new types.Reader(buf.subarray(pos, skipValue(buf, pos))).read().value)] ?? -1;
  return -1;
}

/**
 * Splits an encoded message into its sections without decoding their contents. `validate` also checks
 * every value inside them (walkValue), for bytes from a client that rhea's decoder or ours reads later.
 */
export function splitSections(buf: Buffer, validate = false): SectionSpan[] {
  const spans: SectionSpan[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== 0x00) throw new MalformedMessageError("expected a described message section");
    const code = descriptorCode(buf, pos + 1);
    if (code < SECTION.header || code > SECTION.footer) throw new MalformedMessageError("unknown message section");
    const valueStart = skipValue(buf, pos + 1);
    const end = validate ? walkValue(buf, valueStart, buf.length, MAX_NESTING - 1) : skipValue(buf, valueStart);
    spans.push({ code, start: pos, valueStart, end });
    pos = end;
  }
  return spans;
}

/** The inner messages of a Service Bus batch envelope (format 0x80013700). */
export function splitBatch(envelope: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (const s of splitSections(envelope, true)) {
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
  /** durable, priority and first-acquirer of the sender's header, when it sent one */
  header?: SentHeader;
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
  const spans = splitSections(buf, true);
  const bareStart = spans.find((s) => s.code >= SECTION.properties)?.start ?? buf.length;
  const out: ParsedMessage = { bare: buf.subarray(bareStart), annotations: [] };
  for (const s of spans) {
    if (s.code === SECTION.header) {
      const header = readSection(buf, s);
      const ttl = listField(header, 2);
      if (typeof ttl === "number") out.ttlMs = ttl;
      out.header = sentHeader(listField(header, 0), listField(header, 1), listField(header, 3));
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
  /** the sender's durable, priority and first-acquirer */
  sent?: SentHeader;
}

/** Header section with an explicit delivery-count: clients show `undefined` without one. */
export function encodeHeader(h: DeliveryHeader): Buffer {
  const ttl = h.ttlMs !== undefined && h.ttlMs < 0xffffffff ? types.wrap_uint(h.ttlMs) : null;
  const sent = h.sent ?? DEFAULT_HEADER;
  const priority = sent.priority === null ? null : types.wrap_ubyte(sent.priority);
  const list = types.wrap_list([sent.durable, priority, ttl, sent.firstAcquirer, types.wrap_uint(h.deliveryCount)]);
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

/** The bare message without its body sections (data, amqp-sequence, amqp-value): peek's omit-message-body. */
export function withoutBody(bare: Buffer): Buffer {
  const isBody = (code: number) => code === SECTION.data || code === SECTION.sequence || code === SECTION.value;
  const spans = splitSections(bare);
  if (!spans.some((s) => isBody(s.code))) return bare;
  return Buffer.concat(spans.filter((s) => !isBody(s.code)).map((s) => bare.subarray(s.start, s.end)));
}

/** Application properties decoded to plain values (for filters, peek tooling and tests). */
export function readApplicationProperties(bare: Buffer): Record<string, unknown> {
  const app = splitSections(bare).find((s) => s.code === SECTION.applicationProperties);
  if (!app) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of pairs(readSection(bare, app))) out[String(k.value)] = types.unwrap(v);
  return out;
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
