// The jobs side of the platform: the store, logs and engine of src/jobs with each job's trigger, built
// together; applies the config's jobs and those applied earlier, and picks up what a restart left running.
import { mkdirSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRefs, type RefLookup } from "../model/refs.js";
import { JobsEngine } from "../jobs/executions.js";
import { LocalLauncher } from "../jobs/local-process/replica-spec.js";
import { LogBook } from "../jobs/logs.js";
import { normalizeJob, type JobSpec } from "../jobs/job-definition.js";
import { JobStore } from "../jobs/store.js";
import type { TriggerSource } from "../scaling/loop.js";
import type { TriggerFactory } from "./event-trigger.js";
import { JobTriggers } from "./job-triggers.js";
import type { Clock } from "./schedule-trigger.js";

interface Checked {
  job: JobSpec;
  entry: unknown;
  triggers: TriggerSource[];
}

export interface JobsOptions {
  dataDir: string;
  inMemory?: boolean;
  /** job entries from eventjobs.yaml (`jobs:`), in the Container Apps shape */
  jobs?: unknown[];
  triggers: TriggerFactory;
  refs: RefLookup;
  platformEnv?: (job: JobSpec) => Record<string, string>;
  logRetentionMs?: number;
  /** the schedule's clock (tests) */
  clock?: Clock;
}

export interface Jobs {
  store: JobStore;
  logs: LogBook;
  engine: JobsEngine;
  /** each job's trigger, and manual starts */
  runtime: JobTriggers;
  /** validates, resolves references, persists and starts one job entry */
  apply(entry: unknown): JobSpec;
  /** stops the job's executions and forgets the job, its executions and logs */
  remove(name: string): void;
  close(): Promise<void>;
}

export function createJobs(o: JobsOptions): Jobs {
  const store = new JobStore(o.inMemory ? ":memory:" : join(o.dataDir, "jobs.db"));
  const logs = new LogBook(store, { retentionMs: o.logRetentionMs });
  const replicasDir = o.inMemory ? join(tmpdir(), `eventjobs-replicas-${process.pid}`) : join(o.dataDir, "replicas");
  mkdirSync(replicasDir, { recursive: true });
  const launcher = new LocalLauncher({ imagesDir: join(o.dataDir, "images"), replicasDir, platformEnv: o.platformEnv });
  const engine = new JobsEngine(store, logs, launcher);
  const runtime = new JobTriggers(engine, logs, o.triggers, o.clock);
  // a checked job keeps the triggers its check built, so starting it does not build them again
  const check = (entry: unknown): Checked => {
    const job = normalizeJob(resolveRefs(entry, o.refs));
    return { job, entry, triggers: runtime.check(job) };
  };
  const start = ({ job, entry, triggers }: Checked) => {
    runtime.apply(job, triggers);
    store.saveJob(job.name, entry); // as written: references stay references
  };
  // Every config job is checked before any is started, so a bad file applies nothing.
  let checked: Checked[];
  try {
    checked = (o.jobs ?? []).map(check);
  } catch (e) {
    logs.close();
    store.close();
    throw e;
  }
  // jobs applied earlier (CLI/API) and not in the config, then the config's; then what the last process left running
  const fromConfig = new Set(checked.map((c) => c.job.name));
  for (const { name, definition } of store.listJobs()) {
    if (fromConfig.has(name)) continue;
    try {
      start(check(definition));
    } catch (e) {
      // a job applied earlier that no longer checks out (say, its namespace is gone) stays stored but idle
      logs.system(name, "JobNotStarted", `Job ${name} was not started: ${(e as Error).message}`, { warning: true });
    }
  }
  for (const c of checked) start(c);
  engine.reconcile();
  return {
    store,
    logs,
    engine,
    runtime,
    apply(entry) {
      const c = check(entry);
      start(c);
      return c.job;
    },
    remove(name) {
      runtime.remove(name);
      store.deleteJob(name);
    },
    async close() {
      runtime.close();
      await engine.close();
      logs.close();
      store.close();
      // in memory, replica dirs live under the system temp dir: leave nothing there (other platforms of this
      // process may still use it: only an empty one goes, and a launch makes it again)
      if (o.inMemory) rmEmptyDir(replicasDir);
    },
  };
}

function rmEmptyDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or gone already
  }
}
