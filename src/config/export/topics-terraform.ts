// `export --format terraform` for a namespace's topics: azurerm_servicebus_topic, azurerm_servicebus_subscription
// and azurerm_servicebus_subscription_rule (sql_filter, a correlation_filter block, action), with azurerm's
// argument names; values that are Service Bus's defaults are left out (max_delivery_count is required).
import { QUEUE_DEFAULTS, type NamespaceConfig } from "../../model/config.js";
import { block, expr, label, type Body } from "./hcl.js";
import { durationIf, exportRule, SUBSCRIPTION_DEFAULTS } from "./topics-common.js";

const CORRELATION_ATTRS: Record<string, string> = {
  correlationId: "correlation_id",
  messageId: "message_id",
  to: "to",
  replyTo: "reply_to",
  label: "label",
  sessionId: "session_id",
  replyToSessionId: "reply_to_session_id",
  contentType: "content_type",
};

/** The topic resources of `ns`; `queues` are the namespace's queue names (a forwarding target refers to them). */
export function topicBlocks(ns: NamespaceConfig, queues: Set<string>): string[] {
  const out: string[] = [];
  const topics = ns.topics ?? [];
  const topicNames = new Set(topics.map((t) => t.name));
  const target = (name: string) =>
    queues.has(name)
      ? expr(`azurerm_servicebus_queue.${label(ns.name, name)}.name`)
      : topicNames.has(name)
        ? expr(`azurerm_servicebus_topic.${label(ns.name, "topic", name)}.name`)
        : name;
  for (const t of topics) {
    const tl = label(ns.name, "topic", t.name);
    const p = t.properties;
    const body: Body = [
      ["name", t.name],
      ["namespace_id", expr(`azurerm_servicebus_namespace.${label(ns.name)}.id`)],
    ];
    const ttl = durationIf(p.defaultMessageTimeToLiveMs, QUEUE_DEFAULTS.defaultMessageTimeToLiveMs);
    if (ttl) body.push(["default_message_ttl", ttl]);
    if (p.requiresDuplicateDetection) body.push(["requires_duplicate_detection", true]);
    const window = durationIf(
      p.duplicateDetectionHistoryTimeWindowMs,
      QUEUE_DEFAULTS.duplicateDetectionHistoryTimeWindowMs,
    );
    if (window) body.push(["duplicate_detection_history_time_window", window]);
    if (p.maxSizeInMegabytes !== undefined && p.maxSizeInMegabytes !== QUEUE_DEFAULTS.maxSizeInMegabytes)
      body.push(["max_size_in_megabytes", p.maxSizeInMegabytes]);
    if (
      p.maxMessageSizeInKilobytes !== undefined &&
      p.maxMessageSizeInKilobytes !== QUEUE_DEFAULTS.maxMessageSizeInKilobytes
    )
      body.push(["max_message_size_in_kilobytes", p.maxMessageSizeInKilobytes]);
    out.push(block(`resource "azurerm_servicebus_topic" "${tl}"`, body));

    for (const s of t.subscriptions) {
      const sl = label(ns.name, t.name, "sub", s.name);
      const sp = s.properties;
      const sb: Body = [
        ["name", s.name],
        ["topic_id", expr(`azurerm_servicebus_topic.${tl}.id`)],
        ["max_delivery_count", sp.maxDeliveryCount],
      ];
      const lock = durationIf(sp.lockDurationMs, SUBSCRIPTION_DEFAULTS.lockDurationMs);
      if (lock) sb.push(["lock_duration", lock]);
      const sttl = durationIf(sp.defaultMessageTimeToLiveMs, SUBSCRIPTION_DEFAULTS.defaultMessageTimeToLiveMs);
      if (sttl) sb.push(["default_message_ttl", sttl]);
      if (sp.deadLetteringOnMessageExpiration) sb.push(["dead_lettering_on_message_expiration", true]);
      if (sp.deadLetteringOnFilterEvaluationExceptions) sb.push(["dead_lettering_on_filter_evaluation_error", true]);
      if (sp.requiresSession) sb.push(["requires_session", true]);
      if (sp.forwardTo) sb.push(["forward_to", target(sp.forwardTo)]);
      if (sp.forwardDeadLetteredMessagesTo)
        sb.push(["forward_dead_lettered_messages_to", target(sp.forwardDeadLetteredMessagesTo)]);
      out.push(block(`resource "azurerm_servicebus_subscription" "${sl}"`, sb));
      if (s.rules.length && !s.rules.some((r) => r.name === "$Default"))
        out.push(
          `# Azure gives a new subscription the $Default rule (1=1), which lets every message in; the rules below are\n# meant to be its only ones: az servicebus topic subscription rule delete --resource-group <rg> --namespace-name ${ns.name} --topic-name ${t.name} --subscription-name ${s.name} --name '$Default'`,
        );
      for (const r of s.rules.map(exportRule)) {
        const rb: Body = [
          ["name", r.name],
          ["subscription_id", expr(`azurerm_servicebus_subscription.${sl}.id`)],
        ];
        if (r.correlation) {
          rb.push(["filter_type", "CorrelationFilter"]);
          const cb: Body = [];
          for (const [k, attr] of Object.entries(CORRELATION_ATTRS))
            if (r.correlation[k] !== undefined) cb.push([attr, r.correlation[k]]);
          if (r.correlation.properties) cb.push(["properties", r.correlation.properties]);
          rb.push(["correlation_filter", cb]);
        } else {
          rb.push(["filter_type", "SqlFilter"]);
          rb.push(["sql_filter", r.sql!]);
        }
        if (r.action) rb.push(["action", r.action]);
        out.push(block(`resource "azurerm_servicebus_subscription_rule" "${label(sl, "rule", r.name)}"`, rb));
      }
    }
  }
  return out;
}
