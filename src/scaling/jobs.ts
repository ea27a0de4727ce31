// Owned jobs: running vs pending, history cleanup and the job objects a tick creates. Jobs and pods are
// plain data here; listing and creating them is the runner's business.
// For ACA, map an execution to a job and its replicas to pods (phase Running/Succeeded/…).

/** A Kubernetes-style condition. */
export interface Condition {
  type: string;
  status: string;
}

/** A pod of a job (ACA: a replica of an execution). */
export interface PodLike {
  phase?: string;
  conditions?: readonly Condition[];
}

/** A job owned by the ScaledJob (ACA: an execution). */
export interface JobLike {
  name: string;
  conditions?: readonly Condition[];
  /** RFC 3339 string, epoch ms or Date; compared as instants. */
  completionTime?: string | number | Date | null;
  /** Pods found by `job-name=<job>`; a failed list counts as none. */
  pods?: readonly PodLike[];
}

/** `Complete` or `Failed` when a condition of that type has status True; otherwise undefined. */
export function getFinishedJobConditionType(job: JobLike): "Complete" | "Failed" | undefined {
  for (const c of job.conditions ?? []) {
    if ((c.type === "Complete" || c.type === "Failed") && c.status === "True") return c.type;
  }
  return undefined;
}

/** finished ⇔ a Complete or Failed condition is True. */
export function isJobFinished(job: JobLike): boolean {
  return getFinishedJobConditionType(job) !== undefined;
}

/**
 * Whether an unfinished job counts as pending. Without pendingPodConditions: no pod is Running or
 * Succeeded. With them: no pod has every listed condition True. Quirk kept: KEDA compares the number
 * of distinct fulfilled conditions with the list's length, so a list with duplicates never clears.
 */
export function isJobPending(job: JobLike, pendingPodConditions: readonly string[] = []): boolean {
  if (isJobFinished(job)) return false;
  const pods = job.pods ?? [];
  if (pendingPodConditions.length === 0) {
    return !pods.some((p) => p.phase === "Running" || p.phase === "Succeeded");
  }
  const required = new Set(pendingPodConditions);
  const allFulfilled = pods.some((pod) => {
    const fulfilled = new Set(
      (pod.conditions ?? []).filter((c) => required.has(c.type) && c.status === "True").map((c) => c.type),
    );
    return fulfilled.size === pendingPodConditions.length;
  });
  return !allFulfilled;
}

/** running = unfinished jobs (pending included); pending per isJobPending. */
export function countJobs(
  jobs: readonly JobLike[],
  pendingPodConditions: readonly string[] = [],
): { runningJobCount: number; pendingJobCount: number } {
  let runningJobCount = 0;
  let pendingJobCount = 0;
  for (const job of jobs) {
    if (isJobFinished(job)) continue;
    runningJobCount++;
    if (isJobPending(job, pendingPodConditions)) pendingJobCount++;
  }
  return { runningJobCount, pendingJobCount };
}

/** pending count alone (KEDA's getPendingJobCount). */
export function getPendingJobCount(jobs: readonly JobLike[], pendingPodConditions: readonly string[] = []): number {
  return countJobs(jobs, pendingPodConditions).pendingJobCount;
}

const instant = (t: JobLike["completionTime"]): number | undefined =>
  t === undefined || t === null ? undefined : new Date(t).getTime();

/**
 * Jobs to delete by history limits: succeeded and failed jobs are separate lists, each sorted by
 * completion time (oldest first; a missing time sorts as "not before"), and the oldest
 * `length − limit` go. Unfinished jobs are never touched. Returns succeeded then failed.
 */
export function getJobsToDelete(
  jobs: readonly JobLike[],
  limits: { successfulJobsHistoryLimit?: number | null; failedJobsHistoryLimit?: number | null } = {},
): JobLike[] {
  const byTime = (a: JobLike, b: JobLike) => {
    const ta = instant(a.completionTime);
    const tb = instant(b.completionTime);
    return ta === undefined || tb === undefined ? 0 : ta - tb;
  };
  const pick = (type: "Complete" | "Failed", limit: number) => {
    const list = jobs.filter((j) => getFinishedJobConditionType(j) === type).sort(byTime);
    return list.length <= limit ? [] : list.slice(0, list.length - limit);
  };
  return [
    ...pick("Complete", limits.successfulJobsHistoryLimit ?? 100),
    ...pick("Failed", limits.failedJobsHistoryLimit ?? 100),
  ];
}

/** The ScaledJob fields job generation reads. */
export interface ScaledJobIdentity {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  /** jobTargetRef (a Job spec); deep-copied into every job. */
  jobTargetRef?: JobTargetRef;
}

/** A Job spec as far as generation touches it. */
export interface JobTargetRef {
  template?: {
    metadata?: { generateName?: string; labels?: Record<string, string>; [k: string]: unknown };
    spec?: { restartPolicy?: string; [k: string]: unknown };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** A job object as KEDA would POST it. */
export interface GeneratedJob {
  metadata: {
    generateName: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences?: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller: true;
      blockOwnerDeletion: true;
    }[];
  };
  spec: JobTargetRef;
}

export const EXCLUDED_LABELS_ANNOTATION = "scaledjob.keda.sh/job-excluded-labels";

/**
 * The `count` jobs a tick creates. Labels: KEDA's fixed set, then the ScaledJob's own labels (which
 * win) minus those in the comma-separated exclusion annotation; annotations: generation, then the
 * ScaledJob's; empty restartPolicy → OnFailure (Jobs reject the client default Always).
 */
export function generateJobs(
  scaledJob: ScaledJobIdentity,
  count: number,
  options: { kedaVersion?: string } = {},
): GeneratedJob[] {
  const name = scaledJob.name;
  const exclusion = scaledJob.annotations?.[EXCLUDED_LABELS_ANNOTATION];
  const excluded = new Set(exclusion === undefined ? [] : exclusion.split(","));
  const labels: Record<string, string> = {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/version": options.kedaVersion ?? "main",
    "app.kubernetes.io/part-of": name,
    "app.kubernetes.io/managed-by": "keda-operator",
    "scaledjob.keda.sh/name": name,
  };
  for (const [k, v] of Object.entries(scaledJob.labels ?? {})) if (!excluded.has(k)) labels[k] = v;
  const annotations = { "scaledjob.keda.sh/generation": String(scaledJob.generation ?? 0), ...scaledJob.annotations };
  const jobs: GeneratedJob[] = [];
  for (let i = 0; i < count; i++) {
    const spec: JobTargetRef = structuredClone(scaledJob.jobTargetRef ?? {});
    const template = (spec.template ??= {});
    const meta = (template.metadata ??= {});
    meta.generateName = `${name}-`;
    meta.labels = { ...meta.labels, "scaledjob.keda.sh/name": name };
    const podSpec = (template.spec ??= {});
    if (!podSpec.restartPolicy) podSpec.restartPolicy = "OnFailure";
    const job: GeneratedJob = {
      metadata: {
        generateName: `${name}-`,
        namespace: scaledJob.namespace,
        labels: { ...labels },
        annotations: { ...annotations },
      },
      spec,
    };
    if (scaledJob.uid) {
      job.metadata.ownerReferences = [
        {
          apiVersion: "keda.sh/v1alpha1",
          kind: "ScaledJob",
          name,
          uid: scaledJob.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ];
    }
    jobs.push(job);
  }
  return jobs;
}
