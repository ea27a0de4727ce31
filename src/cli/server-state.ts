// What the lifecycle commands (status, down, wait-ready, up --detach) know of a server on a data dir: its
// server.json, whether that pid is alive, and whether it answers GET /api/v1/status (registered last, so it
// answers only once the server finished starting).
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ServerInfo } from "./client.js";
import { fail } from "./util.js";

export interface ServerStatus {
  status: "ready";
  pid: number;
  startedAt: string;
  versions: { eventjobs: string; node: string };
  endpoints: { amqp: string; amqps: string; http: string; https: string };
  counts: Record<string, number>;
}

export const serverFile = (dataDir: string) => join(resolve(dataDir), "server.json");

/** server.json as written, or undefined when there is none (or it is half written). */
export function readServerFile(dataDir: string): ServerInfo | undefined {
  const file = serverFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, "utf8")) as ServerInfo;
    return Number.isInteger(info.pid) && typeof info.http === "string" ? info : undefined;
  } catch {
    return undefined;
  }
}

/** A server.json whose process is gone (killed, crashed) is removed, so the next look does not trip over it. */
export function removeStale(dataDir: string, pid: number): void {
  if (readServerFile(dataDir)?.pid === pid) rmSync(serverFile(dataDir), { force: true });
}

/** Whether the process exists and has not exited (a zombie waiting for its parent counts as exited). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z is a process that exited but was not reaped yet
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** The server's GET /api/v1/status, or undefined while it does not answer it (starting, stopping, hung). */
export async function fetchStatus(
  info: ServerInfo,
  dataDir: string,
  timeoutMs = 2000,
): Promise<ServerStatus | undefined> {
  const tokenFile = join(resolve(dataDir), "api-token");
  const token = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : undefined;
  try {
    const res = await fetch(info.http.replace(/\/$/, "") + "/api/v1/status", {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as ServerStatus;
    return body.status === "ready" ? body : undefined;
  } catch {
    return undefined;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds, in milliseconds. */
export function parseWait(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) fail(`${flag}: "${value}" is not a duration (e.g. 30s, 500ms, 2m, or a number of seconds)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? "s"]);
}

/** Polls `check` every `everyMs` until it returns a value or `timeoutMs` passed (then undefined). */
export async function pollUntil<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(0, deadline - Date.now()))));
  }
}
