// Durable state of the jobs engine: applied job definitions, executions (with their replicas) and logs.
// One SQLite file beside the broker's (`jobs.db`), or `:memory:` with --in-memory. Executions and jobs
// change a few times per second at most, so writes are synchronous and simple.
import Database from "better-sqlite3";
import type { Stream } from "./types.js";

/** Container Apps execution states. Running and Processing are unfinished. */
export type ExecutionStatus = "Running" | "Processing" | "Succeeded" | "Failed" | "Stopped" | "Degraded" | "Unknown";

export const UNFINISHED: ReadonlySet<ExecutionStatus> = new Set(["Running", "Processing"]);

export type ReplicaStatus = "Pending" | "Running" | "Succeeded" | "Failed" | "Stopped";

export interface ReplicaRecord {
  name: string;
  status: ReplicaStatus;
  /** 0 for the first run of this slot; n for its n-th retry */
  attempt: number;
  startTime: string;
  endTime?: string;
  exitCode?: number;
  /** Completed, Error, DeadlineExceeded, OOMKilled, Stopped, StartFailed, ServerRestarted */
  reason?: string;
  message?: string;
  /** process ids of its containers while running (to clean up after a server crash) */
  pids?: number[];
}

export interface ExecutionRecord {
  name: string;
  job: string;
  status: ExecutionStatus;
  startTime: string;
  endTime?: string;
  /** what started it: Event (with the rule names that were active), Manual, Schedule */
  trigger: { type: "Event" | "Manual" | "Schedule"; rules?: string[] };
  /** the template this execution ran (the job's, with a `job start` override applied) */
  template: unknown;
  replicas: ReplicaRecord[];
  /** why it ended, when not plain success */
  reason?: string;
}

export type LogKind = "console" | "system";

export interface LogEntry {
  id?: number;
  /** epoch ms */
  time: number;
  kind: LogKind;
  job: string;
  execution?: string;
  replica?: string;
  container?: string;
  /** console: stdout/stderr; system: Normal/Warning */
  stream?: Stream | "Normal" | "Warning";
  /** system events: ExecutionCreated, ReplicaStarted, ReplicaExited, ReplicaRetried, ... */
  reason?: string;
  text: string;
}

export interface LogQuery {
  job?: string;
  execution?: string;
  replica?: string;
  kind?: LogKind;
  /** epoch ms, inclusive */
  since?: number;
  until?: number;
  /** return entries with id greater than this (for following) */
  afterId?: number;
  /** newest N, returned oldest first */
  tail?: number;
  limit?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, definition TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
  name TEXT PRIMARY KEY, job TEXT NOT NULL, status TEXT NOT NULL, start_time TEXT NOT NULL, end_time TEXT, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_job ON executions(job, start_time);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, kind TEXT NOT NULL, job TEXT NOT NULL,
  execution TEXT, replica TEXT, container TEXT, stream TEXT, reason TEXT, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_job ON logs(job, id);
CREATE INDEX IF NOT EXISTS logs_execution ON logs(execution, id);
CREATE INDEX IF NOT EXISTS logs_time ON logs(time);
`;

export class JobStore {
  private readonly db: Database.Database;
  private readonly stmts;

  /** `file` = ":memory:" keeps everything in memory. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(SCHEMA);
    this.stmts = {
      putJob: this.db.prepare(
        "INSERT INTO jobs(name, definition, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
      ),
      delJob: this.db.prepare("DELETE FROM jobs WHERE name = ?"),
      allJobs: this.db.prepare("SELECT name, definition FROM jobs ORDER BY name"),
      putExec: this.db.prepare(
        "INSERT INTO executions(name, job, status, start_time, end_time, record) VALUES (@name, @job, @status, @startTime, @endTime, @record) ON CONFLICT(name) DO UPDATE SET status = excluded.status, end_time = excluded.end_time, record = excluded.record",
      ),
      getExec: this.db.prepare("SELECT record FROM executions WHERE name = ?"),
      jobExecs: this.db.prepare("SELECT record FROM executions WHERE job = ? ORDER BY start_time, name"),
      unfinished: this.db.prepare("SELECT record FROM executions WHERE status IN ('Running', 'Processing')"),
      addLog: this.db.prepare(
        "INSERT INTO logs(time, kind, job, execution, replica, container, stream, reason, text) VALUES (@time, @kind, @job, @execution, @replica, @container, @stream, @reason, @text)",
      ),
      pruneLogs: this.db.prepare("DELETE FROM logs WHERE time < ?"),
      delJobLogs: this.db.prepare("DELETE FROM logs WHERE job = ?"),
      // oldest finished first out; executions that finished and started in the same millisecond go in the order they
      // were created (rowid)
      pruneSucceeded: this.db.prepare(
        "DELETE FROM executions WHERE job = @job AND status = 'Succeeded' AND name NOT IN (SELECT name FROM executions WHERE job = @job AND status = 'Succeeded' ORDER BY end_time DESC, start_time DESC, rowid DESC LIMIT @keep)",
      ),
      pruneFailed: this.db.prepare(
        "DELETE FROM executions WHERE job = @job AND status NOT IN ('Succeeded', 'Running', 'Processing') AND name NOT IN (SELECT name FROM executions WHERE job = @job AND status NOT IN ('Succeeded', 'Running', 'Processing') ORDER BY end_time DESC, start_time DESC, rowid DESC LIMIT @keep)",
      ),
    };
  }

  saveJob(name: string, definition: unknown): void {
    this.stmts.putJob.run(name, JSON.stringify(definition), Date.now());
  }

  deleteJob(name: string): void {
    this.db.transaction(() => {
      this.stmts.delJob.run(name);
      this.db.prepare("DELETE FROM executions WHERE job = ?").run(name);
      this.stmts.delJobLogs.run(name);
    })();
  }

  listJobs(): { name: string; definition: unknown }[] {
    return (this.stmts.allJobs.all() as { name: string; definition: string }[]).map((r) => ({
      name: r.name,
      definition: JSON.parse(r.definition),
    }));
  }

  saveExecution(e: ExecutionRecord): void {
    this.stmts.putExec.run({
      name: e.name,
      job: e.job,
      status: e.status,
      startTime: e.startTime,
      endTime: e.endTime ?? null,
      record: JSON.stringify(e),
    });
  }

  execution(name: string): ExecutionRecord | undefined {
    const r = this.stmts.getExec.get(name) as { record: string } | undefined;
    return r ? JSON.parse(r.record) : undefined;
  }

  /** A job's executions, oldest first. */
  executions(job: string): ExecutionRecord[] {
    return (this.stmts.jobExecs.all(job) as { record: string }[]).map((r) => JSON.parse(r.record));
  }

  /** Keeps a job's newest `keep` succeeded and `keep` other finished executions (by end time); deletes the rest. */
  pruneHistory(job: string, keep: number): void {
    this.stmts.pruneSucceeded.run({ job, keep });
    this.stmts.pruneFailed.run({ job, keep });
  }

  unfinishedExecutions(): ExecutionRecord[] {
    return (this.stmts.unfinished.all() as { record: string }[]).map((r) => JSON.parse(r.record));
  }

  appendLog(e: LogEntry): number {
    const info = this.stmts.addLog.run({
      time: e.time,
      kind: e.kind,
      job: e.job,
      execution: e.execution ?? null,
      replica: e.replica ?? null,
      container: e.container ?? null,
      stream: e.stream ?? null,
      reason: e.reason ?? null,
      text: e.text,
    });
    return Number(info.lastInsertRowid);
  }

  queryLogs(q: LogQuery): LogEntry[] {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    const eq = (col: string, v: unknown) => {
      if (v === undefined) return;
      where.push(`${col} = @${col}`);
      args[col] = v;
    };
    eq("job", q.job);
    eq("execution", q.execution);
    eq("replica", q.replica);
    eq("kind", q.kind);
    if (q.since !== undefined) {
      where.push("time >= @since");
      args.since = q.since;
    }
    if (q.until !== undefined) {
      where.push("time <= @until");
      args.until = q.until;
    }
    if (q.afterId !== undefined) {
      where.push("id > @afterId");
      args.afterId = q.afterId;
    }
    const cond = where.length ? `WHERE ${where.join(" AND ")}` : "";
    let sql: string;
    if (q.tail !== undefined)
      sql = `SELECT * FROM (SELECT * FROM logs ${cond} ORDER BY id DESC LIMIT ${Math.max(0, Math.floor(q.tail))}) ORDER BY id`;
    else
      sql = `SELECT * FROM logs ${cond} ORDER BY id${q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : ""}`;
    return (this.db.prepare(sql).all(args) as Record<string, unknown>[]).map((r) => {
      const out: LogEntry = {
        id: r.id as number,
        time: r.time as number,
        kind: r.kind as LogKind,
        job: r.job as string,
        text: r.text as string,
      };
      for (const k of ["execution", "replica", "container", "stream", "reason"] as const)
        if (r[k] !== null) (out as unknown as Record<string, unknown>)[k] = r[k];
      return out;
    });
  }

  /** Deletes log entries older than `before` (epoch ms); returns how many. */
  pruneLogs(before: number): number {
    return this.stmts.pruneLogs.run(before).changes;
  }

  close(): void {
    this.db.close();
  }
}
