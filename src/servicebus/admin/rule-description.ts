// RuleDescription: a subscription rule as the admin API shows and takes it — SqlFilter (with typed
// Parameters), CorrelationFilter (with typed Properties), TrueFilter / FalseFilter, and SqlRuleAction /
// EmptyRuleAction. Typed values are `KeyValueOfstringanyType` elements whose <Value> carries an xsi:type
// from XML Schema (string, int, long, double, boolean, dateTime, …).
import type { RuleAction, RuleDescription, RuleFilter } from "../topics/rules.js";
import { el, entry, iso, SB_NS, XSI_NS, type Origin } from "./atom.js";
import { AdminError, invalid, xsiType } from "./fields.js";
import { child, children, escapeXml, type XmlElement } from "./xml.js";

const XSD_NS = "http://www.w3.org/2001/XMLSchema";
/** the SQL compatibility level the service reports */
const COMPATIBILITY_LEVEL = 20;
const RULE_NAME = /^[^/\\?#]{1,50}$/;

type Correlation = Extract<RuleFilter, { type: "correlation" }>;
const CORRELATION_FIELDS: Array<[string, keyof Correlation]> = [
  ["CorrelationId", "correlationId"],
  ["MessageId", "messageId"],
  ["To", "to"],
  ["ReplyTo", "replyTo"],
  ["Label", "subject"],
  ["SessionId", "sessionId"],
  ["ReplyToSessionId", "replyToSessionId"],
  ["ContentType", "contentType"],
];

export function subscriptionPath(topic: string, name: string): string {
  return `${topic}/Subscriptions/${name}`;
}

export function rulePath(topic: string, subscription: string, name: string): string {
  return `${subscriptionPath(topic, subscription)}/Rules/${name}`;
}

export function checkRuleName(name: string): void {
  if (!RULE_NAME.test(name)) {
    throw new AdminError(
      "ArgumentError",
      `The rule name '${name}' is invalid: expected 1 to 50 characters without '/', '\\', '?' or '#'.`,
    );
  }
}

// --- reading -------------------------------------------------------------------------------------

function typedValue(prop: string, key: string, v: XmlElement | undefined): unknown {
  const type = v ? (xsiType(v) ?? "string") : "string";
  const text = v?.text ?? "";
  const bad = (expected: string) => invalid(`${prop}['${key}']`, text, expected);
  switch (type) {
    case "string":
      return text;
    case "boolean":
      if (text.trim() !== "true" && text.trim() !== "false") throw bad("true or false");
      return text.trim() === "true";
    case "int":
    case "short":
    case "byte":
    case "unsignedShort":
    case "unsignedByte":
    case "long":
    case "unsignedInt":
    case "unsignedLong": {
      if (!/^\s*-?\d+\s*$/.test(text)) throw bad(`an integer (${type})`);
      // the rule language's types: a long is a bigint, anything narrower a number (docs/servicebus-filters.md)
      return type === "long" || type === "unsignedInt" || type === "unsignedLong" ? BigInt(text.trim()) : Number(text);
    }
    case "double":
    case "float":
    case "decimal": {
      const n = Number(text.trim());
      if (text.trim() === "" || Number.isNaN(n)) throw bad(`a number (${type})`);
      return n;
    }
    case "dateTime": {
      const d = new Date(text.trim());
      if (Number.isNaN(d.getTime())) throw bad("an ISO-8601 date and time");
      return d;
    }
    default:
      throw bad("a value of type string, int, long, double, boolean or dateTime");
  }
}

function keyValues(prop: string, el: XmlElement | undefined): Record<string, unknown> | undefined {
  const pairs = children(el, "KeyValueOfstringanyType");
  if (!pairs.length) return undefined;
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const key = child(p, "Key")?.text ?? "";
    if (!key) throw invalid(prop, "", "keys that are not empty");
    out[key] = typedValue(prop, key, child(p, "Value"));
  }
  return out;
}

function parseFilter(f: XmlElement | undefined): RuleFilter {
  const type = f ? (xsiType(f) ?? (child(f, "SqlExpression") ? "SqlFilter" : "CorrelationFilter")) : "TrueFilter";
  switch (type) {
    case "TrueFilter":
      return { type: "true" };
    case "FalseFilter":
      return { type: "false" };
    case "SqlFilter": {
      const expression = child(f, "SqlExpression")?.text ?? "";
      if (!expression.trim()) throw invalid("SqlFilter.SqlExpression", expression, "a SQL filter expression");
      const parameters = keyValues("SqlFilter.Parameters", child(f, "Parameters"));
      return parameters ? { type: "sql", expression, parameters } : { type: "sql", expression };
    }
    case "CorrelationFilter": {
      const out: Correlation = { type: "correlation" };
      for (const [xml, key] of CORRELATION_FIELDS) {
        const v = child(f, xml);
        if (v) (out as unknown as Record<string, unknown>)[key] = v.text;
      }
      const properties = keyValues("CorrelationFilter.Properties", child(f, "Properties"));
      if (properties) out.properties = properties;
      return out;
    }
    default:
      throw invalid("Filter", type, "a SqlFilter, CorrelationFilter, TrueFilter or FalseFilter");
  }
}

function parseAction(a: XmlElement | undefined): RuleAction | undefined {
  const type = a
    ? (xsiType(a) ?? (child(a, "SqlExpression") ? "SqlRuleAction" : "EmptyRuleAction"))
    : "EmptyRuleAction";
  if (type === "EmptyRuleAction") return undefined;
  if (type !== "SqlRuleAction") throw invalid("Action", type, "a SqlRuleAction or EmptyRuleAction");
  const expression = child(a, "SqlExpression")?.text ?? "";
  if (!expression.trim()) throw invalid("SqlRuleAction.SqlExpression", expression, "a SQL action expression");
  const parameters = keyValues("SqlRuleAction.Parameters", child(a, "Parameters"));
  return parameters ? { type: "sql", expression, parameters } : { type: "sql", expression };
}

/**
 * Reads a RuleDescription (or a subscription's DefaultRuleDescription). The rule is named by the request
 * path when there is one (`name`), else by its <Name>, else $Default.
 */
export function parseRule(desc: XmlElement | undefined, name: string | undefined): Omit<RuleDescription, "createdAt"> {
  const ruleName = name ?? (child(desc, "Name")?.text.trim() || "$Default");
  checkRuleName(ruleName);
  const action = parseAction(child(desc, "Action"));
  const filter = parseFilter(child(desc, "Filter"));
  return action ? { name: ruleName, filter, action } : { name: ruleName, filter };
}

// --- writing -------------------------------------------------------------------------------------

function valueXml(v: unknown): string {
  let type: string;
  let text: string;
  if (typeof v === "boolean") [type, text] = ["boolean", String(v)];
  else if (typeof v === "bigint") [type, text] = ["long", String(v)];
  else if (typeof v === "number") [type, text] = ["double", String(v)];
  else if (v instanceof Date) [type, text] = ["dateTime", v.toISOString()];
  else [type, text] = ["string", String(v)];
  return `<Value i:type="d6p1:${type}" xmlns:d6p1="${XSD_NS}">${escapeXml(text)}</Value>`;
}

function keyValuesXml(name: string, values: Record<string, unknown> | undefined): string {
  const entries = Object.entries(values ?? {});
  if (!entries.length) return "";
  const body = entries
    .map(([k, v]) => `<KeyValueOfstringanyType><Key>${escapeXml(k)}</Key>${valueXml(v)}</KeyValueOfstringanyType>`)
    .join("");
  return `<${name}>${body}</${name}>`;
}

function sqlXml(expression: string, parameters?: Record<string, unknown>, level?: number): string {
  return (
    el("SqlExpression", expression) +
    el("CompatibilityLevel", level ?? COMPATIBILITY_LEVEL) +
    keyValuesXml("Parameters", parameters)
  );
}

function filterXml(f: RuleFilter): string {
  switch (f.type) {
    case "true":
      return `<Filter i:type="TrueFilter">${sqlXml("1=1")}</Filter>`;
    case "false":
      return `<Filter i:type="FalseFilter">${sqlXml("1=0")}</Filter>`;
    case "sql":
      return `<Filter i:type="SqlFilter">${sqlXml(f.expression, f.parameters, f.compatibilityLevel)}</Filter>`;
    case "correlation": {
      const subject = f.subject ?? f.label;
      const fields = CORRELATION_FIELDS.map(([xml, key]) =>
        el(xml, key === "subject" ? subject : (f[key] as string | undefined)),
      ).join("");
      return `<Filter i:type="CorrelationFilter">${fields}${keyValuesXml("Properties", f.properties)}</Filter>`;
    }
  }
}

function actionXml(a: RuleAction | undefined): string {
  if (!a) return `<Action i:type="EmptyRuleAction"/>`;
  return `<Action i:type="SqlRuleAction">${sqlXml(a.expression, a.parameters, a.compatibilityLevel)}</Action>`;
}

export function ruleDescription(r: RuleDescription): string {
  return (
    `<RuleDescription xmlns="${SB_NS}" xmlns:i="${XSI_NS}">` +
    filterXml(r.filter) +
    actionXml(r.action) +
    el("CreatedAt", iso(r.createdAt)) +
    el("Name", r.name) +
    "</RuleDescription>"
  );
}

export function ruleEntry(origin: Origin, topic: string, subscription: string, r: RuleDescription): string {
  return entry(
    origin,
    rulePath(topic, subscription, r.name),
    r.name,
    { published: r.createdAt, updated: r.createdAt },
    ruleDescription(r),
  );
}
