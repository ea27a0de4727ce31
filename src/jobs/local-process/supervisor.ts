// Runs one replica as a local process and watches it until it ends: its own process group with a clean
// environment, captured output, stop (SIGTERM, then SIGKILL after the grace period), the replica timeout
// and the memory limit. Every way it ends becomes a ReplicaOutcome.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { dirname } from "node:path";
import type { LineSink, ReplicaEndReason, ReplicaHandle, ReplicaOutcome, ReplicaSpec } from "../types.js";
import { LineSplitter } from "./output-lines.js";
import { treeRssBytes } from "./proc-stats.js";
import { missingInterpreter, pythonShim, resolveProgram, SYSTEM_PATH } from "./programs.js";

export const DEFAULT_GRACE_SECONDS = 30;
const MEMORY_POLL_MS = 250;
/** after the main process exits, how long to wait for its pipes to close before giving up on them */
const CLOSE_WAIT_MS = 2000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The environment a replica starts with: standard PATH (+ this Node's dir), HOME, LANG, HOSTNAME, then spec.env. */
export function replicaEnv(spec: Pick<ReplicaSpec, "env" | "cwd" | "replicaName">): Record<string, string> {
  const path = [...new Set([...SYSTEM_PATH, dirname(process.execPath)])].join(":");
  // HOME is the replica's own directory: nothing of the user's home (az logins, caches) leaks in
  return { PATH: path, HOME: spec.cwd, LANG: "C.UTF-8", HOSTNAME: spec.replicaName, ...spec.env };
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (osConstants.signals[signal] ?? 0);
  return code ?? 0;
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

  if (!existsSync(spec.cwd)) return startFailed(127, `working directory does not exist: ${spec.cwd}`);
  const py3 = pythonShim(env, spec.cwd);
  if (py3 && spec.argv.some((a) => /(^|[\s/;&|(])python(\s|$)/.test(a)))
    notices.push(`"python" is not on the replica's PATH; it runs ${py3}`);
  const program = resolveProgram(spec.argv[0] ?? "", env.PATH, spec.cwd);
  if ("exitCode" in program) {
    // the standard PATH is no secret; a PATH the job sets is one of its values, which are never shown
    const message =
      spec.env.PATH === undefined ? program.message : program.message.replace(/ \(PATH=.*\)$/, " (on the job's PATH)");
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
      message: denied
        ? `permission denied: ${spec.argv[0]}`
        : e.code === "ENOENT"
          ? missingInterpreter(spec.argv[0], program.file)
          : `cannot start ${spec.argv[0]}: ${e.message}`,
    });
  });

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const settle = () => {
    const { code, signal } = exitInfo!;
    let exitCode = exitCodeOf(code, signal);
    let why = reason;
    if (why === "OOMKilled") exitCode = 137;
    if (!why) why = exitCode === 0 ? "Completed" : "Error";
    const detail =
      message ?? (signal ? `killed by signal ${signal}` : exitCode !== 0 ? `exited with code ${exitCode}` : undefined);
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

/**
 * A replica process that outlived a killed server (it runs in its own process group) is killed, if the
 * pid still belongs to that replica: its environment names it, which rules out a reused pid.
 */
export function killLeftoverReplica(replicaName: string, pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (env.includes(`CONTAINER_APP_REPLICA_NAME=${replicaName}`)) process.kill(-pid, "SIGKILL");
    } catch {
      // gone already, or not ours to read
    }
  }
}
