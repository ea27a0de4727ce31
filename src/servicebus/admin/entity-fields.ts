// The description elements queues, topics and subscriptions read the same way, each reader handling its
// group of elements: those of every entity, those of the entities messages are sent to (queues and topics:
// size, duplicate detection, partitioning, authorization rules) and those of the entities messages are
// received from (queues and subscriptions: locks, sessions, delivery count, forwarding).
import { TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS } from "../../model/config.js";
import { parseAuthorizationRules, type EntityAuthRule } from "./authorization-rules.js";
import { AdminError, bool, duration, int, invalid, MIN, SEC, status, userMetadata } from "./fields.js";
import type { XmlElement } from "./xml.js";

export const UNLIMITED = "P10675199DT2H48M5.4775807S";

/** The service reports a partitioned entity's size over its 16 partitions. */
export const PARTITIONS = 16;

/** Properties Service Bus keeps per entity that the broker does not act on; echoed back as given. */
export interface EntityExtras {
  enableBatchedOperations?: boolean;
  status?: string;
  userMetadata?: string;
  autoDeleteOnIdle?: string;
}

/** The extras of a queue or topic besides those of every entity. */
export interface SendEntityExtras extends EntityExtras {
  enablePartitioning?: boolean;
  enableExpress?: boolean;
  authorizationRules?: EntityAuthRule[];
}

interface SendEntityProperties {
  requiresDuplicateDetection: boolean;
  duplicateDetectionHistoryTimeWindowMs: number;
  maxSizeInMegabytes?: number;
  maxMessageSizeInKilobytes?: number;
}

interface ReceiveEntityProperties {
  lockDurationMs: number;
  maxDeliveryCount: number;
  deadLetteringOnMessageExpiration: boolean;
  requiresSession: boolean;
  forwardTo?: string;
  forwardDeadLetteredMessagesTo?: string;
}

/** Reads an element every entity description has; false when `c` is not one of them. */
export function readEntityField(
  c: XmlElement,
  props: { defaultMessageTimeToLiveMs: number },
  extras: EntityExtras,
): boolean {
  const v = c.text;
  switch (c.name) {
    case "DefaultMessageTimeToLive":
      props.defaultMessageTimeToLiveMs = duration(c.name, v, SEC, TIMESPAN_MAX_MS, `PT1S to ${UNLIMITED}`);
      return true;
    case "EnableBatchedOperations":
      extras.enableBatchedOperations = bool(c.name, v);
      return true;
    case "Status":
      extras.status = status(c.name, v);
      return true;
    case "UserMetadata":
      extras.userMetadata = userMetadata(c.name, v);
      return true;
    case "AutoDeleteOnIdle":
      duration(c.name, v, 5 * MIN, TIMESPAN_MAX_MS, `PT5M to ${UNLIMITED}`);
      extras.autoDeleteOnIdle = v.trim();
      return true;
    default:
      return false;
  }
}

/**
 * Reads an element of a queue or topic description; false when `c` is not one of them. `currentRules`
 * are the entity's authorization rules before the update (their keys are kept).
 */
export function readSendEntityField(
  c: XmlElement,
  props: SendEntityProperties,
  extras: SendEntityExtras,
  currentRules: EntityAuthRule[] | undefined,
): boolean {
  const v = c.text;
  switch (c.name) {
    case "MaxSizeInMegabytes":
      props.maxSizeInMegabytes = int(
        c.name,
        v,
        "a multiple of 1024 from 1024 to 81920",
        (n) => n % 1024 === 0 && n >= 1024 && n <= 81920,
      );
      return true;
    case "RequiresDuplicateDetection":
      props.requiresDuplicateDetection = bool(c.name, v);
      return true;
    case "DuplicateDetectionHistoryTimeWindow":
      props.duplicateDetectionHistoryTimeWindowMs = duration(c.name, v, 20 * SEC, 7 * 24 * 60 * MIN, "PT20S to P7D");
      return true;
    case "MaxMessageSizeInKilobytes":
      props.maxMessageSizeInKilobytes = int(
        c.name,
        v,
        "256 (Standard) or an integer from 1024 to 102400 (Premium)",
        (n) => n === 256 || (n >= 1024 && n <= 102400),
      );
      return true;
    case "EnablePartitioning":
      extras.enablePartitioning = bool(c.name, v);
      return true;
    case "EnableExpress":
      extras.enableExpress = bool(c.name, v);
      return true;
    case "AuthorizationRules":
      extras.authorizationRules = parseAuthorizationRules(c, currentRules);
      return true;
    default:
      return false;
  }
}

/**
 * Reads an element of a queue or subscription description; false when `c` is not one of them. `self` and
 * `exists` resolve forwarding targets (see entityRef).
 */
export function readReceiveEntityField(
  c: XmlElement,
  props: ReceiveEntityProperties,
  self: string,
  exists: (name: string) => string | undefined,
): boolean {
  const v = c.text;
  switch (c.name) {
    case "LockDuration":
      props.lockDurationMs = duration(c.name, v, 5 * SEC, 5 * MIN, "PT5S to PT5M");
      return true;
    case "RequiresSession":
      props.requiresSession = bool(c.name, v);
      return true;
    case "DeadLetteringOnMessageExpiration":
      props.deadLetteringOnMessageExpiration = bool(c.name, v);
      return true;
    case "MaxDeliveryCount":
      props.maxDeliveryCount = int(c.name, v, "an integer from 1 to 2000", (n) => n >= 1 && n <= 2000);
      return true;
    case "ForwardTo":
      props.forwardTo = entityRef(c.name, v, self, exists);
      return true;
    case "ForwardDeadLetteredMessagesTo":
      props.forwardDeadLetteredMessagesTo = entityRef(c.name, v, self, exists);
      return true;
    default:
      return false;
  }
}

/**
 * The size a queue or topic description sets, for the partitioned size: the MaxSizeInMegabytes read (the
 * default when the body leaves it out), times the partitions when partitioned (see partitionedSize).
 */
export function describedSize(
  desc: XmlElement | undefined,
  props: { maxSizeInMegabytes?: number },
  extras: SendEntityExtras,
): number {
  const given = (desc?.children ?? []).some((c) => c.name === "MaxSizeInMegabytes");
  return partitionedSize(props.maxSizeInMegabytes, given, extras.enablePartitioning);
}

/** The service's refusal to change `prop` of an existing `kind` ("Queue", "Topic", "Subscription"). */
export function keepUnchanged(kind: string, prop: string, now: unknown, before: unknown): void {
  if (now !== before) {
    throw new AdminError(
      "ArgumentError",
      `The value for the ${prop} property of an existing ${kind} cannot be changed.`,
    );
  }
}

/**
 * Resolves a forwarding target as the SDKs send it (`sb://host/name`, `https://host/name` or a bare name)
 * to the name of an existing queue or topic of the namespace.
 */
export function entityRef(
  prop: string,
  v: string,
  self: string,
  exists: (name: string) => string | undefined,
): string | undefined {
  const t = v.trim();
  if (!t) return undefined;
  let name = t;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    try {
      name = decodeURIComponent(new URL(t).pathname.replace(/^\/+|\/+$/g, ""));
    } catch {
      throw invalid(prop, v, "the name or URI of an existing queue or topic in the same namespace"); // not a URL, or a bad %-escape
    }
  }
  if (name.toLowerCase() === self.toLowerCase()) throw invalid(prop, v, "another entity than the queue itself");
  const target = exists(name);
  if (target === undefined)
    throw invalid(prop, v, "the name or URI of an existing queue or topic in the same namespace");
  return target;
}

/**
 * The size the service reports for a partitioned entity: the given size times the partitions, unless the
 * value is already that (an update sending back what a GET returned).
 */
export function partitionedSize(mb: number | undefined, given: boolean, partitioned: boolean | undefined): number {
  const size = mb ?? QUEUE_DEFAULTS.maxSizeInMegabytes!;
  if (!partitioned) return size;
  return given && size > 5 * 1024 ? size : size * PARTITIONS;
}
