// ScaledJob settings, their defaults and the effective replica bounds.

import { parseGoBool } from "./goparse.js";

/** KEDA's ScaledJob defaults (ACA surfaces none of strategy, calculation or history limits). */
export const SCALED_JOB_DEFAULTS = Object.freeze({
  pollingIntervalSeconds: 30,
  minReplicaCount: 0,
  maxReplicaCount: 100,
  successfulJobsHistoryLimit: 100,
  failedJobsHistoryLimit: 100,
  strategy: "default",
  multipleScalersCalculation: "max",
});

/** Annotation that pauses a ScaledJob. */
export const PAUSED_ANNOTATION = "autoscaling.keda.sh/paused";

/** `scalingStrategy` as written in a ScaledJob; every field optional, as in the CRD. */
export interface ScalingStrategySpec {
  /** `default` | `custom` | `accurate` | `eager`; anything else behaves as `default`. */
  strategy?: string | null;
  /** `max` (default) | `min` | `avg` | `sum`; anything else behaves as `max`. */
  multipleScalersCalculation?: string | null;
  /** int32, may be negative; unset counts as 0. */
  customScalingQueueLengthDeduction?: number | null;
  /** A string that must parse as a Go float for `custom` to apply. */
  customScalingRunningJobPercentage?: string | null;
  /** Pod condition types; non-empty switches the pending test. */
  pendingPodConditions?: readonly string[] | null;
}

/** The parts of a ScaledJob spec the scaling math reads. `null`/`undefined` mean "not set" (Go nil). */
export interface ScaledJobScalingSpec {
  minReplicaCount?: number | null;
  maxReplicaCount?: number | null;
  successfulJobsHistoryLimit?: number | null;
  failedJobsHistoryLimit?: number | null;
  scalingStrategy?: ScalingStrategySpec | null;
}

const isSet = (v: number | null | undefined): v is number => v !== undefined && v !== null;

/**
 * Effective minimum (KEDA's `ScaledJob.MinReplicaCount()`): min, clamped down to max when min > max;
 * 0 when unset.
 */
export function getMinReplicaCount(spec: ScaledJobScalingSpec): number {
  const { minReplicaCount: min, maxReplicaCount: max } = spec;
  if (!isSet(min)) return SCALED_JOB_DEFAULTS.minReplicaCount;
  return isSet(max) && min > max ? max : min;
}

/**
 * Effective maximum (KEDA's `ScaledJob.MaxReplicaCount()`), the "M" of every formula. Quirk kept on
 * purpose: a set max is reduced by the effective min (max 10 + min 1 → 9), but the default 100 is not;
 * min > max gives max.
 */
export function getMaxReplicaCount(spec: ScaledJobScalingSpec): number {
  const { minReplicaCount: min, maxReplicaCount: max } = spec;
  if (!isSet(max)) return SCALED_JOB_DEFAULTS.maxReplicaCount;
  if (isSet(min) && min > max) return max;
  return max - getMinReplicaCount(spec);
}

/** Both effective bounds at once. */
export function getEffectiveBounds(spec: ScaledJobScalingSpec): { minReplicaCount: number; maxReplicaCount: number } {
  return { minReplicaCount: getMinReplicaCount(spec), maxReplicaCount: getMaxReplicaCount(spec) };
}

/** History limits with KEDA's 100/100 defaults. */
export function getHistoryLimits(spec: ScaledJobScalingSpec): { successful: number; failed: number } {
  return {
    successful: spec.successfulJobsHistoryLimit ?? SCALED_JOB_DEFAULTS.successfulJobsHistoryLimit,
    failed: spec.failedJobsHistoryLimit ?? SCALED_JOB_DEFAULTS.failedJobsHistoryLimit,
  };
}

/**
 * Whether the paused annotation stops the loop: absent → no; a Go-parsable boolean → that value;
 * anything unparsable (e.g. "yes") → paused, as KEDA errs on the side of pausing.
 */
export function isPaused(annotations: Readonly<Record<string, string>> | null | undefined): boolean {
  const value = annotations?.[PAUSED_ANNOTATION];
  if (value === undefined) return false;
  return parseGoBool(value) ?? true;
}
