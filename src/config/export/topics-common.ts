// What the az and Terraform exports need of a topic's subscriptions and rules: the properties that differ
// from Service Bus's defaults, and a rule read from the config's Config.json shape (FilterType, SqlFilter,
// CorrelationFilter, Action).
import { formatDuration } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type RuleConfig } from "../../model/config.js";

export interface ExportRule {
  name: string;
  sql?: string;
  /** correlation filter in ARM's names (correlationId, label, ...), with `properties` */
  correlation?: Record<string, string> & { properties?: Record<string, string> };
  action?: string;
}

/** Config.json's correlation keys → ARM's */
const CORRELATION: Record<string, string> = {
  CorrelationId: "correlationId",
  MessageId: "messageId",
  To: "to",
  ReplyTo: "replyTo",
  Label: "label",
  Subject: "label",
  SessionId: "sessionId",
  ReplyToSessionId: "replyToSessionId",
  ContentType: "contentType",
};

export function exportRule(r: RuleConfig): ExportRule {
  const p = r.properties as Record<string, any>;
  const action = p.Action?.SqlExpression ? String(p.Action.SqlExpression) : undefined;
  if (p.FilterType === "Correlation") {
    const c: Record<string, any> = {};
    for (const [k, v] of Object.entries((p.CorrelationFilter ?? {}) as Record<string, unknown>)) {
      if (k === "Properties" && v && typeof v === "object")
        c.properties = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, String(pv)]));
      else if (CORRELATION[k] && v !== undefined) c[CORRELATION[k]] = String(v);
    }
    return { name: r.name, correlation: c, action };
  }
  return { name: r.name, sql: String(p.SqlFilter?.SqlExpression ?? "1=1"), action };
}

/** A duration property that differs from the default, as ISO-8601. */
export const durationIf = (v: number | undefined, def: number) =>
  v !== undefined && v !== def ? formatDuration(v) : undefined;

export const SUBSCRIPTION_DEFAULTS = {
  lockDurationMs: QUEUE_DEFAULTS.lockDurationMs,
  maxDeliveryCount: QUEUE_DEFAULTS.maxDeliveryCount,
  defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
};
