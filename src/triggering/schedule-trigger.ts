// The Schedule trigger: a timer that starts an execution each time the job's cron expression comes due.
import { nextRun, parseCron } from "../jobs/cron.js";
import type { JobsEngine } from "../jobs/executions.js";
import type { LogBook } from "../jobs/logs.js";
import { JobDefinitionError, type JobSpec } from "../jobs/job-definition.js";

/** Time as the schedule sees it; tests inject a fake one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { unref?(): unknown };
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Throws JobDefinitionError if the job's cron expression does not parse. */
export function checkCronExpression(job: JobSpec): void {
  if (!job.cronExpression) return;
  try {
    parseCron(job.cronExpression);
  } catch (e) {
    throw new JobDefinitionError(job.name, [
      {
        path: "properties.configuration.scheduleTriggerConfig.cronExpression",
        value: job.cronExpression,
        expected: (e as Error).message,
      },
    ]);
  }
}

export class ScheduleTrigger {
  private handle?: unknown;
  private stopped = false;

  constructor(
    private readonly job: JobSpec,
    private readonly cronExpression: string,
    private readonly engine: JobsEngine,
    private readonly logs: LogBook,
    private readonly clock: Clock,
  ) {}

  start(): void {
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(): void {
    const job = this.job;
    const at = nextRun(parseCron(this.cronExpression), new Date(this.clock.now()));
    // timers cannot wait longer than ~24.8 days; re-arm in steps
    const delay = Math.min(at.getTime() - this.clock.now(), 2 ** 31 - 1);
    const handle = this.clock.setTimeout(
      () => {
        if (this.clock.now() >= at.getTime()) {
          this.logs.system(
            job.name,
            "ScheduleTriggered",
            `Schedule ${this.cronExpression} fired for ${at.toISOString()}`,
          );
          this.engine.start(job.name, { type: "Schedule" });
        }
        if (!this.stopped && !job.paused) this.arm();
      },
      Math.max(0, delay),
    );
    handle.unref?.();
    this.handle = handle;
  }
}
