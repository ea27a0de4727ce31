// The `az` of `eventjobs shellenv` and `eventjobs exec --as-me`: a small sh script written to
// <data-dir>/bin/az that runs az.ts (az.js once compiled) with the same node and node flags as this CLI, for
// that data dir. The SDKs' Azure CLI credentials run `az account get-access-token …` through /bin/sh from /bin,
// so every path in it is absolute. See docs/developer-credential.md.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** `'…'` for sh. */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** This process's node flags with `--import`/`--loader` specifiers made absolute (az runs with cwd /bin). */
export function nodeFlags(): string[] {
  const out: string[] = [];
  const flags = process.execArgv;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if ((f === "--import" || f === "--loader" || f === "--experimental-loader") && i + 1 < flags.length) {
      out.push(f, absoluteSpecifier(flags[++i]));
    } else if (/^--(import|loader|experimental-loader)=/.test(f)) {
      const [k, v] = [f.slice(0, f.indexOf("=")), f.slice(f.indexOf("=") + 1)];
      out.push(`${k}=${absoluteSpecifier(v)}`);
    } else out.push(f);
  }
  return out;
}

function absoluteSpecifier(spec: string): string {
  if (/^(file|data|node):/.test(spec)) return spec;
  if (spec.startsWith(".") || spec.startsWith("/")) return pathToFileURL(resolve(spec)).href;
  try {
    // a package (tsx): the one this CLI resolves
    return import.meta.resolve(spec);
  } catch {
    return spec;
  }
}

/** The sibling module `name` (az / main) with this module's extension (.ts under tsx, .js compiled). */
export function siblingModule(name: string): string {
  const self = fileURLToPath(import.meta.url);
  return join(self, "..", name + extname(self));
}

/** Writes (when changed) <data-dir>/bin/az; returns its directory. */
export function writeAzShim(dataDir: string): string {
  const dir = resolve(dataDir);
  const binDir = join(dir, "bin");
  const file = join(binDir, "az");
  const command = [process.execPath, ...nodeFlags(), siblingModule("az")].map(shQuote).join(" ");
  const text = [
    "#!/bin/sh",
    "# Written by eventjobs (shellenv, exec --as-me) for this data dir: `az account get-access-token|show|list`",
    "# and `az login` are answered by the eventjobs server here; other commands go to eventjobs' az-style CLI.",
    `EVENTJOBS_AZ_DATA_DIR=${shQuote(dir)} exec ${command} "$@"`,
    "",
  ].join("\n");
  mkdirSync(binDir, { recursive: true, mode: 0o700 });
  if (!existsSync(file) || readFileSync(file, "utf8") !== text) writeFileSync(file, text, { mode: 0o755 });
  chmodSync(file, 0o755);
  return binDir;
}

/** PATH with the data dir's `az` first. */
export function azShimEnv(dataDir: string, path = process.env.PATH ?? ""): string {
  return [writeAzShim(dataDir), ...path.split(delimiter).filter(Boolean)].join(delimiter);
}
