// The local-process executor: one replica = one child process in its own process group, with a clean
// environment, captured output, a replica timeout and a memory watch (DESIGN.md §4 "Executors").
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, closeSync, constants as fsConstants, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { LineSink, ReplicaEndReason, ReplicaHandle, ReplicaOutcome, ReplicaSpec, Stream } from "./types.js";

/** The system bin directories every replica's PATH starts with. */
export const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
export const DEFAULT_GRACE_SECONDS = 30;
const MEMORY_POLL_MS = 250;
/** a line longer than this is emitted in pieces, so a process that never prints \n cannot grow memory */
const MAX_LINE_CHARS = 64 * 1024;
/** after the main process exits, how long to wait for its pipes to close before giving up on them */
const CLOSE_WAIT_MS = 2000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The environment a replica starts with: standard PATH (+ this Node's dir), HOME, LANG, HOSTNAME, then spec.env. */
export function replicaEnv(spec: Pick<ReplicaSpec, "env" | "cwd" | "replicaName">): Record<string, string> {
  const path = [...new Set([...SYSTEM_PATH, dirname(process.execPath)])].join(":");
  // HOME is the replica's own directory: nothing of the user's home (az logins, caches) leaks in
  return { PATH: path, HOME: spec.cwd, LANG: "C.UTF-8", HOSTNAME: spec.replicaName, ...spec.env };
}

type Resolved = { file: string; argv0: string } | { exitCode: 126 | 127; message: string };

/** Finds the program the way execvp would on the replica's PATH, so failures can name it clearly. */
export function resolveProgram(program: string, pathVar: string, cwd: string): Resolved {
  if (!program) return { exitCode: 127, message: "no command to run (empty argv)" };
  const check = (file: string): "ok" | "missing" | "denied" => {
    try {
      if (!statSync(file).isFile()) return "denied";
      accessSync(file, fsConstants.X_OK);
      return "ok";
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "EACCES" ? "denied" : "missing";
    }
  };
  if (program.includes("/")) {
    const file = resolve(cwd, program);
    const r = check(file);
    if (r === "ok") return { file, argv0: program };
    if (r === "denied") return { exitCode: 126, message: `permission denied: ${program} is not an executable file` };
    return { exitCode: 127, message: `no such file: ${program} (relative to the replica's working directory)` };
  }
  let denied = false;
  for (const dir of pathVar.split(":")) {
    const file = join(resolve(cwd, dir || "."), program);
    const r = check(file);
    if (r === "ok") return { file, argv0: program };
    if (r === "denied") denied = true;
  }
  if (denied) return { exitCode: 126, message: `permission denied: ${program} is not executable` };
  return { exitCode: 127, message: `command not found: ${program} (PATH=${pathVar})` };
}

let shimDir: string | undefined;
/**
 * Dockerfiles say `python`; Debian without python-is-python3 only has python3. When the replica's PATH
 * has python3 but no python, a directory holding `python -> python3` (what python-is-python3 installs)
 * is appended to it, so shell-form CMDs and scripts find `python` too.
 */
function pythonShim(env: Record<string, string>, cwd: string): string | undefined {
  const on = (name: string) => {
    const r = resolveProgram(name, env.PATH, cwd);
    return "file" in r ? r.file : undefined;
  };
  const py3 = on("python3");
  if (!py3 || on("python")) return undefined;
  if (!shimDir) {
    shimDir = mkdtempSync(join(tmpdir(), "eventjobs-shims-"));
    const dir = shimDir;
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  // one directory per python3, so replicas with different PATHs never share a link
  const dir = join(shimDir, createHash("sha256").update(py3).digest("hex").slice(0, 16));
  if (!statSafe(join(dir, "python"))) {
    mkdirSync(dir, { recursive: true });
    try {
      symlinkSync(py3, join(dir, "python"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  env.PATH = `${env.PATH}:${dir}`;
  return py3;
}

/** The program exists but exec said ENOENT: its #! interpreter is missing. */
function missingInterpreter(program: string, file: string): string {
  let first = "";
  try {
    const fd = openSync(file, "r");
    const buf = Buffer.alloc(256);
    first = buf.toString("latin1", 0, readSync(fd, buf, 0, 256, 0)).split("\n")[0];
    closeSync(fd);
  } catch {
    // unreadable: fall through
  }
  const interp = first.startsWith("#!") ? first.slice(2).trim() : "";
  return interp ? `cannot start ${program}: its interpreter ${interp} was not found` : `cannot start ${program}: not found`;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (osConstants.signals[signal] ?? 0);
  return code ?? 0;
}

/** Splits a byte stream into lines: UTF-8 safe across chunks, \r\n tolerant, partial line flushed at end. */
export class LineSplitter {
  private decoder = new StringDecoder("utf8");
  private pending = "";
  constructor(
    private readonly stream: Stream,
    private readonly sink: LineSink,
  ) {}

  write(chunk: Buffer): void {
    let text = this.pending + this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      this.emit(text.slice(start, nl));
      start = nl + 1;
    }
    text = text.slice(start);
    while (text.length > MAX_LINE_CHARS) {
      this.emit(text.slice(0, MAX_LINE_CHARS));
      text = text.slice(MAX_LINE_CHARS);
    }
    this.pending = text;
  }

  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = "";
    if (rest) this.emit(rest);
  }

  private emit(line: string): void {
    try {
      this.sink(this.stream, line.endsWith("\r") ? line.slice(0, -1) : line);
    } catch {
      // a failing sink must not take the replica (or the engine) down
    }
  }
}

/** Resident memory (bytes) of a process and all its descendants. */
export function treeRssBytes(rootPid: number): number {
  let total = 0;
  const seen = new Set<number>();
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
      if (m) total += Number(m[1]) * 1024;
      queue.push(...childrenOf(pid));
    } catch {
      // the process ended between listing and reading
    }
  }
  return total;
}

let childrenFiles: boolean | undefined; // does this kernel have /proc/<pid>/task/<tid>/children?
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  if (childrenFiles !== false) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return out; // gone
    }
    // a child forked by any thread is listed in that thread's children file
    for (const tid of tids) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1");
      } catch (e) {
        if (childrenFiles === undefined && (e as NodeJS.ErrnoException).code === "ENOENT" && statSafe(`/proc/${pid}/task/${tid}`)) {
          childrenFiles = false;
          break;
        }
        continue;
      }
      childrenFiles = true;
      for (const c of text.split(" ")) if (c.trim()) out.push(Number(c));
    }
    if (childrenFiles !== false) return out;
  }
  // kernels without CONFIG_PROC_CHILDREN: scan /proc for the parent pid instead
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

function statSafe(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Process groups still alive; killed if this process exits so no replica outlives the platform. */
const liveGroups = new Set<number>();
let exitHook = false;
function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const g of liveGroups) killGroup(g, "SIGKILL");
  });
}

function killGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the whole group is gone already
  }
}

function later(fn: () => void, ms: number): () => void {
  // setTimeout caps at ~24.8 days; replicaTimeout is an int32 of seconds
  let t: NodeJS.Timeout;
  const arm = (left: number) => {
    t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(t);
}

const MiB = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;

/** Starts one replica. `done` never rejects; every way a replica ends is a ReplicaOutcome. */
export function startReplica(spec: ReplicaSpec, onLine: LineSink): ReplicaHandle {
  const env = replicaEnv(spec);
  const notices: string[] = [];
  let resolveDone!: (o: ReplicaOutcome) => void;
  const done = new Promise<ReplicaOutcome>((r) => (resolveDone = r));
  const startFailed = (exitCode: number, message: string): ReplicaHandle => {
    resolveDone({ reason: "StartFailed", exitCode, message });
    return { pid: undefined, stop() {}, done, notices };
  };

  if (!statSafe(spec.cwd)) return startFailed(127, `working directory does not exist: ${spec.cwd}`);
  const py3 = pythonShim(env, spec.cwd);
  if (py3 && spec.argv.some((a) => /(^|[\s/;&|(])python(\s|$)/.test(a))) notices.push(`"python" is not on the replica's PATH; it runs ${py3}`);
  const program = resolveProgram(spec.argv[0] ?? "", env.PATH, spec.cwd);
  if ("exitCode" in program) {
    // the standard PATH is no secret; a PATH the job sets is one of its values, which are never shown
    const message = spec.env.PATH === undefined ? program.message : program.message.replace(/ \(PATH=.*\)$/, " (on the job's PATH)");
    return startFailed(program.exitCode, message);
  }

  let child: ChildProcess;
  try {
    child = spawn(program.file, spec.argv.slice(1), {
      argv0: program.argv0,
      cwd: spec.cwd,
      env,
      detached: true, // setsid: the replica leads its own process group, so signals reach its children
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    return startFailed(127, `cannot start ${spec.argv[0]}: ${(e as Error).message}`);
  }
  const pgid = child.pid;
  if (pgid) {
    trackGroup(pgid);
    yieldToPlatform(pgid);
  }

  const out = new LineSplitter("stdout", onLine);
  const err = new LineSplitter("stderr", onLine);
  child.stdout!.on("data", (c: Buffer) => out.write(c));
  child.stderr!.on("data", (c: Buffer) => err.write(c));

  let reason: ReplicaEndReason | undefined; // set when we end the replica (timeout, stop, memory)
  let message: string | undefined;
  let exited = false;
  let finished = false;
  const timers: Array<() => void> = [];
  const clearTimers = () => timers.splice(0).forEach((c) => c());

  const terminate = (why: ReplicaEndReason, detail: string) => {
    if (reason || exited) return;
    reason = why;
    message = detail;
    killGroup(pgid, "SIGTERM");
    const grace = spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    timers.push(
      later(() => {
        if (reason !== "OOMKilled") message += `; still running after the ${grace}s grace period, killed`;
        killGroup(pgid, "SIGKILL");
      }, grace * 1000),
    );
  };

  if (Number.isFinite(spec.timeoutSeconds) && spec.timeoutSeconds > 0) {
    const t = spec.timeoutSeconds;
    timers.push(later(() => terminate("DeadlineExceeded", `replica timeout of ${t}s exceeded`), t * 1000));
  }

  const limit = spec.memoryLimitBytes;
  if (pgid && limit && limit > 0) {
    const iv = setInterval(() => {
      if (exited || reason === "OOMKilled") return;
      const rss = treeRssBytes(pgid);
      if (rss <= limit) return;
      // overrides a pending SIGTERM: the kernel's OOM killer would not wait for a grace period either
      reason = "OOMKilled";
      message = `memory ${MiB(rss)} over limit ${MiB(limit)}`;
      killGroup(pgid, "SIGKILL");
    }, MEMORY_POLL_MS);
    iv.unref();
    timers.push(() => clearInterval(iv));
  }

  const finish = (outcome: ReplicaOutcome) => {
    if (finished) return;
    finished = true;
    clearTimers();
    out.end();
    err.end();
    if (pgid) liveGroups.delete(pgid);
    resolveDone(outcome);
  };

  child.on("error", (e: NodeJS.ErrnoException) => {
    if (exited || child.pid) return; // errors after a successful spawn (kill on a dead pid) are not start failures
    exited = true;
    const denied = e.code === "EACCES";
    finish({
      reason: "StartFailed",
      exitCode: denied ? 126 : 127,
      message: denied ? `permission denied: ${spec.argv[0]}` : e.code === "ENOENT" ? missingInterpreter(spec.argv[0], program.file) : `cannot start ${spec.argv[0]}: ${e.message}`,
    });
  });

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const settle = () => {
    const { code, signal } = exitInfo!;
    let exitCode = exitCodeOf(code, signal);
    let why = reason;
    if (why === "OOMKilled") exitCode = 137;
    if (!why) why = exitCode === 0 ? "Completed" : "Error";
    const detail = message ?? (signal ? `killed by signal ${signal}` : exitCode !== 0 ? `exited with code ${exitCode}` : undefined);
    finish({ reason: why, exitCode, ...(signal ? { signal } : {}), ...(detail ? { message: detail } : {}) });
  };
  child.on("exit", (code, signal) => {
    exited = true;
    exitInfo = { code, signal };
    clearTimers();
    // like a container: when the main process ends, everything else in it ends too
    killGroup(pgid, "SIGKILL");
    // a descendant that escaped the group (setsid) may still hold the pipes open; do not wait forever
    const t = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      settle();
    }, CLOSE_WAIT_MS);
    t.unref();
    child.once("close", () => {
      clearTimeout(t);
      settle();
    });
  });

  return {
    get pid() {
      return child.pid;
    },
    stop() {
      if (!finished) terminate("Stopped", "stopped");
    },
    done,
    notices,
  };
}

/**
 * A replica leads its own session, and with scheduler autogroups each session gets an equal share of
 * the CPU — a burst of replicas would starve the platform (broker, scaler) that shares the machine.
 * A nice value on the replica's autogroup keeps the platform responsive; best effort (Linux only).
 */
function yieldToPlatform(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, "10");
  } catch {
    // no autogroups here, or not permitted: replicas then simply share the CPU as equals
  }
}
