// Topics, subscriptions and rules in ARM's shapes (Microsoft.ServiceBus/namespaces/topics, .../subscriptions,
// .../rules), as the Azure REST API and `az servicebus topic ... -o json` print them; and a rule's ARM
// properties (filterType, sqlFilter, correlationFilter, action) to and from the broker's rule description.
import { formatDuration } from "../model/duration.js";
import type { RuleDescription, RuleFilter } from "../servicebus/topics/rules.js";
import type { SubscriptionInfo, TopicInfo } from "../servicebus/topics/registry.js";
import { LOCAL_LOCATION, namespaceId } from "./arm.js";

type Obj = Record<string, unknown>;
const iso = (ms: number) => new Date(ms).toISOString();
/** what Service Bus reports for "never" (TimeSpan.MaxValue) */
const NEVER = "P10675199DT2H48M5.4775807S";

/** `rg`: the namespace's resource group (servicebus.ts namespaceGroup). */
export function topicResource(namespace: string, t: TopicInfo, rg?: string): Obj {
  const p = t.properties;
  return {
    id: `${namespaceId(namespace, rg)}/topics/${t.name}`,
    name: t.name,
    type: "Microsoft.ServiceBus/namespaces/topics",
    location: LOCAL_LOCATION,
    properties: {
      defaultMessageTimeToLive: formatDuration(p.defaultMessageTimeToLiveMs),
      maxSizeInMegabytes: p.maxSizeInMegabytes ?? 1024,
      maxMessageSizeInKilobytes: p.maxMessageSizeInKilobytes ?? 256,
      requiresDuplicateDetection: p.requiresDuplicateDetection,
      duplicateDetectionHistoryTimeWindow: formatDuration(p.duplicateDetectionHistoryTimeWindowMs),
      enableBatchedOperations: true,
      enablePartitioning: false,
      enableExpress: false,
      supportOrdering: true,
      autoDeleteOnIdle: NEVER,
      status: "Active",
      sizeInBytes: t.counts.sizeInBytes,
      subscriptionCount: t.counts.subscriptionCount,
      createdAt: iso(t.createdAt),
      updatedAt: iso(t.updatedAt),
      accessedAt: iso(t.updatedAt),
      countDetails: {
        activeMessageCount: t.counts.active,
        deadLetterMessageCount: t.counts.deadLetter,
        scheduledMessageCount: t.counts.scheduled,
        transferMessageCount: t.counts.transferMessageCount,
        transferDeadLetterMessageCount: t.counts.transferDeadLetterMessageCount,
      },
    },
  };
}

export function subscriptionResource(namespace: string, s: SubscriptionInfo, rg?: string): Obj {
  const p = s.properties;
  return {
    id: `${namespaceId(namespace, rg)}/topics/${s.topicName}/subscriptions/${s.name}`,
    name: s.name,
    type: "Microsoft.ServiceBus/namespaces/topics/subscriptions",
    location: LOCAL_LOCATION,
    properties: {
      lockDuration: formatDuration(p.lockDurationMs),
      maxDeliveryCount: p.maxDeliveryCount,
      defaultMessageTimeToLive: formatDuration(p.defaultMessageTimeToLiveMs),
      deadLetteringOnMessageExpiration: p.deadLetteringOnMessageExpiration,
      deadLetteringOnFilterEvaluationExceptions: p.deadLetteringOnFilterEvaluationExceptions ?? false,
      requiresSession: p.requiresSession,
      ...(p.forwardTo ? { forwardTo: p.forwardTo } : {}),
      ...(p.forwardDeadLetteredMessagesTo ? { forwardDeadLetteredMessagesTo: p.forwardDeadLetteredMessagesTo } : {}),
      enableBatchedOperations: true,
      autoDeleteOnIdle: NEVER,
      status: "Active",
      messageCount: s.counts.messageCount,
      createdAt: iso(s.createdAt),
      updatedAt: iso(s.updatedAt),
      accessedAt: iso(s.updatedAt),
      countDetails: {
        // Service Bus counts deferred messages as active
        activeMessageCount: s.counts.active + s.counts.deferred,
        deadLetterMessageCount: s.counts.deadLetter,
        scheduledMessageCount: s.counts.scheduled,
        transferMessageCount: s.counts.transferMessageCount,
        transferDeadLetterMessageCount: s.counts.transferDeadLetterMessageCount,
      },
    },
  };
}

/** correlation filter: ARM's name → the broker's */
export const CORRELATION_FIELDS: Record<string, string> = {
  correlationId: "correlationId",
  messageId: "messageId",
  to: "to",
  replyTo: "replyTo",
  label: "subject",
  sessionId: "sessionId",
  replyToSessionId: "replyToSessionId",
  contentType: "contentType",
};

/** A rule's ARM properties. */
export function ruleProperties(r: Pick<RuleDescription, "filter" | "action">): Obj {
  const f = r.filter as Obj & { type: string };
  const out: Obj = {};
  if (f.type === "correlation") {
    const cf: Obj = {};
    for (const [arm, own] of Object.entries(CORRELATION_FIELDS)) if (f[own] !== undefined) cf[arm] = f[own];
    if (f.properties && Object.keys(f.properties as Obj).length) cf.properties = f.properties;
    out.filterType = "CorrelationFilter";
    out.correlationFilter = cf;
  } else {
    const expression = f.type === "true" ? "1=1" : f.type === "false" ? "1=0" : String(f.expression);
    out.filterType = "SqlFilter";
    out.sqlFilter = { sqlExpression: expression, compatibilityLevel: 20 };
  }
  if (r.action) out.action = { sqlExpression: r.action.expression, compatibilityLevel: 20 };
  return out;
}

export function ruleResource(
  namespace: string,
  topic: string,
  subscription: string,
  r: RuleDescription,
  rg?: string,
): Obj {
  return {
    id: `${namespaceId(namespace, rg)}/topics/${topic}/subscriptions/${subscription}/rules/${r.name}`,
    name: r.name,
    type: "Microsoft.ServiceBus/namespaces/topics/subscriptions/rules",
    location: LOCAL_LOCATION,
    properties: ruleProperties(r),
  };
}

/**
 * ARM rule properties (merged over `current` for an update) → the broker's filter and action; a message naming
 * the field for what is wrong.
 */
export function ruleFromProperties(
  input: Obj,
  current?: Pick<RuleDescription, "filter" | "action">,
): Pick<RuleDescription, "filter" | "action"> {
  const base = current ? ruleProperties(current) : {};
  const type = (input.filterType ??
    (input.correlationFilter ? "CorrelationFilter" : input.sqlFilter ? "SqlFilter" : base.filterType) ??
    "SqlFilter") as string;
  let filter: RuleFilter;
  if (type === "SqlFilter") {
    const sql = (input.sqlFilter ?? (base.filterType === "SqlFilter" ? base.sqlFilter : undefined)) as Obj | undefined;
    const expression = sql?.sqlExpression ?? "1=1";
    if (typeof expression !== "string" || !expression.trim())
      throw new Error("sqlFilter.sqlExpression: expected a non-empty SQL expression");
    filter = { type: "sql", expression };
  } else if (type === "CorrelationFilter") {
    const given = (input.correlationFilter ?? {}) as Obj;
    const before = (base.filterType === "CorrelationFilter" ? base.correlationFilter : {}) as Obj;
    const cf: Obj = { ...before, ...given };
    const f: Obj = { type: "correlation" };
    for (const [arm, own] of Object.entries(CORRELATION_FIELDS))
      if (cf[arm] !== undefined && cf[arm] !== null && cf[arm] !== "") f[own] = String(cf[arm]);
    const props = { ...((before.properties as Obj) ?? {}), ...((given.properties as Obj) ?? {}) };
    if (Object.keys(props).length) f.properties = props;
    if (Object.keys(f).length === 1)
      throw new Error(
        `correlationFilter: expected at least one of ${Object.keys(CORRELATION_FIELDS).join(", ")}, properties`,
      );
    filter = f as RuleFilter;
  } else throw new Error(`filterType: ${JSON.stringify(type)} — expected SqlFilter or CorrelationFilter`);
  const action = "action" in input ? (input.action as Obj | null) : (base.action as Obj | undefined);
  const expr = action?.sqlExpression;
  if (expr !== undefined && expr !== "" && typeof expr !== "string")
    throw new Error("action.sqlExpression: expected a SQL action");
  return { filter, ...(expr ? { action: { type: "sql" as const, expression: expr as string } } : {}) };
}
