// What a subscription's rules see of a message (the system properties and application properties of its
// bare message), and the rewrite of a copy after a rule action changed its application properties.
import rhea from "rhea";
import { decodeAnnotations, SECTION, splitSections } from "../message/codec.js";
import { splitStoredHeader } from "../message/header.js";
import type { StoredMessage } from "../store/types.js";
import type { FilterMessage } from "../filters/index.js";

const types = rhea.types as any; // rhea's typings omit Reader and Writer
type Typed = any;

function read(buf: Buffer, code: number): Typed | undefined {
  const s = splitSections(buf).find((x) => x.code === code);
  return s ? new types.Reader(buf.subarray(s.valueStart, s.end)).read() : undefined;
}

function str(v: Typed): string | undefined {
  if (v === undefined || v === null) return undefined;
  const u = types.unwrap(v);
  if (u === undefined || u === null) return undefined;
  return Buffer.isBuffer(u) ? u.toString("hex") : String(u);
}

function appPairs(bare: Buffer): Array<[Typed, Typed]> {
  const items: Typed[] = read(bare, SECTION.applicationProperties)?.value ?? [];
  const out: Array<[Typed, Typed]> = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push([items[i], items[i + 1]]);
  return out;
}

/** The message as filters and actions see it. */
export function filterMessageOf(m: StoredMessage): FilterMessage {
  const props: Typed[] = read(m.bare, SECTION.properties)?.value ?? [];
  const properties: Record<string, unknown> = {};
  for (const [k, v] of appPairs(m.bare)) properties[String(k.value)] = types.unwrap(v);
  let partitionKey: string | undefined;
  for (const [k, v] of decodeAnnotations(splitStoredHeader(m.annotations).annotations))
    if (k.value === "x-opt-partition-key") partitionKey = str(v);
  const start = m.scheduledAt ?? m.enqueuedAt;
  return {
    system: {
      messageId: str(props[0]),
      to: str(props[2]),
      label: str(props[3]),
      replyTo: str(props[4]),
      correlationId: str(props[5]),
      contentType: str(props[6]),
      sessionId: str(props[10]),
      replyToSessionId: str(props[12]),
      deliveryCount: m.deliveryCount,
      enqueuedTimeUtc: new Date(m.enqueuedAt),
      scheduledEnqueueTimeUtc: m.scheduledAt === undefined ? undefined : new Date(m.scheduledAt),
      sequenceNumber: m.seq,
      enqueuedSequenceNumber: m.seq,
      timeToLive: m.expiresAt === undefined ? undefined : m.expiresAt - start,
      expiresAtUtc: m.expiresAt === undefined ? undefined : new Date(m.expiresAt),
      partitionKey,
      size: m.size,
    },
    properties,
  };
}

function toTyped(v: unknown): Typed {
  if (typeof v === "bigint") {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    return types.wrap_long(b);
  }
  if (typeof v === "number" && Number.isInteger(v)) return types.wrap_long(v);
  if (v instanceof Date) return types.wrap_timestamp(v.getTime());
  return types.wrap(v);
}

/**
 * The bare message with its application properties replaced by `properties` (what a rule action left):
 * values the action did not change keep their AMQP types, new and changed ones are encoded from JS values.
 */
export function withReplacedProperties(bare: Buffer, properties: Record<string, unknown>): Buffer {
  const spans = splitSections(bare);
  const app = spans.find((s) => s.code === SECTION.applicationProperties);
  const old = new Map(appPairs(bare).map(([k, v]) => [String(k.value), [k, v] as [Typed, Typed]]));
  const items: Typed[] = [];
  for (const [k, v] of Object.entries(properties)) {
    const was = old.get(k);
    if (was && types.unwrap(was[1]) === v) items.push(was[0], was[1]);
    else items.push(types.wrap_string(k), toTyped(v));
  }
  const w = new types.Writer();
  w.write(types.described(types.wrap_ulong(SECTION.applicationProperties), types.Map32(items)));
  const section: Buffer = w.toBuffer();
  if (app) return Buffer.concat([bare.subarray(0, app.start), section, bare.subarray(app.end)]);
  const after = spans.find((s) => s.code > SECTION.applicationProperties)?.start ?? bare.length;
  return Buffer.concat([bare.subarray(0, after), section, bare.subarray(after)]);
}

/** Properties-section fields a rule action can set (`SET sys.Label = ...`), by FilterMessage name and position. */
type SystemKey = keyof FilterMessage["system"];
const SYSTEM_FIELDS: Array<[SystemKey, number]> = [
  ["messageId", 0],
  ["to", 2],
  ["label", 3],
  ["replyTo", 4],
  ["correlationId", 5],
  ["contentType", 6],
  ["sessionId", 10],
  ["replyToSessionId", 12],
];

/** The system fields an action changed (compared with what the filters saw); empty if none. */
export function changedSystemFields(before: FilterMessage, after: FilterMessage): Partial<Record<SystemKey, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name] of SYSTEM_FIELDS) if (after.system[name] !== before.system[name]) out[name] = after.system[name];
  return out;
}

/** The bare message with properties-section fields replaced (`changed` from changedSystemFields). */
export function withSystemFields(bare: Buffer, changed: Partial<Record<SystemKey, unknown>>): Buffer {
  const spans = splitSections(bare);
  const props = spans.find((s) => s.code === SECTION.properties);
  const fields: Typed[] = props ? [...(read(bare, SECTION.properties)?.value ?? [])] : [];
  for (const [name, index] of SYSTEM_FIELDS) {
    if (!(name in changed)) continue;
    const v = changed[name];
    if (v === undefined || v === null) fields[index] = null;
    else fields[index] = name === "contentType" ? types.wrap_symbol(String(v)) : types.wrap_string(String(v));
  }
  for (let i = 0; i < fields.length; i++) if (fields[i] === undefined) fields[i] = null;
  const w = new types.Writer();
  w.write(types.described(types.wrap_ulong(SECTION.properties), types.wrap_list(fields)));
  const section: Buffer = w.toBuffer();
  if (props) return Buffer.concat([bare.subarray(0, props.start), section, bare.subarray(props.end)]);
  return Buffer.concat([section, bare]);
}
