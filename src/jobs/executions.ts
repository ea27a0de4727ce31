// The jobs engine: executions and their replicas, with Container Apps Jobs semantics (docs/compatibility.md,
// "Container Apps jobs"): an execution runs `parallelism` replicas at a time until `replicaCompletionCount`
// succeed; failures are retried up to `replicaRetryLimit`; a replica over `replicaTimeout` fails the
// execution; stop ends it as Stopped. How a replica's process is made (image, env, directory) is the
// Launcher's business (local-process/replica-spec.ts).
import { randomInt } from "node:crypto";
import { EventEmitter } from "node:events";
import type { LogBook } from "./logs.js";
import { overrideTemplate, type Container, type JobSpec, type Template } from "./job-definition.js";
import { UNFINISHED, type ExecutionRecord, type ExecutionStatus, type JobStore, type ReplicaRecord } from "./store.js";
import type { LineSink, ReplicaHandle, ReplicaOutcome } from "./types.js";

/** Starts one container of one replica. */
export interface Launcher {
  launch(
    ctx: { job: JobSpec; execution: string; replica: string; container: Container },
    onLine: LineSink,
  ): ReplicaHandle;
  /** After a restart: ends what a replica of the previous server process left running. */
  killLeftover?(replica: ReplicaRecord): void;
}

export type StartTrigger =
  { type: "Event"; rules?: string[] } | { type: "Manual"; template?: Template } | { type: "Schedule" };

export interface JobsEngineEvents {
  executionStarted: [ExecutionRecord];
  executionFinished: [ExecutionRecord];
  replicaStarted: [ExecutionRecord, ReplicaRecord];
}

export const HISTORY_LIMIT = 100;

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const randomSuffix = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

interface LiveExecution {
  record: ExecutionRecord;
  job: JobSpec;
  template: Template;
  handles: Map<string, ReplicaHandle[]>;
  failures: number;
  /** set when the execution is decided (stop, timeout, retries used up) while replicas still run */
  ending?: { status: ExecutionStatus; reason: string };
}

export class JobsEngine extends EventEmitter<JobsEngineEvents> {
  private readonly jobs = new Map<string, JobSpec>();
  private readonly live = new Map<string, LiveExecution>();
  private closing = false;

  constructor(
    private readonly store: JobStore,
    private readonly logs: LogBook,
    private readonly launcher: Launcher,
  ) {
    super();
  }

  // ---- definitions -------------------------------------------------------------------------------

  /** Adds or replaces a job. Running executions of a changed job continue with the template they started with. */
  setJob(job: JobSpec): void {
    this.jobs.set(job.name, job);
  }

  removeJob(name: string): void {
    for (const e of this.live.values()) if (e.record.job === name) this.stop(name, e.record.name);
    this.jobs.delete(name);
  }

  job(name: string): JobSpec | undefined {
    return this.jobs.get(name);
  }

  listJobs(): JobSpec[] {
    return [...this.jobs.values()];
  }

  // ---- executions --------------------------------------------------------------------------------

  executions(job: string): ExecutionRecord[] {
    return this.store.executions(job).map((e) => this.live.get(e.name)?.record ?? e);
  }

  execution(name: string): ExecutionRecord | undefined {
    return this.live.get(name)?.record ?? this.store.execution(name);
  }

  /**
   * running = unfinished executions; pending = unfinished ones with no replica running or succeeded, as KEDA counts a
   * ScaledJob's Jobs.
   */
  counts(job: string): { running: number; pending: number } {
    let running = 0,
      pending = 0;
    for (const e of this.live.values()) {
      if (e.record.job !== job || !UNFINISHED.has(e.record.status)) continue;
      running++;
      if (!e.record.replicas.some((r) => r.status === "Running" || r.status === "Succeeded")) pending++;
    }
    return { running, pending };
  }

  start(jobName: string, trigger: StartTrigger): ExecutionRecord {
    const job = this.jobs.get(jobName);
    if (!job) throw new Error(`job ${jobName} not found`);
    const template = overrideTemplate(job.template, trigger.type === "Manual" ? trigger.template : undefined);
    const record: ExecutionRecord = {
      name: `${job.name}-${randomSuffix(7)}`,
      job: job.name,
      status: "Running",
      startTime: new Date().toISOString(),
      trigger: trigger.type === "Event" ? { type: "Event", rules: trigger.rules } : { type: trigger.type },
      template,
      replicas: [],
    };
    const live: LiveExecution = { record, job, template, handles: new Map(), failures: 0 };
    this.live.set(record.name, live);
    this.store.saveExecution(record);
    const by =
      trigger.type === "Event"
        ? `scale rule${trigger.rules && trigger.rules.length > 1 ? "s" : ""} ${trigger.rules?.join(", ") ?? ""}`.trim()
        : trigger.type === "Manual"
          ? "a manual start"
          : "the schedule";
    this.logs.system(job.name, "ExecutionCreated", `Execution ${record.name} created by ${by}`, {
      execution: record.name,
    });
    this.emit("executionStarted", record);
    for (let i = 0; i < Math.min(job.parallelism, job.replicaCompletionCount); i++) this.launchReplica(live, 0);
    return record;
  }

  /** Stops one execution, or every unfinished execution of the job; returns the executions stopped. */
  stop(jobName: string, executionName?: string): ExecutionRecord[] {
    const out: ExecutionRecord[] = [];
    for (const e of [...this.live.values()]) {
      if (e.record.job !== jobName || (executionName && e.record.name !== executionName)) continue;
      this.end(e, { status: "Stopped", reason: "Stopped by request" });
      out.push(e.record);
    }
    return out;
  }

  private launchReplica(e: LiveExecution, attempt: number): void {
    const rec: ReplicaRecord = {
      name: `${e.record.name}-${randomSuffix(5)}`,
      status: "Running",
      attempt,
      startTime: new Date().toISOString(),
    };
    e.record.replicas.push(rec);
    const ids = { execution: e.record.name, replica: rec.name };
    const containers = e.template.containers;
    const handles: ReplicaHandle[] = [];
    for (const c of containers) {
      let h: ReplicaHandle;
      try {
        h = this.launcher.launch(
          { job: e.job, execution: e.record.name, replica: rec.name, container: c },
          (stream, text) =>
            this.logs.write({ kind: "console", job: e.record.job, ...ids, container: c.name, stream, text }),
        );
      } catch (err) {
        h = failedHandle(String((err as Error).message ?? err));
      }
      handles.push(h);
    }
    e.handles.set(rec.name, handles);
    const pids = handles.map((h) => h.pid).filter((p): p is number => p !== undefined);
    if (pids.length) rec.pids = pids;
    this.save(e.record);
    this.logs.system(
      e.record.job,
      "ReplicaStarted",
      `Replica ${rec.name} started${attempt ? ` (retry ${attempt})` : ""} with container${containers.length > 1 ? "s" : ""} ${containers.map((c) => c.name).join(", ")}`,
      ids,
    );
    this.emit("replicaStarted", e.record, rec);
    // A replica ends with its first failing container (the others are stopped) or when all complete.
    let remaining = handles.length;
    let failed: ReplicaOutcome | undefined;
    handles.forEach((h, i) =>
      h.done.then((o) => {
        this.logs.system(
          e.record.job,
          "ContainerExited",
          `Container ${containers[i].name} exited with code ${o.exitCode} (${o.reason})${o.message ? `: ${o.message}` : ""}`,
          {
            ...ids,
            container: containers[i].name,
            warning: o.reason !== "Completed",
          },
        );
        if (o.reason !== "Completed" && !failed) {
          failed = o;
          handles.forEach((other, j) => j !== i && other.stop());
        }
        if (--remaining === 0) this.replicaEnded(e, rec, failed ?? o);
      }),
    );
  }

  private replicaEnded(e: LiveExecution, rec: ReplicaRecord, o: ReplicaOutcome): void {
    if (this.closing) return; // the record stays Running; the next start reconciles it
    e.handles.delete(rec.name);
    rec.endTime = new Date().toISOString();
    rec.exitCode = o.exitCode;
    rec.reason = o.reason;
    if (o.message) rec.message = o.message;
    rec.status = o.reason === "Completed" ? "Succeeded" : o.reason === "Stopped" ? "Stopped" : "Failed";
    const ids = { execution: e.record.name, replica: rec.name };
    const job = e.record.job;
    if (o.reason === "DeadlineExceeded")
      this.logs.system(
        job,
        "ReplicaTimedOut",
        `Replica ${rec.name} exceeded replicaTimeout of ${e.job.replicaTimeout} s and was killed`,
        { ...ids, warning: true },
      );
    if (o.reason === "OOMKilled")
      this.logs.system(
        job,
        "OOMKilled",
        `Replica ${rec.name} was killed for using more memory than its limit${o.message ? `: ${o.message}` : ""}`,
        { ...ids, warning: true },
      );
    this.logs.system(
      job,
      "ReplicaExited",
      `Replica ${rec.name} ${rec.status === "Succeeded" ? "completed" : rec.status.toLowerCase()} with exit code ${o.exitCode}`,
      { ...ids, warning: rec.status !== "Succeeded" },
    );

    if (!e.ending) {
      if (o.reason === "DeadlineExceeded")
        this.end(e, {
          status: "Failed",
          reason: `Replica ${rec.name} exceeded replicaTimeout (${e.job.replicaTimeout} s)`,
        });
      else if (rec.status === "Failed") {
        e.failures++;
        if (e.failures > e.job.replicaRetryLimit) {
          this.end(e, {
            status: "Failed",
            reason: `Replica ${rec.name} failed (${o.reason}, exit code ${o.exitCode}) and replicaRetryLimit ${e.job.replicaRetryLimit} is used up`,
          });
        } else {
          this.logs.system(
            job,
            "ReplicaRetried",
            `Retrying after replica ${rec.name} failed (retry ${e.failures} of ${e.job.replicaRetryLimit})`,
            { execution: e.record.name, warning: true },
          );
          this.launchReplica(e, rec.attempt + 1);
        }
      } else if (rec.status === "Succeeded") {
        const succeeded = e.record.replicas.filter((r) => r.status === "Succeeded").length;
        const running = e.handles.size;
        if (succeeded >= e.job.replicaCompletionCount) this.end(e, { status: "Succeeded", reason: "" });
        else if (succeeded + running < e.job.replicaCompletionCount) this.launchReplica(e, 0);
      }
    }
    this.save(e.record);
    if (e.ending && e.handles.size === 0) this.finish(e);
  }

  /** Persists an execution, unless its job was deleted meanwhile (its history went with it). */
  private save(record: ExecutionRecord): void {
    if (this.jobs.has(record.job)) this.store.saveExecution(record);
  }

  /** Decides the execution's final state; it is recorded once its last replica has exited. */
  private end(e: LiveExecution, ending: { status: ExecutionStatus; reason: string }): void {
    if (e.ending) return;
    e.ending = ending;
    for (const hs of e.handles.values()) for (const h of hs) h.stop();
    if (e.handles.size === 0) this.finish(e);
  }

  private finish(e: LiveExecution): void {
    if (!this.live.delete(e.record.name)) return;
    const { status, reason } = e.ending!;
    e.record.status = status;
    e.record.endTime = new Date().toISOString();
    if (reason) e.record.reason = reason;
    this.save(e.record);
    this.logs.system(
      e.record.job,
      `Execution${status}`,
      `Execution ${e.record.name} ${status}${reason ? `: ${reason}` : ""}`,
      { execution: e.record.name, warning: status !== "Succeeded" },
    );
    // Container Apps keeps 100 succeeded and 100 failed executions per job
    this.store.pruneHistory(e.record.job, HISTORY_LIMIT);
    this.emit("executionFinished", e.record);
  }

  /**
   * After a restart: executions the previous process left unfinished lost their replicas. Each such
   * replica counts as failed (reason ServerRestarted); the execution retries where replicaRetryLimit
   * allows, else it fails. Call after the jobs are set.
   */
  reconcile(): ExecutionRecord[] {
    const out: ExecutionRecord[] = [];
    for (const record of this.store.unfinishedExecutions()) {
      const job = this.jobs.get(record.job);
      const now = new Date().toISOString();
      const lost = record.replicas.filter((r) => r.status === "Running" || r.status === "Pending");
      for (const r of lost) this.launcher.killLeftover?.(r);
      for (const r of lost)
        Object.assign(r, {
          status: "Failed",
          endTime: now,
          reason: "ServerRestarted",
          message: "the eventjobs server stopped while this replica ran",
        });
      const e: LiveExecution = {
        record,
        job: job!,
        template: (record.template as Template) ?? job?.template,
        handles: new Map(),
        failures: record.replicas.filter((r) => r.status === "Failed").length,
      };
      this.live.set(record.name, e);
      this.logs.system(
        record.job,
        "ExecutionReconciled",
        `Execution ${record.name} was running when the server stopped; ${lost.length} replica(s) lost`,
        { execution: record.name, warning: true },
      );
      if (!job) {
        // nothing will run it again: close the record as it stands
        Object.assign(record, { status: "Failed", endTime: now, reason: "the job no longer exists" });
        this.live.delete(record.name);
        this.store.saveExecution(record);
      } else if (e.failures > job.replicaRetryLimit)
        this.end(e, {
          status: "Failed",
          reason: `the eventjobs server stopped while the execution ran and replicaRetryLimit ${job.replicaRetryLimit} is used up`,
        });
      else {
        const succeeded = record.replicas.filter((r) => r.status === "Succeeded").length;
        const need = Math.min(job.parallelism, job.replicaCompletionCount - succeeded);
        if (need <= 0) this.end(e, { status: "Succeeded", reason: "" });
        for (let i = 0; i < need; i++) this.launchReplica(e, 1);
      }
      out.push(record);
    }
    return out;
  }

  /** Ends every replica (SIGTERM, then SIGKILL after at most `graceMs`); records stay Running for reconcile(). */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    const waits: Promise<unknown>[] = [];
    for (const e of this.live.values())
      for (const hs of e.handles.values())
        for (const h of hs) {
          h.stop();
          waits.push(h.done);
        }
    const all = Promise.all(waits);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.live.clear();
    this.removeAllListeners();
  }
}

/** A replica whose container could not even be prepared (e.g. no such image and no command). */
function failedHandle(message: string): ReplicaHandle {
  return { stop() {}, done: Promise.resolve({ reason: "StartFailed", exitCode: 127, message }) };
}
