// Reads the QueueDescription of a PUT body into queue properties, with the service's checks. Every
// rejection is a 400 whose detail names the property and the value, e.g.
// "The value 'PT10M' of property 'LockDuration' is invalid: expected a duration from PT5S to PT5M."
import { TIMESPAN_MAX_MS } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type QueueProperties } from "../../model/config.js";
import { ENTITY_NAME } from "../../model/validate.js";
import type { QueueExtras } from "./atom.js";
import {
  describedSize,
  keepUnchanged,
  readEntityField,
  readReceiveEntityField,
  readSendEntityField,
} from "./entity-fields.js";
import { AdminError, descriptionOf } from "./fields.js";

export { AdminError } from "./fields.js";

export interface QueueDefinition {
  props: QueueProperties;
  extras: QueueExtras;
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
  for (const c of desc?.children ?? []) {
    // other elements: read-only runtime fields a client may echo back from a GET
    if (
      !readEntityField(c, props, extras) &&
      !readSendEntityField(c, props, extras, current?.extras.authorizationRules)
    ) {
      readReceiveEntityField(c, props, name, exists);
    }
  }
  props.maxSizeInMegabytes = describedSize(desc, props, extras);
  if (current) {
    // the service refuses to change these on an existing queue
    keepUnchanged("Queue", "RequiresSession", props.requiresSession, current.props.requiresSession);
    keepUnchanged(
      "Queue",
      "EnablePartitioning",
      extras.enablePartitioning ?? false,
      current.extras.enablePartitioning ?? false,
    );
  }
  return { props, extras };
}

/** Checks a queue name from the request path (names starting with `$` are the service's own paths). */
export function checkQueueName(name: string): void {
  if (!name || name.startsWith("$") || !ENTITY_NAME.test(name)) {
    throw new AdminError("ArgumentError", `The entity name '${name}' is invalid: expected ${ENTITY_NAME.expected}.`);
  }
}
