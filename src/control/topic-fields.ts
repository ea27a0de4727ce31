// Topics, subscriptions and rules as plan/apply fields: durations in ISO-8601 and rules in ARM's shape, so a
// declared rule and a served one compare field by field (docs/configuration.md, plan and apply).
import { formatDuration } from "../model/duration.js";
import type { RuleConfig } from "../model/config.js";
import { ruleFromConfig, type RuleDescription } from "../servicebus/topics/rules.js";

type Obj = Record<string, unknown>;

/** Durations (`...Ms` fields) as ISO-8601; unset optional fields left out. */
export function entityFields(props: object): Obj {
  return Object.fromEntries(
    Object.entries(props)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => (k.endsWith("Ms") && typeof v === "number" ? [k.slice(0, -2), formatDuration(v)] : [k, v])),
  );
}

const CORRELATION_ARM: Record<string, string> = {
  correlationId: "correlationId",
  messageId: "messageId",
  to: "to",
  replyTo: "replyTo",
  subject: "label",
  sessionId: "sessionId",
  replyToSessionId: "replyToSessionId",
  contentType: "contentType",
};

/** A rule's fields in ARM's names (filterType, sqlFilter.sqlExpression, correlationFilter.label, action...). */
export function ruleFields(r: Pick<RuleDescription, "filter" | "action">): Obj {
  const out: Obj = {};
  const f = r.filter as Obj & { type: string };
  if (f.type === "correlation") {
    out.filterType = "CorrelationFilter";
    for (const [k, arm] of Object.entries(CORRELATION_ARM))
      if (f[k] !== undefined) out[`correlationFilter.${arm}`] = f[k];
    for (const [k, v] of Object.entries((f.properties as Obj | undefined) ?? {}))
      out[`correlationFilter.properties.${k}`] = v;
  } else {
    out.filterType = "SqlFilter";
    out["sqlFilter.sqlExpression"] = f.type === "true" ? "1=1" : f.type === "false" ? "1=0" : f.expression;
  }
  if (r.action) out["action.sqlExpression"] = r.action.expression;
  return out;
}

export const configRuleFields = (r: RuleConfig): Obj => ruleFields(ruleFromConfig(r));
