// Per-trigger metrics, activation and combining triggers into one ScaledJob state.

import { getMaxReplicaCount, getMinReplicaCount, type ScaledJobScalingSpec } from "./bounds.js";

/** One metric value a scaler returned (for Service Bus: the entity's active message count). */
export interface MetricValue {
  metricName: string;
  value: number;
}

/** What one trigger reported this tick: its values, the AverageValue targets of its metric specs, its activity. */
export interface TriggerReading {
  /** The trigger's own metric name; values under other names are ignored. */
  metricName: string;
  values: readonly MetricValue[];
  /** Target AverageValue of each metric spec; `undefined` for a spec without one (counts as 0). */
  targetAverageValues: readonly (number | undefined)[];
  /** The scaler's own activity test (Service Bus: count > activationMessageCount). */
  isActive: boolean;
}

/** A trigger whose read failed (after KEDA's one rebuild-and-retry); it is left out of the tick. */
export interface TriggerFailure {
  error: unknown;
}

export type TriggerOutcome = TriggerReading | TriggerFailure;

/** Per-trigger figures fed into the combination step. */
export interface TriggerMetrics {
  /** Q: raw backlog, the sum of the trigger's values. */
  queueLength: number;
  /** min(Q / T, M) as a float; 0 when T is 0. */
  maxValue: number;
  /** T: mean of the spec targets. */
  targetAverageValue: number;
  isActive: boolean;
}

/** Multiple-trigger combination modes; unknown values behave as `max`. */
export type MultipleScalersCalculation = "max" | "min" | "avg" | "sum";

/**
 * Activation: a trigger is active only when its value is strictly greater than the activation
 * threshold (so 0 messages with the default threshold 0 is inactive).
 */
export function isActive(value: number, activationThreshold = 0): boolean {
  return value > activationThreshold;
}

/** T_i: arithmetic mean of the targets; 0 when there are none (then the trigger adds no maxScale). */
export function getTargetAverageValue(targetAverageValues: readonly (number | undefined)[]): number {
  if (targetAverageValues.length === 0) return 0;
  let total = 0;
  for (const v of targetAverageValues) total += v ?? 0;
  return total / targetAverageValues.length;
}

/**
 * Q_i and mv_i for one trigger. mv stays a float here: KEDA rounds up only after combining triggers,
 * which is why docs' `min(M, ceil(Q/T))` and behaviour differ with several triggers.
 */
export function calculateQueueLengthAndMaxValue(
  values: readonly MetricValue[],
  metricName: string,
  targetAverageValues: readonly (number | undefined)[],
  maxReplicaCount: number,
): { queueLength: number; maxValue: number; targetAverageValue: number } {
  let queueLength = 0;
  for (const m of values) if (m.metricName === metricName) queueLength += m.value;
  const targetAverageValue = getTargetAverageValue(targetAverageValues);
  const maxValue = targetAverageValue !== 0 ? Math.min(queueLength / targetAverageValue, maxReplicaCount) : 0;
  return { queueLength, maxValue, targetAverageValue };
}

/** TriggerMetrics for one successful reading, with M = the ScaledJob's effective max. */
export function getTriggerMetrics(reading: TriggerReading, maxReplicaCount: number): TriggerMetrics {
  const r = calculateQueueLengthAndMaxValue(
    reading.values,
    reading.metricName,
    reading.targetAverageValues,
    maxReplicaCount,
  );
  return { ...r, isActive: reading.isActive };
}

/** Result of combining triggers: the raw inputs to the strategy step. */
export interface CombinedMetrics {
  isActive: boolean;
  /** scaleTo = ceil(Q): the raw backlog, NOT divided by the target. */
  queueLength: number;
  /** maxScale = ceil(min(mv, M)). */
  maxValue: number;
  /** min(mv, M) before rounding (what KEDA logs). */
  maxFloatValue: number;
}

/**
 * Combines triggers per `multipleScalersCalculation`. Inactive triggers never participate; with
 * `max`, an active trigger reporting 0 is never selected, and with `min` a 0 never sticks (the
 * "Q == 0" test re-opens selection). effMin > 0 forces isActive.
 */
export function combineMetrics(
  metrics: readonly TriggerMetrics[],
  calculation: string | null | undefined,
  minReplicaCount: number,
  maxReplicaCount: number,
): CombinedMetrics {
  let queueLength = 0;
  let maxValue = 0;
  let active = false;
  const activeOnes = metrics.filter((m) => m.isActive);
  switch (calculation) {
    case "min":
      for (const m of activeOnes) {
        if (queueLength === 0 || m.queueLength < queueLength) {
          queueLength = m.queueLength;
          maxValue = m.maxValue;
          active = true;
        }
      }
      break;
    case "avg":
    case "sum":
      for (const m of activeOnes) {
        queueLength += m.queueLength;
        maxValue += m.maxValue;
        active = true;
      }
      if (calculation === "avg" && activeOnes.length > 0) {
        queueLength /= activeOnes.length;
        maxValue /= activeOnes.length;
      }
      break;
    default: // "max", "" and anything unknown
      for (const m of activeOnes) {
        if (m.queueLength > queueLength) {
          queueLength = m.queueLength;
          maxValue = m.maxValue;
          active = true;
        }
      }
  }
  if (minReplicaCount > 0) active = true;
  const maxFloatValue = Math.min(maxValue, maxReplicaCount);
  return { isActive: active, queueLength: Math.ceil(queueLength), maxValue: Math.ceil(maxFloatValue), maxFloatValue };
}

/** One tick's ScaledJob state (KEDA's getScaledJobState). */
export interface ScaledJobState extends CombinedMetrics {
  /** Some trigger failed this tick (drives PartialTriggerError / TriggerError). */
  isError: boolean;
  /** Indices (into the outcomes) of triggers whose own activity test passed. */
  activeTriggers: number[];
  /** Per-trigger metrics, `undefined` for failed triggers. */
  triggers: (TriggerMetrics | undefined)[];
}

/** Measures every trigger against the effective bounds and combines them. */
export function getScaledJobState(spec: ScaledJobScalingSpec, outcomes: readonly TriggerOutcome[]): ScaledJobState {
  const min = getMinReplicaCount(spec);
  const max = getMaxReplicaCount(spec);
  const triggers = outcomes.map((o) => ("error" in o ? undefined : getTriggerMetrics(o, max)));
  const measured = triggers.filter((t): t is TriggerMetrics => t !== undefined);
  const activeTriggers = triggers.flatMap((t, i) => (t?.isActive ? [i] : []));
  const combined = combineMetrics(measured, spec.scalingStrategy?.multipleScalersCalculation, min, max);
  return { ...combined, isError: triggers.length !== measured.length, activeTriggers, triggers };
}
