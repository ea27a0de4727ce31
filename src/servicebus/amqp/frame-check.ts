// Checks incoming AMQP frames before rhea reads them: the declared size against the limit in force (so an
// oversized frame is refused before a byte of it is buffered), the frame header, and the performative's
// encoding (types, sizes, nesting depth, and each field's type) so rhea's recursive decoder and the
// handlers behind it only ever see well-formed performatives. Transfer payloads are not looked at here:
// messages are checked when they are parsed (message/codec.ts). Cost per frame: a walk over the
// performative's few values.
import { conditionOf } from "../errors.js";
import { MalformedMessageError, MAX_NESTING, primitiveEnd, walkValue } from "../message/codec.js";

export const FRAMING_ERROR = conditionOf("FramingError");
export const DECODE_ERROR = conditionOf("DecodeError");

export interface FrameFault {
  condition: string;
  description: string;
}

export interface FrameLimits {
  /** largest frame accepted */
  maxFrameSize: number;
  /** highest channel number accepted (AMQP frames) */
  channelMax: number;
  /** most links attached at once on a connection (each costs the broker several KB, its attach 60 bytes) */
  maxLinks: number;
}

/** What a connection's frames so far add up to. */
export interface FrameState {
  /** attaches minus detaches received */
  links: number;
}

export const AMQP_FRAME = 0x00;
export const SASL_FRAME = 0x01;

/**
 * Checks the frames in `buf` from `pos` (a frame boundary). Returns where the whole, valid frames end and
 * the fault of the first frame that is not (its size is judged as soon as its first four bytes are in).
 */
export function checkFrames(
  buf: Buffer,
  pos: number,
  frameType: number,
  limits: FrameLimits,
  state: FrameState,
): { end: number; fault?: FrameFault } {
  while (pos + 4 <= buf.length) {
    const size = buf.readUInt32BE(pos);
    if (size > limits.maxFrameSize) {
      return {
        end: pos,
        fault: {
          condition: FRAMING_ERROR,
          description: `A frame of ${size} bytes exceeds the max-frame-size of ${limits.maxFrameSize}.`,
        },
      };
    }
    if (size < 8) return { end: pos, fault: { condition: FRAMING_ERROR, description: `Invalid frame size ${size}.` } };
    if (pos + size > buf.length) break;
    const fault = checkFrame(buf, pos, pos + size, frameType, limits, state);
    if (fault) return { end: pos, fault };
    pos += size;
  }
  return { end: pos };
}

function checkFrame(
  buf: Buffer,
  start: number,
  end: number,
  frameType: number,
  limits: FrameLimits,
  state: FrameState,
): FrameFault | undefined {
  const doff = buf[start + 4];
  if (doff < 2 || start + doff * 4 > end)
    return { condition: FRAMING_ERROR, description: `Invalid data offset ${doff}.` };
  if (buf[start + 5] !== frameType)
    return { condition: FRAMING_ERROR, description: `Unexpected frame type ${buf[start + 5]}.` };
  if (frameType === AMQP_FRAME && buf.readUInt16BE(start + 6) > limits.channelMax) {
    return {
      condition: FRAMING_ERROR,
      description: `Channel ${buf.readUInt16BE(start + 6)} exceeds the channel-max of ${limits.channelMax}.`,
    };
  }
  const body = start + doff * 4;
  if (body === end) return undefined; // an empty frame (heartbeat)
  let code: number;
  try {
    code = checkPerformative(buf, body, end, frameType);
  } catch (e) {
    if (e instanceof MalformedMessageError)
      return { condition: DECODE_ERROR, description: `Invalid performative: ${e.message}.` };
    throw e;
  }
  if (code === ATTACH && ++state.links > limits.maxLinks) {
    return {
      condition: conditionOf("QuotaExceeded"),
      description: `A connection may have at most ${limits.maxLinks} links attached.`,
    };
  }
  if (code === DETACH && state.links > 0) state.links--;
  return undefined;
}

const ATTACH = 0x12;
const DETACH = 0x16;

// Field types of each performative and of the composites in them, as the constructor bytes allowed for
// them (null is allowed for every field that is not mandatory). A described field names the composites it
// may hold, whose fields are checked the same way: rhea logs a line for a descriptor it does not know (which
// a peer could repeat without end), and re-encodes a source or target as it is typed when it answers.
interface FieldType {
  codes: Uint8Array;
  /** composites allowed, by descriptor code and symbolic name */
  composites?: Map<number | string, Composite>;
}

interface Composite {
  name: string;
  code: number;
  fields: FieldType[];
  /** bit i: field i is mandatory */
  mandatory: number;
}

function types(...codes: number[]): FieldType {
  const t = new Uint8Array(256);
  for (const c of codes) t[c] = 1;
  t[0x40] = 1;
  return { codes: t };
}

function composite(code: number, name: string, mandatory: number[], fields: FieldType[]): Composite {
  return { name, code, fields, mandatory: mandatory.reduce((m, i) => m | (1 << i), 0) };
}

function oneOf(...composites: Composite[]): FieldType {
  const map = new Map<number | string, Composite>();
  for (const c of composites) map.set(c.code, c).set(`amqp:${c.name}:list`, c);
  return { ...types(0x00), composites: map };
}

const UINT = types(0x43, 0x52, 0x70);
const USHORT = types(0x60);
const UBYTE = types(0x50);
const BOOL = types(0x41, 0x42, 0x56);
const ULONG = types(0x44, 0x53, 0x80);
const STRING = types(0xa1, 0xb1);
const ADDRESS = types(0xa1, 0xb1, 0xa3, 0xb3);
const SYMBOLS = types(0xa3, 0xb3, 0xe0, 0xf0);
const SYMBOL = types(0xa3, 0xb3);
const BINARY = types(0xa0, 0xb0);
const MAP = types(0xc1, 0xd1);
const ERROR = oneOf(composite(0x1d, "error", [0], [SYMBOL, STRING, MAP]));
const OUTCOME = oneOf(
  composite(0x23, "received", [0, 1], [UINT, ULONG]),
  composite(0x24, "accepted", [], []),
  composite(0x25, "rejected", [], [ERROR]),
  composite(0x26, "released", [], []),
  composite(0x27, "modified", [], [BOOL, BOOL, MAP]),
);
const SOURCE = oneOf(
  composite(0x28, "source", [], [ADDRESS, UINT, SYMBOL, UINT, BOOL, MAP, SYMBOL, MAP, OUTCOME, SYMBOLS, SYMBOLS]),
);
const TARGET = oneOf(composite(0x29, "target", [], [ADDRESS, UINT, SYMBOL, UINT, BOOL, MAP, SYMBOLS]));

const PERFORMATIVES = new Map<number | string, Composite>();
for (const p of [
  composite(0x10, "open", [0], [STRING, STRING, UINT, USHORT, UINT, SYMBOLS, SYMBOLS, SYMBOLS, SYMBOLS, MAP]),
  composite(0x11, "begin", [1, 2, 3], [USHORT, UINT, UINT, UINT, UINT, SYMBOLS, SYMBOLS, MAP]),
  composite(
    0x12,
    "attach",
    [0, 1, 2],
    [STRING, UINT, BOOL, UBYTE, UBYTE, SOURCE, TARGET, MAP, BOOL, UINT, ULONG, SYMBOLS, SYMBOLS, MAP],
  ),
  composite(0x13, "flow", [1, 2, 3], [UINT, UINT, UINT, UINT, UINT, UINT, UINT, UINT, BOOL, BOOL, MAP]),
  composite(0x14, "transfer", [0], [UINT, UINT, BINARY, UINT, BOOL, BOOL, UBYTE, OUTCOME, BOOL, BOOL, BOOL]),
  composite(0x15, "disposition", [0, 1], [BOOL, UINT, UINT, BOOL, OUTCOME, BOOL]),
  composite(0x16, "detach", [0], [UINT, BOOL, ERROR]),
  composite(0x17, "end", [], [ERROR]),
  composite(0x18, "close", [], [ERROR]),
  // rhea accepts symbolic descriptors only for the AMQP performatives (its SASL names are not the spec's)
  composite(0x40, "", [0], [SYMBOLS]), // sasl-mechanisms
  composite(0x41, "", [0], [SYMBOL, BINARY, STRING]), // sasl-init
  composite(0x42, "", [0], [BINARY]), // sasl-challenge
  composite(0x43, "", [0], [BINARY]), // sasl-response
  composite(0x44, "", [0], [UBYTE, BINARY]), // sasl-outcome
]) {
  PERFORMATIVES.set(p.code, p);
  if (p.name) PERFORMATIVES.set(`amqp:${p.name}:list`, p);
}

/** The performative's code; throws MalformedMessageError unless it is one rhea's frame reader can take. */
function checkPerformative(buf: Buffer, pos: number, end: number, frameType: number): number {
  const { code } = checkComposite(buf, pos, end, PERFORMATIVES, MAX_NESTING);
  if ((frameType === SASL_FRAME) !== code >= 0x40) throw new MalformedMessageError("unknown performative");
  return code;
}

/**
 * Checks the described list at `pos` against the composites allowed (its descriptor, then each field's type,
 * composites in it likewise) and returns which it is and where it ends (a performative's payload follows).
 */
function checkComposite(
  buf: Buffer,
  pos: number,
  end: number,
  allowed: Map<number | string, Composite>,
  depth: number,
): { code: number; end: number } {
  if (buf[pos] !== 0x00) throw new MalformedMessageError("not a described list");
  const d = buf[pos + 1];
  let key: number | string = -1;
  let at = end;
  if (d === 0x53) {
    key = buf[pos + 2];
    at = pos + 3;
  } else if (d === 0x80) {
    at = pos + 10;
    if (at <= end && buf.readUInt32BE(pos + 2) === 0) key = buf.readUInt32BE(pos + 6);
  } else if (d === 0xa3 && pos + 2 < end) {
    at = pos + 3 + buf[pos + 2];
    if (at <= end) key = buf.toString("latin1", pos + 3, at);
  }
  const c = allowed.get(key);
  if (!c || at >= end)
    throw new MalformedMessageError(`unknown ${allowed === PERFORMATIVES ? "performative" : "composite"}`);
  const list = buf[at];
  let count = 0;
  let fieldsEnd = at + 1;
  if (list === 0xc0 || list === 0xd0) {
    const w = list === 0xc0 ? 1 : 4;
    if (at + 1 + 2 * w > end) throw new MalformedMessageError(`truncated ${c.name}`);
    const size = w === 1 ? buf[at + 1] : buf.readUInt32BE(at + 1);
    count = w === 1 ? buf[at + 2] : buf.readUInt32BE(at + 5);
    fieldsEnd = at + 1 + w + size;
    if (fieldsEnd > end || size < w || count > size) throw new MalformedMessageError(`invalid ${c.name} size`);
    at += 1 + 2 * w;
  } else if (list === 0x45) {
    at += 1;
  } else {
    throw new MalformedMessageError(`${c.name} is not a list`);
  }
  for (let i = 0; i < count; i++) {
    const code = buf[at];
    const f = c.fields[i];
    if (f) {
      if (code === 0x40 && c.mandatory & (1 << i))
        throw new MalformedMessageError(`${c.name} lacks its mandatory field #${i + 1}`);
      if (!f.codes[code]) throw new MalformedMessageError(`field #${i + 1} of ${c.name} has the wrong type`);
    }
    const next = primitiveEnd(buf, at, fieldsEnd);
    // the composite is one level, its list another
    if (next >= 0) at = next;
    else if (f?.composites) at = checkComposite(buf, at, fieldsEnd, f.composites, depth - 2).end;
    else at = walkValue(buf, at, fieldsEnd, depth - 2);
  }
  if (at !== fieldsEnd) throw new MalformedMessageError(`${c.name}'s size does not match its fields`);
  if (c.mandatory >>> count) throw new MalformedMessageError(`${c.name} lacks a mandatory field`);
  return { code: c.code, end: fieldsEnd };
}
