// Runs the eventjobs CLI as a user would, as a child process. Always asynchronous: the server the command
// talks to runs in the test process, so a synchronous spawn would deadlock it.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { CLI } from "./cli-entry.js";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(
  dataDir: string,
  args: string[],
  opts: { cwd?: string; input?: string; env?: Record<string, string>; wrap?: string[] } = {},
): Promise<CliResult> {
  return new Promise((done) => {
    // `wrap`: a command that runs the CLI (e.g. setpriv as another user)
    const [command, ...prefix] = [...(opts.wrap ?? []), process.execPath];
    const child = spawn(command, [...prefix, ...CLI, ...args, "--data-dir", dataDir], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** the exit code once the command has ended */
  exited: Promise<number | null>;
  /** resolves with the match once stdout matches `re`; rejects if the command exits first or after `timeoutMs` */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** A CLI command that keeps running (a follower), as a child process; kill it when done. */
export function spawnCli(dataDir: string, args: string[]): RunningCli {
  const child = spawn(process.execPath, [...CLI, ...args, "--data-dir", dataDir], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  let closed = false;
  // "close": after the output has been read to its end
  const exited = new Promise<number | null>((r) => child.once("close", (code) => ((closed = true), r(code))));
  const waitFor = (re: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpMatchArray>((ok, no) => {
      const check = () => {
        const m = out.match(re);
        if (m) return settle(() => ok(m));
        if (closed) settle(() => no(new Error(`the command exited before ${re}\nstdout:\n${out}\nstderr:\n${err}`)));
      };
      const timer = setTimeout(
        () => settle(() => no(new Error(`no ${re} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`))),
        timeoutMs,
      );
      const settle = (f: () => void) => {
        clearTimeout(timer);
        child.stdout.off("data", check);
        child.off("close", check);
        f();
      };
      child.stdout.on("data", check);
      child.on("close", check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, exited, waitFor };
}
