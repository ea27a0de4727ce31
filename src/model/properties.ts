// The entity properties a user may set, by their ARM (camelCase) names: which model field each one fills,
// its type and its limits. The eventjobs.yaml loader and the control API (queue create/update) read
// properties through the same tables, so a value is accepted or refused alike in both.
import { TIMESPAN_MAX_MS } from "./duration.js";
import type { PropSpec } from "./validate.js";

const SEC = 1000;
const MIN = 60 * SEC;
const lock: PropSpec = { key: "lockDuration", field: "lockDurationMs", type: "duration", min: 5 * SEC, max: 5 * MIN };
const ttl: PropSpec = {
  key: "defaultMessageTimeToLive",
  field: "defaultMessageTimeToLiveMs",
  type: "duration",
  min: SEC,
  max: TIMESPAN_MAX_MS,
};
const deliveries: PropSpec = {
  key: "maxDeliveryCount",
  field: "maxDeliveryCount",
  type: "int",
  expected: "an integer from 1 to 2000",
  valid: (n) => n >= 1 && n <= 2000,
};
const dedupeWindow: PropSpec = {
  key: "duplicateDetectionHistoryTimeWindow",
  field: "duplicateDetectionHistoryTimeWindowMs",
  type: "duration",
  min: 20 * SEC,
  max: 7 * 24 * 60 * MIN,
};

const maxSize: PropSpec = {
  key: "maxSizeInMegabytes",
  field: "maxSizeInMegabytes",
  type: "int",
  expected: "a multiple of 1024 from 1024 to 81920",
  valid: (n) => n % 1024 === 0 && n >= 1024 && n <= 81920,
};

export const QUEUE_SPECS: PropSpec[] = [
  lock,
  deliveries,
  ttl,
  { key: "deadLetteringOnMessageExpiration", field: "deadLetteringOnMessageExpiration", type: "bool" },
  { key: "requiresSession", field: "requiresSession", type: "bool" },
  { key: "requiresDuplicateDetection", field: "requiresDuplicateDetection", type: "bool" },
  dedupeWindow,
  { key: "forwardTo", field: "forwardTo", type: "entity" },
  { key: "forwardDeadLetteredMessagesTo", field: "forwardDeadLetteredMessagesTo", type: "entity" },
  maxSize,
  {
    key: "maxMessageSizeInKilobytes",
    field: "maxMessageSizeInKilobytes",
    type: "int",
    expected: "256 (Standard) or an integer from 1024 to 102400 (Premium)",
    valid: (n) => n === 256 || (n >= 1024 && n <= 102400),
  },
];

export const TOPIC_SPECS: PropSpec[] = [
  ttl,
  { key: "requiresDuplicateDetection", field: "requiresDuplicateDetection", type: "bool" },
  dedupeWindow,
  maxSize,
];

export const SUBSCRIPTION_SPECS: PropSpec[] = [
  lock,
  deliveries,
  ttl,
  { key: "deadLetteringOnMessageExpiration", field: "deadLetteringOnMessageExpiration", type: "bool" },
  { key: "requiresSession", field: "requiresSession", type: "bool" },
  { key: "forwardTo", field: "forwardTo", type: "entity" },
  { key: "forwardDeadLetteredMessagesTo", field: "forwardDeadLetteredMessagesTo", type: "entity" },
  {
    key: "deadLetteringOnFilterEvaluationExceptions",
    field: "deadLetteringOnFilterEvaluationExceptions",
    type: "bool",
  },
];
