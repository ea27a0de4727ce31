// `az containerapp job create|update|start` flags → a job entry in the Container Apps shape, with az's
// defaults for omitted flags and az's messages for bad values (docs/cli.md).
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { CronError, parseCron } from "../jobs/cron.js";
import { identityNameOf } from "../identity/config.js";
import { JOB_NAME_MESSAGE, JOB_NAME_PATTERN, parseMemory } from "../jobs/job-definition.js";
import { fail } from "./util.js";

export interface JobFlags {
  name: string;
  resourceGroup?: string;
  environment?: string;
  triggerType?: string;
  replicaTimeout?: string;
  replicaRetryLimit?: string;
  replicaCompletionCount?: string;
  parallelism?: string;
  image?: string;
  containerName?: string;
  cpu?: string;
  memory?: string;
  command?: string[];
  args?: string[];
  envVars?: string[];
  secrets?: string[];
  minExecutions?: string;
  maxExecutions?: string;
  pollingInterval?: string;
  cronExpression?: string;
  scaleRuleName?: string;
  scaleRuleType?: string;
  scaleRuleMetadata?: string[];
  scaleRuleAuth?: string[];
  miSystemAssigned?: boolean;
  miUserAssigned?: string[];
  tags?: string[];
  yaml?: string;
  registryServer?: string;
  registryIdentity?: string;
  registryUsername?: string;
  registryPassword?: string;
}

/** az's defaults for `containerapp job create` (the CLI's, not ARM's: maxExecutions 10). */
const AZ_JOB_DEFAULTS = Object.freeze({
  replicaTimeout: 1800,
  replicaRetryLimit: 0,
  replicaCompletionCount: 1,
  parallelism: 1,
  minExecutions: 0,
  maxExecutions: 10,
  pollingInterval: 30,
  image: "mcr.microsoft.com/k8se/quickstart-jobs:latest",
  cpu: 0.5,
  memory: "1Gi",
});

export function checkJobName(name: string): void {
  if (!JOB_NAME_PATTERN.test(name)) fail(`Invalid value "${name}" for --name: ${JOB_NAME_MESSAGE}`);
}

/** An integer flag of create and update (never NaN into the entry: the server would only name the field). */
export function intFlag(flag: string, v: string | undefined, def: number | undefined, min: number): number | undefined {
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v.trim())) fail(`Invalid value "${v}" for ${flag}: expected an integer`);
  const n = Number(v);
  if (n < min) fail(`Usage error: ${flag} must be at least ${min} (got ${n})`);
  return n;
}

/** `KEY=VALUE` pairs (az's space-separated lists); a value may contain '='. */
function pairs(flag: string, items: string[] | undefined): [string, string][] {
  return (items ?? []).map((item) => {
    const i = item.indexOf("=");
    if (i <= 0) fail(`Invalid value "${item}" for ${flag}: expected KEY=VALUE`);
    return [item.slice(0, i), item.slice(i + 1)];
  });
}

/** `--env-vars A=1 B=secretref:name` (or `--set-env-vars`) → env entries. */
export function envVars(
  items: string[] | undefined,
  flag = "--env-vars",
): { name: string; value?: string; secretRef?: string }[] {
  return pairs(flag, items).map(([name, value]) =>
    value.startsWith("secretref:") ? { name, secretRef: value.slice("secretref:".length) } : { name, value },
  );
}

/** az appends Gi to a bare number. */
export function memoryFlag(m: string): string {
  const size = /^\d+(\.\d+)?$/.test(m.trim()) ? `${m.trim()}Gi` : m.trim();
  if (parseMemory(size) === undefined)
    fail(`Invalid value "${m}" for --memory: expected a size such as 0.5Gi or 512Mi (a bare number is Gi)`);
  return size;
}

export function cpuFlag(v: string): number {
  const n = v.trim() ? Number(v) : NaN;
  if (!(n > 0)) fail(`Invalid value "${v}" for --cpu: expected a number of cores such as 0.25`);
  return n;
}

export function cronFlag(v: string): string {
  try {
    parseCron(v);
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    fail(`Invalid value for --cron-expression: ${e.message}`); // the message quotes the value
  }
  return v;
}

/** Reads a `--yaml` file: the Container Apps body (properties.configuration/template, identity, ...). */
export function jobFromYaml(file: string, name: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    fail(`--yaml ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    fail(`--yaml ${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!doc || typeof doc !== "object" || !("properties" in doc))
    fail(`--yaml ${file}: expected a Container Apps job body with properties.configuration and properties.template`);
  // the ARM body minus its identifiers is exactly our job entry
  const { id: _id, type: _type, name: _name, systemData: _sd, ...body } = doc as Record<string, unknown>;
  return { ...body, name };
}

/** The job entry for `job create` (all other flags are ignored with --yaml, as az does). */
export function jobFromFlags(f: JobFlags): Record<string, unknown> {
  checkJobName(f.name);
  if (f.yaml) return jobFromYaml(f.yaml, f.name);
  const trigger = f.triggerType;
  if (!trigger) fail("the following arguments are required: --trigger-type");
  const triggerType = ["Event", "Manual", "Schedule"].find((t) => t.toLowerCase() === trigger.toLowerCase());
  if (!triggerType) fail(`Invalid value "${trigger}" for --trigger-type: allowed values are Event, Manual, Schedule`);
  const counts = {
    parallelism: intFlag("--parallelism", f.parallelism, AZ_JOB_DEFAULTS.parallelism, 1),
    replicaCompletionCount: intFlag(
      "--replica-completion-count",
      f.replicaCompletionCount,
      AZ_JOB_DEFAULTS.replicaCompletionCount,
      1,
    ),
  };
  const secrets = pairs("--secrets", f.secrets).map(([name, value]) => ({ name, value }));
  const registry = registryFlags(f);
  if (registry.secret) secrets.push(registry.secret);
  const configuration: Record<string, unknown> = {
    triggerType,
    replicaTimeout: intFlag("--replica-timeout", f.replicaTimeout, AZ_JOB_DEFAULTS.replicaTimeout, 1),
    replicaRetryLimit: intFlag("--replica-retry-limit", f.replicaRetryLimit, AZ_JOB_DEFAULTS.replicaRetryLimit, 0),
    ...(secrets.length ? { secrets } : {}),
    ...(registry.entry ? { registries: [registry.entry] } : {}),
  };
  if (triggerType === "Event") {
    const rules = [];
    if (f.scaleRuleName || f.scaleRuleType) {
      if (!f.scaleRuleName) fail("Usage error: --scale-rule-name is required with --scale-rule-type");
      rules.push({
        name: f.scaleRuleName,
        type: f.scaleRuleType ?? "azure-servicebus",
        metadata: Object.fromEntries(pairs("--scale-rule-metadata", f.scaleRuleMetadata)),
        auth: pairs("--scale-rule-auth", f.scaleRuleAuth).map(([triggerParameter, secretRef]) => ({
          triggerParameter,
          secretRef,
        })),
      });
    }
    configuration.eventTriggerConfig = {
      ...counts,
      scale: {
        minExecutions: intFlag("--min-executions", f.minExecutions, AZ_JOB_DEFAULTS.minExecutions, 0),
        maxExecutions: intFlag("--max-executions", f.maxExecutions, AZ_JOB_DEFAULTS.maxExecutions, 1),
        pollingInterval: intFlag("--polling-interval", f.pollingInterval, AZ_JOB_DEFAULTS.pollingInterval, 1),
        rules,
      },
    };
  } else if (triggerType === "Schedule") {
    if (!f.cronExpression) fail("Usage error: --cron-expression is required when --trigger-type is Schedule");
    configuration.scheduleTriggerConfig = { ...counts, cronExpression: cronFlag(f.cronExpression) };
  } else configuration.manualTriggerConfig = counts;

  const container: Record<string, unknown> = {
    name: f.containerName ?? f.name,
    image: f.image ?? AZ_JOB_DEFAULTS.image,
    resources: {
      cpu: f.cpu ? cpuFlag(f.cpu) : AZ_JOB_DEFAULTS.cpu,
      memory: f.memory ? memoryFlag(f.memory) : AZ_JOB_DEFAULTS.memory,
    },
  };
  if (f.command?.length) container.command = f.command;
  if (f.args?.length) container.args = f.args;
  const env = envVars(f.envVars);
  if (env.length) container.env = env;
  const entry: Record<string, unknown> = {
    name: f.name,
    properties: { configuration, template: { containers: [container] } },
  };
  if (f.resourceGroup || f.environment) (entry.properties as Record<string, unknown>).environmentId = environmentId(f);
  const identity = identityFlags({
    miSystemAssigned: f.miSystemAssigned || registry.system,
    miUserAssigned: withIdentity(f.miUserAssigned ?? [], registry.user),
  });
  if (identity) entry.identity = identity;
  if (f.tags?.length) entry.tags = Object.fromEntries(pairs("--tags", f.tags));
  return entry;
}

function environmentId(f: { resourceGroup?: string; environment?: string }): string {
  if (f.environment?.startsWith("/subscriptions/")) return f.environment;
  return `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${f.resourceGroup ?? "eventjobs"}/providers/Microsoft.App/managedEnvironments/${f.environment ?? "local"}`;
}

/** A user-assigned identity added to a list unless the list names it already (by name or ARM id). */
function withIdentity(list: string[], add: string | undefined): string[] {
  if (!add || list.some((u) => identityNameOf(u).toLowerCase() === identityNameOf(add).toLowerCase())) return list;
  return [...list, add];
}

/**
 * `--registry-server` with `--registry-identity` or `--registry-username/--registry-password`, as az records them
 * in `configuration.registries`. As in az, a registry identity is also given to the job: a user-assigned one (its
 * resource id) is added to the job's identities, `system` turns on the system-assigned one.
 */
export function registryFlags(
  f: Pick<JobFlags, "registryServer" | "registryIdentity" | "registryUsername" | "registryPassword">,
): {
  entry?: Record<string, string>;
  secret?: { name: string; value: string };
  system: boolean;
  user?: string;
} {
  const {
    registryServer: server,
    registryIdentity: identity,
    registryUsername: username,
    registryPassword: password,
  } = f;
  if (!server) {
    if (identity || username || password)
      fail(
        `Usage error: --registry-server is required with ${identity ? "--registry-identity" : "--registry-username and --registry-password"}`,
      );
    return { system: false };
  }
  if (identity) {
    if (username || password)
      fail("Usage error: use --registry-identity or --registry-username with --registry-password, not both");
    if (!/\.azurecr\.io$/i.test(server))
      fail(
        `Invalid value "${server}" for --registry-server: --registry-identity works with Azure Container Registry servers only (<name>.azurecr.io)`,
      );
    const system = identity.toLowerCase() === "system";
    return { entry: { server, identity: system ? "system" : identity }, system, user: system ? undefined : identity };
  }
  if (!username !== !password) fail("Usage error: --registry-username and --registry-password go together");
  if (!username || !password) return { entry: { server }, system: false };
  // az keeps the password as a secret named after the server and the user
  const name = `${server}-${username}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "")
    .slice(0, 253);
  return { entry: { server, username, passwordSecretRef: name }, secret: { name, value: password }, system: false };
}

function identityFlags(f: Pick<JobFlags, "miSystemAssigned" | "miUserAssigned">): Record<string, unknown> | undefined {
  const user = f.miUserAssigned ?? [];
  if (!f.miSystemAssigned && !user.length) return undefined;
  const type =
    f.miSystemAssigned && user.length
      ? "SystemAssigned,UserAssigned"
      : f.miSystemAssigned
        ? "SystemAssigned"
        : "UserAssigned";
  return { type, ...(user.length ? { userAssignedIdentities: Object.fromEntries(user.map((u) => [u, {}])) } : {}) };
}

/** `job start` overrides: a template for that execution only. */
export function startTemplate(
  f: Pick<JobFlags, "image" | "cpu" | "memory" | "command" | "args" | "envVars" | "containerName" | "yaml">,
  baseContainer: string,
): unknown | undefined {
  if (f.yaml) {
    const doc = parse(readFileSync(f.yaml, "utf8")) as Record<string, unknown>;
    return (doc?.template ?? (doc?.properties as Record<string, unknown>)?.template ?? doc) as unknown;
  }
  const c: Record<string, unknown> = { name: f.containerName ?? baseContainer };
  if (f.image) c.image = f.image;
  if (f.command?.length) c.command = f.command;
  if (f.args?.length) c.args = f.args;
  if (f.envVars?.length) c.env = envVars(f.envVars);
  if (f.cpu || f.memory)
    c.resources = { ...(f.cpu ? { cpu: cpuFlag(f.cpu) } : {}), ...(f.memory ? { memory: memoryFlag(f.memory) } : {}) };
  return Object.keys(c).length > 1 ? { containers: [c] } : undefined;
}
