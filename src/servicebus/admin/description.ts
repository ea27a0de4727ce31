// Reads the QueueDescription of a PUT body into queue properties, with the service's checks. Every
// rejection is a 400 whose detail names the property and the value, e.g.
// "The value 'PT10M' of property 'LockDuration' is invalid: expected a duration from PT5S to PT5M."
import { TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type QueueProperties } from "../../model/config.js";
import { ENTITY_NAME } from "../../model/validate.js";
import type { QueueExtras } from "./atom.js";
import { parseAuthorizationRules } from "./authorization-rules.js";
import { AdminError, bool, descriptionOf, duration, int, invalid, MIN, SEC, status, userMetadata } from "./fields.js";

export { AdminError } from "./fields.js";

export interface QueueDefinition {
  props: QueueProperties;
  extras: QueueExtras;
}

/** The service reports a partitioned entity's size over its 16 partitions. */
export const PARTITIONS = 16;

/**
 * Resolves a forwarding target as the SDKs send it (`sb://host/name`, `https://host/name` or a bare name)
 * to the name of an existing queue of the namespace.
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
      throw invalid(prop, v, "the name or URI of an existing queue in the same namespace"); // not a URL, or a bad %-escape
    }
  }
  if (name.toLowerCase() === self.toLowerCase()) throw invalid(prop, v, "another entity than the queue itself");
  const target = exists(name);
  if (target === undefined) throw invalid(prop, v, "the name or URI of an existing queue in the same namespace");
  return target;
}

/**
 * Parses a PUT body. Like the service, an update replaces the whole description: what the body leaves
 * out takes its default (the SDKs send the full description they read). `current` is the existing
 * queue's definition on update, for the properties that cannot change; `exists` maps a queue name to
 * its declared spelling (for ForwardTo).
 */
export function parseQueueDefinition(
  body: string,
  name: string,
  current: QueueDefinition | undefined,
  exists: (name: string) => string | undefined,
): QueueDefinition {
  // as the service: a queue created without a TTL keeps its messages for TimeSpan.MaxValue
  const props: QueueProperties = { ...QUEUE_DEFAULTS, defaultMessageTimeToLiveMs: TIMESPAN_MAX_MS };
  const extras: QueueExtras = {};
  const desc = descriptionOf(body, "QueueDescription", "this path");
  let sizeGiven = false;
  for (const c of desc?.children ?? []) {
    const v = c.text;
    switch (c.name) {
      case "LockDuration":
        props.lockDurationMs = duration(c.name, v, 5 * SEC, 5 * MIN, "PT5S to PT5M");
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
      case "RequiresSession":
        props.requiresSession = bool(c.name, v);
        break;
      case "DefaultMessageTimeToLive":
        props.defaultMessageTimeToLiveMs = duration(
          c.name,
          v,
          SEC,
          TIMESPAN_MAX_MS,
          "PT1S to P10675199DT2H48M5.4775807S",
        );
        break;
      case "DeadLetteringOnMessageExpiration":
        props.deadLetteringOnMessageExpiration = bool(c.name, v);
        break;
      case "DuplicateDetectionHistoryTimeWindow":
        props.duplicateDetectionHistoryTimeWindowMs = duration(c.name, v, 20 * SEC, 7 * 24 * 60 * MIN, "PT20S to P7D");
        break;
      case "MaxDeliveryCount":
        props.maxDeliveryCount = int(c.name, v, "an integer from 1 to 2000", (n) => n >= 1 && n <= 2000);
        break;
      case "MaxMessageSizeInKilobytes":
        props.maxMessageSizeInKilobytes = int(
          c.name,
          v,
          "256 (Standard) or an integer from 1024 to 102400 (Premium)",
          (n) => n === 256 || (n >= 1024 && n <= 102400),
        );
        break;
      case "ForwardTo":
        props.forwardTo = entityRef(c.name, v, name, exists);
        break;
      case "ForwardDeadLetteredMessagesTo":
        props.forwardDeadLetteredMessagesTo = entityRef(c.name, v, name, exists);
        break;
      case "EnableBatchedOperations":
        extras.enableBatchedOperations = bool(c.name, v);
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
      case "AuthorizationRules":
        extras.authorizationRules = parseAuthorizationRules(c, current?.extras.authorizationRules);
        break;
      case "AutoDeleteOnIdle":
        duration(c.name, v, 5 * MIN, TIMESPAN_MAX_MS, "PT5M to P10675199DT2H48M5.4775807S");
        extras.autoDeleteOnIdle = v.trim();
        break;
      // read-only runtime fields a client may echo back from a GET
      default:
        break;
    }
  }
  props.maxSizeInMegabytes = partitionedSize(props.maxSizeInMegabytes, sizeGiven, extras.enablePartitioning);
  if (current) {
    // the service refuses to change these on an existing queue
    if (props.requiresSession !== current.props.requiresSession) {
      throw new AdminError(
        "ArgumentError",
        "The value for the RequiresSession property of an existing Queue cannot be changed.",
      );
    }
    if ((extras.enablePartitioning ?? false) !== (current.extras.enablePartitioning ?? false)) {
      throw new AdminError(
        "ArgumentError",
        "The value for the EnablePartitioning property of an existing Queue cannot be changed.",
      );
    }
  }
  return { props, extras };
}

/** Checks a queue name from the request path (names starting with `$` are the service's own paths). */
export function checkQueueName(name: string): void {
  if (!name || name.startsWith("$") || !ENTITY_NAME.test(name)) {
    throw new AdminError("ArgumentError", `The entity name '${name}' is invalid: expected ${ENTITY_NAME.expected}.`);
  }
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
