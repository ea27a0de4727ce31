// From a replica's container to the local process that runs it: the image (a local snapshot from
// `acr build`), the argv (command/args over ENTRYPOINT/CMD), the environment (image ENV < container env
// with secrets resolved < the platform's variables) and a fresh working directory per replica.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Launcher } from "../executions.js";
import { prepareReplicaDir, replicaArgv, resolveImage } from "../images.js";
import { parseMemory, type Container, type JobSpec } from "../job-definition.js";
import type { ReplicaRecord } from "../store.js";
import type { LineSink, LocalImage, ReplicaHandle, ReplicaSpec } from "../types.js";
import { killLeftoverReplica, startReplica } from "./supervisor.js";

export interface LocalLauncherOptions {
  /** where `acr build` keeps images */
  imagesDir: string;
  /** parent of the per-replica working directories */
  replicasDir: string;
  /** the platform's variables for a replica: identity endpoint and header, CA bundle, ... */
  platformEnv?: (job: JobSpec) => Record<string, string>;
}

export interface ReplicaContext {
  job: JobSpec;
  execution: string;
  replica: string;
  container: Container;
}

/**
 * The engine's Launcher for local processes: builds each replica's spec and starts it; after a restart, kills
 * leftovers.
 */
export class LocalLauncher implements Launcher {
  constructor(private readonly opts: LocalLauncherOptions) {}

  launch(ctx: ReplicaContext, onLine: LineSink): ReplicaHandle {
    const handle = startReplica(replicaSpec(ctx, this.opts), onLine);
    // the working directory is scratch space, as a container's writable layer is
    handle.done
      .finally(() => rmSync(join(this.opts.replicasDir, ctx.replica), { recursive: true, force: true }))
      .catch(() => {});
    return handle;
  }

  killLeftover(replica: ReplicaRecord): void {
    killLeftoverReplica(replica.name, replica.pids ?? []);
  }
}

/** Resolves a replica's container into a spec, creating its working directory; throws when nothing says what to run. */
export function replicaSpec(ctx: ReplicaContext, opts: LocalLauncherOptions): ReplicaSpec {
  const { job, execution, replica, container } = ctx;
  const image = container.image ? resolveImage(opts.imagesDir, container.image) : undefined;
  const argv = replicaArgv(image, container); // throws a clear error when nothing says what to run
  const dir = join(opts.replicasDir, replica, container.name || "main");
  mkdirSync(dir, { recursive: true });
  const cwd = image ? prepareReplicaDir(image, dir) : dir;
  return {
    jobName: job.name,
    executionName: execution,
    replicaName: replica,
    containerName: container.name,
    argv,
    env: {
      ...replicaVariables(job, container, image),
      ...opts.platformEnv?.(job),
      ...ids(job.name, execution, replica),
    },
    cwd,
    timeoutSeconds: job.replicaTimeout,
    terminationGracePeriodSeconds: job.terminationGracePeriodSeconds,
    memoryLimitBytes: container.resources?.memory ? parseMemory(container.resources.memory) : undefined,
  };
}

/** The variables Container Apps sets in every job replica. */
function ids(job: string, execution: string, replica: string): Record<string, string> {
  return {
    CONTAINER_APP_JOB_NAME: job,
    CONTAINER_APP_JOB_EXECUTION_NAME: execution,
    CONTAINER_APP_REPLICA_NAME: replica,
  };
}

/** Image ENV, then the container's env with secretRefs resolved from the job's secrets. */
export function replicaVariables(job: JobSpec, container: Container, image?: LocalImage): Record<string, string> {
  const env: Record<string, string> = { ...(image?.env ?? {}) };
  for (const e of container.env ?? []) {
    if (e.secretRef !== undefined) {
      const s = job.secrets.find((x) => x.name === e.secretRef);
      if (s) env[e.name] = s.value;
    } else env[e.name] = e.value ?? "";
  }
  return env;
}
