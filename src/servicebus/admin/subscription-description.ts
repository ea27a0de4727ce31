// SubscriptionDescription: the admin API's view of a subscription (rendered in the service's element
// order) and the reading of a PUT body into subscription properties, with the service's checks. A
// DefaultRuleDescription in a create body replaces the $Default rule.
import { formatDuration, TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type SubscriptionProperties } from "../../model/config.js";
import type { SubscriptionCounts } from "../topics/registry.js";
import type { RuleDescription } from "../topics/rules.js";
import { el, entityUri, entry, iso, SB_COUNTS_NS, SB_NS, XSI_NS, type EntityTimes, type Origin } from "./atom.js";
import { entityRef } from "./description.js";
import { AdminError, bool, duration, int, MIN, SEC, status, userMetadata } from "./fields.js";
import { parseRule, subscriptionPath } from "./rule-description.js";
import { UNLIMITED } from "./topic-description.js";
import type { XmlElement } from "./xml.js";

export interface SubscriptionExtras {
  enableBatchedOperations?: boolean;
  status?: string;
  userMetadata?: string;
  autoDeleteOnIdle?: string;
}

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
    el("CreatedAt", iso(times.createdAt)) +
    el("UpdatedAt", iso(times.updatedAt)) +
    el("AccessedAt", iso(times.accessedAt)) +
    `<CountDetails xmlns:d2p1="${SB_COUNTS_NS}">` +
    // Service Bus: locked and deferred messages are active; scheduled and dead-lettered ones are not
    el("d2p1:ActiveMessageCount", c.active + c.deferred) +
    el("d2p1:DeadLetterMessageCount", c.deadLetter) +
    el("d2p1:ScheduledMessageCount", c.scheduled) +
    el("d2p1:TransferMessageCount", c.transferMessageCount) +
    el("d2p1:TransferDeadLetterMessageCount", c.transferDeadLetterMessageCount) +
    "</CountDetails>" +
    el("UserMetadata", x.userMetadata) +
    el("ForwardDeadLetteredMessagesTo", entityUri(origin, p.forwardDeadLetteredMessagesTo)) +
    el("AutoDeleteOnIdle", x.autoDeleteOnIdle ?? UNLIMITED) +
    el("EntityAvailabilityStatus", "Available") +
    "</SubscriptionDescription>"
  );
}

export function subscriptionEntry(origin: Origin, s: SubscriptionView): string {
  return entry(
    origin,
    subscriptionPath(s.topicName, s.name),
    s.name,
    { published: s.times.createdAt, updated: s.times.updatedAt },
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
    const v = c.text;
    switch (c.name) {
      case "LockDuration":
        props.lockDurationMs = duration(c.name, v, 5 * SEC, 5 * MIN, "PT5S to PT5M");
        break;
      case "RequiresSession":
        props.requiresSession = bool(c.name, v);
        break;
      case "DefaultMessageTimeToLive":
        props.defaultMessageTimeToLiveMs = duration(c.name, v, SEC, TIMESPAN_MAX_MS, `PT1S to ${UNLIMITED}`);
        break;
      case "DeadLetteringOnMessageExpiration":
        props.deadLetteringOnMessageExpiration = bool(c.name, v);
        break;
      case "DeadLetteringOnFilterEvaluationExceptions":
        props.deadLetteringOnFilterEvaluationExceptions = bool(c.name, v);
        break;
      case "MaxDeliveryCount":
        props.maxDeliveryCount = int(c.name, v, "an integer from 1 to 2000", (n) => n >= 1 && n <= 2000);
        break;
      case "ForwardTo":
        props.forwardTo = entityRef(c.name, v, self, lookup);
        break;
      case "ForwardDeadLetteredMessagesTo":
        props.forwardDeadLetteredMessagesTo = entityRef(c.name, v, self, lookup);
        break;
      case "EnableBatchedOperations":
        extras.enableBatchedOperations = bool(c.name, v);
        break;
      case "Status":
        extras.status = status(c.name, v);
        break;
      case "UserMetadata":
        extras.userMetadata = userMetadata(c.name, v);
        break;
      case "AutoDeleteOnIdle":
        duration(c.name, v, 5 * MIN, TIMESPAN_MAX_MS, `PT5M to ${UNLIMITED}`);
        extras.autoDeleteOnIdle = v.trim();
        break;
      case "DefaultRuleDescription":
        defaultRule = parseRule(c, undefined);
        break;
      default: // read-only runtime fields a client may echo back from a GET
        break;
    }
  }
  if (current && props.requiresSession !== current.props.requiresSession) {
    throw new AdminError(
      "ArgumentError",
      "The value for the RequiresSession property of an existing Subscription cannot be changed.",
    );
  }
  return { props, extras, defaultRule };
}
