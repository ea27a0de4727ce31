// The Event trigger: a scale loop over the job's scale rules (KEDA's ScaledJob, src/scaling) that starts
// executions when messages wait. Its decisions are written to the job's system log.
import type { JobsEngine } from "../jobs/executions.js";
import type { LogBook } from "../jobs/logs.js";
import { JobDefinitionError, type JobIssue, type JobSpec, type Scale } from "../jobs/job-definition.js";
import { ScaleLoop, type ScaleDecision, type TriggerSource, type WakeCause } from "../scaling/loop.js";
import { parseServiceBusMetadata, ServiceBusMetadataError, type ServiceBusMetadata } from "../scaling/servicebus.js";

/** Makes the count source for one azure-servicebus rule (embedded broker or an external namespace). */
export type TriggerFactory = (rule: string, meta: ServiceBusMetadata) => TriggerSource;

/** The count sources of the job's scale rules; throws JobDefinitionError with KEDA's metadata messages. */
export function scaleRuleTriggers(job: JobSpec, factory: TriggerFactory): TriggerSource[] {
  return eachScaleRule(job, factory);
}

/** Each scale rule's name and parsed metadata (the activity feed's matching); throws as scaleRuleTriggers does. */
export function scaleRuleMetadata(job: JobSpec): Array<{ rule: string; meta: ServiceBusMetadata }> {
  return eachScaleRule(job, (rule, meta) => ({ rule, meta }));
}

function eachScaleRule<T>(job: JobSpec, make: (rule: string, meta: ServiceBusMetadata) => T): T[] {
  const issues: JobIssue[] = [];
  const env: Record<string, string> = {};
  for (const e of job.template.containers[0]?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  const out: T[] = [];
  job.scale?.rules.forEach((rule, i) => {
    const authParams: Record<string, string> = {};
    for (const a of rule.auth ?? [])
      authParams[a.triggerParameter] = job.secrets.find((s) => s.name === a.secretRef)?.value ?? "";
    try {
      const meta = parseServiceBusMetadata(rule.metadata, { authParams, resolvedEnv: env, triggerIndex: i });
      out.push(make(rule.name, meta));
    } catch (e) {
      const message = e instanceof ServiceBusMetadataError ? e.message : String((e as Error).message ?? e);
      issues.push({
        path: `properties.configuration.eventTriggerConfig.scale.rules[${i}].metadata`,
        value: rule.metadata,
        expected: message,
      });
    }
  });
  if (issues.length) throw new JobDefinitionError(job.name, issues);
  return out;
}

export class EventTrigger {
  private readonly loop: ScaleLoop;
  /** executions decided by the scaler and not started yet */
  private queued = 0;
  private lastSummary?: string;
  private stopped = false;

  constructor(
    private readonly job: JobSpec,
    scale: Scale,
    triggers: TriggerSource[],
    private readonly engine: JobsEngine,
    private readonly logs: LogBook,
  ) {
    this.loop = new ScaleLoop({
      spec: { minReplicaCount: scale.minExecutions, maxReplicaCount: scale.maxExecutions },
      pollingIntervalSeconds: scale.pollingInterval,
      pollingMode: job.pollingMode,
      triggers,
      target: {
        // executions decided but not yet started count as running and pending, so no evaluation overshoots
        counts: () => {
          const c = this.engine.counts(job.name);
          return { running: c.running + this.queued, pending: c.pending + this.queued };
        },
        start: (n, rules) => this.startSpread(n, rules),
      },
      onDecision: (d) => this.recordDecision(d),
    });
  }

  /** The scale explainer: recent decisions, newest last. */
  get decisions(): readonly ScaleDecision[] {
    return this.loop.decisions;
  }

  start(): void {
    this.loop.start();
  }

  wake(cause: WakeCause): void {
    this.loop.wake(cause);
  }

  /** Resolves when no scale evaluation is in progress. */
  settled(): Promise<void> {
    return this.loop.settled();
  }

  stop(): void {
    this.stopped = true;
    this.loop.stop();
    this.queued = 0;
  }

  /**
   * Starts `n` executions one per event-loop turn: spawning a burst of processes back to back would keep
   * the broker (same thread) from answering anyone until the last one is up.
   */
  private startSpread(n: number, rules: string[]): void {
    this.queued += n;
    const next = () => {
      if (this.queued <= 0) return;
      this.queued--;
      if (!this.stopped) this.engine.start(this.job.name, { type: "Event", rules });
      if (this.queued > 0) setImmediate(next);
    };
    next();
  }

  private recordDecision(d: ScaleDecision): void {
    // every start is logged; otherwise only when the picture changes, so a 30 s poll does not flood the log
    if (d.started === 0 && d.summary === this.lastSummary) return;
    this.lastSummary = d.summary;
    const failed = d.rules.filter((r) => r.error);
    if (failed.length)
      this.logs.system(
        this.job.name,
        "KEDAScalerFailed",
        failed.map((r) => `scale rule ${r.name}: ${r.error}`).join("; "),
        { warning: true },
      );
    this.logs.system(this.job.name, "ScalerDecision", d.summary);
  }
}
