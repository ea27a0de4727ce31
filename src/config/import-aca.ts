// Container Apps job YAML (or JSON) → a job entry for `jobs:` in eventjobs.yaml. Reads what
// `eventjobs export --format aca-yaml` writes and what az (`job show -o yaml`, the `--yaml` input) and the
// Portal write: the ARM body with optional top-level name, type, location, identity, tags, id, and
// read-only fields, nulls included. Read-only and Azure-only fields are dropped; fields eventjobs cannot
// run locally are dropped with a warning.
import { parseAllDocuments, type Document } from "yaml";
import { normalizeJob } from "../jobs/job-definition.js";
import { EVENTJOBS_MARK } from "./export/aca-yaml.js";

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportError";
  }
}

export interface ImportedJob {
  /** the entry in eventjobs.yaml's shape: `{ name, identity?, properties: { configuration, template } }` */
  job: Record<string, unknown>;
  warnings: string[];
}

export interface ImportOptions {
  /** the job name when the YAML has none (`az containerapp job create --name` gives it apart) */
  name?: string;
  /** names the input in errors */
  file?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep copy without nulls (az prints every unset field as null). */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(dropNulls);
  if (isObj(v))
    return Object.fromEntries(Object.entries(v).flatMap(([k, x]) => (x === null ? [] : [[k, dropNulls(x)]])));
  return v;
}

/** Deep copy with `${VAR}` replaced by `${reference}` for each variable the export header maps. */
function restoreVars(v: unknown, vars: Record<string, string>): unknown {
  const fix = (s: string) =>
    s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) =>
      typeof vars[name] === "string" ? `\${${vars[name]}}` : whole,
    );
  if (typeof v === "string") return fix(v);
  if (Array.isArray(v)) return v.map((x) => restoreVars(x, vars));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [fix(k), restoreVars(x, vars)]));
  return v;
}

/** The `# eventjobs: {...}` line an aca-yaml export writes in each document's header. */
function localHeader(doc: Document, file: string): Obj {
  const comments = [doc.commentBefore, (doc.contents as { commentBefore?: string } | null)?.commentBefore]
    .filter(Boolean)
    .join("\n");
  const line = comments.split("\n").find((l) => l.trim().startsWith(EVENTJOBS_MARK));
  if (!line) return {};
  try {
    const v: unknown = JSON.parse(line.trim().slice(EVENTJOBS_MARK.length));
    return isObj(v) ? v : {};
  } catch {
    throw new ImportError(`${file}: the "# ${EVENTJOBS_MARK}" header line is not valid JSON`);
  }
}

/** Every job in a YAML stream (one per document). Throws ImportError, or JobDefinitionError for an invalid job. */
export function importAcaYaml(text: string, opts: ImportOptions = {}): ImportedJob[] {
  const file = opts.file ?? "(yaml)";
  const docs = parseAllDocuments(text, { prettyErrors: false });
  if (!Array.isArray(docs)) throw new ImportError(`${file}: not a YAML document stream`);
  const out: ImportedJob[] = [];
  docs.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) throw new ImportError(`${file}: document ${i + 1}: ${err.message.split("\n")[0]}`);
    const body = doc.toJS();
    if (body === null || body === undefined) return;
    out.push(
      importAcaJob(
        body,
        { ...opts, file: docs.length > 1 ? `${file} (document ${i + 1})` : file },
        localHeader(doc, file),
      ),
    );
  });
  if (!out.length) throw new ImportError(`${file}: no job in the file`);
  return out;
}

/** One job from an already parsed body; `local` is the export header (restores references and local-only fields). */
export function importAcaJob(input: unknown, opts: ImportOptions = {}, local: Obj = {}): ImportedJob {
  const file = opts.file ?? "(yaml)";
  const warnings: string[] = [];
  const warn = (path: string, why: string) => warnings.push(`${file}: ${path}: ${why}`);
  const vars = isObj(local.vars) ? (local.vars as Record<string, string>) : {};
  const body = restoreVars(dropNulls(input), vars);
  if (!isObj(body))
    throw new ImportError(
      `${file}: expected a Container Apps job (a mapping with properties.configuration and properties.template)`,
    );
  if (body.type !== undefined && String(body.type).toLowerCase() !== "microsoft.app/jobs") {
    throw new ImportError(`${file}: type: ${JSON.stringify(body.type)} — expected Microsoft.App/jobs`);
  }
  const name =
    opts.name ??
    (typeof body.name === "string" ? body.name : undefined) ??
    (typeof local.name === "string" ? local.name : undefined);
  if (!name)
    throw new ImportError(
      `${file}: the job has no name: give one (the YAML body of az containerapp job create --yaml has none)`,
    );
  const props = isObj(body.properties) ? body.properties : undefined;
  if (!props || !isObj(props.configuration) || !isObj(props.template)) {
    throw new ImportError(`${file}: properties: expected properties.configuration and properties.template`);
  }
  const conf = props.configuration;
  const P = "properties.configuration";
  const triggerType = conf.triggerType;
  const triggerKey =
    triggerType === "Event"
      ? "eventTriggerConfig"
      : triggerType === "Schedule"
        ? "scheduleTriggerConfig"
        : "manualTriggerConfig";
  const configuration: Obj = {};
  for (const k of ["triggerType", "replicaTimeout", "replicaRetryLimit"])
    if (conf[k] !== undefined) configuration[k] = conf[k];
  if (isObj(conf[triggerKey]))
    configuration[triggerKey] = triggerConfig(conf[triggerKey] as Obj, `${P}.${triggerKey}`, warn);

  if (Array.isArray(conf.secrets)) {
    configuration.secrets = conf.secrets.map((s, i) => {
      if (!isObj(s)) return s;
      if (typeof s.value === "string") return { name: s.name, value: s.value };
      // GET responses leave values out; Key Vault references are only resolved in Azure
      warn(
        `${P}.secrets[${i}]`,
        s.keyVaultUrl
          ? `a Key Vault reference (${String(s.keyVaultUrl)}): set its value locally`
          : "no value (Azure does not return secret values): set it",
      );
      return { name: s.name, value: "" };
    });
  }
  // registries are recorded (eventjobs.yaml keeps them for the exports); local images need none
  if (Array.isArray(conf.registries))
    configuration.registries = conf.registries.map((r) =>
      isObj(r)
        ? Object.fromEntries(
            ["server", "identity", "username", "passwordSecretRef"]
              .filter((k) => r[k] !== undefined)
              .map((k) => [k, r[k]]),
          )
        : r,
    );
  if (conf.identitySettings !== undefined) warn(`${P}.identitySettings`, "not used locally (dropped)");

  const template: Obj = {};
  if (Array.isArray(props.template.containers))
    template.containers = props.template.containers.map((c, i) =>
      container(c, `properties.template.containers[${i}]`, warn),
    );
  for (const k of ["initContainers", "volumes"]) {
    if (Array.isArray(props.template[k]) && (props.template[k] as unknown[]).length)
      warn(`properties.template.${k}`, "not run locally yet (dropped)");
  }

  const job: Obj = { name };
  if (isObj(body.identity)) {
    const id = body.identity;
    job.identity = {
      type: id.type,
      ...(isObj(id.userAssignedIdentities)
        ? { userAssignedIdentities: Object.fromEntries(Object.keys(id.userAssignedIdentities).map((k) => [k, {}])) }
        : {}),
    };
  }
  for (const k of ["paused", "pollingMode", "terminationGracePeriodSeconds"])
    if (local[k] !== undefined) job[k] = local[k];
  job.properties = { configuration, template };

  // a secret the export could not fill (not a reference) comes back as its placeholder
  ((configuration.secrets ?? []) as Obj[]).forEach((s, i) => {
    const m = isObj(s) && typeof s.value === "string" ? /\$\{[A-Za-z_][A-Za-z0-9_]*\}/.exec(s.value) : null;
    if (m) warn(`${P}.secrets[${i}].value`, `still the placeholder ${m[0]}: set the secret's value`);
  });
  normalizeJob(job); // throws JobDefinitionError naming every problem
  return { job, warnings };
}

function triggerConfig(tc: Obj, path: string, warn: (path: string, why: string) => void): Obj {
  const out: Obj = {};
  for (const k of ["parallelism", "replicaCompletionCount", "cronExpression"]) if (tc[k] !== undefined) out[k] = tc[k];
  if (isObj(tc.scale)) {
    const s = tc.scale;
    const scale: Obj = {};
    for (const k of ["pollingInterval", "minExecutions", "maxExecutions"]) if (s[k] !== undefined) scale[k] = s[k];
    if (Array.isArray(s.rules)) {
      scale.rules = s.rules.map((r, i) => {
        if (!isObj(r)) return r;
        if (r.identity !== undefined)
          warn(
            `${path}.scale.rules[${i}].identity`,
            "scale rules authenticate with auth (a connection string secret) locally (dropped)",
          );
        const metadata = isObj(r.metadata)
          ? Object.fromEntries(Object.entries(r.metadata).map(([k, v]) => [k, String(v)]))
          : r.metadata;
        return { name: r.name, type: r.type, metadata, ...(Array.isArray(r.auth) ? { auth: r.auth } : {}) };
      });
    }
    out.scale = scale;
  }
  return out;
}

function container(c: unknown, path: string, warn: (path: string, why: string) => void): unknown {
  if (!isObj(c)) return c;
  const out: Obj = { name: c.name, image: c.image };
  for (const k of ["command", "args"]) if (c[k] !== undefined) out[k] = c[k];
  if (Array.isArray(c.env))
    out.env = c.env.map((e) =>
      isObj(e)
        ? e.secretRef !== undefined
          ? { name: e.name, secretRef: e.secretRef }
          : { name: e.name, value: e.value ?? "" }
        : e,
    );
  if (isObj(c.resources)) {
    const r = c.resources;
    out.resources = {
      ...(r.cpu !== undefined ? { cpu: r.cpu } : {}),
      ...(r.memory !== undefined ? { memory: r.memory } : {}),
    };
  }
  for (const k of ["probes", "volumeMounts"])
    if (Array.isArray(c[k]) && (c[k] as unknown[]).length) warn(`${path}.${k}`, "not used locally (dropped)");
  return out;
}
