// Turning a parsed rule into closures over a message. Names, scopes and the system property table are described
// in docs/servicebus-filters.md ("Names and scopes", "System properties"); the three-valued logic in "Unknown values".
import { randomUUID } from "node:crypto";
import { FilterError, lexToken, type ExprNode, type PredNode, type PropNode } from "./parser.js";
import {
  FilterEvaluationError,
  TimeSpan,
  arithmetic,
  checkEscape,
  compare,
  equals,
  inLongRange,
  like,
  negate,
  toValue,
  type FilterMessage,
  type Value,
} from "./values.js";

type SystemKey = keyof FilterMessage["system"];
interface SystemProperty {
  key: SystemKey;
  /** how a value is kept on the message, when an action may set it */
  settable?: "string" | "date" | "timespan";
}

/** System properties by their lower-cased Service Bus name. */
export const SYSTEM_PROPERTIES: ReadonlyMap<string, SystemProperty> = new Map<string, SystemProperty>([
  ["messageid", { key: "messageId", settable: "string" }],
  ["correlationid", { key: "correlationId", settable: "string" }],
  ["to", { key: "to", settable: "string" }],
  ["replyto", { key: "replyTo", settable: "string" }],
  ["label", { key: "label", settable: "string" }],
  ["subject", { key: "label", settable: "string" }],
  ["sessionid", { key: "sessionId", settable: "string" }],
  ["replytosessionid", { key: "replyToSessionId", settable: "string" }],
  ["contenttype", { key: "contentType", settable: "string" }],
  ["partitionkey", { key: "partitionKey", settable: "string" }],
  ["viapartitionkey", { key: "viaPartitionKey", settable: "string" }],
  ["scheduledenqueuetimeutc", { key: "scheduledEnqueueTimeUtc", settable: "date" }],
  ["timetolive", { key: "timeToLive", settable: "timespan" }],
  ["deliverycount", { key: "deliveryCount" }],
  ["enqueuedtimeutc", { key: "enqueuedTimeUtc" }],
  ["sequencenumber", { key: "sequenceNumber" }],
  ["enqueuedsequencenumber", { key: "enqueuedSequenceNumber" }],
  ["expiresatutc", { key: "expiresAtUtc" }],
  ["locktoken", { key: "lockToken" }],
  ["lockeduntilutc", { key: "lockedUntilUtc" }],
  ["size", { key: "size" }],
  ["deadlettersource", { key: "deadLetterSource" }],
]);

export type Eval = (m: FilterMessage) => Value;
export type Test = (m: FilterMessage) => boolean | null;

export interface CompileContext {
  source: string;
  parameters: Record<string, unknown>;
}

export function systemProperty(ctx: CompileContext, p: PropNode): SystemProperty {
  const sys = SYSTEM_PROPERTIES.get(p.name.toLowerCase());
  if (!sys) {
    throw FilterError.at(
      ctx.source,
      p.at,
      `the system property 'sys.${p.name}' does not exist or is not allowed`,
      lexToken(ctx.source, p.at).text + "." + p.name,
    );
  }
  return sys;
}

/** The key of a user property on a message: an exact match first, then one that differs only in case. */
export function findUserKey(properties: Record<string, unknown>, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(properties, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(properties).find((k) => k.toLowerCase() === lower);
}

function readSystem(m: FilterMessage, key: SystemKey): Value {
  const v = m.system[key];
  if (key === "timeToLive" && typeof v === "number") return new TimeSpan(v);
  return toValue(v);
}

function readUser(m: FilterMessage, name: string): Value {
  const key = findUserKey(m.properties, name);
  return key === undefined ? null : toValue(m.properties[key]);
}

function compileProperty(ctx: CompileContext, p: PropNode): Eval {
  if (p.scope === "sys") {
    const { key } = systemProperty(ctx, p);
    return (m) => readSystem(m, key);
  }
  const name = p.name;
  return (m) => readUser(m, name);
}

function parameter(ctx: CompileContext, name: string, at: number): Value {
  const params = ctx.parameters;
  const wanted = [`@${name}`, name];
  for (const w of wanted) if (Object.prototype.hasOwnProperty.call(params, w)) return toValue(params[w]);
  const lower = wanted.map((w) => w.toLowerCase());
  const key = Object.keys(params).find((k) => lower.includes(k.toLowerCase()));
  if (key !== undefined) return toValue(params[key]);
  throw FilterError.at(ctx.source, at, `the parameter '@${name}' is not defined`);
}

/** property('name') at evaluation time: 'sys.X' and 'user.X' pick the scope, a bare name is a user property. */
function dynamicProperty(m: FilterMessage, name: Value): Value {
  if (name === null) return null;
  if (typeof name !== "string") {
    throw new FilterEvaluationError(`property() needs a String name, not '${String(name)}'`);
  }
  const dot = name.indexOf(".");
  const scope = dot > 0 ? name.slice(0, dot).toLowerCase() : "";
  if (scope === "sys") {
    const sys = SYSTEM_PROPERTIES.get(name.slice(dot + 1).toLowerCase());
    if (!sys) throw new FilterEvaluationError(`the system property '${name}' does not exist or is not allowed`);
    return readSystem(m, sys.key);
  }
  return readUser(m, scope === "user" ? name.slice(dot + 1) : name);
}

export function compileExpression(ctx: CompileContext, e: ExprNode): Eval {
  switch (e.k) {
    case "const": {
      if (typeof e.v === "bigint" && !inLongRange(e.v)) {
        throw FilterError.at(
          ctx.source,
          e.at ?? 0,
          `the integer constant ${e.folded ? "-" : ""}${e.text} is out of the Int64 range`,
        );
      }
      const v = e.v;
      return () => v;
    }
    case "prop":
      return compileProperty(ctx, e);
    case "param": {
      const v = parameter(ctx, e.name, e.at);
      return () => v;
    }
    case "neg":
    case "pos": {
      const inner = compileExpression(ctx, e.e);
      const op = e.k === "neg" ? "-" : "+";
      return (m) => negate(op, inner(m));
    }
    case "bin": {
      const l = compileExpression(ctx, e.l);
      const r = compileExpression(ctx, e.r);
      const op = e.op;
      return (m) => arithmetic(op, l(m), r(m));
    }
    case "fn": {
      const args = e.args.map((a) => compileExpression(ctx, a));
      if (e.name === "newid") {
        if (args.length !== 0) throw FilterError.at(ctx.source, e.at, "newid() takes no arguments");
        return () => randomUUID();
      }
      if (args.length !== 1) throw FilterError.at(ctx.source, e.at, `${e.name}() takes one argument: a property name`);
      const [name] = args;
      return (m) => dynamicProperty(m, name(m));
    }
  }
}

/** Three-valued AND/OR/NOT, with null for unknown. */
export function compilePredicate(ctx: CompileContext, p: PredNode): Test {
  switch (p.k) {
    case "and": {
      const l = compilePredicate(ctx, p.l);
      const r = compilePredicate(ctx, p.r);
      return (m) => {
        const a = l(m);
        if (a === false) return false;
        const b = r(m);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    }
    case "or": {
      const l = compilePredicate(ctx, p.l);
      const r = compilePredicate(ctx, p.r);
      return (m) => {
        const a = l(m);
        if (a === true) return true;
        const b = r(m);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    }
    case "not": {
      const inner = compilePredicate(ctx, p.p);
      return (m) => {
        const v = inner(m);
        return v === null ? null : !v;
      };
    }
    case "exists": {
      if (p.prop.scope === "sys") {
        const { key } = systemProperty(ctx, p.prop);
        return (m) => m.system[key] !== undefined && m.system[key] !== null;
      }
      const name = p.prop.name;
      return (m) => findUserKey(m.properties, name) !== undefined;
    }
    case "isnull": {
      const v = compileProperty(ctx, p.prop);
      const neg = p.neg;
      return (m) => (v(m) === null) !== neg;
    }
    case "cmp": {
      const l = compileExpression(ctx, p.l);
      const r = compileExpression(ctx, p.r);
      const op = p.op;
      return (m) => compare(op, l(m), r(m));
    }
    case "in": {
      const l = compileExpression(ctx, p.l);
      const list = p.list.map((e) => compileExpression(ctx, e));
      const neg = p.neg;
      return (m) => {
        const v = l(m);
        if (v === null) return null;
        const found = list.some((e) => {
          const x = e(m);
          return x !== null && equals(v, x);
        });
        return found !== neg;
      };
    }
    case "like": {
      const l = compileExpression(ctx, p.l);
      const pattern = compileExpression(ctx, p.pattern);
      const esc = p.esc ? compileExpression(ctx, p.esc) : undefined;
      if (p.esc?.k === "const" && p.esc.v !== null) {
        try {
          checkEscape(p.esc.v as Value);
        } catch (e) {
          throw FilterError.at(ctx.source, p.at, (e as Error).message);
        }
      }
      const neg = p.neg;
      return (m) => {
        const v = like(l(m), pattern(m), esc ? esc(m) : undefined);
        return v === null ? null : v !== neg;
      };
    }
  }
}
