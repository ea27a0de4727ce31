// The Service Bus rule language: SQL filters, correlation filters, true/false filters and SQL actions, compiled
// into functions over a message. Pure: no broker state. docs/servicebus-filters.md describes the language as
// implemented here, with the choices made where the service's documentation is silent.
import {
  FilterError,
  MAX_ACTION_STATEMENTS,
  MAX_EXPRESSION_LENGTH,
  parseAction,
  parseFilter,
  type StatementNode,
} from "./parser.js";
import {
  compileExpression,
  compilePredicate,
  findUserKey,
  systemProperty,
  type CompileContext,
  type Eval,
} from "./evaluate.js";
import {
  FilterEvaluationError,
  TimeSpan,
  equals,
  fromValue,
  toValue,
  typeName,
  type FilterMessage,
  type Value,
} from "./values.js";

export { FilterError, FilterEvaluationError, TimeSpan, MAX_EXPRESSION_LENGTH, MAX_ACTION_STATEMENTS };
export type { FilterMessage };

export interface CorrelationFilter {
  type: "correlation";
  correlationId?: string;
  messageId?: string;
  to?: string;
  replyTo?: string;
  subject?: string;
  /** the older name of `subject`; either may be given */
  label?: string;
  sessionId?: string;
  replyToSessionId?: string;
  contentType?: string;
  properties?: Record<string, unknown>;
}

export type RuleFilter =
  | { type: "true" }
  | { type: "false" }
  | { type: "sql"; expression: string; parameters?: Record<string, unknown>; compatibilityLevel?: number }
  | CorrelationFilter;

export interface RuleAction {
  type: "sql";
  expression: string;
  parameters?: Record<string, unknown>;
  compatibilityLevel?: number;
}

/** The only compatibility level the service knows (docs/servicebus-filters.md, "Limits"). */
export const COMPATIBILITY_LEVEL = 20;

function checkCompatibility(level: number | undefined): void {
  if (level !== undefined && level !== COMPATIBILITY_LEVEL) {
    throw new FilterError(`compatibilityLevel must be ${COMPATIBILITY_LEVEL}, not ${level}`, 1, 0, "");
  }
}

/**
 * Compiles a rule filter into a predicate. Throws FilterError for an expression the service would refuse. The
 * predicate throws FilterEvaluationError when a message makes the expression fail (a type mismatch, a division
 * by zero): the service then dead-letters the message if the subscription asks for that, else skips the rule.
 */
export function compileFilter(f: RuleFilter): (m: FilterMessage) => boolean {
  switch (f.type) {
    case "true":
      return () => true;
    case "false":
      return () => false;
    case "sql": {
      checkCompatibility(f.compatibilityLevel);
      const ctx: CompileContext = { source: f.expression, parameters: f.parameters ?? {} };
      const test = compilePredicate(ctx, parseFilter(f.expression));
      return (m) => test(m) === true;
    }
    case "correlation":
      return compileCorrelation(f);
    default:
      throw new FilterError(`unknown filter type '${String((f as { type: unknown }).type)}'`, 1, 0, "");
  }
}

const CORRELATION_FIELDS = [
  ["correlationId", "correlationId"],
  ["messageId", "messageId"],
  ["to", "to"],
  ["replyTo", "replyTo"],
  ["subject", "label"],
  ["label", "label"],
  ["sessionId", "sessionId"],
  ["replyToSessionId", "replyToSessionId"],
  ["contentType", "contentType"],
] as const;

function compileCorrelation(f: CorrelationFilter): (m: FilterMessage) => boolean {
  const system: [keyof FilterMessage["system"], string][] = [];
  for (const [field, key] of CORRELATION_FIELDS) {
    const v = f[field];
    if (v !== undefined && v !== null) system.push([key, String(v)]);
  }
  const user = Object.entries(f.properties ?? {}).map(([k, v]) => [k, toValue(v)] as [string, Value]);
  if (system.length === 0 && user.length === 0) {
    throw new FilterError(
      "a correlation filter needs at least one system property or application property to match",
      1,
      0,
      "",
    );
  }
  return (m) => {
    for (const [key, want] of system) if (m.system[key] !== want) return false;
    for (const [name, want] of user) {
      const k = findUserKey(m.properties, name);
      if (k === undefined) return false;
      const have = toValue(m.properties[k]);
      if (want === null ? have !== null : have === null || !equals(have, want)) return false;
    }
    return true;
  };
}

type Step = (m: FilterMessage) => void;

/**
 * Compiles a SQL rule action. The returned function leaves its argument alone and returns a modified copy;
 * statements run in order, each seeing what the ones before it set. Throws FilterError for an expression the
 * service would refuse; the returned function throws FilterEvaluationError when a message makes it fail.
 */
export function compileAction(a: RuleAction): (m: FilterMessage) => FilterMessage {
  if (a.type !== "sql") throw new FilterError(`unknown action type '${String(a.type)}'`, 1, 0, "");
  checkCompatibility(a.compatibilityLevel);
  const ctx: CompileContext = { source: a.expression, parameters: a.parameters ?? {} };
  const steps = parseAction(a.expression).map((s) => compileStatement(ctx, s));
  return (m) => {
    const copy: FilterMessage = { system: { ...m.system }, properties: { ...m.properties } };
    for (const step of steps) step(copy);
    return copy;
  };
}

function compileStatement(ctx: CompileContext, s: StatementNode): Step {
  const prop = s.prop;
  if (prop.scope === "sys") {
    const sys = systemProperty(ctx, prop);
    if (!sys.settable) {
      throw FilterError.at(
        ctx.source,
        prop.at,
        `the system property 'sys.${prop.name}' cannot be changed by an action`,
      );
    }
    const system = sys;
    if (s.k === "remove") return (m) => void delete m.system[system.key];
    const value = compileExpression(ctx, s.e);
    return (m) => setSystem(m, system.key, system.settable!, value(m), prop.name);
  }
  const name = prop.name;
  if (s.k === "remove") {
    return (m) => {
      const key = findUserKey(m.properties, name);
      if (key !== undefined) delete m.properties[key];
    };
  }
  const value: Eval = compileExpression(ctx, s.e);
  return (m) => {
    // an existing property keeps the spelling of its name; a new one takes the name as written
    const key = findUserKey(m.properties, name) ?? name;
    m.properties[key] = fromValue(value(m));
  };
}

function setSystem(m: FilterMessage, key: keyof FilterMessage["system"], kind: string, v: Value, name: string): void {
  if (v === null) {
    delete m.system[key];
    return;
  }
  const sys = m.system as Record<string, unknown>;
  if (kind === "string") {
    sys[key] = typeof v === "string" ? v : String(fromValue(v));
  } else if (kind === "date" && v instanceof Date) {
    sys[key] = v;
  } else if (kind === "timespan" && v instanceof TimeSpan) {
    sys[key] = v.milliseconds;
  } else {
    throw new FilterEvaluationError(`cannot set 'sys.${name}' to a value of type '${typeName(v)}'`);
  }
}
