// TopicDescription: the admin API's view of a topic (rendered in the service's element order) and the
// reading of a PUT body into topic properties, with the service's checks.
import { formatDuration, TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type TopicProperties } from "../../model/config.js";
import type { TopicCounts } from "../topics/topic.js";
import { countDetailsXml, el, entityEntry, SB_NS, timesXml, XSI_NS, type EntityTimes, type Origin } from "./atom.js";
import { authorizationRulesXml } from "./authorization-rules.js";
import {
  describedSize,
  keepUnchanged,
  readEntityField,
  readSendEntityField,
  UNLIMITED,
  type SendEntityExtras,
} from "./entity-fields.js";
import { bool } from "./fields.js";
import type { XmlElement } from "./xml.js";

/** Properties Service Bus keeps per topic that the broker does not act on; echoed back as given. */
export interface TopicExtras extends SendEntityExtras {
  supportOrdering?: boolean;
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
    timesXml(times) +
    el("SupportOrdering", x.supportOrdering ?? true) +
    countDetailsXml({ active: 0, deadLetter: 0, scheduled: c.scheduled }) +
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
  return entityEntry(origin, t.name, t.name, t.times, topicDescription(t));
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
  for (const c of desc?.children ?? []) {
    if (
      readEntityField(c, props, extras) ||
      readSendEntityField(c, props, extras, current?.extras.authorizationRules)
    ) {
      continue;
    }
    if (c.name === "SupportOrdering") extras.supportOrdering = bool(c.name, c.text);
    // other elements: read-only runtime fields a client may echo back from a GET
  }
  props.maxSizeInMegabytes = describedSize(desc, props, extras);
  if (current) {
    keepUnchanged(
      "Topic",
      "EnablePartitioning",
      extras.enablePartitioning ?? false,
      current.extras.enablePartitioning ?? false,
    );
  }
  return { props, extras };
}
