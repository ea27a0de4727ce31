// Container registries for the exports: which registry each job pulls from and with which identity (the job's
// `configuration.registries` as written, else its image's `<name>.azurecr.io` pulled with its first user-assigned
// identity, as the lab does), and every registry the project needs created (jobs' and `images:`' ones). In
// Azure the identity needs AcrPull on the registry; every exporter writes that role assignment.
import { DEVELOPER_UPN } from "../../identity/registry.js";
import type { JobSpec } from "../../jobs/job-definition.js";
import { findIdentity, type ExportJob, type ExportModel, type IdentityDef } from "./common.js";

export interface JobRegistry {
  /** `<name>.azurecr.io` */
  server: string;
  /** the registry's name (`<name>` of `<name>.azurecr.io`), or undefined for a registry that is not ACR */
  acr?: string;
  /** a user-assigned identity of the project, "system", or undefined (no identity: the job cannot pull) */
  identity?: IdentityDef | "system";
  /** admin credentials instead of an identity: the user and the job secret holding the password */
  username?: string;
  passwordSecretRef?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const acrOf = (server: string) => /^([a-z0-9]+)\.azurecr\.io$/i.exec(server.trim())?.[1]?.toLowerCase();

/** The registries one job pulls from. */
export function jobRegistries(model: ExportModel, job: ExportJob): JobRegistry[] {
  const conf = (job.raw.properties as Obj | undefined)?.configuration as Obj | undefined;
  const written = Array.isArray(conf?.registries) ? (conf.registries as unknown[]).filter(isObj) : [];
  if (written.length)
    return written.flatMap((r) => {
      if (typeof r.server !== "string") return [];
      const id = typeof r.identity === "string" ? r.identity : undefined;
      const login =
        typeof r.username === "string" && typeof r.passwordSecretRef === "string"
          ? { username: r.username, passwordSecretRef: r.passwordSecretRef }
          : {};
      return [
        {
          server: r.server,
          acr: acrOf(r.server),
          identity: id?.toLowerCase() === "system" ? "system" : id ? findIdentity(model, id) : undefined,
          ...login,
        },
      ];
    });
  const out: JobRegistry[] = [];
  for (const c of job.spec.template.containers) {
    const acr = /^([a-z0-9]+)\.azurecr\.io\//i.exec(c.image)?.[1]?.toLowerCase();
    if (!acr || out.some((r) => r.acr === acr)) continue;
    out.push({ server: `${acr}.azurecr.io`, acr, identity: pullIdentity(model, job.spec) });
  }
  return out;
}

function pullIdentity(model: ExportModel, spec: JobSpec): JobRegistry["identity"] {
  for (const k of Object.keys(spec.identity?.userAssignedIdentities ?? {})) {
    const id = findIdentity(model, k);
    if (id) return id;
  }
  return spec.identity?.type.includes("SystemAssigned") ? "system" : undefined;
}

/** Every ACR the project uses, by name: the jobs' registries and `images:`' ones. */
export function projectRegistries(model: ExportModel): string[] {
  const names = new Set<string>();
  for (const i of model.images) {
    const acr = i.registry && acrOf(i.registry.includes(".") ? i.registry : `${i.registry}.azurecr.io`);
    if (acr) names.add(acr);
  }
  for (const j of model.jobs) for (const r of jobRegistries(model, j)) if (r.acr) names.add(r.acr);
  return [...names];
}

/** AcrPull assignments the project needs: one per (registry, user-assigned identity). */
export function acrPulls(model: ExportModel): Array<{ acr: string; identity: IdentityDef }> {
  const out: Array<{ acr: string; identity: IdentityDef }> = [];
  for (const j of model.jobs)
    for (const r of jobRegistries(model, j))
      if (r.acr && r.identity && r.identity !== "system") {
        const { acr, identity } = r;
        if (!out.some((p) => p.acr === acr && p.identity.name === identity.name)) out.push({ acr, identity });
      }
  return out;
}

/** Whether a role assignment's assignee is the local developer (`eventjobs login`): "you" in Azure. */
export const isDeveloper = (assignee: string) => assignee.trim().toLowerCase() === DEVELOPER_UPN;
