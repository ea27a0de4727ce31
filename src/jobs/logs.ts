// Console and system logs of jobs, stored with retention and followable live (`job logs show --follow`).
import { EventEmitter } from "node:events";
import type { JobStore, LogEntry, LogQuery } from "./store.js";

export interface LogBookOptions {
  /** how long entries are kept; default 7 days */
  retentionMs?: number;
}

export const DEFAULT_LOG_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** Emits `entry` (LogEntry with its id) for every line written. */
export class LogBook extends EventEmitter {
  private readonly retentionMs: number;
  private readonly pruner: NodeJS.Timeout;

  constructor(
    private readonly store: JobStore,
    opts: LogBookOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.retentionMs = opts.retentionMs ?? DEFAULT_LOG_RETENTION_MS;
    this.prune();
    this.pruner = setInterval(() => this.prune(), Math.min(this.retentionMs, 3600_000)).unref();
  }

  write(e: Omit<LogEntry, "id" | "time"> & { time?: number }): LogEntry {
    const entry: LogEntry = { ...e, time: e.time ?? Date.now() };
    entry.id = this.store.appendLog(entry);
    this.emit("entry", entry);
    return entry;
  }

  /** A platform event about a job, an execution or a replica (ContainerAppSystemLogs). */
  system(
    job: string,
    reason: string,
    text: string,
    where: { execution?: string; replica?: string; container?: string; warning?: boolean } = {},
  ): LogEntry {
    const { warning, ...ids } = where;
    return this.write({ kind: "system", job, reason, text, stream: warning ? "Warning" : "Normal", ...ids });
  }

  query(q: LogQuery): LogEntry[] {
    return this.store.queryLogs(q);
  }

  /**
   * Calls `onEntry` for each stored entry matching `q`, then for every new one as it is written, until the
   * returned function is called. No entry is missed or repeated between the two phases.
   */
  follow(q: LogQuery, onEntry: (e: LogEntry) => void): () => void {
    let lastId = 0;
    const matches = (e: LogEntry) =>
      (q.job === undefined || e.job === q.job) &&
      (q.execution === undefined || e.execution === q.execution) &&
      (q.replica === undefined || e.replica === q.replica) &&
      (q.kind === undefined || e.kind === q.kind);
    const listener = (e: LogEntry) => {
      if (e.id! > lastId && matches(e)) {
        lastId = e.id!;
        onEntry(e);
      }
    };
    // writes are synchronous, so nothing can slip in between the query and the subscription
    for (const e of this.query(q)) {
      lastId = e.id!;
      onEntry(e);
    }
    this.on("entry", listener);
    return () => this.off("entry", listener);
  }

  prune(now = Date.now()): number {
    return this.store.pruneLogs(now - this.retentionMs);
  }

  close(): void {
    clearInterval(this.pruner);
    this.removeAllListeners();
  }
}
