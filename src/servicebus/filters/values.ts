// The values rule expressions compute with, and the operators on them. The typing rules (integers are 64-bit
// longs, other numbers doubles, unknown propagation, what happens on a type mismatch) are described in
// docs/servicebus-filters.md, "Types" and "Unknown values".

/** A duration, as the service's TimeSpan: what subtracting two times gives, and the type of sys.TimeToLive. */
export class TimeSpan {
  constructor(readonly milliseconds: number) {}
  toString(): string {
    return `${this.milliseconds}ms`;
  }
}

/** A value during evaluation. `null` is both NULL and unknown; bigint is a long; number is a double. */
export type Value = null | string | boolean | bigint | number | Date | TimeSpan | Uint8Array | OtherValue;
/** A value of a type the language has no operators for (a list, a map, …): it can only be tested for existence. */
export class OtherValue {
  constructor(readonly value: unknown) {}
}

/** A failure while evaluating a rule against one message (a type mismatch, a division by zero, …). */
export class FilterEvaluationError extends Error {
  override name = "FilterEvaluationError";
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function inLongRange(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** A message or parameter value as the language sees it. */
export function toValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "bigint":
      return BigInt.asIntN(64, v);
    case "number":
      // integral numbers are longs (an AMQP int/long decodes to one); others are doubles
      return Number.isSafeInteger(v) ? BigInt(v) : v;
  }
  if (v instanceof Date || v instanceof TimeSpan || v instanceof Uint8Array) return v;
  if (isLongLike(v)) {
    const big = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return v.unsigned ? big : BigInt.asIntN(64, big);
  }
  return new OtherValue(v);
}

function isLongLike(v: unknown): v is { low: number; high: number; unsigned?: boolean } {
  return (
    typeof v === "object" && v !== null && typeof (v as any).low === "number" && typeof (v as any).high === "number"
  );
}

/** A computed value back as a message property value: longs as numbers when they fit, bigint otherwise. */
export function fromValue(v: Value): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
  if (v instanceof OtherValue) return v.value;
  return v;
}

export function typeName(v: Value): string {
  if (v === null) return "Null";
  switch (typeof v) {
    case "string":
      return "String";
    case "boolean":
      return "Boolean";
    case "bigint":
      return "Int64";
    case "number":
      return "Double";
  }
  if (v instanceof Date) return "DateTime";
  if (v instanceof TimeSpan) return "TimeSpan";
  if (v instanceof Uint8Array) return "Byte[]";
  return "Object";
}

function isNumeric(v: Value): v is bigint | number {
  return typeof v === "bigint" || typeof v === "number";
}

/** C#'s ToString for the types string concatenation meets. */
function text(v: Value): string {
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

function mismatch(op: string, l: Value, r: Value): FilterEvaluationError {
  return new FilterEvaluationError(
    `Operator '${op}' cannot be applied to operands of type '${typeName(l)}' and '${typeName(r)}'`,
  );
}

export function arithmetic(op: "+" | "-" | "*" | "/" | "%", l: Value, r: Value): Value {
  if (l === null || r === null) return null;
  if (typeof l === "bigint" && typeof r === "bigint") {
    switch (op) {
      case "+":
        return BigInt.asIntN(64, l + r);
      case "-":
        return BigInt.asIntN(64, l - r);
      case "*":
        return BigInt.asIntN(64, l * r);
      case "/":
      case "%":
        if (r === 0n) throw new FilterEvaluationError("Attempted to divide by zero.");
        // bigint division truncates toward zero and % keeps the dividend's sign, as C# does
        return BigInt.asIntN(64, op === "/" ? l / r : l % r);
    }
  }
  if (isNumeric(l) && isNumeric(r)) {
    const a = Number(l);
    const b = Number(r);
    switch (op) {
      case "+":
        return a + b;
      case "-":
        return a - b;
      case "*":
        return a * b;
      case "/":
        return a / b;
      case "%":
        return a % b;
    }
  }
  if (op === "+" && (typeof l === "string" || typeof r === "string")) return text(l) + text(r);
  if (op === "+" || op === "-") {
    const sign = op === "+" ? 1 : -1;
    if (l instanceof Date && r instanceof TimeSpan) return new Date(l.getTime() + sign * r.milliseconds);
    if (op === "+" && l instanceof TimeSpan && r instanceof Date) return new Date(r.getTime() + l.milliseconds);
    if (op === "-" && l instanceof Date && r instanceof Date) return new TimeSpan(l.getTime() - r.getTime());
    if (l instanceof TimeSpan && r instanceof TimeSpan) return new TimeSpan(l.milliseconds + sign * r.milliseconds);
  }
  throw mismatch(op, l, r);
}

export function negate(op: "-" | "+", v: Value): Value {
  if (v === null) return null;
  if (typeof v === "bigint") return op === "-" ? BigInt.asIntN(64, -v) : v;
  if (typeof v === "number") return op === "-" ? -v : v;
  if (v instanceof TimeSpan) return op === "-" ? new TimeSpan(-v.milliseconds) : v;
  throw new FilterEvaluationError(`Operator '${op}' cannot be applied to operand of type '${typeName(v)}'`);
}

/** -1, 0 or 1; undefined when the two values have no order between them. */
function order(l: Value, r: Value): number | undefined {
  if (typeof l === "bigint" && typeof r === "bigint") return l < r ? -1 : l > r ? 1 : 0;
  if (isNumeric(l) && isNumeric(r)) {
    const a = Number(l);
    const b = Number(r);
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof l === "string" && typeof r === "string") return l < r ? -1 : l > r ? 1 : 0; // ordinal
  if (l instanceof Date && r instanceof Date) return Math.sign(l.getTime() - r.getTime());
  if (l instanceof TimeSpan && r instanceof TimeSpan) return Math.sign(l.milliseconds - r.milliseconds);
  return undefined;
}

/** Equality of two known values: numbers across long/double, strings case-sensitively, others by type. */
export function equals(l: Value, r: Value): boolean {
  if (typeof l === "boolean" || typeof r === "boolean") return l === r;
  if (l instanceof Uint8Array && r instanceof Uint8Array) {
    return l.length === r.length && l.every((b, i) => b === r[i]);
  }
  return order(l, r) === 0;
}

/** A comparison operator: true, false, or null for unknown. */
export function compare(op: string, l: Value, r: Value): boolean | null {
  if (l === null || r === null) return null;
  if (op === "=") return equals(l, r);
  if (op === "<>" || op === "!=") return !equals(l, r);
  const o = order(l, r);
  if (o === undefined) return null; // no order between these types: the condition does not hold
  switch (op) {
    case ">":
      return o > 0;
    case ">=":
      return o >= 0;
    case "<":
      return o < 0;
    default:
      return o <= 0;
  }
}

const likeCache = new Map<string, RegExp>();

/** `value LIKE pattern [ESCAPE esc]`, case-sensitive, `%` any run, `_` any one character. */
export function like(value: Value, pattern: Value, esc: Value | undefined): boolean | null {
  if (value === null || pattern === null || esc === null) return null;
  if (typeof value !== "string" || typeof pattern !== "string") {
    throw new FilterEvaluationError(`LIKE needs String operands, not '${typeName(value)}' LIKE '${typeName(pattern)}'`);
  }
  if (esc !== undefined) checkEscape(esc);
  const key = `${esc ?? ""}\u0000${pattern}`;
  let re = likeCache.get(key);
  if (!re) {
    re = likePattern(pattern, esc as string | undefined);
    if (likeCache.size > 1000) likeCache.clear();
    likeCache.set(key, re);
  }
  return re.test(value);
}

export function checkEscape(esc: Value): void {
  if (typeof esc !== "string" || esc.length !== 1) {
    throw new FilterEvaluationError("the ESCAPE character must be a String of length 1");
  }
}

function likePattern(pattern: string, esc: string | undefined): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (esc !== undefined && c === esc && i + 1 < pattern.length) {
      source += quote(pattern[++i]);
    } else if (c === "%") {
      source += "[\\s\\S]*";
    } else if (c === "_") {
      source += "[\\s\\S]";
    } else {
      source += quote(c);
    }
  }
  return new RegExp(`^${source}$`);
}

function quote(c: string): string {
  return c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/** What a rule sees of a message. System properties by their Service Bus names (Label is the SDKs' Subject). */
export interface FilterMessage {
  system: {
    messageId?: string;
    correlationId?: string;
    to?: string;
    replyTo?: string;
    /** the Subject of today's SDKs */
    label?: string;
    sessionId?: string;
    replyToSessionId?: string;
    contentType?: string;
    partitionKey?: string;
    viaPartitionKey?: string;
    deliveryCount?: number;
    enqueuedTimeUtc?: Date;
    scheduledEnqueueTimeUtc?: Date;
    sequenceNumber?: number | bigint;
    enqueuedSequenceNumber?: number | bigint;
    /** milliseconds; a TimeSpan in expressions */
    timeToLive?: number;
    expiresAtUtc?: Date;
    lockToken?: string;
    lockedUntilUtc?: Date;
    size?: number;
    deadLetterSource?: string;
  };
  /** application properties: string, number, boolean, Date, null, bigint or Long for int64, Buffer, … */
  properties: Record<string, unknown>;
}
