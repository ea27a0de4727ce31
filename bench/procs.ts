// Child-process and timing helpers: every child started here is registered so it is
// always cleaned up (normal exit, error, SIGINT/SIGTERM).
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import net from "node:net";

type Cleanup = () => Promise<void> | void;
const cleanups = new Set<Cleanup>();
/** Last-resort synchronous kills, run on process exit (e.g. after a crash). */
const exitKills = new Set<() => void>();
let installed = false;
let stopping = false;

/** True once a signal or crash started the shutdown: stop starting new work. */
export function isStopping(): boolean {
  return stopping;
}

export function onExitSync(fn: () => void): () => void {
  installHandlers();
  exitKills.add(fn);
  return () => exitKills.delete(fn);
}

/** Register an async cleanup; returns a function that unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  installHandlers();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Run (and forget) all registered cleanups, newest first, each bounded to 20 s. */
let cleaning: Promise<void> | undefined;
export function runCleanups(): Promise<void> {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    const list = [...cleanups].reverse();
    cleanups.clear();
    for (const fn of list) {
      try {
        await withTimeout(Promise.resolve(fn()), 30_000, "cleanup");
      } catch (err) {
        console.error(`cleanup failed: ${(err as Error).message}`);
      }
    }
  })().finally(() => {
    cleaning = undefined;
  });
  return cleaning;
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${sig} again: killing children now`);
      process.exit(130); // the "exit" hook SIGKILLs what is left
    }
    stopping = true;
    console.error(`\n${sig}: stopping children…`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  const onCrash = (err: unknown) => {
    console.error("fatal:", err);
    if (stopping) return;
    stopping = true;
    void runCleanups().finally(() => process.exit(1));
  };
  process.on("uncaughtException", onCrash);
  // Library-internal stray rejections are logged, not fatal (our own awaits handle errors).
  process.on("unhandledRejection", (err) => console.error("unhandled rejection:", (err as Error)?.message ?? err));
  process.on("exit", () => {
    for (const fn of exitKills) {
      try {
        fn();
      } catch {
        /* best effort */
      }
    }
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A free TCP port on 127.0.0.1 (optionally inside [min, max]). */
export async function freePort(min = 0, max = 0): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const want = min && max ? min + Math.floor(Math.random() * (max - min)) : 0;
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(-1));
      srv.listen(want, "127.0.0.1", () => {
        const addr = srv.address();
        const p = typeof addr === "object" && addr ? addr.port : -1;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0) return port;
  }
  throw new Error("no free port found");
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number, isDead?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = isDead?.();
    if (dead) throw new Error(dead);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.setTimeout(1000);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
      s.once("timeout", () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface Child {
  proc: ChildProcess;
  /** stdout+stderr so far (capped). */
  output(): string;
  /** Set once the child exited. */
  exited(): string | undefined;
  /** Resolves with the first regex match on a stdout/stderr line. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawn a registered child in its own process group (so the whole tree can be killed). */
export function startChild(
  name: string,
  cmd: string,
  args: string[],
  opts: SpawnOptions & { ownCleanup?: boolean } = {},
): Child {
  const { ownCleanup = true, ...spawnOpts } = opts;
  const proc = spawn(cmd, args, { ...spawnOpts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let exitInfo: string | undefined;
  const lineWaiters = new Set<(line: string) => void>();
  let partial = "";
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    if (out.length < 200_000) out += text;
    partial += text;
    const lines = partial.split(/\r?\n/);
    partial = lines.pop() ?? "";
    for (const line of lines) for (const w of [...lineWaiters]) w(line);
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const exitPromise = new Promise<void>((resolve) => {
    proc.once("exit", (code, sig) => {
      exitInfo = `${name} exited (code ${code}, signal ${sig})`;
      resolve();
    });
    proc.once("error", (err) => {
      exitInfo = `${name} failed to start: ${err.message}`;
      resolve();
    });
  });

  const killGroup = (sig: NodeJS.Signals) => {
    if (proc.pid === undefined) return;
    try {
      process.kill(-proc.pid, sig);
    } catch {
      try {
        proc.kill(sig);
      } catch {
        /* gone */
      }
    }
  };
  let stopPromise: Promise<void> | undefined;
  const stop = (graceMs = 5000) => (stopPromise ??= doStop(graceMs));
  const doStop = async (graceMs: number) => {
    unregister();
    if (exitInfo === undefined) {
      killGroup("SIGTERM");
      const done = await Promise.race([exitPromise.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        killGroup("SIGKILL");
        await Promise.race([exitPromise, sleep(2000)]);
      }
    }
    // The leader may be gone while others in the group live on: make sure.
    killGroup("SIGKILL");
    unregisterExit();
  };
  // ownCleanup false: the caller's cleanup stops this child (e.g. gracefully via a CLI first).
  const unregister = ownCleanup ? onCleanup(() => stop()) : () => false;
  const unregisterExit = onExitSync(() => {
    if (exitInfo === undefined) killGroup("SIGKILL");
  });

  return {
    proc,
    output: () => out,
    exited: () => exitInfo,
    stop,
    waitForLine(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        for (const line of out.split(/\r?\n/)) {
          const m = line.match(re);
          if (m) return resolve(m);
        }
        const timer = setTimeout(() => {
          lineWaiters.delete(check);
          reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (line: string) => {
          const m = line.match(re);
          if (m) {
            clearTimeout(timer);
            lineWaiters.delete(check);
            resolve(m);
          }
        };
        lineWaiters.add(check);
        void exitPromise.then(() => {
          if (!lineWaiters.has(check)) return;
          clearTimeout(timer);
          lineWaiters.delete(check);
          reject(new Error(`${exitInfo}\n${tail(out)}`));
        });
      });
    },
  };
}

/** Run a command to completion (bounded), capturing output. Never throws. */
export function run(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | null; out: string; error?: string }> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
      resolve({ code: null, out, error: `timeout after ${opts.timeoutMs} ms` });
    }, opts.timeoutMs ?? 60_000);
    proc.once("error", (err) => {
      clearTimeout(timer);
      resolve({ code: null, out, error: err.message });
    });
    proc.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

export function tail(text: string, lines = 15): string {
  return text.trimEnd().split(/\r?\n/).slice(-lines).join("\n");
}
