// `eventjobs up` as a child process, as a user runs it: for tests that kill the server (-9), send it signals,
// measure its memory, or must not share a process with a server they try to knock over.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_CA_DIR } from "./broker.js";
import { CLI } from "./cli-entry.js";

export const ROOT = resolve(import.meta.dirname, "../..");
/** `eventjobs up`'s listeners on free loopback ports. */
export const FREE_PORTS = ["--amqp-port", "0", "--http-port", "0", "--amqps-port", "0", "--https-port", "0"];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  dataDir: string;
  /** what `up` printed after `eventjobs ready` (the real ports) */
  connectionString: string;
  tlsConnectionString: string;
  amqpPort: number;
  amqpsPort: number;
  httpPort: number;
  httpsPort: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** the process's resident set size in bytes (Linux /proc) */
  rss(): number;
  /** SIGKILL, resolved once the process is gone */
  kill9(): Promise<Exit>;
  /** a signal (default SIGINT), resolved once the process is gone or rejected after `timeoutMs` */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** stops it if still running and removes a data dir this helper made */
  dispose(): Promise<void>;
}

export interface StartOptions {
  /** reused across restarts; default a fresh temporary one (removed by dispose) */
  dataDir?: string;
  /** extra `up` flags, e.g. ["--config", file] */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** node flags, e.g. ["--max-old-space-size=256"] */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

/** Starts `eventjobs up` on free loopback ports and resolves once it printed its ready block. */
export async function startServer(opts: StartOptions = {}): Promise<ServerProcess> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "eventjobs-proc-"));
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), ...CLI, "up", "--data-dir", dataDir, ...FREE_PORTS, ...(opts.args ?? [])],
    {
      cwd: ROOT,
      env: { ...process.env, EVENTJOBS_DATA_DIR: undefined, EVENTJOBS_CA_DIR: TEST_CA_DIR, NO_COLOR: "1", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<Exit>((r) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      r({ code, signal });
    }),
  );
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  await new Promise<void>((resolveReady, reject) => {
    const check = () => {
      // the ready block ends with the namespaces line (after the URLs and the CA path)
      if (/^eventjobs ready$[\s\S]*^ {2}namespaces: .*\n/m.test(out)) return done(resolveReady);
      if (gone())
        return done(() =>
          reject(
            new Error(
              `eventjobs up exited (${child.exitCode ?? child.signalCode}) before ready\nstdout:\n${out}\nstderr:\n${err}`,
            ),
          ),
        );
    };
    const timer = setTimeout(
      () =>
        done(() =>
          reject(new Error(`eventjobs up not ready within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`)),
        ),
      timeoutMs,
    );
    const done = (f: () => void) => {
      clearTimeout(timer);
      child.stdout!.off("data", check);
      child.off("exit", check);
      f();
    };
    child.stdout!.on("data", check);
    child.on("exit", check);
    check();
  }).catch((e) => {
    child.kill("SIGKILL");
    throw e;
  });
  const ready = out.slice(out.indexOf("eventjobs ready"));
  const port = (scheme: string) => Number(ready.match(new RegExp(`${scheme}://[^\\s/]+:(\\d+)`))![1]);
  const stop = (signal: NodeJS.Signals = "SIGINT", ms = 15_000): Promise<Exit> => {
    if (gone()) return exited;
    child.kill(signal);
    let t: NodeJS.Timeout;
    return Promise.race([
      exited,
      new Promise<Exit>(
        (_, rej) =>
          (t = setTimeout(
            () => rej(new Error(`eventjobs up still running ${ms} ms after ${signal}\nstderr:\n${err}`)),
            ms,
          )),
      ),
    ]).finally(() => clearTimeout(t));
  };
  return {
    child,
    dataDir,
    connectionString: ready.match(/connection string: (\S+)/)![1],
    tlsConnectionString: ready.match(/tls connection string: (\S+)/)![1],
    amqpPort: port("amqp"),
    amqpsPort: port("amqps"),
    httpPort: port("http"),
    httpsPort: port("https"),
    stdout: () => out,
    stderr: () => err,
    exited,
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
    },
    kill9() {
      if (!gone()) child.kill("SIGKILL");
      return exited;
    },
    stop,
    async dispose() {
      if (!gone()) {
        child.kill("SIGKILL");
        await exited;
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
