// Puts jobs to work: each Event job gets a scale loop over its rules, each Schedule job a cron timer,
// and every job can be started by hand. Decisions and executions are written to the system log.
import { ScaleLoop, type ScaleDecision, type TriggerSource } from "../scaling/loop.js";
import { parseServiceBusMetadata, ServiceBusMetadataError, type ServiceBusMetadata } from "../scaling/servicebus.js";
import { nextRun, parseCron } from "./cron.js";
import type { JobsEngine, StartTrigger } from "./engine.js";
import type { LogBook } from "./logs.js";
import { JobDefinitionError, normalizeTemplate, type JobIssue, type JobSpec, type Template } from "./model.js";
import type { ExecutionRecord } from "./store.js";

/** Makes the count source for one azure-servicebus rule (embedded broker or an external namespace). */
export type TriggerFactory = (rule: string, meta: ServiceBusMetadata) => TriggerSource;

/** Time as the schedule sees it; tests inject a fake one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { unref?(): unknown };
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Active {
  job: JobSpec;
  loop?: ScaleLoop;
  schedule?: unknown;
  lastSummary?: string;
  /** executions decided by the scaler and not started yet */
  queued: number;
}

export class JobsRuntime {
  private readonly active = new Map<string, Active>();

  constructor(
    readonly engine: JobsEngine,
    private readonly logs: LogBook,
    private readonly triggers: TriggerFactory,
    private readonly clock: Clock = realClock,
  ) {
    // A succeeded execution frees a slot: look again at once (push mode). After a failure the next look
    // waits for the poll or a broker change, so a crashing processor is not restarted in a tight loop.
    engine.on("executionFinished", (e) => {
      if (e.status === "Succeeded") this.active.get(e.job)?.loop?.wake("executionFinished");
    });
  }

  /** Throws JobDefinitionError (with KEDA's metadata messages) if the job cannot run; changes nothing. */
  check(job: JobSpec): TriggerSource[] {
    const triggers = this.buildTriggers(job);
    if (job.cronExpression) {
      try {
        parseCron(job.cronExpression);
      } catch (e) {
        throw new JobDefinitionError(job.name, [{ path: "properties.configuration.scheduleTriggerConfig.cronExpression", value: job.cronExpression, expected: (e as Error).message }]);
      }
    }
    return triggers;
  }

  /** Starts (or restarts with a new definition) a job: its scale loop or schedule; `triggers` from check(). */
  apply(job: JobSpec, triggers = this.check(job)): void {
    this.deactivate(job.name);
    this.engine.setJob(job);
    const a: Active = { job, queued: 0 };
    this.active.set(job.name, a);
    if (job.paused) return;
    if (job.triggerType === "Event" && job.scale) {
      a.loop = new ScaleLoop({
        spec: { minReplicaCount: job.scale.minExecutions, maxReplicaCount: job.scale.maxExecutions },
        pollingIntervalSeconds: job.scale.pollingInterval,
        pollingMode: job.pollingMode,
        triggers,
        target: {
          // executions decided but not yet started count as running and pending, so no evaluation overshoots
          counts: () => {
            const c = this.engine.counts(job.name);
            return { running: c.running + a.queued, pending: c.pending + a.queued };
          },
          start: (n, rules) => this.startSpread(a, n, rules),
        },
        onDecision: (d) => this.recordDecision(a, d),
      });
      a.loop.start();
    } else if (job.triggerType === "Schedule" && job.cronExpression) {
      this.armSchedule(a);
    }
  }

  remove(name: string): void {
    this.deactivate(name);
    this.active.delete(name);
    this.engine.removeJob(name);
  }

  /** `job start`: runs an execution now, with an optional template override for that execution only. */
  start(name: string, override?: unknown): ExecutionRecord {
    const a = this.active.get(name);
    if (!a) throw new Error(`job ${name} not found`);
    let template: Template | undefined;
    if (override !== undefined) {
      const issues: JobIssue[] = [];
      template = normalizeTemplate(override, "template", (path, value, expected) => issues.push({ path, value, expected }), true);
      if (issues.length) throw new JobDefinitionError(name, issues);
    }
    const trigger: StartTrigger = { type: "Manual", template };
    return this.engine.start(name, trigger);
  }

  /** The scale explainer: the job's recent decisions, newest last. */
  decisions(name: string): ScaleDecision[] {
    return [...(this.active.get(name)?.loop?.decisions ?? [])];
  }

  /** Resolves when no scale evaluation is in progress. */
  async settled(name: string): Promise<void> {
    await this.active.get(name)?.loop?.settled();
  }

  jobs(): JobSpec[] {
    return [...this.active.values()].map((a) => a.job);
  }

  close(): void {
    for (const name of this.active.keys()) this.deactivate(name);
  }

  private deactivate(name: string): void {
    const a = this.active.get(name);
    if (!a) return;
    a.loop?.stop();
    a.queued = 0;
    if (a.schedule) this.clock.clearTimeout(a.schedule);
    a.loop = undefined;
    a.schedule = undefined;
  }

  private buildTriggers(job: JobSpec): TriggerSource[] {
    const issues: JobIssue[] = [];
    const env: Record<string, string> = {};
    for (const e of job.template.containers[0]?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const out: TriggerSource[] = [];
    job.scale?.rules.forEach((rule, i) => {
      const authParams: Record<string, string> = {};
      for (const a of rule.auth ?? []) authParams[a.triggerParameter] = job.secrets.find((s) => s.name === a.secretRef)?.value ?? "";
      try {
        const meta = parseServiceBusMetadata(rule.metadata, { authParams, resolvedEnv: env, triggerIndex: i });
        out.push(this.triggers(rule.name, meta));
      } catch (e) {
        const message = e instanceof ServiceBusMetadataError ? e.message : String((e as Error).message ?? e);
        issues.push({ path: `properties.configuration.eventTriggerConfig.scale.rules[${i}].metadata`, value: rule.metadata, expected: message });
      }
    });
    if (issues.length) throw new JobDefinitionError(job.name, issues);
    return out;
  }

  /**
   * Starts `n` executions one per event-loop turn: spawning a burst of processes back to back would keep
   * the broker (same thread) from answering anyone until the last one is up.
   */
  private startSpread(a: Active, n: number, rules: string[]): void {
    a.queued += n;
    const next = () => {
      if (a.queued <= 0) return;
      a.queued--;
      if (this.active.get(a.job.name) === a && a.loop) this.engine.start(a.job.name, { type: "Event", rules });
      if (a.queued > 0) setImmediate(next);
    };
    next();
  }

  private recordDecision(a: Active, d: ScaleDecision): void {
    // every start is logged; otherwise only when the picture changes, so a 30 s poll does not flood the log
    if (d.started === 0 && d.summary === a.lastSummary) return;
    a.lastSummary = d.summary;
    const failed = d.rules.filter((r) => r.error);
    if (failed.length) this.logs.system(a.job.name, "KEDAScalerFailed", failed.map((r) => `scale rule ${r.name}: ${r.error}`).join("; "), { warning: true });
    this.logs.system(a.job.name, "ScalerDecision", d.summary);
  }

  private armSchedule(a: Active): void {
    const cron = parseCron(a.job.cronExpression!);
    const at = nextRun(cron, new Date(this.clock.now()));
    // timers cannot wait longer than ~24.8 days; re-arm in steps
    const delay = Math.min(at.getTime() - this.clock.now(), 2 ** 31 - 1);
    const handle = this.clock.setTimeout(() => {
      if (this.clock.now() >= at.getTime()) {
        this.logs.system(a.job.name, "ScheduleTriggered", `Schedule ${a.job.cronExpression} fired for ${at.toISOString()}`);
        this.engine.start(a.job.name, { type: "Schedule" });
      }
      if (this.active.get(a.job.name) === a && !a.job.paused) this.armSchedule(a);
    }, Math.max(0, delay));
    handle.unref?.();
    a.schedule = handle;
  }
}
