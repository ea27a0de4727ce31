// What the project owns: the config last applied and the resources apply created from it, in
// <data-dir>/project-state.json (0600: it holds the namespaces' keys). Resources the file no longer
// declares are deleted on the next apply; destroy deletes them all. `up` without a config file starts
// with the config last applied, so a restart keeps what apply made; what the project did not make is served
// too (servedConfig), so neither an apply nor a restart takes it away.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import type { ProjectConfig, SasPolicyConfig } from "../model/config.js";
import type { Kind } from "./resources.js";

export const STATE_FILE = "project-state.json";

export interface ProjectState {
  version: 1;
  /** absolute path of the file last applied */
  source?: string;
  appliedAt?: string;
  config?: ProjectConfig;
  owned: Array<{ kind: Kind; id: string }>;
  /** fields of resources only recorded, for kinds the platform does not run (none today; kept for older state files) */
  recorded: Record<string, Record<string, unknown>>;
  /**
   * Namespaces served when `config` was applied that it does not declare (the emulator's, one the project
   * could not delete because it holds queues made another way), with their keys: served after a restart too.
   */
  retained?: Array<{ name: string; policies: SasPolicyConfig[] }>;
}

export const emptyState = (): ProjectState => ({ version: 1, owned: [], recorded: {} });

export class StateFile {
  private memory = emptyState();

  /** `dir` absent: kept in memory only (an in-memory platform without a data dir). */
  constructor(private readonly dir?: string) {}

  read(): ProjectState {
    if (!this.dir) return structuredClone(this.memory);
    return readState(this.dir) ?? emptyState();
  }

  write(state: ProjectState): void {
    if (!this.dir) return void (this.memory = structuredClone(state));
    writeFileAtomic(join(this.dir, STATE_FILE), JSON.stringify(state, null, 2) + "\n");
  }
}

export function readState(dir: string): ProjectState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, "utf8")) as ProjectState;
  return s?.version === 1 ? { ...emptyState(), ...s } : undefined;
}

/** The config last applied to a data dir, for `up` without --config. */
export function lastAppliedConfig(dir: string): ProjectConfig | undefined {
  return readState(dir)?.config;
}

/**
 * What the broker serves at start: the project last applied (else `file`), every other namespace the server
 * served when that project was applied (the emulator's namespace, one the project could not delete). A namespace
 * that only holds queues made at run time (CLI, admin API) is served by the Broker from the store itself.
 */
export function servedConfig(state: ProjectState | undefined, file: ProjectConfig): ProjectConfig {
  const config = state?.config ?? file;
  const namespaces = [...config.namespaces];
  const served = (name: string) => namespaces.some((n) => n.name.toLowerCase() === name.toLowerCase());
  for (const r of state?.retained ?? [])
    if (!served(r.name)) namespaces.push({ name: r.name, queues: [], topics: [], policies: r.policies });
  return { ...config, namespaces };
}

/** The policies a namespace (queue undefined) or one of its queues has, wherever they are kept. */
export type PolicyLookup = (namespace: string, queue?: string) => SasPolicyConfig[] | undefined;

/**
 * A file without a primaryKey gets a random one at every load; keep the one the namespace already has
 * (from the state, or the running broker), so connection strings stay valid across applies and restarts.
 * The same for a secondary key the file leaves out (renewed at run time), and rules created at run time
 * (`authorization-rule create`) stay unless the file declares one of that name. Keys the file gives win.
 */
export function keepGeneratedKeys(config: ProjectConfig, live: PolicyLookup): ProjectConfig {
  for (const ns of config.namespaces) {
    ns.policies = keepIn(ns.policies, live(ns.name));
    for (const q of ns.queues) {
      const kept = keepIn(q.policies ?? [], live(ns.name, q.name));
      if (kept.length) q.policies = kept;
    }
  }
  return config;
}

function keepIn(declared: SasPolicyConfig[], live: SasPolicyConfig[] = []): SasPolicyConfig[] {
  for (const p of declared) {
    const now = live.find((l) => l.name === p.name);
    if (!now) continue;
    if (p.generatedKey) p.primaryKey = now.primaryKey;
    if (p.secondaryKey === undefined && now.secondaryKey !== undefined) p.secondaryKey = now.secondaryKey;
  }
  const extra = live.filter((l) => l.createdAtRuntime && !declared.some((p) => p.name === l.name));
  return [...declared, ...extra.map((p) => ({ ...p, rights: [...p.rights] }))];
}

/** keepGeneratedKeys's lookup over a state's config. */
export function stateKeys(state: ProjectState | undefined): PolicyLookup {
  return (namespace, queue) => {
    const ns = state?.config?.namespaces.find((n) => n.name.toLowerCase() === namespace.toLowerCase());
    return queue === undefined
      ? ns?.policies
      : ns?.queues.find((q) => q.name.toLowerCase() === queue.toLowerCase())?.policies;
  };
}
