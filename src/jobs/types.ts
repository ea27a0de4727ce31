// Contracts between the jobs engine (executions.ts) and the parts that know how a replica runs
// (local-process/, local images). The engine decides *what* runs; those parts know *how*.

/** One replica to run as a local process. Everything is already resolved (no secretRefs, no image refs). */
export interface ReplicaSpec {
  jobName: string;
  executionName: string;
  /** `<executionName>-<suffix>` as Container Apps names replicas */
  replicaName: string;
  containerName: string;
  /** argv: [program, ...args], after applying image ENTRYPOINT/CMD and the container's command/args */
  argv: string[];
  /** the variables the job declares plus the platform's (the supervisor adds PATH/HOME/LANG) */
  env: Record<string, string>;
  /** directory the replica runs in (its own copy of the image, or a fresh empty dir) */
  cwd: string;
  /** replicaTimeout in seconds: SIGTERM when exceeded, SIGKILL after the grace period */
  timeoutSeconds: number;
  /** seconds between SIGTERM and SIGKILL (timeout or stop); Container Apps/Kubernetes default 30 */
  terminationGracePeriodSeconds?: number;
  /** memory limit in bytes (the container's resources.memory); exceeded → killed, OOMKilled */
  memoryLimitBytes?: number;
}

export type ReplicaEndReason =
  | "Completed" // exit code 0
  | "Error" // non-zero exit or killed by a signal we did not send
  | "DeadlineExceeded" // replicaTimeout hit
  | "OOMKilled" // memory limit exceeded
  | "Stopped" // stop() was called
  | "StartFailed"; // the program could not be started (ENOENT, EACCES, ...)

export interface ReplicaOutcome {
  reason: ReplicaEndReason;
  /** exit code as a container runtime reports it: the process's code, or 128 + signal number */
  exitCode: number;
  signal?: string;
  /** human-readable detail, e.g. "command not found: python" or "memory 612 MiB over limit 512 MiB" */
  message?: string;
}

export interface ReplicaHandle {
  readonly pid?: number;
  /** SIGTERM the process group, SIGKILL after the grace period; resolves `done` with reason Stopped */
  stop(): void;
  readonly done: Promise<ReplicaOutcome>;
  /** platform notes about how the replica was started (e.g. `python` run as `python3`), for system logs;
   *  filled synchronously by startReplica, never contains env values */
  readonly notices?: readonly string[];
}

export type Stream = "stdout" | "stderr";

/** Receives each complete output line (without the newline); a trailing partial line is flushed at exit. */
export type LineSink = (stream: Stream, text: string) => void;

/** A local image: a snapshot of a build context plus what its Dockerfile says. */
export interface LocalImage {
  /** `<registry>.azurecr.io/<name>:<tag>` */
  ref: string;
  registry: string;
  repository: string;
  tag: string;
  /** absolute path of the snapshot (the build context copied at build time) */
  dir: string;
  /** WORKDIR from the Dockerfile, mapped onto the snapshot: relative path inside `dir` ("" = root) */
  workdir: string;
  env: Record<string, string>;
  /** exec-form or shell-form (["/bin/sh","-c",...]) as Docker resolves them */
  entrypoint: string[];
  cmd: string[];
  /** Dockerfile instructions that were not executed (RUN, ...), reported to the user */
  skipped: string[];
  digest: string;
  createdAt: string;
}
