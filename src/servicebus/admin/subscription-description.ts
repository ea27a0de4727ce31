// SubscriptionDescription: the admin API's view of a subscription (rendered in the service's element
// order) and the reading of a PUT body into subscription properties, with the service's checks. A
// DefaultRuleDescription in a create body replaces the $Default rule.
import { formatDuration, TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type SubscriptionProperties } from "../../model/config.js";
import type { SubscriptionCounts } from "../topics/registry.js";
import type { RuleDescription } from "../topics/rules.js";
import {
  countDetailsXml,
  el,
  entityEntry,
  entityUri,
  SB_NS,
  timesXml,
  XSI_NS,
  type EntityTimes,
  type Origin,
} from "./atom.js";
import {
  keepUnchanged,
  readEntityField,
  readReceiveEntityField,
  UNLIMITED,
  type EntityExtras,
} from "./entity-fields.js";
import { bool } from "./fields.js";
import { parseRule, subscriptionPath } from "./rule-description.js";
import type { XmlElement } from "./xml.js";

export type SubscriptionExtras = EntityExtras;

export interface SubscriptionView {
  topicName: string;
  name: string;
  props: SubscriptionProperties;
  extras: SubscriptionExtras;
  times: EntityTimes;
  counts: SubscriptionCounts;
}

export interface SubscriptionDefinition {
  props: SubscriptionProperties;
  extras: SubscriptionExtras;
  /** from DefaultRuleDescription */
  defaultRule?: Omit<RuleDescription, "createdAt">;
}

export function subscriptionDescription(origin: Origin, s: SubscriptionView): string {
  const { props: p, extras: x, times, counts: c } = s;
  return (
    `<SubscriptionDescription xmlns="${SB_NS}" xmlns:i="${XSI_NS}">` +
    el("LockDuration", formatDuration(p.lockDurationMs)) +
    el("RequiresSession", p.requiresSession) +
    el("DefaultMessageTimeToLive", formatDuration(p.defaultMessageTimeToLiveMs)) +
    el("DeadLetteringOnMessageExpiration", p.deadLetteringOnMessageExpiration) +
    el("DeadLetteringOnFilterEvaluationExceptions", p.deadLetteringOnFilterEvaluationExceptions ?? false) +
    el("MessageCount", c.messageCount) +
    el("MaxDeliveryCount", p.maxDeliveryCount) +
    el("EnableBatchedOperations", x.enableBatchedOperations ?? true) +
    el("Status", x.status ?? "Active") +
    el("ForwardTo", entityUri(origin, p.forwardTo)) +
    timesXml(times) +
    countDetailsXml({
      // Service Bus: locked and deferred messages are active; scheduled and dead-lettered ones are not
      active: c.active + c.deferred,
      deadLetter: c.deadLetter,
      scheduled: c.scheduled,
      transfer: c.transferMessageCount,
      transferDeadLetter: c.transferDeadLetterMessageCount,
    }) +
    el("UserMetadata", x.userMetadata) +
    el("ForwardDeadLetteredMessagesTo", entityUri(origin, p.forwardDeadLetteredMessagesTo)) +
    el("AutoDeleteOnIdle", x.autoDeleteOnIdle ?? UNLIMITED) +
    el("EntityAvailabilityStatus", "Available") +
    "</SubscriptionDescription>"
  );
}

export function subscriptionEntry(origin: Origin, s: SubscriptionView): string {
  return entityEntry(
    origin,
    subscriptionPath(s.topicName, s.name),
    s.name,
    s.times,
    subscriptionDescription(origin, s),
  );
}

/**
 * Reads a SubscriptionDescription (an update replaces the whole description). `lookup` maps a forwarding
 * target's name to the name to keep when a queue or topic of that name exists.
 */
export function parseSubscriptionDefinition(
  desc: XmlElement | undefined,
  self: string,
  current: SubscriptionDefinition | undefined,
  lookup: (name: string) => string | undefined,
): SubscriptionDefinition {
  const props: SubscriptionProperties = {
    lockDurationMs: QUEUE_DEFAULTS.lockDurationMs,
    maxDeliveryCount: QUEUE_DEFAULTS.maxDeliveryCount,
    defaultMessageTimeToLiveMs: TIMESPAN_MAX_MS,
    deadLetteringOnMessageExpiration: false,
    requiresSession: false,
    deadLetteringOnFilterEvaluationExceptions: true,
  };
  const extras: SubscriptionExtras = {};
  let defaultRule: SubscriptionDefinition["defaultRule"];
  for (const c of desc?.children ?? []) {
    if (readEntityField(c, props, extras) || readReceiveEntityField(c, props, self, lookup)) continue;
    switch (c.name) {
      case "DeadLetteringOnFilterEvaluationExceptions":
        props.deadLetteringOnFilterEvaluationExceptions = bool(c.name, c.text);
        break;
      case "DefaultRuleDescription":
        defaultRule = parseRule(c, undefined);
        break;
      default: // read-only runtime fields a client may echo back from a GET
        break;
    }
  }
  if (current) keepUnchanged("Subscription", "RequiresSession", props.requiresSession, current.props.requiresSession);
  return { props, extras, defaultRule };
}
