// One whole tick, as a pure function: trigger outcomes + owned-job counts → how many jobs to create,
// plus the status conditions and the user-visible log/event texts, as KEDA's ScaledJob controller has them.

import type { ScaledJobScalingSpec } from "./bounds.js";
import { getScaledJobState, type ScaledJobState, type TriggerOutcome } from "./metrics.js";
import { getScalingDecision, jobsToCreate, type ScalingDecision } from "./strategy.js";

export const NO_NEED_TO_CREATE_JOBS = "No need to create jobs - all requested jobs already exist";

/** Status conditions KEDA writes after a tick. */
export interface ScaledJobConditions {
  ready: { status: "True" | "False" | "Unknown"; reason: "ScaledJobReady" | "PartialTriggerError" | "TriggerError" };
  active: { status: "True" | "False"; reason: "ScalerActive" | "ScalerNotActive" };
}

/** The result of one tick. */
export interface ScaledJobTick {
  state: ScaledJobState;
  runningJobCount: number;
  pendingJobCount: number;
  decision: ScalingDecision;
  /** Jobs to create now. */
  jobsToCreate: number;
  /** Active: lastActiveTime should be set to now. */
  markActive: boolean;
  /** `Created <n> jobs` (event KEDAJobsCreated) or the "no need" log line; undefined when inactive. */
  message?: string;
  conditions: ScaledJobConditions;
  /** ScaledJobActive / ScaledJobInactive when the Active condition flips (given the previous one). */
  transitionEvent?: "ScaledJobActive" | "ScaledJobInactive";
}

/**
 * Ready/Active conditions: errors while active → Ready Unknown (PartialTriggerError); errors while
 * inactive → Ready False (TriggerError); otherwise Ready True.
 */
export function getScaledJobConditions(isActive: boolean, isError: boolean): ScaledJobConditions {
  const ready: ScaledJobConditions["ready"] = !isError
    ? { status: "True", reason: "ScaledJobReady" }
    : isActive
      ? { status: "Unknown", reason: "PartialTriggerError" }
      : { status: "False", reason: "TriggerError" };
  const active: ScaledJobConditions["active"] = isActive
    ? { status: "True", reason: "ScalerActive" }
    : { status: "False", reason: "ScalerNotActive" };
  return { ready, active };
}

/**
 * Decides one tick. `jobs` are the counts from countJobs (running = unfinished, pending ⊆ running);
 * `wasActive` is the previous Active condition, for the transition event.
 */
export function decideScaledJob(
  spec: ScaledJobScalingSpec,
  outcomes: readonly TriggerOutcome[],
  jobs: { runningJobCount: number; pendingJobCount: number },
  wasActive = false,
): ScaledJobTick {
  const state = getScaledJobState(spec, outcomes);
  const decision = getScalingDecision(spec, {
    runningJobCount: jobs.runningJobCount,
    pendingJobCount: jobs.pendingJobCount,
    scaleTo: state.queueLength,
    maxScale: state.maxValue,
  });
  const n = jobsToCreate(state.isActive, decision.scaleTo, decision.effectiveMaxScale);
  let message: string | undefined;
  // KEDA emits "Created n jobs" whenever the effective max is positive, even if scaleTo makes n 0.
  if (state.isActive) message = decision.effectiveMaxScale <= 0 ? NO_NEED_TO_CREATE_JOBS : `Created ${n} jobs`;
  const tick: ScaledJobTick = {
    state,
    runningJobCount: jobs.runningJobCount,
    pendingJobCount: jobs.pendingJobCount,
    decision,
    jobsToCreate: n,
    markActive: state.isActive,
    message,
    conditions: getScaledJobConditions(state.isActive, state.isError),
  };
  if (state.isActive !== wasActive) tick.transitionEvent = state.isActive ? "ScaledJobActive" : "ScaledJobInactive";
  return tick;
}
