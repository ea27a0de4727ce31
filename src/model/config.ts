// The normalised project model every loader produces and every component consumes.
// Durations are milliseconds here; loaders accept ISO-8601 (PT5M) as Service Bus and the emulator do.
import { TIMESPAN_MAX_MS } from "./duration.js";

export interface QueueProperties {
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultMessageTimeToLiveMs: number;
  deadLetteringOnMessageExpiration: boolean;
  requiresSession: boolean;
  requiresDuplicateDetection: boolean;
  duplicateDetectionHistoryTimeWindowMs: number;
  forwardTo?: string;
  forwardDeadLetteredMessagesTo?: string;
  maxSizeInMegabytes: number;
  maxMessageSizeInKilobytes: number;
}

export interface QueueConfig {
  name: string;
  properties: QueueProperties;
  /** entity-level shared access policies: tokens signed with their keys are valid for this queue only */
  policies?: SasPolicyConfig[];
}

export type AccessRight = "Send" | "Listen" | "Manage";

export interface SasPolicyConfig {
  name: string;
  rights: AccessRight[];
  primaryKey: string;
  secondaryKey?: string;
  /** the file gave no primaryKey, so this one was generated: apply keeps the key a running namespace has */
  generatedKey?: boolean;
  /** created with `authorization-rule create` (not in the file): apply keeps it */
  createdAtRuntime?: boolean;
}

export interface TopicProperties {
  defaultMessageTimeToLiveMs: number;
  requiresDuplicateDetection: boolean;
  duplicateDetectionHistoryTimeWindowMs: number;
  /** default QUEUE_DEFAULTS.maxSizeInMegabytes: the sum of the subscriptions' messages */
  maxSizeInMegabytes?: number;
  /** default QUEUE_DEFAULTS.maxMessageSizeInKilobytes */
  maxMessageSizeInKilobytes?: number;
}

export interface SubscriptionProperties {
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultMessageTimeToLiveMs: number;
  deadLetteringOnMessageExpiration: boolean;
  requiresSession: boolean;
  forwardTo?: string;
  forwardDeadLetteredMessagesTo?: string;
  /** a message whose rule evaluation failed goes to the dead-letter queue (default: it is dropped) */
  deadLetteringOnFilterEvaluationExceptions?: boolean;
}

/** A subscription rule as written in the emulator's Config.json (`FilterType`, `CorrelationFilter` /
 *  `SqlFilter`, `Action`); interpreted later by the filters layer. */
export interface RuleConfig {
  name: string;
  properties: Record<string, unknown>;
}

export interface SubscriptionConfig {
  name: string;
  properties: SubscriptionProperties;
  /** Empty: no rule declared (Service Bus then adds the $Default true filter). */
  rules: RuleConfig[];
}

export interface TopicConfig {
  name: string;
  properties: TopicProperties;
  subscriptions: SubscriptionConfig[];
}

export interface NamespaceConfig {
  name: string;
  queues: QueueConfig[];
  /** Topics with their subscriptions and rules (the broker serves them: src/servicebus/topics/). */
  topics?: TopicConfig[];
  /** Namespace-level shared access policies. Empty means: the emulator's well-known root policy. */
  policies: SasPolicyConfig[];
}

export interface ProjectConfig {
  /** Where the config came from, for error messages. */
  source?: string;
  namespaces: NamespaceConfig[];
  /** The namespace localhost / IP connections select (docs/configuration.md). */
  defaultNamespace: string;
  /** Reserved top-level keys of eventjobs.yaml (identities, roleAssignments, images, jobs) and the
   *  emulator's `Logging`, as written, for later features. */
  extra?: Record<string, unknown>;
}

/** Service Bus defaults for a queue created without properties (the emulator's where they differ is noted). */
export const QUEUE_DEFAULTS: QueueProperties = {
  lockDurationMs: 60_000, // emulator: PT1M
  maxDeliveryCount: 10, // Service Bus default; the emulator's Config.json default is 3
  defaultMessageTimeToLiveMs: TIMESPAN_MAX_MS, // Service Bus: TimeSpan.MaxValue, messages never expire
  deadLetteringOnMessageExpiration: false,
  requiresSession: false,
  requiresDuplicateDetection: false,
  duplicateDetectionHistoryTimeWindowMs: 10 * 60_000,
  maxSizeInMegabytes: 1024,
  maxMessageSizeInKilobytes: 256,
};

/** The emulator's well-known root policy; the key is the literal the emulator's connection string carries. */
export const EMULATOR_ROOT_POLICY: SasPolicyConfig = {
  name: "RootManageSharedAccessKey",
  rights: ["Manage", "Send", "Listen"],
  primaryKey: "SAS_KEY_VALUE",
};

/** The namespace that localhost / IP addresses select (docs/configuration.md). */
export const DEFAULT_NAMESPACE = "sbemulatorns";

/** One problem in a config file. `value` is already rendered for display (secrets as "***"). */
export interface ConfigIssue {
  file?: string;
  line?: number;
  col?: number;
  /** e.g. `namespaces[0].queues[1].properties.lockDuration`; "" for the file as a whole. */
  path: string;
  value: string;
  expected: string;
}

export function formatIssue(i: ConfigIssue): string {
  const loc = i.file === undefined ? "" : i.line === undefined ? `${i.file}: ` : `${i.file}:${i.line}:${i.col ?? 1}: `;
  return `${loc}${i.path ? `${i.path}: ` : ""}${i.value} — expected ${i.expected}`;
}

const showValue = (v: unknown): string =>
  v === undefined ? "(missing)" : v === "(not shown)" ? '"***"' : (JSON.stringify(v) ?? String(v));

/** A job entry's problems (jobs/job-definition.ts's JobIssue) as config issues under `jobs[i]`. */
export function jobIssues(prefix: string, issues: { path: string; value: unknown; expected: string }[]): ConfigIssue[] {
  return issues.map((i) => ({
    path: i.path ? `${prefix}.${i.path}` : prefix,
    value: showValue(i.value),
    expected: i.expected.replace(/^required$/, "a value (required)"),
  }));
}

/** Every problem found in a config, one line each in `message`. The `file`/`path`/`value`/`expected`
 *  fields describe the first issue (kept for callers that raise a single problem). */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  readonly file: string;
  readonly path: string;
  readonly value: unknown;
  readonly expected: string;

  constructor(issues: ConfigIssue[]);
  constructor(file: string, path: string, value: unknown, expected: string);
  constructor(a: ConfigIssue[] | string, path?: string, value?: unknown, expected?: string) {
    const issues: ConfigIssue[] = Array.isArray(a)
      ? a
      : [{ file: a, path: path ?? "", value: JSON.stringify(value) ?? String(value), expected: expected ?? "" }];
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
    const first = issues[0];
    this.file = first?.file ?? "";
    this.path = first?.path ?? "";
    this.value = Array.isArray(a) ? first?.value : value;
    this.expected = first?.expected ?? "";
  }
}
