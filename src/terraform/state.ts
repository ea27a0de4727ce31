// What `eventjobs terraform apply` made, per resource address, in <data-dir>/terraform-state.json (mode 0600, like
// project-state.json: outputs may hold connection strings). plan compares the folder with it; destroy clears it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export interface TfState {
  version: 1;
  dir?: string;
  resources: Record<
    string,
    {
      type: string;
      hash: string;
      args: Record<string, unknown>;
      owns: string[];
      /** what its local-exec commands made on the server (`job:<name>`): destroy deletes it */
      made?: string[];
    }
  >;
  outputs: Array<{ name: string; value: unknown; sensitive: boolean }>;
}

const fileOf = (dataDir: string) => join(resolve(dataDir), "terraform-state.json");

export const hashOf = (v: unknown): string => createHash("sha256").update(JSON.stringify(v)).digest("hex");

export function readTfState(dataDir: string): TfState {
  const f = fileOf(dataDir);
  if (!existsSync(f)) return { version: 1, resources: {}, outputs: [] };
  return JSON.parse(readFileSync(f, "utf8")) as TfState;
}

export function writeTfState(dataDir: string, s: TfState): void {
  mkdirSync(resolve(dataDir), { recursive: true });
  writeFileSync(fileOf(dataDir), JSON.stringify(s, null, 2) + "\n", { mode: 0o600 });
}

export function clearTfState(dataDir: string): void {
  rmSync(fileOf(dataDir), { force: true });
}
