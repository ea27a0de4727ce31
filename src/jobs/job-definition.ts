// The job model in the Container Apps resource shape (Microsoft.App/jobs): what a user writes under
// `jobs:` in eventjobs.yaml or passes to `job create --yaml`, normalised with the platform's defaults.
// Fields, defaults and names follow `az containerapp job create` and the ARM body (docs/configuration.md).

export type TriggerType = "Event" | "Manual" | "Schedule";

export interface EnvVar {
  name: string;
  value?: string;
  secretRef?: string;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: { cpu?: number; memory?: string };
}

export interface Template {
  containers: Container[];
  initContainers?: Container[];
}

export interface ScaleRule {
  name: string;
  type: string;
  metadata: Record<string, string>;
  auth?: { triggerParameter: string; secretRef: string }[];
}

export interface Scale {
  pollingInterval: number;
  minExecutions: number;
  maxExecutions: number;
  rules: ScaleRule[];
}

export interface JobIdentity {
  type: "None" | "SystemAssigned" | "UserAssigned" | "SystemAssigned,UserAssigned";
  userAssignedIdentities?: Record<string, Record<string, never>>;
}

/** A job after defaults; `resource` keeps the ARM body as the user wrote it (for show/export). */
export interface JobSpec {
  name: string;
  triggerType: TriggerType;
  /** seconds */
  replicaTimeout: number;
  replicaRetryLimit: number;
  parallelism: number;
  replicaCompletionCount: number;
  /** Event jobs only */
  scale?: Scale;
  /** Schedule jobs only: 5-field cron, UTC */
  cronExpression?: string;
  secrets: { name: string; value: string }[];
  template: Template;
  identity?: JobIdentity;
  /** eventjobs: a paused job's scale loop and schedule do nothing (KEDA's paused annotation) */
  paused: boolean;
  /**
   * eventjobs: `push` (default) also evaluates on every broker change; `poll` only every pollingInterval, as in the
   * cloud
   */
  pollingMode: "push" | "poll";
  /** eventjobs: seconds between SIGTERM and SIGKILL */
  terminationGracePeriodSeconds: number;
}

export const JOB_DEFAULTS = Object.freeze({
  replicaRetryLimit: 0,
  parallelism: 1,
  replicaCompletionCount: 1,
  pollingInterval: 30,
  minExecutions: 0,
  maxExecutions: 100,
  terminationGracePeriodSeconds: 30,
});

/** The az CLI's job-name rule and message. */
export const JOB_NAME_PATTERN = /^(?=.{1,32}$)[a-z]((?!.*--)[-a-z0-9]*[a-z0-9])?$/;
export const JOB_NAME_MESSAGE =
  "must consist of lower case alphanumeric characters or '-', start with a letter, end with an alphanumeric character, cannot have '--', and must be less than 32 characters";

/**
 * A problem in a job definition: `path` is the field path inside the job (e.g.
 * `properties.configuration.replicaTimeout`).
 */
export interface JobIssue {
  path: string;
  value: unknown;
  expected: string;
}

export class JobDefinitionError extends Error {
  constructor(
    readonly job: string,
    readonly issues: JobIssue[],
  ) {
    super(issues.map((i) => `job ${job}: ${i.path}: ${show(i.value)} — ${i.expected}`).join("\n"));
    this.name = "JobDefinitionError";
  }
}

function show(v: unknown): string {
  if (v === undefined) return "(missing)";
  return typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses "0.5Gi", "512Mi", "1G", "1.5" (Gi, as the az CLI appends) into bytes. */
export function parseMemory(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?i?\s*$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "Gi";
  const pow: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(n * pow[unit]);
}

/**
 * Normalises one job entry: `{ name, identity?, paused?, pollingMode?, properties: { configuration, template } }`.
 * Every problem is collected and thrown at once as a JobDefinitionError.
 */
export function normalizeJob(raw: unknown): JobSpec {
  const issues: JobIssue[] = [];
  const bad = (path: string, value: unknown, expected: string) => issues.push({ path, value, expected });
  const job = isObj(raw) ? raw : {};
  const name = typeof job.name === "string" ? job.name : "";
  if (!JOB_NAME_PATTERN.test(name)) bad("name", job.name, JOB_NAME_MESSAGE);

  const props = isObj(job.properties)
    ? job.properties
    : (bad("properties", job.properties, "an object with configuration and template"), {});
  const conf = isObj(props.configuration)
    ? props.configuration
    : (bad("properties.configuration", props.configuration, "an object"), {});
  const P = "properties.configuration";

  const int = (obj: Obj, key: string, path: string, opts: { def?: number; min: number; max?: number }): number => {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (opts.def === undefined) bad(`${path}.${key}`, v, "required");
      return opts.def ?? 0;
    }
    const n = typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < opts.min || (opts.max !== undefined && n > opts.max)) {
      bad(`${path}.${key}`, v, `an integer ≥ ${opts.min}${opts.max !== undefined ? ` and ≤ ${opts.max}` : ""}`);
      return opts.def ?? opts.min;
    }
    return n;
  };

  const triggerType = conf.triggerType;
  if (triggerType !== "Event" && triggerType !== "Manual" && triggerType !== "Schedule") {
    bad(`${P}.triggerType`, triggerType, "one of Event, Manual, Schedule");
  }
  const replicaTimeout = int(conf, "replicaTimeout", P, { min: 1, max: 2 ** 31 - 1 });
  const replicaRetryLimit = int(conf, "replicaRetryLimit", P, { def: JOB_DEFAULTS.replicaRetryLimit, min: 0 });

  const triggerKey =
    triggerType === "Event"
      ? "eventTriggerConfig"
      : triggerType === "Schedule"
        ? "scheduleTriggerConfig"
        : "manualTriggerConfig";
  const tc = isObj(conf[triggerKey]) ? (conf[triggerKey] as Obj) : {};
  if (triggerType === "Schedule" && !isObj(conf[triggerKey]))
    bad(`${P}.${triggerKey}`, conf[triggerKey], "an object with cronExpression");
  const TP = `${P}.${triggerKey}`;
  const parallelism = int(tc, "parallelism", TP, { def: JOB_DEFAULTS.parallelism, min: 1 });
  const replicaCompletionCount = int(tc, "replicaCompletionCount", TP, {
    def: JOB_DEFAULTS.replicaCompletionCount,
    min: 1,
  });

  let scale: Scale | undefined;
  if (triggerType === "Event") {
    const s = isObj(tc.scale) ? tc.scale : {};
    const SP = `${TP}.scale`;
    const rules: ScaleRule[] = [];
    const rawRules = s.rules ?? [];
    if (!Array.isArray(rawRules)) bad(`${SP}.rules`, rawRules, "a list of scale rules");
    else
      rawRules.forEach((r, i) => {
        const RP = `${SP}.rules[${i}]`;
        if (!isObj(r)) return bad(RP, r, "an object with name, type, metadata");
        if (typeof r.name !== "string" || !/^[a-z0-9][-a-z0-9.]*$/.test(r.name))
          bad(`${RP}.name`, r.name, "lowercase letters, digits, '-' and '.'");
        if (r.type !== "azure-servicebus")
          bad(`${RP}.type`, r.type, "azure-servicebus (the scale rule type eventjobs runs locally)");
        const metadata: Record<string, string> = {};
        if (!isObj(r.metadata)) bad(`${RP}.metadata`, r.metadata, "an object of strings");
        else for (const [k, v] of Object.entries(r.metadata)) metadata[k] = String(v);
        const auth: { triggerParameter: string; secretRef: string }[] = [];
        if (r.auth !== undefined) {
          if (!Array.isArray(r.auth)) bad(`${RP}.auth`, r.auth, "a list of {triggerParameter, secretRef}");
          else
            r.auth.forEach((a, j) => {
              if (!isObj(a) || typeof a.triggerParameter !== "string" || typeof a.secretRef !== "string") {
                bad(`${RP}.auth[${j}]`, a, "{triggerParameter, secretRef}");
              } else auth.push({ triggerParameter: a.triggerParameter, secretRef: a.secretRef });
            });
        }
        rules.push({ name: String(r.name), type: String(r.type), metadata, auth });
      });
    scale = {
      pollingInterval: int(s, "pollingInterval", SP, { def: JOB_DEFAULTS.pollingInterval, min: 1 }),
      minExecutions: int(s, "minExecutions", SP, { def: JOB_DEFAULTS.minExecutions, min: 0 }),
      maxExecutions: int(s, "maxExecutions", SP, { def: JOB_DEFAULTS.maxExecutions, min: 1 }),
      rules,
    };
  }
  let cronExpression: string | undefined;
  if (triggerType === "Schedule") {
    if (typeof tc.cronExpression !== "string" || !tc.cronExpression.trim())
      bad(`${TP}.cronExpression`, tc.cronExpression, "a 5-field cron expression (UTC)");
    else cronExpression = tc.cronExpression.trim();
  }

  const secrets: { name: string; value: string }[] = [];
  if (conf.secrets !== undefined) {
    if (!Array.isArray(conf.secrets)) bad(`${P}.secrets`, "(list)", "a list of {name, value}");
    else
      conf.secrets.forEach((s, i) => {
        // never echo a secret's value in an error
        if (!isObj(s) || typeof s.name !== "string" || !/^[a-z0-9][-a-z0-9.]*$/.test(s.name))
          bad(`${P}.secrets[${i}].name`, isObj(s) ? s.name : undefined, "lowercase letters, digits, '-' and '.'");
        else if (typeof s.value !== "string") bad(`${P}.secrets[${i}].value`, "(not shown)", "a string");
        else secrets.push({ name: s.name, value: s.value });
      });
  }

  const template = normalizeTemplate(props.template, "properties.template", bad) ?? { containers: [] };
  const secretNames = new Set(secrets.map((s) => s.name));
  template.containers.forEach((c, i) =>
    c.env?.forEach((e, j) => {
      if (e.secretRef && !secretNames.has(e.secretRef))
        bad(
          `properties.template.containers[${i}].env[${j}].secretRef`,
          e.secretRef,
          `a secret defined in ${P}.secrets`,
        );
    }),
  );
  scale?.rules.forEach((r, i) =>
    r.auth?.forEach((a, j) => {
      if (!secretNames.has(a.secretRef))
        bad(
          `${P}.eventTriggerConfig.scale.rules[${i}].auth[${j}].secretRef`,
          a.secretRef,
          `a secret defined in ${P}.secrets`,
        );
    }),
  );

  let identity: JobIdentity | undefined;
  if (job.identity !== undefined) {
    const id = job.identity;
    const types = ["None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"];
    if (!isObj(id) || !types.includes(String(id.type).replace(/\s/g, "")))
      bad("identity.type", isObj(id) ? id.type : id, types.join(", "));
    else
      identity = {
        type: String(id.type).replace(/\s/g, "") as JobIdentity["type"],
        userAssignedIdentities: isObj(id.userAssignedIdentities)
          ? (id.userAssignedIdentities as JobIdentity["userAssignedIdentities"])
          : undefined,
      };
  }

  const paused = job.paused === undefined ? false : job.paused === true || job.paused === "true";
  if (job.paused !== undefined && typeof job.paused !== "boolean") bad("paused", job.paused, "true or false");
  const pollingMode = job.pollingMode ?? "push";
  if (pollingMode !== "push" && pollingMode !== "poll") bad("pollingMode", job.pollingMode, "push or poll");
  const grace = int(job, "terminationGracePeriodSeconds", "", {
    def: JOB_DEFAULTS.terminationGracePeriodSeconds,
    min: 0,
  });

  if (issues.length)
    throw new JobDefinitionError(
      name || "(unnamed)",
      issues.map((i) => ({ ...i, path: i.path.replace(/^\./, "") })),
    );
  return {
    name,
    triggerType: triggerType as TriggerType,
    replicaTimeout,
    replicaRetryLimit,
    parallelism,
    replicaCompletionCount,
    scale,
    cronExpression,
    secrets,
    template,
    identity,
    paused,
    pollingMode: pollingMode as "push" | "poll",
    terminationGracePeriodSeconds: grace,
  };
}

/** Validates a template (also used for `job start` overrides, where every container field is optional). */
export function normalizeTemplate(
  raw: unknown,
  path: string,
  bad: (path: string, value: unknown, expected: string) => void,
  partial = false,
): Template | undefined {
  if (!isObj(raw)) {
    bad(path, raw, "an object with containers");
    return undefined;
  }
  const containers: Container[] = [];
  if (!Array.isArray(raw.containers) || (!partial && raw.containers.length === 0))
    bad(`${path}.containers`, raw.containers, "a list with at least one container");
  else
    raw.containers.forEach((c, i) => {
      const CP = `${path}.containers[${i}]`;
      if (!isObj(c)) return bad(CP, c, "an object with name and image");
      const strList = (k: "command" | "args"): string[] | undefined => {
        if (c[k] === undefined) return undefined;
        if (!Array.isArray(c[k]) || !(c[k] as unknown[]).every((x) => typeof x === "string")) {
          bad(`${CP}.${k}`, c[k], "a list of strings");
          return undefined;
        }
        return c[k] as string[];
      };
      if (!partial && (typeof c.name !== "string" || !c.name)) bad(`${CP}.name`, c.name, "a container name");
      if (!partial && (typeof c.image !== "string" || !c.image)) bad(`${CP}.image`, c.image, "an image reference");
      const env: EnvVar[] = [];
      if (c.env !== undefined) {
        if (!Array.isArray(c.env)) bad(`${CP}.env`, c.env, "a list of {name, value | secretRef}");
        else
          c.env.forEach((e, j) => {
            if (!isObj(e) || typeof e.name !== "string" || !/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name))
              return bad(`${CP}.env[${j}].name`, isObj(e) ? e.name : e, "an environment variable name");
            if (e.secretRef !== undefined) env.push({ name: e.name, secretRef: String(e.secretRef) });
            else env.push({ name: e.name, value: e.value === undefined || e.value === null ? "" : String(e.value) });
          });
      }
      let resources: Container["resources"];
      if (isObj(c.resources)) {
        const cpu = c.resources.cpu === undefined ? undefined : Number(c.resources.cpu);
        if (cpu !== undefined && !(cpu > 0)) bad(`${CP}.resources.cpu`, c.resources.cpu, "a positive number of cores");
        let memory: string | undefined;
        if (c.resources.memory !== undefined) {
          memory = String(c.resources.memory);
          if (parseMemory(memory) === undefined)
            bad(`${CP}.resources.memory`, c.resources.memory, 'a size like "0.5Gi" or "512Mi"');
        }
        resources = { cpu, memory };
      }
      containers.push({
        name: String(c.name ?? ""),
        image: String(c.image ?? ""),
        command: strList("command"),
        args: strList("args"),
        env: c.env === undefined ? undefined : env,
        resources,
      });
    });
  return { containers };
}

/** Applies a `job start` template override: containers matched by name (or position), fields replaced. */
export function overrideTemplate(base: Template, override: Template | undefined): Template {
  if (!override) return base;
  const containers = base.containers.map((c, i) => {
    const o =
      override.containers.find((x) => x.name && x.name === c.name) ??
      (override.containers[i] && !override.containers[i].name ? override.containers[i] : undefined);
    if (!o) return c;
    return {
      ...c,
      image: o.image || c.image,
      command: o.command ?? c.command,
      args: o.args ?? c.args,
      env: o.env ? mergeEnv(c.env ?? [], o.env) : c.env,
      resources: o.resources ?? c.resources,
    };
  });
  return { containers };
}

/** Variables of `over` replace those of `base` with the same name; the rest are kept in order. */
function mergeEnv(base: EnvVar[], over: EnvVar[]): EnvVar[] {
  const names = new Set(over.map((e) => e.name));
  return [...base.filter((e) => !names.has(e.name)), ...over];
}
