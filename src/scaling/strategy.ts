// The decision per scaling strategy and how many jobs a tick creates.

import {
  getMaxReplicaCount,
  getMinReplicaCount,
  type ScaledJobScalingSpec,
  type ScalingStrategySpec,
} from "./bounds.js";
import { parseGoFloat } from "./goparse.js";

export type ScalingStrategyType = "default" | "custom" | "accurate" | "eager";

/** A resolved strategy: what actually runs after KEDA's silent fallbacks. */
export type ScalingStrategy =
  | { type: "default" }
  | { type: "custom"; queueLengthDeduction: number; runningJobPercentage: number }
  | { type: "accurate" }
  | { type: "eager" };

/**
 * Resolves `scalingStrategy` the way KEDA does: `custom` only when customScalingRunningJobPercentage
 * parses as a Go float (empty or unparsable silently runs `default`); a null deduction counts as 0
 * (it once crashed the operator); `accurate`/`eager` map to themselves; anything else is `default`.
 */
export function resolveScalingStrategy(spec: ScalingStrategySpec | null | undefined): ScalingStrategy {
  switch (spec?.strategy) {
    case "custom": {
      const pct = parseGoFloat(spec.customScalingRunningJobPercentage ?? "");
      if (pct === undefined) return { type: "default" };
      return {
        type: "custom",
        queueLengthDeduction: spec.customScalingQueueLengthDeduction ?? 0,
        runningJobPercentage: pct,
      };
    }
    case "accurate":
      return { type: "accurate" };
    case "eager":
      return { type: "eager" };
    default:
      return { type: "default" };
  }
}

/** Inputs of one strategy evaluation, with running already reduced by the effective min. */
export interface EffectiveMaxScaleInput {
  /** ceil(min(mv, M)) from the combination step. */
  maxScale: number;
  /** r = running − effMin. */
  runningJobCount: number;
  /** p = pending (not reduced by min). */
  pendingJobCount: number;
  /** M, the effective max. */
  maxReplicaCount: number;
  /** ceil(Q) from the combination step. */
  scaleTo: number;
}

const INT64_MIN = -(2n ** 63n);
const wrapInt64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * Go's `int64(float64(r) * pct)`: truncation toward zero. NaN/±Inf/out-of-range products become
 * int64 min as on amd64, and the subtraction then wraps like Go int64 (so no jobs get created).
 */
function customResult(maxScale: number, deduction: number, running: number, pct: number): number {
  const product = running * pct;
  if (Number.isFinite(product) && Math.abs(product) < 2 ** 63) {
    return maxScale - deduction - Math.trunc(product);
  }
  return Number(wrapInt64(BigInt(Math.trunc(maxScale)) - BigInt(Math.trunc(deduction)) - INT64_MIN));
}

/**
 * One strategy's effective max scale (and, for `eager`, its replacement scaleTo). Not clamped at 0
 * here; the caller clamps, as KEDA's executor does.
 *   default:  maxScale − r
 *   custom:   min(maxScale − deduction − trunc(r × pct), M)
 *   accurate: maxScale + r − p > M ? M − r : maxScale − p
 *   eager:    min(M − r − p, maxScale), scaleTo = M
 */
export function getEffectiveMaxScale(
  strategy: ScalingStrategy,
  input: EffectiveMaxScaleInput,
): { effectiveMaxScale: number; scaleTo: number } {
  const { maxScale, runningJobCount: r, pendingJobCount: p, maxReplicaCount: m, scaleTo } = input;
  switch (strategy.type) {
    case "custom": {
      const result = customResult(maxScale, strategy.queueLengthDeduction, r, strategy.runningJobPercentage);
      return { effectiveMaxScale: Math.min(result, m), scaleTo };
    }
    case "accurate":
      return { effectiveMaxScale: maxScale + r - p > m ? m - r : maxScale - p, scaleTo };
    case "eager":
      return { effectiveMaxScale: Math.min(m - r - p, maxScale), scaleTo: m };
    default:
      return { effectiveMaxScale: maxScale - r, scaleTo };
  }
}

/** Inputs of a tick's decision. */
export interface ScalingDecisionInput {
  runningJobCount: number;
  pendingJobCount: number;
  /** ceil(Q) */
  scaleTo: number;
  /** ceil(min(mv, M)) */
  maxScale: number;
}

/** The decision: how many jobs may exist beyond the running ones (clamped ≥ 0) and the target. */
export interface ScalingDecision {
  effectiveMaxScale: number;
  scaleTo: number;
  /** Which branch decided: the min-replica top-up or a (resolved) strategy. */
  decidedBy: "minReplicaCount" | ScalingStrategyType;
}

/**
 * KEDA's getScalingDecision plus the executor's clamp: below effMin, top up to effMin regardless of
 * the metrics; otherwise run the resolved strategy with r = running − effMin.
 */
export function getScalingDecision(spec: ScaledJobScalingSpec, input: ScalingDecisionInput): ScalingDecision {
  const min = getMinReplicaCount(spec);
  if (input.runningJobCount < min) {
    const topUp = min - input.runningJobCount;
    return { effectiveMaxScale: topUp, scaleTo: topUp, decidedBy: "minReplicaCount" };
  }
  const strategy = resolveScalingStrategy(spec.scalingStrategy);
  const r = getEffectiveMaxScale(strategy, {
    maxScale: input.maxScale,
    runningJobCount: input.runningJobCount - min,
    pendingJobCount: input.pendingJobCount,
    maxReplicaCount: getMaxReplicaCount(spec),
    scaleTo: input.scaleTo,
  });
  return { effectiveMaxScale: Math.max(r.effectiveMaxScale, 0), scaleTo: r.scaleTo, decidedBy: strategy.type };
}

/**
 * Jobs created this tick: nothing when inactive, else min(scaleTo, effectiveMaxScale), never negative.
 */
export function jobsToCreate(isActive: boolean, scaleTo: number, effectiveMaxScale: number): number {
  if (!isActive || effectiveMaxScale <= 0) return 0;
  return Math.max(0, Math.min(scaleTo, effectiveMaxScale));
}
