// What every exporter shares: the project read into one model (namespaces, identities, role assignments,
// images, validated jobs), `${...}` references, placeholder variable names, and the "how to get this value
// in Azure" commands that stand in for secrets, which are never written out.
import { isSensitive } from "../../control/secrets.js";
import { normalizeJob, type JobSpec } from "../../jobs/job-definition.js";
import type { NamespaceConfig, ProjectConfig } from "../../model/config.js";

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportError";
  }
}

export interface IdentityDef {
  name: string;
  clientId?: string;
  principalId?: string;
}

export interface RoleAssignmentDef {
  role: string;
  assignee: string;
  scope: string;
}

export interface ImageDef {
  registry?: string;
  image?: string;
  context?: string;
}

export interface ExportJob {
  spec: JobSpec;
  /** the entry as written in eventjobs.yaml (kept for the import header and messages) */
  raw: Record<string, unknown>;
}

export interface ExportModel {
  source: string;
  namespaces: NamespaceConfig[];
  identities: IdentityDef[];
  roleAssignments: RoleAssignmentDef[];
  images: ImageDef[];
  /** the jobs to export (one when `--job` was given) */
  jobs: ExportJob[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** Reads the project; `jobName` keeps only that job (an unknown name is an error naming it). */
export function buildModel(config: ProjectConfig, jobName?: string): ExportModel {
  const extra = config.extra ?? {};
  const source = config.source ?? "eventjobs.yaml";
  const identities = list(extra.identities).flatMap((i) =>
    str(i.name) ? [{ name: i.name as string, clientId: str(i.clientId), principalId: str(i.principalId) }] : [],
  );
  const roleAssignments = list(extra.roleAssignments).flatMap((r) =>
    str(r.role) && str(r.assignee) && str(r.scope)
      ? [{ role: r.role as string, assignee: r.assignee as string, scope: r.scope as string }]
      : [],
  );
  let images = list(extra.images).map((i) => ({
    registry: str(i.registry),
    image: str(i.image) ?? str(i.name),
    context: str(i.context) ?? str(i.dir) ?? str(i.path),
  }));
  let jobs = list(extra.jobs).map((raw) => ({ raw, spec: secretEnv(normalizeJob(raw)) }));
  if (jobName !== undefined) {
    const found = jobs.filter((j) => j.spec.name === jobName);
    if (!found.length) {
      const known = jobs.map((j) => j.spec.name).join(", ") || "none";
      throw new ExportError(`--job "${jobName}": no such job in ${source} (jobs: ${known})`);
    }
    jobs = found;
    // only the images that job runs
    images = images.filter((i) =>
      found.some((j) => j.spec.template.containers.some((c) => c.image.endsWith(`/${i.image}`))),
    );
  }
  const model: ExportModel = { source, namespaces: config.namespaces, identities, roleAssignments, images, jobs };
  for (const j of jobs) checkRefs(model, j.spec);
  return model;
}

/**
 * An env value that is a secret (control/secrets.ts: DB_PASSWORD, a literal connection string) is exported as
 * a job secret the env var refers to, so it becomes a placeholder like any literal secret and is never written.
 */
function secretEnv(job: JobSpec): JobSpec {
  const secrets = [...job.secrets];
  const secretName = (env: string) => {
    const base = `env-${env
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, "-")
      .replace(/^-+|-+$/g, "")}`;
    let name = base;
    for (let i = 2; secrets.some((s) => s.name === name); i++) name = `${base}-${i}`;
    return name;
  };
  const containers = job.template.containers.map((c) => ({
    ...c,
    env: c.env?.map((e) => {
      if (e.value === undefined || wholeRef(e.value) || !isSensitive(`template.env[${e.name}].value`, e.value))
        return e;
      const name = secretName(e.name);
      secrets.push({ name, value: e.value });
      return { name: e.name, secretRef: name };
    }),
  }));
  return { ...job, secrets, template: { ...job.template, containers } };
}

// ---------- references ----------

export interface Ref {
  kind: "servicebus" | "identity";
  name: string;
  prop: string;
  /** `servicebus.<ns>.connectionString`, as written between `${` and `}` */
  text: string;
}

const REF = /\$\{([A-Za-z][\w-]*)\.([^.}]+)\.([A-Za-z]+)\}/g;
const SB_PROPS = ["connectionString", "fqdn", "host"];
const ID_PROPS = ["clientId", "principalId", "resourceId"];

/** Splits a string into literal parts and references. */
export function splitRefs(value: string): (string | Ref)[] {
  const out: (string | Ref)[] = [];
  let last = 0;
  for (const m of value.matchAll(REF)) {
    if (m.index! > last) out.push(value.slice(last, m.index));
    out.push({ kind: m[1] as Ref["kind"], name: m[2], prop: m[3], text: m[0].slice(2, -1) });
    last = m.index! + m[0].length;
  }
  if (last < value.length) out.push(value.slice(last));
  return out;
}

/** The reference when `value` is exactly one reference and nothing else. */
export function wholeRef(value: string): Ref | undefined {
  const parts = splitRefs(value);
  return parts.length === 1 && typeof parts[0] !== "string" ? parts[0] : undefined;
}

/** Renders a string with each reference replaced by `render(ref)` and each literal part by `literal(text)`. */
export function renderRefs(
  value: string,
  render: (r: Ref) => string,
  literal: (s: string) => string = (s) => s,
): string {
  return splitRefs(value)
    .map((p) => (typeof p === "string" ? literal(p) : render(p)))
    .join("");
}

/** Every string of a job a reference may appear in, with its path (secrets, env, metadata, command, identity keys). */
export function jobStrings(job: JobSpec): { path: string; value: string }[] {
  const out: { path: string; value: string }[] = [];
  const P = "properties.configuration";
  job.secrets.forEach((s, i) => out.push({ path: `${P}.secrets[${i}].value`, value: s.value }));
  job.scale?.rules.forEach((r, i) =>
    Object.entries(r.metadata).forEach(([k, v]) =>
      out.push({ path: `${P}.eventTriggerConfig.scale.rules[${i}].metadata.${k}`, value: v }),
    ),
  );
  job.template.containers.forEach((c, i) => {
    const CP = `properties.template.containers[${i}]`;
    c.env?.forEach((e, j) => e.value !== undefined && out.push({ path: `${CP}.env[${j}].value`, value: e.value }));
    c.command?.forEach((v, j) => out.push({ path: `${CP}.command[${j}]`, value: v }));
    c.args?.forEach((v, j) => out.push({ path: `${CP}.args[${j}]`, value: v }));
    out.push({ path: `${CP}.image`, value: c.image });
  });
  for (const key of Object.keys(job.identity?.userAssignedIdentities ?? {}))
    out.push({ path: `identity.userAssignedIdentities`, value: key });
  return out;
}

function checkRefs(model: ExportModel, job: JobSpec): void {
  for (const { path, value } of jobStrings(job)) {
    for (const p of splitRefs(value)) {
      if (typeof p === "string") continue;
      const problem =
        p.kind === "servicebus"
          ? !model.namespaces.some((n) => n.name === p.name)
            ? `no namespace "${p.name}" in ${model.source}`
            : !SB_PROPS.includes(p.prop) && `servicebus references take ${SB_PROPS.join(", ")}`
          : p.kind === "identity"
            ? !model.identities.some((i) => i.name === p.name)
              ? `no identity "${p.name}" in ${model.source} (identities:)`
              : !ID_PROPS.includes(p.prop) && `identity references take ${ID_PROPS.join(", ")}`
            : `unknown kind "${p.kind}" (servicebus.<namespace>.<property> or identity.<name>.<property>)`;
      if (problem) throw new ExportError(`job ${job.name}: ${path}: \${${p.text}} — ${problem}`);
    }
  }
}

// ---------- names ----------

/** `servicebus-ns-job` → `SERVICEBUS_NS_JOB`: a shell / envsubst variable name. */
export function envName(...parts: string[]): string {
  const s = parts
    .join("_")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toUpperCase();
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** The placeholder variable a reference becomes, e.g. `IDENTITY_ACA_CLIENT_ID`. */
export function refVar(r: Ref): string {
  const prop = r.prop === "resourceId" ? "id" : r.prop === "host" ? "fqdn" : r.prop.replace(/[A-Z]/g, (c) => `_${c}`);
  return envName(r.name, prop);
}

/** The placeholder for a secret whose value is not a reference: `<JOB>_<SECRET>`. */
export function secretVar(job: string, secret: string): string {
  return envName(job, secret);
}

/** The SAS policy `${servicebus.<ns>.connectionString}` uses: the namespace's first, as the local platform does. */
export function connectionPolicy(model: ExportModel, ns: string): string {
  return model.namespaces.find((n) => n.name === ns)?.policies[0]?.name ?? "RootManageSharedAccessKey";
}

export const azureFqdn = (ns: string) => `${ns}.servicebus.windows.net`;

/** A shell command (or value) that yields what a reference means in Azure; `rg` is the resource group expression. */
export function refCommand(model: ExportModel, r: Ref, rg = '"$RESOURCE_GROUP"'): string {
  if (r.kind === "servicebus") {
    if (r.prop === "fqdn" || r.prop === "host") return azureFqdn(r.name);
    return `$(az servicebus namespace authorization-rule keys list --resource-group ${rg} --namespace-name ${r.name} --name ${connectionPolicy(model, r.name)} --query primaryConnectionString --output tsv)`;
  }
  const query = r.prop === "resourceId" ? "id" : r.prop;
  return `$(az identity show --resource-group ${rg} --name ${r.name} --query ${query} --output tsv)`;
}

/** What a secret becomes: the reference it is (a value we can fetch in Azure) or a variable the user fills. */
export interface SecretSource {
  name: string;
  variable: string;
  ref?: Ref;
}

export function secretSources(job: JobSpec): SecretSource[] {
  return job.secrets.map((s) => {
    const ref = wholeRef(s.value);
    return { name: s.name, variable: ref ? refVar(ref) : secretVar(job.name, s.name), ref };
  });
}

// ---------- identities and scopes ----------

/**
 * The identity a role-assignment assignee or a job identity key names (name, client id, principal id, ARM id or
 * reference).
 */
export function findIdentity(model: ExportModel, text: string): IdentityDef | undefined {
  const ref = wholeRef(text);
  if (ref?.kind === "identity") return model.identities.find((i) => i.name === ref.name);
  const armName = /\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i.exec(text)?.[1];
  return model.identities.find((i) => i.name === (armName ?? text) || i.clientId === text || i.principalId === text);
}

export interface ScopeTarget {
  namespace: string;
  /** `queues/<q>`, `topics/<t>` or undefined for the namespace */
  entity?: { kind: "queues" | "topics"; name: string };
}

/** `<ns>[/queues/<q>]` or the ARM id form; undefined for scopes outside Service Bus (passed through as written). */
export function parseScope(scope: string): ScopeTarget | undefined {
  const arm = /\/providers\/Microsoft\.ServiceBus\/namespaces\/(.+)$/i.exec(scope);
  const rest = (arm ? arm[1] : scope).replace(/\/+$/, "");
  const m = /^([A-Za-z][A-Za-z0-9-]*)(?:\/(queues|topics)\/([^/]+))?$/i.exec(rest);
  if (!m || (!arm && scope.startsWith("/"))) return undefined;
  return {
    namespace: m[1],
    entity: m[2] ? { kind: m[2].toLowerCase() as "queues" | "topics", name: m[3] } : undefined,
  };
}

// ---------- images and sizes ----------

/** Notes for one job: images built locally with `eventjobs acr build` (push them first with `az acr build`)
 *  and identities its values use without the job having them (the token request would fail in Azure). */
export function jobNotes(model: ExportModel, spec: JobSpec, target: "aca" | "az" | "terraform" | "k8s"): string[] {
  const notes: string[] = [];
  for (const c of spec.template.containers) {
    const m = /^([a-z0-9]+)\.azurecr\.io\/([^:@]+)(?::([^@]+))?/.exec(c.image);
    if (!m) continue;
    const [, registry, repo, tag = "latest"] = m;
    const def = model.images.find(
      (i) =>
        (!i.registry || i.registry.replace(/\.azurecr\.io$/, "") === registry) &&
        (i.image === `${repo}:${tag}` || (tag === "latest" && i.image === repo)),
    );
    // the az and Terraform exports build a declared image themselves and grant the pull
    if (def?.context && (target === "az" || target === "terraform")) continue;
    notes.push(
      `image ${c.image} of job ${spec.name}: if it was built locally with eventjobs acr build, push it first: ` +
        `az acr build --registry ${registry} --image ${repo}:${tag} ${def?.context ?? "<build-context>"}; ` +
        (target === "k8s"
          ? `the cluster then needs pull access (az aks update --attach-acr ${registry})`
          : target === "aca"
            ? `the job then needs pull access to ${registry}.azurecr.io (a registry identity with AcrPull)`
            : "the job's registry identity gets AcrPull here"),
    );
  }
  const assigned = new Set(
    Object.keys(spec.identity?.userAssignedIdentities ?? {}).map((k) => findIdentity(model, k)?.name),
  );
  const used = new Set(
    jobStrings(spec).flatMap(({ value }) =>
      splitRefs(value).flatMap((p) => (typeof p !== "string" && p.kind === "identity" ? [p.name] : [])),
    ),
  );
  for (const name of used) {
    if (assigned.has(name)) continue;
    const how =
      target === "terraform"
        ? `add identity { type = "UserAssigned", identity_ids = [azurerm_user_assigned_identity.<${name}>.id] } to it`
        : target === "k8s"
          ? 'use workload identity (a service account federated with it, pod label azure.workload.identity/use: "true")'
          : `assign it: az containerapp job identity assign --name ${spec.name} --resource-group "$RESOURCE_GROUP" --user-assigned ${name}`;
    notes.push(
      `job ${spec.name} uses identity ${name} but does not have it, which a token request needs in Azure: ${how}`,
    );
  }
  return notes;
}

/** Memory as Container Apps writes it: a bare number means Gi (what az appends). */
export function acaMemory(memory: string): string {
  return /^\d+(\.\d+)?$/.test(memory.trim()) ? `${memory.trim()}Gi` : memory;
}

/** Comment lines, each prefixed with `prefix` (no trailing blanks). */
export function commentLines(prefix: string, lines: string[]): string {
  return lines.map((l) => `${prefix}${l}`.trimEnd()).join("\n");
}

/**
 * The `${VAR}` placeholders a YAML export uses, in order of first use, with the command that fills each
 * (for the header comment) and, for references, the eventjobs reference it stands for (for import).
 */
export class Placeholders {
  readonly vars = new Map<string, { how: string; ref?: Ref }>();

  constructor(private readonly model: ExportModel) {}

  ref(r: Ref): string {
    const name = refVar(r);
    if (!this.vars.has(name)) this.vars.set(name, { how: refCommand(this.model, r), ref: r });
    return `\${${name}}`;
  }

  secret(job: string, s: SecretSource): string {
    if (s.ref) return this.ref(s.ref);
    if (!this.vars.has(s.variable))
      this.vars.set(s.variable, {
        how: `'<the value of secret ${s.name} of job ${job}: kept locally, never exported>'`,
      });
    return `\${${s.variable}}`;
  }

  plain(name: string, how: string): string {
    if (!this.vars.has(name)) this.vars.set(name, { how });
    return `\${${name}}`;
  }

  /** Renders a string: references become placeholders, literal text stays. */
  value(text: string): string {
    return renderRefs(text, (r) => this.ref(r));
  }

  exports(): string[] {
    return [...this.vars].map(([name, v]) => `export ${name}=${v.how}`);
  }

  /** The variable list for envsubst, so other `$` in the file stay as written. */
  envsubstList(): string {
    return `'${[...this.vars.keys()].map((v) => `$${v}`).join(" ")}'`;
  }
}
