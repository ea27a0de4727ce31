// Finding a replica's program the way execvp would, on the replica's PATH, so a failure to start can say
// what was missing; and the `python` → python3 shim for Dockerfiles written for images that have `python`.
import { createHash } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The system bin directories every replica's PATH starts with. */
export const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export type Resolved = { file: string; argv0: string } | { exitCode: 126 | 127; message: string };

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
export function pythonShim(env: Record<string, string>, cwd: string): string | undefined {
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
  if (!existsSync(join(dir, "python"))) {
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
export function missingInterpreter(program: string, file: string): string {
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
  return interp
    ? `cannot start ${program}: its interpreter ${interp} was not found`
    : `cannot start ${program}: not found`;
}
