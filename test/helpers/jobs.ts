// Jobs for tests: Container Apps job entries running test/fixtures/processor.mjs as real child processes.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { ExecutionRecord, LogEntry } from "../../src/jobs/store.js";
import type { Platform } from "../../src/platform.js";

export const PROCESSOR = fileURLToPath(new URL("../fixtures/processor.mjs", import.meta.url));

export interface TestJob {
  name: string;
  trigger?: "Event" | "Manual" | "Schedule";
  env?: Record<string, string>;
  /** Event: the scale rules (queueName → metadata); connection from the namespace's connection string */
  rules?: { name: string; metadata: Record<string, string> }[];
  maxExecutions?: number;
  pollingInterval?: number;
  pollingMode?: "push" | "poll";
  replicaRetryLimit?: number;
  replicaTimeout?: number;
  parallelism?: number;
  replicaCompletionCount?: number;
  memory?: string;
  cron?: string;
  grace?: number;
}

/** A job entry in the Container Apps shape, as a user writes it under `jobs:`. */
export function jobEntry(j: TestJob, namespace = "sbemulatorns"): Record<string, unknown> {
  const trigger = j.trigger ?? "Event";
  const counts = { parallelism: j.parallelism ?? 1, replicaCompletionCount: j.replicaCompletionCount ?? 1 };
  const configuration: Record<string, unknown> = {
    triggerType: trigger,
    replicaTimeout: j.replicaTimeout ?? 120,
    replicaRetryLimit: j.replicaRetryLimit ?? 0,
    secrets: [{ name: "service-bus-connection-string", value: `\${servicebus.${namespace}.connectionString}` }],
  };
  if (trigger === "Event") {
    configuration.eventTriggerConfig = {
      ...counts,
      scale: {
        pollingInterval: j.pollingInterval ?? 30,
        minExecutions: 0,
        maxExecutions: j.maxExecutions ?? 1,
        rules: (j.rules ?? []).map((r) => ({
          name: r.name,
          type: "azure-servicebus",
          metadata: { namespace, messageCount: "1", ...r.metadata },
          auth: [{ triggerParameter: "connection", secretRef: "service-bus-connection-string" }],
        })),
      },
    };
  } else if (trigger === "Schedule") configuration.scheduleTriggerConfig = { ...counts, cronExpression: j.cron };
  else configuration.manualTriggerConfig = counts;
  const env = [
    { name: "SB_CONNECTION", secretRef: "service-bus-connection-string" },
    ...Object.entries(j.env ?? {}).map(([name, value]) => ({ name, value })),
  ];
  return {
    name: j.name,
    ...(j.pollingMode ? { pollingMode: j.pollingMode } : {}),
    ...(j.grace !== undefined ? { terminationGracePeriodSeconds: j.grace } : {}),
    properties: {
      configuration,
      template: {
        containers: [
          {
            name: "main",
            image: "mcr.microsoft.com/k8se/quickstart-jobs:latest",
            command: ["node", PROCESSOR],
            env,
            resources: { cpu: 0.25, memory: j.memory ?? "0.5Gi" },
          },
        ],
      },
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const finished = (e: ExecutionRecord) => !["Running", "Processing"].includes(e.status);

/** Waits until the execution reaches a final state and returns it. */
export function waitForExecution(p: Platform, name: string, timeoutMs = 20_000): Promise<ExecutionRecord> {
  return waitFor(
    `execution ${name} to finish`,
    () => {
      const e = p.jobs.engine.execution(name);
      return e && finished(e) ? e : undefined;
    },
    timeoutMs,
  );
}

export function consoleText(p: Platform, execution: string): string {
  return p.jobs.logs
    .query({ execution, kind: "console" })
    .map((l) => l.text)
    .join("\n");
}

export function systemReasons(p: Platform, q: { job?: string; execution?: string }): string[] {
  return p.jobs.logs.query({ ...q, kind: "system" }).map((l: LogEntry) => l.reason!);
}
