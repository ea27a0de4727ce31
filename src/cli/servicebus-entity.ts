// What az's queue and topic commands share: the columns of an entity messages are received from (queue or
// subscription), the property flags with their help, and the create/update request that reports the
// server's errors in flag names.
import type { Command } from "commander";
import { withFlagNames, type FlagKind, type FlagSpec } from "./az-args.js";
import { ApiClient } from "./client.js";
import { checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

/** The table columns of a queue or a subscription. */
export const RECEIVE_ENTITY_COLUMNS: Column[] = [
  { header: "Name", get: (q) => q.name },
  { header: "Status", get: (q) => q.properties.status },
  { header: "LockDuration", get: (q) => q.properties.lockDuration },
  { header: "MaxDeliveryCount", get: (q) => q.properties.maxDeliveryCount },
  { header: "RequiresSession", get: (q) => q.properties.requiresSession },
  { header: "MessageCount", get: (q) => q.properties.messageCount },
  { header: "ActiveMessageCount", get: (q) => q.properties.countDetails.activeMessageCount },
  { header: "DeadLetterMessageCount", get: (q) => q.properties.countDetails.deadLetterMessageCount },
];

/** A property flag: what it sets, its commander argument (`<duration>`, `[bool]`) and its help. */
export interface EntityFlag {
  spec: FlagSpec;
  arg: string;
  help: string;
}

const flag = (name: string, key: string, prop: string, kind: FlagKind, arg: string, help: string): EntityFlag => ({
  spec: [name, key, prop, kind],
  arg,
  help,
});

/** The property flags of the entity commands, with the topic commands' help (queues say some otherwise). */
export const ENTITY_FLAGS = {
  lockDuration: flag(
    "--lock-duration",
    "lockDuration",
    "lockDuration",
    "str",
    "<duration>",
    "ISO-8601, PT5S to PT5M (default PT1M)",
  ),
  maxDeliveryCount: flag(
    "--max-delivery-count",
    "maxDeliveryCount",
    "maxDeliveryCount",
    "int",
    "<n>",
    "deliveries before dead-lettering, 1-2000 (default 10)",
  ),
  defaultMessageTimeToLive: flag(
    "--default-message-time-to-live",
    "defaultMessageTimeToLive",
    "defaultMessageTimeToLive",
    "str",
    "<duration>",
    "ISO-8601 (default P14D)",
  ),
  deadLetteringOnMessageExpiration: flag(
    "--enable-dead-lettering-on-message-expiration",
    "enableDeadLetteringOnMessageExpiration",
    "deadLetteringOnMessageExpiration",
    "bool",
    "[bool]",
    "dead-letter expired messages (true/false)",
  ),
  deadLetteringOnFilterEvaluationExceptions: flag(
    "--dead-letter-on-filter-exceptions",
    "deadLetterOnFilterExceptions",
    "deadLetteringOnFilterEvaluationExceptions",
    "bool",
    "[bool]",
    "dead-letter messages whose rule fails (true/false)",
  ),
  requiresSession: flag(
    "--enable-session",
    "enableSession",
    "requiresSession",
    "bool",
    "[bool]",
    "require sessions (true/false)",
  ),
  requiresDuplicateDetection: flag(
    "--enable-duplicate-detection",
    "enableDuplicateDetection",
    "requiresDuplicateDetection",
    "bool",
    "[bool]",
    "detect duplicate message ids (true/false)",
  ),
  duplicateDetectionHistoryTimeWindow: flag(
    "--duplicate-detection-history-time-window",
    "duplicateDetectionHistoryTimeWindow",
    "duplicateDetectionHistoryTimeWindow",
    "str",
    "<duration>",
    "ISO-8601, PT20S to P7D (default PT10M)",
  ),
  forwardTo: flag(
    "--forward-to",
    "forwardTo",
    "forwardTo",
    "str",
    "<entity>",
    "forward every message to this queue or topic",
  ),
  forwardDeadLetteredMessagesTo: flag(
    "--forward-dead-lettered-messages-to",
    "forwardDeadLetteredMessagesTo",
    "forwardDeadLetteredMessagesTo",
    "str",
    "<entity>",
    "forward dead-lettered messages to this queue or topic",
  ),
  maxSizeInMegabytes: flag(
    "--max-size",
    "maxSize",
    "maxSizeInMegabytes",
    "int",
    "<megabytes>",
    "1024, 2048, 3072, 4096 or 5120 (default 1024)",
  ),
  maxMessageSizeInKilobytes: flag(
    "--max-message-size",
    "maxMessageSize",
    "maxMessageSizeInKilobytes",
    "int",
    "<kilobytes>",
    "256 (Standard) or 1024-102400 (Premium)",
  ),
};

/** The flags' specs, for flagProperties and withFlagNames. */
export const specsOf = (flags: EntityFlag[]): FlagSpec[] => flags.map((f) => f.spec);

/** Adds the flags to a command, in their order. */
export function addEntityFlags(cmd: Command, flags: EntityFlag[]): Command {
  for (const f of flags) cmd.option(`${f.spec[0]} ${f.arg}`, f.help);
  return cmd;
}

/** PUT (create) or PATCH (update) with the properties, the server's errors in flag names. */
export async function writeEntity(
  o: Obj,
  method: "PUT" | "PATCH",
  path: string,
  properties: Obj,
  flags: FlagSpec[],
  cols: Column[],
): Promise<void> {
  checkFormat(o.output);
  // -g: the namespace's group (a namespace declared in eventjobs.yaml is recorded in it)
  const body = { properties, ...(o.resourceGroup ? { resourceGroup: o.resourceGroup } : {}) };
  const res = await new ApiClient(o.dataDir).fetch(method, path, body);
  const data = (await res.json()) as Obj;
  if (!res.ok) fail(withFlagNames(data.error?.message ?? `HTTP ${res.status}`, flags));
  print(data, o.output, cols);
}
