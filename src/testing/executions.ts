// The testing helpers for jobs: executions as `az containerapp job execution list` returns them, their logs, and
// waiting for one to reach a status. A wait that fails says why: the execution's own log when it ended otherwise,
// or the scaler's last decisions and the job's system log when none came (what `job explain` shows).
import { seg, type ControlClient } from "./control-client.js";

export type ExecutionStatus = "Running" | "Processing" | "Succeeded" | "Failed" | "Stopped" | "Degraded" | "Unknown";

/** An execution in the Container Apps resource shape (`az containerapp job execution show`). */
export interface Execution {
  id: string;
  name: string;
  type: string;
  properties: {
    status: ExecutionStatus;
    startTime: string;
    endTime?: string;
    /** eventjobs: what started it (Event, Schedule, Manual) and why it ended */
    trigger?: string;
    reason?: string;
    replicas?: Array<Record<string, unknown>>;
    template?: unknown;
  };
}

/** One console or system log line (`az containerapp job logs show`). */
export interface LogEntry {
  /** epoch milliseconds */
  time: number;
  kind: "console" | "system";
  job: string;
  execution?: string;
  replica?: string;
  container?: string;
  /** console: stdout or stderr; system: Normal or Warning */
  stream?: string;
  /** system events: ExecutionCreated, ReplicaStarted, ReplicaExited, ... */
  reason?: string;
  text: string;
}

export interface WaitOptions {
  /** default "Succeeded" */
  status?: ExecutionStatus;
  /** default 30 000 */
  timeoutMs?: number;
}

const ENDED: ReadonlySet<string> = new Set(["Succeeded", "Failed", "Stopped", "Degraded"]);
const POLL_MS = 25;
const TAIL = 20;

/** The job a `<job>/executions/<name>` resource id names. */
function jobOf(e: Execution): string {
  const m = /\/jobs\/([^/]+)\/executions\//.exec(e.id);
  if (!m)
    throw new Error(`logs: ${JSON.stringify(e.id)} is not an execution id (expected …/jobs/<job>/executions/<name>)`);
  return decodeURIComponent(m[1]);
}

export class ExecutionHelpers {
  /** ended executions a wait already returned: each wait returns a new one */
  private readonly returned = new Set<string>();

  constructor(private readonly api: ControlClient) {}

  /** The job's executions, newest first. */
  async executions(job: string): Promise<Execution[]> {
    return (await this.api.call(`executions("${job}")`, "GET", `/jobs/${seg(job)}/executions`)).value;
  }

  /** An execution's console log (`kind: "system"` for the platform's events), oldest first. */
  async logs(execution: Execution | { job: string; name: string }, o: { kind?: "console" | "system" } = {}) {
    const job = "job" in execution ? execution.job : jobOf(execution);
    const query = new URLSearchParams({ execution: execution.name, kind: o.kind ?? "console" });
    const what = `logs("${execution.name}")`;
    return (await this.api.call(what, "GET", `/jobs/${seg(job)}/logs?${query}`)).value as LogEntry[];
  }

  /**
   * The oldest execution of `job` with that status which no earlier wait returned. Waiting for an ended status
   * fails at once when an execution ends with another one, with that execution's log in the error.
   */
  async waitForExecution(job: string, o: WaitOptions = {}): Promise<Execution> {
    const status = o.status ?? "Succeeded";
    const timeoutMs = o.timeoutMs ?? 30_000;
    const what = `waitForExecution("${job}", { status: "${status}" })`;
    if (typeof job !== "string" || !job)
      throw new Error(`waitForExecution: job: ${JSON.stringify(job)} — expected a job name`);
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0))
      throw new Error(`${what}: timeoutMs: ${JSON.stringify(o.timeoutMs)} — expected a number of milliseconds ≥ 0`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fresh = (await this.executions(job)).filter((e) => !this.returned.has(e.name)).reverse();
      const hit = fresh.find((e) => e.properties.status === status);
      if (hit) {
        if (ENDED.has(status)) this.returned.add(hit.name);
        return hit;
      }
      const other = ENDED.has(status) ? fresh.find((e) => ENDED.has(e.properties.status)) : undefined;
      if (other) {
        this.returned.add(other.name);
        const p = other.properties;
        const log = await this.tail(other, "console");
        throw new Error(
          `${what}: execution ${other.name} ended ${p.status}${p.reason ? ` (${p.reason})` : ""}\n` +
            `its console log (last ${TAIL} lines):\n${log || "  (empty)"}`,
        );
      }
      if (Date.now() >= deadline)
        throw new Error(`${what}: none within ${timeoutMs} ms\n${await this.why(job, fresh)}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  private async tail(e: Execution, kind: "console" | "system"): Promise<string> {
    const lines = await this.logs(e, { kind }).catch(() => [] as LogEntry[]);
    return lines
      .slice(-TAIL)
      .map((l) => `  ${l.reason ? `${l.reason}: ` : ""}${l.text}`)
      .join("\n");
  }

  /** What `job explain` and the system log say about a job that did not get there. */
  private async why(job: string, fresh: Execution[]): Promise<string> {
    const out: string[] = [];
    out.push(
      fresh.length
        ? `executions not returned yet: ${fresh.map((e) => `${e.name} ${e.properties.status}`).join(", ")}`
        : "no execution started",
    );
    const decisions = await this.api
      .call(`explain("${job}")`, "GET", `/jobs/${seg(job)}/decisions`)
      .then((d) => d.value as Array<{ time: string; summary: string }>)
      .catch(() => []);
    if (decisions.length)
      out.push("scaler's last decisions:", ...decisions.slice(-5).map((d) => `  ${d.time} ${d.summary}`));
    const system = await this.api
      .call(`logs("${job}")`, "GET", `/jobs/${seg(job)}/logs?kind=system&tail=${TAIL}`)
      .then((d) => d.value as LogEntry[])
      .catch(() => []);
    if (system.length) out.push("system log:", ...system.map((l) => `  ${l.reason ? `${l.reason}: ` : ""}${l.text}`));
    return out.join("\n");
  }
}
