// The azure-servicebus trigger's metadata, parsed and validated as KEDA does, with KEDA's error texts.
// Pure: the caller resolves env vars and auth params beforehand.

import { DEFAULT_ENDPOINT_SUFFIX_KEY, parseEnvironmentProperty, type CloudOptions } from "./cloud.js";
import { goQuote, parseGoBool, parseGoInt64 } from "./goparse.js";
import { compileRe2FullMatch } from "./re2.js";

export type ServiceBusEntityType = "none" | "queue" | "subscription";

/** Everything outside the trigger's own metadata that parsing reads. */
export interface ServiceBusParseContext extends CloudOptions {
  /** Env vars of the scale target's container, for `<key>FromEnv` (KEDA's ResolvedEnv). */
  resolvedEnv?: Readonly<Record<string, string>>;
  /** TriggerAuthentication parameters (ACA: `rules[].auth[]` secretRefs resolved); `connection` lives here. */
  authParams?: Readonly<Record<string, string>>;
  /** Pod identity provider: "" / "none" (connection string), "azure-workload", or anything else (rejected). */
  podIdentity?: string;
  /** Position of the trigger in the ScaledJob; prefixes the metric name (`s<index>-`). */
  triggerIndex?: number;
}

/** Parsed azure-servicebus trigger metadata. */
export interface ServiceBusMetadata {
  /** messageCount: the target T per job (default 5; negatives accepted, as in KEDA). */
  targetLength: number;
  /** activationMessageCount: active ⇔ count > this (default 0). */
  activationTargetLength: number;
  queueName: string;
  topicName: string;
  subscriptionName: string;
  /** Connection string ("" under workload identity). */
  connection: string;
  namespace: string;
  entityType: ServiceBusEntityType;
  /** `<namespace>.<endpointSuffix>`; only set under workload identity ("" otherwise, as in KEDA). */
  fullyQualifiedNamespace: string;
  useRegex: boolean;
  /** Full-match pattern for queueName (queue mode) or subscriptionName (subscription mode) when useRegex. */
  entityNameRegex?: RegExp;
  /**
   * `sum` | `max` | `avg` as validated by KEDA's enum check, which checks each comma-separated part:
   * "sum,max" passes validation and then aggregates to 0 (see aggregateEntityCounts).
   */
  operation: string;
  triggerIndex: number;
}

export const SERVICE_BUS_ERROR_PREFIX = "error parsing azure service bus metadata: ";

/**
 * A metadata error. `message` is what KEDA shows users: the prefix plus every reason, newline-joined.
 * `metadata` is set only where KEDA also returns the parsed metadata with its error (missing connection).
 */
export class ServiceBusMetadataError extends Error {
  readonly reasons: readonly string[];
  readonly metadata?: ServiceBusMetadata;
  constructor(reasons: readonly string[], metadata?: ServiceBusMetadata) {
    super(SERVICE_BUS_ERROR_PREFIX + reasons.join("\n"));
    this.name = "ServiceBusMetadataError";
    this.reasons = reasons;
    if (metadata) this.metadata = metadata;
  }
}

const OPERATIONS = ["sum", "max", "avg"];

/** KEDA's Validate(): entity type and regex checks; returns the first failure. */
function validate(meta: ServiceBusMetadata): string | undefined {
  meta.entityType = "none";
  const compile = (pattern: string, field: string): string | undefined => {
    const r = compileRe2FullMatch(pattern);
    if (!r.ok) return `${field} is not a valid regular expression`;
    meta.entityNameRegex = r.regex;
    return undefined;
  };
  if (meta.queueName !== "") {
    meta.entityType = "queue";
    if (meta.subscriptionName !== "") return "subscription name provided with queue name";
    if (meta.useRegex) {
      const err = compile(meta.queueName, "queueName");
      if (err) return err;
    }
  }
  if (meta.topicName !== "") {
    if (meta.entityType === "queue") return "both topic and queue name metadata provided";
    meta.entityType = "subscription";
    if (meta.subscriptionName === "") return "no subscription name provided with topic name";
    if (meta.useRegex) {
      const err = compile(meta.subscriptionName, "subscriptionName");
      if (err) return err;
    }
  }
  if (meta.entityType === "none") return "no service bus entity type set";
  return undefined;
}

/**
 * Parses azure-servicebus trigger metadata; throws ServiceBusMetadataError with KEDA's messages.
 * Values are trimmed and empty counts as absent; `connection` comes from authParams, else from the env
 * var named by `connectionFromEnv` (a `connection` key in the metadata itself is ignored, as in KEDA).
 * Field errors and the first validation error are all reported together; pod-identity checks run only
 * once those pass.
 */
export function parseServiceBusMetadata(
  metadata: Readonly<Record<string, string | undefined>>,
  context: ServiceBusParseContext = {},
): ServiceBusMetadata {
  const value = (v: string | undefined): string | undefined => {
    const t = v?.trim();
    return t ? t : undefined;
  };
  const fromMetadata = (key: string) => value(metadata[key]);
  const reasons: string[] = [];
  const setFailed = (key: string, raw: string, cause: string) =>
    reasons.push(`unable to set param ${goQuote(key)} value ${goQuote(raw)}: ${cause}`);

  const int64 = (key: string, fallback: string | undefined): number => {
    const raw = fromMetadata(key) ?? fallback;
    if (raw === undefined) return 0;
    const r = parseGoInt64(raw);
    if (r.ok) return r.value;
    // A reflection panic aborts KEDA's whole typed-config pass: that is the only error reported.
    if (r.panic) throw new ServiceBusMetadataError([r.cause]);
    setFailed(key, raw, r.cause);
    return 0;
  };

  const meta: ServiceBusMetadata = {
    targetLength: int64("messageCount", "5"),
    activationTargetLength: int64("activationMessageCount", undefined),
    queueName: fromMetadata("queueName") ?? "",
    topicName: fromMetadata("topicName") ?? "",
    subscriptionName: fromMetadata("subscriptionName") ?? "",
    connection:
      value(context.authParams?.connection) ?? value(context.resolvedEnv?.[metadata.connectionFromEnv ?? ""]) ?? "",
    namespace: fromMetadata("namespace") ?? "",
    entityType: "none",
    fullyQualifiedNamespace: "",
    useRegex: false,
    operation: "",
    triggerIndex: context.triggerIndex ?? 0,
  };

  const useRegex = fromMetadata("useRegex");
  if (useRegex !== undefined) {
    const b = parseGoBool(useRegex);
    if (b === undefined) {
      const cause = `strconv.ParseBool: parsing ${goQuote(useRegex)}: invalid syntax`;
      setFailed("useRegex", useRegex, `unable to parse boolean value ${goQuote(useRegex)}: ${cause}`);
    } else meta.useRegex = b;
  }

  const operation = fromMetadata("operation") ?? "sum";
  if (operation.split(",").every((part) => OPERATIONS.includes(part.trim()))) meta.operation = operation;
  else reasons.push(`parameter "operation" value ${goQuote(operation)} must be one of [${OPERATIONS.join(" ")}]`);

  const invalid = validate(meta);
  if (invalid) reasons.push(invalid);
  if (reasons.length > 0) throw new ServiceBusMetadataError(reasons);

  const provider = context.podIdentity ?? "";
  switch (provider) {
    case "":
    case "none":
      if (meta.connection === "") throw new ServiceBusMetadataError(["no connection setting given"], meta);
      break;
    case "azure-workload": {
      if (meta.namespace === "") throw new ServiceBusMetadataError(["namespace are required when using pod identity"]);
      let suffix: string;
      try {
        suffix = parseEnvironmentProperty(
          metadata,
          DEFAULT_ENDPOINT_SUFFIX_KEY,
          (env) => env.serviceBusEndpointSuffix,
          context,
        );
      } catch (err) {
        throw new ServiceBusMetadataError([(err as Error).message]);
      }
      meta.fullyQualifiedNamespace = `${meta.namespace}.${suffix}`;
      break;
    }
    default:
      throw new ServiceBusMetadataError([`azure service bus doesn't support pod identity ${provider}`]);
  }
  return meta;
}

/** Non-throwing form: the metadata, or the error (whose `metadata` KEDA also returns in one case). */
export function tryParseServiceBusMetadata(
  metadata: Readonly<Record<string, string | undefined>>,
  context: ServiceBusParseContext = {},
): { ok: true; metadata: ServiceBusMetadata } | { ok: false; error: ServiceBusMetadataError } {
  try {
    return { ok: true, metadata: parseServiceBusMetadata(metadata, context) };
  } catch (err) {
    if (err instanceof ServiceBusMetadataError) return { ok: false, error: err };
    throw err;
  }
}
