// Turns a job's container into a running local process: resolves the image (a local snapshot from
// `acr build`), the argv (command/args over ENTRYPOINT/CMD), the environment (image ENV < container env
// with secrets resolved < the platform's variables) and a fresh working directory per replica.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Launcher } from "./engine.js";
import { startReplica } from "./executor.js";
import { prepareReplicaDir, replicaArgv, resolveImage } from "./images.js";
import { parseMemory, type Container, type JobSpec } from "./model.js";
import type { LineSink, LocalImage, ReplicaHandle } from "./types.js";

export interface LocalLauncherOptions {
  /** where `acr build` keeps images */
  imagesDir: string;
  /** parent of the per-replica working directories */
  replicasDir: string;
  /** the platform's variables for a replica: identity endpoint and header, CA bundle, ... */
  platformEnv?: (job: JobSpec) => Record<string, string>;
}

export class LocalLauncher implements Launcher {
  constructor(private readonly opts: LocalLauncherOptions) {}

  launch(ctx: { job: JobSpec; execution: string; replica: string; container: Container }, onLine: LineSink): ReplicaHandle {
    const { job, execution, replica, container } = ctx;
    const image = container.image ? resolveImage(this.opts.imagesDir, container.image) : undefined;
    const argv = replicaArgv(image, container); // throws a clear error when nothing says what to run
    const dir = join(this.opts.replicasDir, replica, container.name || "main");
    mkdirSync(dir, { recursive: true });
    const cwd = image ? prepareReplicaDir(image, dir) : dir;
    const handle = startReplica(
      {
        jobName: job.name,
        executionName: execution,
        replicaName: replica,
        containerName: container.name,
        argv,
        env: { ...replicaVariables(job, container, image), ...this.opts.platformEnv?.(job), ...ids(job.name, execution, replica) },
        cwd,
        timeoutSeconds: job.replicaTimeout,
        terminationGracePeriodSeconds: job.terminationGracePeriodSeconds,
        memoryLimitBytes: container.resources?.memory ? parseMemory(container.resources.memory) : undefined,
      },
      onLine,
    );
    // the working directory is scratch space, as a container's writable layer is
    handle.done.finally(() => rmSync(join(this.opts.replicasDir, replica), { recursive: true, force: true })).catch(() => {});
    return handle;
  }
}

/** The variables Container Apps sets in every job replica. */
function ids(job: string, execution: string, replica: string): Record<string, string> {
  return { CONTAINER_APP_JOB_NAME: job, CONTAINER_APP_JOB_EXECUTION_NAME: execution, CONTAINER_APP_REPLICA_NAME: replica };
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
