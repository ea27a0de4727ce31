// The scale loop of one Event job: KEDA's ScaledJob tick (decideScaledJob) run at once when the job is
// applied, every pollingInterval, and — in push mode — whenever the broker or an execution says the
// inputs may have changed. Each tick is recorded with every input and the result in words (explainer).
import { getEffectiveBounds, type ScaledJobScalingSpec } from "./bounds.js";
import { decideScaledJob, type ScaledJobTick } from "./decide.js";
import type { TriggerOutcome } from "./metrics.js";
import type { ServiceBusMetadata } from "./servicebus.js";
import { serviceBusTriggerReading } from "./servicebus-count.js";

/** One scale rule's source of counts. */
export interface TriggerSource {
  /** the rule's name */
  name: string;
  metadata: ServiceBusMetadata;
  /** the entity's ActiveMessageCount (or the regex aggregate) */
  read(): Promise<number>;
  /** push wake-ups: calls `wake` when the count may have changed; returns the unsubscribe function */
  watch?(wake: () => void): () => void;
}

/** What the loop scales: the job's executions. */
export interface ScaleTarget {
  counts(): { running: number; pending: number };
  /** start `n` executions because these rules were active */
  start(n: number, activeRules: string[]): void;
}

export type WakeCause = "applied" | "poll" | "change" | "executionFinished" | "resumed";

export interface RuleInput {
  name: string;
  /** the count read, when the read worked */
  queueLength?: number;
  /** messageCount: the target per execution */
  target: number;
  activation: number;
  active: boolean;
  error?: string;
}

/** One evaluation with every input and its result (the scale explainer's row). */
export interface ScaleDecision {
  time: string;
  cause: WakeCause;
  rules: RuleInput[];
  running: number;
  pending: number;
  minExecutions: number;
  maxExecutions: number;
  strategy: string;
  /** combined backlog (KEDA's queueLength) and wanted executions (maxValue) */
  queueLength: number;
  wanted: number;
  started: number;
  summary: string;
}

export interface ScaleLoopOptions {
  spec: ScaledJobScalingSpec;
  pollingIntervalSeconds: number;
  /** push (default): also evaluate on wake-ups; poll: only on the timer, as in the cloud */
  pollingMode?: "push" | "poll";
  triggers: TriggerSource[];
  target: ScaleTarget;
  onDecision?: (d: ScaleDecision, tick?: ScaledJobTick) => void;
  /** how many decisions to keep for the explainer (default 50) */
  keep?: number;
}

export class ScaleLoop {
  readonly decisions: ScaleDecision[] = [];
  private timer?: NodeJS.Timeout;
  private unwatch: (() => void)[] = [];
  private running = false;
  private again?: WakeCause;
  private wasActive = false;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ScaleLoopOptions) {}

  /** Evaluates at once, then every pollingInterval (the timer is armed first, so the period is exact). */
  start(): void {
    this.timer = setInterval(() => this.wake("poll"), this.opts.pollingIntervalSeconds * 1000);
    this.timer.unref();
    if (this.opts.pollingMode !== "poll") {
      for (const t of this.opts.triggers) if (t.watch) this.unwatch.push(t.watch(() => this.wake("change")));
    }
    this.wake("applied");
  }

  /** Asks for an evaluation; wake-ups during one are folded into a single follow-up evaluation. */
  wake(cause: WakeCause): void {
    if (this.stopped) return;
    if (cause !== "poll" && cause !== "applied" && this.opts.pollingMode === "poll") return;
    if (this.running) {
      this.again ??= cause;
      return;
    }
    this.running = true;
    // Evaluate on the next turn: a burst of broker changes in one turn (a batch send) costs one evaluation.
    const turn = new Promise<void>((r) => setImmediate(r));
    this.idle = turn
      .then(() => this.evaluate(cause))
      .finally(() => {
        this.running = false;
        const next = this.again;
        this.again = undefined;
        if (next) this.wake(next);
      });
  }

  /** Resolves when no evaluation is in progress (for tests and shutdown). */
  settled(): Promise<void> {
    return this.idle;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const u of this.unwatch) u();
    this.unwatch = [];
  }

  private async evaluate(cause: WakeCause): Promise<void> {
    const { triggers, spec, target } = this.opts;
    const outcomes: TriggerOutcome[] = await Promise.all(
      triggers.map(async (t): Promise<TriggerOutcome> => {
        try {
          return serviceBusTriggerReading(t.metadata, await t.read());
        } catch (error) {
          return { error };
        }
      }),
    );
    if (this.stopped) return;
    const { running, pending } = target.counts();
    const tick = decideScaledJob(
      spec,
      outcomes,
      { runningJobCount: running, pendingJobCount: pending },
      this.wasActive,
    );
    this.wasActive = tick.state.isActive;
    const rules: RuleInput[] = triggers.map((t, i) => {
      const o = outcomes[i];
      const base = { name: t.name, target: t.metadata.targetLength, activation: t.metadata.activationTargetLength };
      if ("error" in o) return { ...base, active: false, error: String((o.error as Error)?.message ?? o.error) };
      return { ...base, queueLength: o.values[0]?.value ?? 0, active: o.isActive };
    });
    const bounds = getEffectiveBounds(spec);
    const decision: ScaleDecision = {
      time: new Date().toISOString(),
      cause,
      rules,
      running,
      pending,
      minExecutions: bounds.minReplicaCount,
      maxExecutions: spec.maxReplicaCount ?? bounds.maxReplicaCount,
      strategy: tick.decision.decidedBy,
      queueLength: tick.state.queueLength,
      wanted: tick.state.maxValue,
      started: tick.jobsToCreate,
      summary: "",
    };
    decision.summary = explain(decision);
    this.decisions.push(decision);
    if (this.decisions.length > (this.opts.keep ?? 50)) this.decisions.shift();
    if (tick.jobsToCreate > 0)
      target.start(
        tick.jobsToCreate,
        rules.filter((r) => r.active).map((r) => r.name),
      );
    this.opts.onDecision?.(decision, tick);
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The decision in words, e.g. "0 started: 1 execution is still running and maxExecutions is 1". */
export function explain(d: ScaleDecision): string {
  const failed = d.rules.filter((r) => r.error);
  const counts = d.rules
    .filter((r) => !r.error)
    .map(
      (r) =>
        `${r.name}: ${plural(r.queueLength ?? 0, "message")} (messageCount ${r.target}${r.activation ? `, activation above ${r.activation}` : ""})`,
    )
    .join("; ");
  const errors = failed.map((r) => `scale rule ${r.name} failed: ${r.error}`).join("; ");
  const inputs = [counts, errors].filter(Boolean).join("; ");
  const runningText = `${plural(d.running, "execution")} ${d.running === 1 ? "is" : "are"} still running`;
  if (d.started > 0) {
    return `${d.started} started: ${inputs}; ${d.wanted} wanted, ${d.running} running, maxExecutions ${d.maxExecutions}`;
  }
  if (failed.length === d.rules.length && d.rules.length > 0) return `0 started: ${errors}`;
  if (!d.rules.some((r) => r.active) && d.minExecutions === 0) {
    return `0 started: no scale rule is active (${inputs || "no scale rules"})`;
  }
  if (d.running >= d.maxExecutions) return `0 started: ${runningText} and maxExecutions is ${d.maxExecutions}`;
  return `0 started: ${runningText} for ${plural(d.wanted, "wanted execution")} (${inputs})`;
}
