// Runs the eventjobs CLI as a user would, as a child process. Always asynchronous: the server the command
// talks to runs in the test process, so a synchronous spawn would deadlock it.
import { spawn } from "node:child_process";
import { resolve } from "node:path";

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
    const child = spawn(
      command,
      [...prefix, "--import", "tsx", resolve(ROOT, "src/cli/main.ts"), ...args, "--data-dir", dataDir],
      {
        cwd: opts.cwd ?? ROOT,
        env: { ...process.env, NO_COLOR: "1", ...opts.env },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}
