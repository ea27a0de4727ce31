// local-exec provisioners: `az acr build --registry R --image I CONTEXT` becomes an image the project builds (as
// `eventjobs acr build` does); any other command runs through a shell after apply, with `az` on PATH mapped to
// `eventjobs` on the same data dir. See docs/terraform.md.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { TerraformError } from "./load.js";

/** Shell-like words: quotes and backslash-newlines handled, no expansion. */
export function words(command: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\\\n)|([^\s"']+)|(\s+)/g;
  let cur: string | undefined;
  for (const m of command.matchAll(re)) {
    if (m[5] !== undefined || m[3] !== undefined) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else cur = (cur ?? "") + (m[1]?.replace(/\\(.)/g, "$1") ?? m[2] ?? m[4]);
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** az acr build's flags that take no value. */
const SWITCHES = ["--no-format", "--no-logs", "--no-push", "--no-wait", "--no-cache", "--only-show-errors", "--debug"];

/** An `az acr build` command as an image declaration, or undefined for any other command. */
export function parseAzCommand(
  command: string,
  workingDir: string,
): { registry: string; image: string; context: string; dockerfile?: string } | undefined {
  const w = words(command.trim());
  if (w[0] !== "az" || w[1] !== "acr" || w[2] !== "build") return undefined;
  if (/[;&|`$<>]/.test(command.replace(/\\\n/g, "")))
    throw new TerraformError(`local-exec: "${command}": az acr build must be the only command in its provisioner`);
  const o: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 3; i < w.length; i++) {
    const flag = w[i];
    if (!flag.startsWith("-")) positional.push(flag);
    else if (flag.includes("=")) o[flag.slice(0, flag.indexOf("="))] = flag.slice(flag.indexOf("=") + 1);
    else if (!SWITCHES.includes(flag)) o[flag] = w[++i];
  }
  const registry = o["--registry"] ?? o["-r"];
  const image = o["--image"] ?? o["-t"];
  if (!registry || !image || positional.length !== 1)
    throw new TerraformError(`local-exec: "${command}": expected az acr build --registry R --image NAME:TAG CONTEXT`);
  const context = resolve(workingDir, positional[0]);
  // az reads a --file that exists from where it runs (`-f ./app/Dockerfile ./app/`), else from the context
  const file = o["--file"] ?? o["-f"];
  const dockerfile = file && existsSync(resolve(workingDir, file)) ? resolve(workingDir, file) : file;
  return { registry, image, context, ...(dockerfile ? { dockerfile } : {}) };
}

/** Runs a provisioner's command with `sh -c`, `az` mapped to eventjobs on `dataDir`; rejects on a non-zero exit. */
export function runCommand(
  /** `shown`: the command as errors name it (before the server's values, secrets among them, went in) */
  cmd: { command: string; shown?: string; workingDir: string; environment: Record<string, string> },
  dataDir: string,
  say: (line: string) => void,
): Promise<void> {
  const bin = mkdtempSync(join(tmpdir(), "eventjobs-az-"));
  const main = resolve(import.meta.dirname, "../cli/main" + (import.meta.filename.endsWith(".ts") ? ".ts" : ".js"));
  // from the sources (tsx), the loader is found from here, not from the provisioner's working_dir
  const loader = main.endsWith(".ts") ? `--import "${import.meta.resolve("tsx")}" ` : "";
  writeFileSync(
    join(bin, "az"),
    `#!/bin/sh\nexec "${process.execPath}" ${loader}"${main}" "$@" --data-dir "${resolve(dataDir)}"\n`,
  );
  chmodSync(join(bin, "az"), 0o755);
  return new Promise<void>((done, reject) => {
    const child = spawn("sh", ["-c", cmd.command], {
      cwd: cmd.workingDir,
      env: { ...process.env, ...cmd.environment, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const relay = (prefix: string) => (c: Buffer) =>
      String(c)
        .split("\n")
        .filter(Boolean)
        .forEach((l) => say(`${prefix}${l}`));
    child.stdout.on("data", relay("(local-exec): "));
    child.stderr.on("data", relay("(local-exec): "));
    child.on("error", reject);
    child.on("close", (code) => {
      rmSync(bin, { recursive: true, force: true });
      if (code === 0) done();
      else
        reject(new TerraformError(`local-exec provisioner error: "${cmd.shown ?? cmd.command}" exited with ${code}`));
    });
  });
}
