// How CLI commands reach the server running on a data dir: its addresses from <data-dir>/server.json,
// then JSON over the control API (/api/v1).
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { addOutputOption } from "./output.js";
import { fail } from "./util.js";

export interface ServerInfo {
  pid: number;
  http: string;
  https?: string;
  amqp?: string;
  amqps?: string;
  caFile?: string;
}

export const DEFAULT_DATA_DIR = ".eventjobs";

export function addDataDirOption(cmd: Command): Command {
  return cmd.option(
    "--data-dir <dir>",
    "data directory of the running server (env EVENTJOBS_DATA_DIR)",
    process.env.EVENTJOBS_DATA_DIR ?? DEFAULT_DATA_DIR,
  );
}

/** --data-dir, -o, --query, -g (recorded where a resource is made: ids show its own group), --subscription. */
export function addAzCommandOptions(cmd: Command): Command {
  return addOutputOption(addDataDirOption(cmd))
    .option("-g, --resource-group <name>", "the resource group (ids show the one the resource was made in)")
    .option("--subscription <id>", "accepted for az compatibility");
}

/** The running server's addresses, or a one-line error when none runs on that data dir. */
export function serverInfo(dataDir: string): ServerInfo {
  const file = join(resolve(dataDir), "server.json");
  const hint = `no eventjobs server is running on ${dataDir} (start one with: eventjobs up --data-dir ${dataDir})`;
  if (!existsSync(file)) fail(hint);
  const info = JSON.parse(readFileSync(file, "utf8")) as ServerInfo;
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") fail(hint);
  }
  return info;
}

export class ApiClient {
  private readonly base: string;
  private readonly token?: string;

  constructor(readonly dataDir: string) {
    const info = serverInfo(dataDir);
    this.base = info.http.replace(/\/$/, "") + "/api/v1";
    const tokenFile = join(resolve(dataDir), "api-token");
    if (existsSync(tokenFile)) this.token = readFileSync(tokenFile, "utf8").trim();
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    const text = await res.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!res.ok) fail(data?.error?.message ?? `${method} ${path}: HTTP ${res.status}`);
    return data as T;
  }

  /** The raw response (for streaming). */
  async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(this.base + path, {
        method,
        headers: {
          "content-type": "application/json",
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      fail(
        `cannot reach the eventjobs server at ${this.base} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is it still running?`,
      );
    }
  }
}

/**
 * Reads a streamed response of newline-delimited JSON (logs --follow, apply's steps), calling `onObject` for
 * each object; stops early when it returns true. Resolves true if stopped, false when the stream ended.
 */
export async function readNdjson(res: Response, onObject: (o: any) => boolean | void): Promise<boolean> {
  let buf = "";
  const chunks = (res.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch {
      break; // a connection the server cut (it stopped) ends the stream like a clean end; the caller says what it means
    }
    if (next.done) break;
    buf += Buffer.from(next.value).toString("utf8");
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line && onObject(JSON.parse(line)) === true) {
        await chunks.return?.();
        return true;
      }
    }
  }
  return false;
}
