// What starts a job's executions, by its trigger type: an Event job's scale loop, a Schedule job's timer,
// and `job start` by hand for any job. Applying a job (re)starts its trigger; removing it stops it.
import type { JobsEngine, StartTrigger } from "../jobs/executions.js";
import type { LogBook } from "../jobs/logs.js";
import {
  JobDefinitionError,
  normalizeTemplate,
  type JobIssue,
  type JobSpec,
  type Template,
} from "../jobs/job-definition.js";
import type { ExecutionRecord } from "../jobs/store.js";
import type { ScaleDecision, TriggerSource } from "../scaling/loop.js";
import { EventTrigger, scaleRuleTriggers, type TriggerFactory } from "./event-trigger.js";
import { checkCronExpression, realClock, ScheduleTrigger, type Clock } from "./schedule-trigger.js";

interface Active {
  job: JobSpec;
  event?: EventTrigger;
  schedule?: ScheduleTrigger;
}

export class JobTriggers {
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
      if (e.status === "Succeeded") this.active.get(e.job)?.event?.wake("executionFinished");
    });
  }

  /** Throws JobDefinitionError (with KEDA's metadata messages) if the job cannot run; changes nothing. */
  check(job: JobSpec): TriggerSource[] {
    const triggers = scaleRuleTriggers(job, this.triggers);
    checkCronExpression(job);
    return triggers;
  }

  /** Starts (or restarts with a new definition) a job: its scale loop or schedule; `triggers` from check(). */
  apply(job: JobSpec, triggers = this.check(job)): void {
    this.deactivate(job.name);
    this.engine.setJob(job);
    const a: Active = { job };
    this.active.set(job.name, a);
    if (job.paused) return;
    if (job.triggerType === "Event" && job.scale) {
      a.event = new EventTrigger(job, job.scale, triggers, this.engine, this.logs);
      a.event.start();
    } else if (job.triggerType === "Schedule" && job.cronExpression) {
      a.schedule = new ScheduleTrigger(job, job.cronExpression, this.engine, this.logs, this.clock);
      a.schedule.start();
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
      template = normalizeTemplate(
        override,
        "template",
        (path, value, expected) => issues.push({ path, value, expected }),
        true,
      );
      if (issues.length) throw new JobDefinitionError(name, issues);
    }
    const trigger: StartTrigger = { type: "Manual", template };
    return this.engine.start(name, trigger);
  }

  /** The scale explainer: the job's recent decisions, newest last. */
  decisions(name: string): ScaleDecision[] {
    return [...(this.active.get(name)?.event?.decisions ?? [])];
  }

  /** Resolves when no scale evaluation is in progress. */
  async settled(name: string): Promise<void> {
    await this.active.get(name)?.event?.settled();
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
    a.event?.stop();
    a.schedule?.stop();
    a.event = undefined;
    a.schedule = undefined;
  }
}
