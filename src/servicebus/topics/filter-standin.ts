// Stand-in for src/servicebus/filters (the SQL filter language, written separately): the same API with
// true, false and correlation filters; SQL filters other than the trivial 1=1 / 1=0 are refused. Deleted
// when the real module lands.

export interface FilterSystem {
  messageId?: string;
  correlationId?: string;
  to?: string;
  replyTo?: string;
  label?: string;
  sessionId?: string;
  replyToSessionId?: string;
  contentType?: string;
  deliveryCount?: number;
  enqueuedTimeUtc?: Date;
  sequenceNumber?: number;
  [key: string]: unknown;
}

export interface FilterMessage {
  system: FilterSystem;
  properties: Record<string, unknown>;
}

export type RuleFilter =
  | { type: "true" }
  | { type: "false" }
  | { type: "sql"; expression: string; parameters?: Record<string, unknown> }
  | {
      type: "correlation";
      correlationId?: string;
      messageId?: string;
      to?: string;
      replyTo?: string;
      subject?: string;
      sessionId?: string;
      replyToSessionId?: string;
      contentType?: string;
      properties?: Record<string, unknown>;
    };

export type RuleAction = { type: "sql"; expression: string; parameters?: Record<string, unknown> };

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterError";
  }
}

const CORRELATION_FIELDS = [
  ["correlationId", "correlationId"],
  ["messageId", "messageId"],
  ["to", "to"],
  ["replyTo", "replyTo"],
  ["subject", "label"],
  ["sessionId", "sessionId"],
  ["replyToSessionId", "replyToSessionId"],
  ["contentType", "contentType"],
] as const;

export function compileFilter(filter: RuleFilter): (m: FilterMessage) => boolean {
  if (filter.type === "true") return () => true;
  if (filter.type === "false") return () => false;
  if (filter.type === "sql") {
    const e = filter.expression.replace(/\s+/g, "").toLowerCase();
    if (e === "1=1" || e === "true") return () => true;
    if (e === "1=0" || e === "false") return () => false;
    throw new FilterError(`The SQL filter '${filter.expression}' is not supported yet.`);
  }
  const f = filter;
  return (m) => {
    for (const [key, sys] of CORRELATION_FIELDS) {
      const want = f[key];
      if (want !== undefined && want !== null && String(m.system[sys] ?? "") !== want) return false;
    }
    for (const [k, v] of Object.entries(f.properties ?? {})) {
      if (!(k in m.properties) || !sameValue(m.properties[k], v)) return false;
    }
    return true;
  };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === "bigint" || typeof b === "bigint") return String(a) === String(b);
  return a === b;
}

export function compileAction(action: RuleAction): (m: FilterMessage) => FilterMessage {
  const set = /^\s*set\s+([A-Za-z_][\w.]*)\s*=\s*'([^']*)'\s*$/i.exec(action.expression);
  if (!set) throw new FilterError(`The SQL action '${action.expression}' is not supported yet.`);
  const [, name, value] = set;
  const sys = /^sys\.(\w+)$/i.exec(name);
  if (sys) {
    const field = SYSTEM_NAMES[sys[1].toLowerCase()];
    if (!field) throw new FilterError(`'${name}' cannot be set.`);
    return (m) => ({ system: { ...m.system, [field]: value }, properties: m.properties });
  }
  const key = name.replace(/^user\./i, "");
  return (m) => ({ system: m.system, properties: { ...m.properties, [key]: value } });
}

const SYSTEM_NAMES: Record<string, string> = {
  label: "label",
  subject: "label",
  to: "to",
  replyto: "replyTo",
  correlationid: "correlationId",
  contenttype: "contentType",
  messageid: "messageId",
  sessionid: "sessionId",
  replytosessionid: "replyToSessionId",
};
