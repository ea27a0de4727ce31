// How the azure-servicebus trigger turns entity runtime counts into a metric reading.
// The caller fetches ActiveMessageCount (which includes peek-locked messages) from the broker.

import type { TriggerReading } from "./metrics.js";
import type { ServiceBusMetadata } from "./servicebus.js";

/** KEDA's NormalizeString: each of `/ . : % ( )` becomes `-`. */
export function normalizeMetricName(s: string): string {
  return s.replace(/[/.:%()]/g, "-");
}

/**
 * The external metric name: `s<triggerIndex>-azure-servicebus-<queueName|topicName>`, or
 * `…-queue-regex` / `…-topic-regex` with useRegex, normalised.
 */
export function getServiceBusMetricName(meta: ServiceBusMetadata): string {
  const isQueue = meta.entityType === "queue";
  const name = meta.useRegex ? `${isQueue ? "queue" : "topic"}-regex` : isQueue ? meta.queueName : meta.topicName;
  return `s${meta.triggerIndex}-${normalizeMetricName(`azure-servicebus-${name}`)}`;
}

/**
 * Regex-mode aggregation over matching entities: sum, max, or avg as integer division (floor for the
 * non-negative counts Service Bus reports); 0 when nothing matches. Any other operation string (which
 * KEDA's per-part enum check lets through, e.g. "sum,max") yields 0, as in KEDA.
 */
export function aggregateEntityCounts(counts: readonly number[], operation: string): number {
  let result = 0;
  for (const v of counts) {
    if (operation === "sum" || operation === "avg") result += v;
    else if (operation === "max" && v > result) result = v;
  }
  if (operation === "avg" && counts.length > 0) return Math.trunc(result / counts.length);
  return result;
}

/** One entity's runtime properties, as listed by the admin API. */
export interface EntityCount {
  /** Queue name (queue mode) or subscription name (subscription mode). */
  name: string;
  activeMessageCount: number;
}

/**
 * The trigger's count from a listing of entities (queues, or the topic's subscriptions). Without
 * useRegex the named entity must exist — Service Bus names are case-insensitive — else KEDA's
 * `queue %s doesn't exist` / `subscription %s doesn't exist in topic %s`. With useRegex, entities whose
 * whole name matches are aggregated per `operation`.
 */
export function selectEntityCount(meta: ServiceBusMetadata, entities: readonly EntityCount[]): number {
  const isQueue = meta.entityType === "queue";
  if (meta.useRegex && meta.entityNameRegex) {
    const regex = meta.entityNameRegex;
    return aggregateEntityCounts(
      entities.filter((e) => regex.test(e.name)).map((e) => e.activeMessageCount),
      meta.operation,
    );
  }
  const wanted = (isQueue ? meta.queueName : meta.subscriptionName).toLowerCase();
  const found = entities.find((e) => e.name.toLowerCase() === wanted);
  if (found) return found.activeMessageCount;
  throw new Error(
    isQueue
      ? `queue ${meta.queueName} doesn't exist`
      : `subscription ${meta.subscriptionName} doesn't exist in topic ${meta.topicName}`,
  );
}

/** Activation for this trigger: count > activationMessageCount (strictly). */
export function isServiceBusActive(meta: ServiceBusMetadata, count: number): boolean {
  return count > meta.activationTargetLength;
}

/**
 * The TriggerReading a count produces: one value under the trigger's metric name, target
 * AverageValue = messageCount, activity = count > activationMessageCount.
 */
export function serviceBusTriggerReading(meta: ServiceBusMetadata, count: number): TriggerReading {
  const metricName = getServiceBusMetricName(meta);
  return {
    metricName,
    values: [{ metricName, value: count }],
    targetAverageValues: [meta.targetLength],
    isActive: isServiceBusActive(meta, count),
  };
}
