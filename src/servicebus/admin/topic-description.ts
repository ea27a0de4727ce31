// TopicDescription: the admin API's view of a topic (rendered in the service's element order) and the
// reading of a PUT body into topic properties, with the service's checks.
import { formatDuration, TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type TopicProperties } from "../../model/config.js";
import type { TopicCounts } from "../topics/topic.js";
import { el, entry, iso, SB_COUNTS_NS, SB_NS, XSI_NS, type EntityTimes, type Origin } from "./atom.js";
import { authorizationRulesXml, parseAuthorizationRules, type EntityAuthRule } from "./authorization-rules.js";
import { partitionedSize } from "./description.js";
import { AdminError, bool, duration, int, MIN, SEC, status, userMetadata } from "./fields.js";
import type { XmlElement } from "./xml.js";

export const UNLIMITED = "P10675199DT2H48M5.4775807S";

/** Properties Service Bus keeps per topic that the broker does not act on; echoed back as given. */
export interface TopicExtras {
  enableBatchedOperations?: boolean;
  status?: string;
  userMetadata?: string;
  supportOrdering?: boolean;
  autoDeleteOnIdle?: string;
  enablePartitioning?: boolean;
  enableExpress?: boolean;
  authorizationRules?: EntityAuthRule[];
}

export interface TopicView {
  name: string;
  props: TopicProperties;
  extras: TopicExtras;
  times: EntityTimes;
  counts: TopicCounts;
}

export interface TopicDefinition {
  props: TopicProperties;
  extras: TopicExtras;
}

export function topicDescription(t: TopicView): string {
  const { props: p, extras: x, times, counts: c } = t;
  return (
    `<TopicDescription xmlns="${SB_NS}" xmlns:i="${XSI_NS}">` +
    el("DefaultMessageTimeToLive", formatDuration(p.defaultMessageTimeToLiveMs)) +
    el("MaxSizeInMegabytes", p.maxSizeInMegabytes ?? QUEUE_DEFAULTS.maxSizeInMegabytes) +
    el("RequiresDuplicateDetection", p.requiresDuplicateDetection) +
    el("DuplicateDetectionHistoryTimeWindow", formatDuration(p.duplicateDetectionHistoryTimeWindowMs)) +
    el("EnableBatchedOperations", x.enableBatchedOperations ?? true) +
    el("SizeInBytes", c.sizeInBytes) +
    el("FilteringMessagesBeforePublishing", false) +
    el("IsAnonymousAccessible", false) +
    authorizationRulesXml(x.authorizationRules) +
    el("Status", x.status ?? "Active") +
    el("CreatedAt", iso(times.createdAt)) +
    el("UpdatedAt", iso(times.updatedAt)) +
    el("AccessedAt", iso(times.accessedAt)) +
    el("SupportOrdering", x.supportOrdering ?? true) +
    `<CountDetails xmlns:d2p1="${SB_COUNTS_NS}">` +
    el("d2p1:ActiveMessageCount", 0) +
    el("d2p1:DeadLetterMessageCount", 0) +
    el("d2p1:ScheduledMessageCount", c.scheduled) +
    el("d2p1:TransferMessageCount", 0) +
    el("d2p1:TransferDeadLetterMessageCount", 0) +
    "</CountDetails>" +
    el("SubscriptionCount", c.subscriptionCount) +
    el("AutoDeleteOnIdle", x.autoDeleteOnIdle ?? UNLIMITED) +
    el("EnablePartitioning", x.enablePartitioning ?? false) +
    el("IsExpress", false) +
    el("EntityAvailabilityStatus", "Available") +
    el("EnableSubscriptionPartitioning", false) +
    el("EnableExpress", x.enableExpress ?? false) +
    el("UserMetadata", x.userMetadata) +
    el("MaxMessageSizeInKilobytes", p.maxMessageSizeInKilobytes ?? QUEUE_DEFAULTS.maxMessageSizeInKilobytes) +
    "</TopicDescription>"
  );
}

export function topicEntry(origin: Origin, t: TopicView): string {
  return entry(
    origin,
    t.name,
    t.name,
    { published: t.times.createdAt, updated: t.times.updatedAt },
    topicDescription(t),
  );
}

/**
 * Reads a TopicDescription. As for queues, an update replaces the whole description (what the body leaves
 * out takes its default); `current` is the existing topic's definition, for what cannot change.
 */
export function parseTopicDefinition(desc: XmlElement | undefined, current?: TopicDefinition): TopicDefinition {
  const props: TopicProperties = {
    defaultMessageTimeToLiveMs: TIMESPAN_MAX_MS,
    requiresDuplicateDetection: false,
    duplicateDetectionHistoryTimeWindowMs: QUEUE_DEFAULTS.duplicateDetectionHistoryTimeWindowMs,
  };
  const extras: TopicExtras = {};
  let sizeGiven = false;
  for (const c of desc?.children ?? []) {
    const v = c.text;
    switch (c.name) {
      case "DefaultMessageTimeToLive":
        props.defaultMessageTimeToLiveMs = duration(c.name, v, SEC, TIMESPAN_MAX_MS, `PT1S to ${UNLIMITED}`);
        break;
      case "MaxSizeInMegabytes":
        sizeGiven = true;
        props.maxSizeInMegabytes = int(
          c.name,
          v,
          "a multiple of 1024 from 1024 to 81920",
          (n) => n % 1024 === 0 && n >= 1024 && n <= 81920,
        );
        break;
      case "RequiresDuplicateDetection":
        props.requiresDuplicateDetection = bool(c.name, v);
        break;
      case "DuplicateDetectionHistoryTimeWindow":
        props.duplicateDetectionHistoryTimeWindowMs = duration(c.name, v, 20 * SEC, 7 * 24 * 60 * MIN, "PT20S to P7D");
        break;
      case "MaxMessageSizeInKilobytes":
        props.maxMessageSizeInKilobytes = int(
          c.name,
          v,
          "256 (Standard) or an integer from 1024 to 102400 (Premium)",
          (n) => n === 256 || (n >= 1024 && n <= 102400),
        );
        break;
      case "EnableBatchedOperations":
        extras.enableBatchedOperations = bool(c.name, v);
        break;
      case "SupportOrdering":
        extras.supportOrdering = bool(c.name, v);
        break;
      case "EnablePartitioning":
        extras.enablePartitioning = bool(c.name, v);
        break;
      case "EnableExpress":
        extras.enableExpress = bool(c.name, v);
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
      case "AuthorizationRules":
        extras.authorizationRules = parseAuthorizationRules(c, current?.extras.authorizationRules);
        break;
      default: // read-only runtime fields a client may echo back from a GET
        break;
    }
  }
  props.maxSizeInMegabytes = partitionedSize(props.maxSizeInMegabytes, sizeGiven, extras.enablePartitioning);
  if (current && (extras.enablePartitioning ?? false) !== (current.extras.enablePartitioning ?? false)) {
    throw new AdminError(
      "ArgumentError",
      "The value for the EnablePartitioning property of an existing Topic cannot be changed.",
    );
  }
  return { props, extras };
}
