// Reads the QueueDescription of a PUT body into queue properties, with the service's checks. Every
// rejection is a 400 whose detail names the property and the value, e.g.
// "The value 'PT10M' of property 'LockDuration' is invalid: expected a duration from PT5S to PT5M."
import { parseDuration, TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type QueueProperties } from "../../model/config.js";
import { ENTITY_NAME } from "../../model/validate.js";
import { BrokerError, type ErrorCode } from "../errors.js";
import type { QueueExtras } from "./atom.js";
import { child, parseXml, XmlError, type XmlElement } from "./xml.js";

/**
 * An admin API failure: a code of the broker's error table (errors.ts), whose status is the HTTP status, and
 * the detail text of the service's <Error> body.
 */
export class AdminError extends BrokerError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "AdminError";
  }
}

const SEC = 1000;
const MIN = 60 * SEC;

export interface QueueDefinition {
  props: QueueProperties;
  extras: QueueExtras;
}

function invalid(prop: string, value: string, expected: string): AdminError {
  return new AdminError(
    "ArgumentError",
    `The value '${value}' of property '${prop}' is invalid: expected ${expected}.`,
  );
}

function bool(prop: string, v: string): boolean {
  const t = v.trim().toLowerCase();
  if (t === "true" || t === "false") return t === "true";
  throw invalid(prop, v, "true or false");
}

function int(prop: string, v: string, expected: string, ok: (n: number) => boolean): number {
  const n = /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || !ok(n)) throw invalid(prop, v, expected);
  return n;
}

function duration(prop: string, v: string, min: number, max: number, range: string): number {
  const ms = parseDuration(v.trim());
  // (floor: TimeSpan.MaxValue parses to a fraction of a millisecond above TIMESPAN_MAX_MS)
  if (!(ms >= min && Math.floor(ms) <= max)) throw invalid(prop, v, `an ISO-8601 duration from ${range}`);
  return ms;
}

/** The body's QueueDescription element: in an ATOM entry's <content>, or the root itself. */
function descriptionElement(body: string): XmlElement | undefined {
  if (!body.trim()) return undefined;
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (e) {
    if (e instanceof XmlError)
      throw new AdminError("ArgumentError", `The request body is not valid XML: ${e.message}.`);
    throw e;
  }
  const desc = root.name === "entry" ? child(root, "content")?.children[0] : root;
  if (!desc) throw new AdminError("ArgumentError", "The request body has no <content> with a QueueDescription.");
  if (desc.name !== "QueueDescription") {
    const what = desc.name.replace(/Description$/, "").toLowerCase();
    throw new AdminError(
      "ArgumentError",
      `The request body describes a ${what} (${desc.name}); only queues are supported at this path.`,
    );
  }
  return desc;
}

/**
 * Resolves a forwarding target as the SDKs send it (`sb://host/name`, `https://host/name` or a bare name)
 * to the name of an existing queue of the namespace.
 */
function entityRef(
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
  const props: QueueProperties = { ...QUEUE_DEFAULTS };
  const extras: QueueExtras = {};
  const desc = descriptionElement(body);
  for (const c of desc?.children ?? []) {
    const v = c.text;
    switch (c.name) {
      case "LockDuration":
        props.lockDurationMs = duration(c.name, v, 5 * SEC, 5 * MIN, "PT5S to PT5M");
        break;
      case "MaxSizeInMegabytes":
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
        if (!["Active", "Disabled", "SendDisabled", "ReceiveDisabled"].includes(v.trim())) {
          throw invalid(c.name, v, "Active, Disabled, SendDisabled or ReceiveDisabled");
        }
        extras.status = v.trim();
        break;
      case "UserMetadata":
        if (v.length > 1024) throw invalid(c.name, `${v.slice(0, 40)}…`, "at most 1024 characters");
        extras.userMetadata = v;
        break;
      case "AutoDeleteOnIdle":
        duration(c.name, v, 5 * MIN, TIMESPAN_MAX_MS, "PT5M to P10675199DT2H48M5.4775807S");
        extras.autoDeleteOnIdle = v.trim();
        break;
      // read-only runtime fields a client may echo back from a GET, and rules this broker does not keep
      default:
        break;
    }
  }
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
