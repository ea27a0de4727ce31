// `export --format aca-yaml`: per job, the body `az containerapp job create --yaml` takes (the ARM
// resource minus name/id), one YAML document each.
//
// Secrets: values are never written. Each becomes an envsubst placeholder `${VAR}`; the document's header
// says how to fill every variable (for a `${servicebus.<ns>.connectionString}` reference: the az command
// that reads the namespace's key) and how to create the job without the value touching the disk. Every
// other reference becomes a placeholder too, and the last header line (`# eventjobs: {...}`) maps the
// placeholders back to the references so `import-aca` restores the job as it was written.
import { Document } from "yaml";
import type { Container, JobSpec } from "../../jobs/job-definition.js";
import {
  acaMemory,
  commentLines,
  findIdentity,
  jobNotes,
  Placeholders,
  secretSources,
  type ExportJob,
  type ExportModel,
} from "./common.js";
import { jobRegistries } from "./registries.js";

/** The header line import-aca reads back. */
export const EVENTJOBS_MARK = "eventjobs:";

export function exportAcaYaml(model: ExportModel): string {
  const docs = model.jobs.map((j) => jobDocument(model, j, jobNotes(model, j.spec, "aca")));
  if (!docs.length) return `# ${model.source} declares no jobs: nothing to export as Container Apps YAML.\n`;
  return docs.join("---\n");
}

function jobDocument(model: ExportModel, exported: ExportJob, notes: string[]): string {
  const job = exported.spec;
  const ph = new Placeholders(model);
  const location = ph.plain("LOCATION", "<region, e.g. westeurope>");
  const environmentId = ph.plain(
    "ENVIRONMENT_ID",
    '$(az containerapp env show --name "$ENVIRONMENT" --resource-group "$RESOURCE_GROUP" --query id --output tsv)',
  );
  const body: Record<string, unknown> = { location };
  const identity = jobIdentity(model, job, ph);
  if (identity) body.identity = identity;

  const counts = { parallelism: job.parallelism, replicaCompletionCount: job.replicaCompletionCount };
  const configuration: Record<string, unknown> = {
    triggerType: job.triggerType,
    replicaTimeout: job.replicaTimeout,
    replicaRetryLimit: job.replicaRetryLimit,
  };
  if (job.triggerType === "Event") {
    const s = job.scale!;
    configuration.eventTriggerConfig = {
      ...counts,
      scale: {
        pollingInterval: s.pollingInterval,
        minExecutions: s.minExecutions,
        maxExecutions: s.maxExecutions,
        rules: s.rules.map((r) => ({
          name: r.name,
          type: r.type,
          metadata: Object.fromEntries(Object.entries(r.metadata).map(([k, v]) => [k, ph.value(v)])),
          ...(r.auth?.length
            ? { auth: r.auth.map((a) => ({ triggerParameter: a.triggerParameter, secretRef: a.secretRef })) }
            : {}),
        })),
      },
    };
  } else if (job.triggerType === "Schedule")
    configuration.scheduleTriggerConfig = { cronExpression: job.cronExpression, ...counts };
  else configuration.manualTriggerConfig = counts;
  const secrets = secretSources(job);
  if (secrets.length) configuration.secrets = secrets.map((s) => ({ name: s.name, value: ph.secret(job.name, s) }));
  const registries = jobRegistries(model, exported).map((r) => ({
    server: r.server,
    ...(r.username && r.passwordSecretRef ? { username: r.username, passwordSecretRef: r.passwordSecretRef } : {}),
    ...(r.identity === "system"
      ? { identity: "system" }
      : r.identity
        ? {
            identity: ph.ref({
              kind: "identity",
              name: r.identity.name,
              prop: "resourceId",
              text: `identity.${r.identity.name}.resourceId`,
            }),
          }
        : {}),
  }));
  if (registries.length) configuration.registries = registries;

  body.properties = {
    environmentId,
    configuration,
    template: { containers: job.template.containers.map((c) => container(c, ph)) },
  };

  const local: Record<string, unknown> = { name: job.name };
  const refs = Object.fromEntries([...ph.vars].flatMap(([name, v]) => (v.ref ? [[name, v.ref.text]] : [])));
  if (Object.keys(refs).length) local.vars = refs;
  if (job.paused) local.paused = true;
  if (job.pollingMode !== "push") local.pollingMode = job.pollingMode;
  if (job.terminationGracePeriodSeconds !== 30) local.terminationGracePeriodSeconds = job.terminationGracePeriodSeconds;

  const doc = new Document(body);
  const file = `${job.name}.yaml`;
  doc.commentBefore = commentLines(" ", [
    `${job.name}: Container Apps job for \`az containerapp job create --yaml\`, exported by eventjobs from ${model.source}.`,
    "Values in ${...} are placeholders: secrets are never exported. Set the variables, then create the job",
    "(process substitution keeps the filled-in secrets off the disk):",
    `  export RESOURCE_GROUP=<resource group> ENVIRONMENT=<Container Apps environment>`,
    ...ph.exports().map((e) => `  ${e}`),
    `  az containerapp job create --name ${job.name} --resource-group "$RESOURCE_GROUP" --yaml <(envsubst ${ph.envsubstList()} < ${file})`,
    "Or keep a secret in Key Vault: replace its `value` with `keyVaultUrl: https://<vault>.vault.azure.net/secrets/<name>`",
    "and `identity: <identity resource id | system>` (that identity needs the Key Vault Secrets User role).",
    ...(job.paused
      ? ["note: the job is paused locally; Container Apps has no paused state for jobs, so it runs once created."]
      : []),
    ...notes.map((n) => `note: ${n}`),
    `${EVENTJOBS_MARK} ${JSON.stringify(local)}`,
  ]);
  return doc.toString({ lineWidth: 0 });
}

function container(c: Container, ph: Placeholders): Record<string, unknown> {
  const out: Record<string, unknown> = { name: c.name, image: ph.value(c.image) };
  if (c.command) out.command = c.command.map((v) => ph.value(v));
  if (c.args) out.args = c.args.map((v) => ph.value(v));
  if (c.env?.length)
    out.env = c.env.map((e) =>
      e.secretRef !== undefined
        ? { name: e.name, secretRef: e.secretRef }
        : { name: e.name, value: ph.value(e.value ?? "") },
    );
  if (c.resources && (c.resources.cpu !== undefined || c.resources.memory !== undefined)) {
    out.resources = {
      ...(c.resources.cpu !== undefined ? { cpu: c.resources.cpu } : {}),
      ...(c.resources.memory !== undefined ? { memory: acaMemory(c.resources.memory) } : {}),
    };
  }
  return out;
}

function jobIdentity(model: ExportModel, job: JobSpec, ph: Placeholders): Record<string, unknown> | undefined {
  if (!job.identity) return undefined;
  const keys = Object.keys(job.identity.userAssignedIdentities ?? {});
  if (!keys.length) return { type: job.identity.type };
  const ids: Record<string, Record<string, never>> = {};
  for (const k of keys) {
    const known = findIdentity(model, k);
    // a declared identity's resource id only exists in Azure: a placeholder filled by `az identity show`
    ids[
      known
        ? ph.ref({ kind: "identity", name: known.name, prop: "resourceId", text: `identity.${known.name}.resourceId` })
        : k
    ] = {};
  }
  return { type: job.identity.type, userAssignedIdentities: ids };
}
