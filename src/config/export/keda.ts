// `export --format keda`: Kubernetes + KEDA manifests per job: a Secret with the
// job's secrets, a TriggerAuthentication per scale rule with auth, and a ScaledJob (Event jobs), a
// CronJob (Schedule jobs) or a suspended CronJob to start by hand (Manual jobs).
// Secret values are envsubst placeholders, as in the aca-yaml export; the header says how to fill them.
import { Document } from "yaml";
import { parseMemory, type Container, type JobSpec } from "../../jobs/job-definition.js";
import {
  azureFqdn,
  commentLines,
  findIdentity,
  jobNotes,
  Placeholders,
  renderRefs,
  secretSources,
  type ExportModel,
  type IdentityDef,
} from "./common.js";

/** ACA keeps the last 100 succeeded and 100 failed executions. */
const HISTORY = 100;

export const secretObjectName = (job: string) => `${job}-secrets`;
export const triggerAuthName = (job: string, rule: string) => `${job}-${rule}-auth`;
export const serviceAccountName = (job: string) => `${job}-sa`;
export const workloadAuthName = (job: string) => `${job}-workload-identity`;

/** The user-assigned identity a job's pods run as on AKS (its first one the project declares). */
function workloadIdentity(model: ExportModel, job: JobSpec): IdentityDef | undefined {
  for (const k of Object.keys(job.identity?.userAssignedIdentities ?? {})) {
    const id = findIdentity(model, k);
    if (id) return id;
  }
  return undefined;
}

export function exportKeda(model: ExportModel): string {
  const ph = new Placeholders(model);
  // the FQDN is known without asking Azure; connection strings and identity ids are not
  const value = (text: string) =>
    renderRefs(text, (r) => (r.kind === "servicebus" && r.prop !== "connectionString" ? azureFqdn(r.name) : ph.ref(r)));
  const docs: { body: unknown; comment?: string }[] = [];
  const notes: string[] = [];
  for (const { spec: job } of model.jobs) {
    notes.push(...jobNotes(model, job, "k8s"));
    const first = docs.length;
    const secrets = secretSources(job);
    if (secrets.length) {
      docs.push({
        body: {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: secretObjectName(job.name) },
          type: "Opaque",
          stringData: Object.fromEntries(secrets.map((s) => [s.name, ph.secret(job.name, s)])),
        },
      });
    }
    for (const r of job.scale?.rules ?? []) {
      if (!r.auth?.length) continue;
      docs.push({
        body: {
          apiVersion: "keda.sh/v1alpha1",
          kind: "TriggerAuthentication",
          metadata: { name: triggerAuthName(job.name, r.name) },
          spec: {
            secretTargetRef: r.auth.map((a) => ({
              parameter: a.triggerParameter,
              name: secretObjectName(job.name),
              key: a.secretRef,
            })),
          },
        },
      });
    }
    const identity = workloadIdentity(model, job);
    if (identity) {
      const clientId = ph.ref({
        kind: "identity",
        name: identity.name,
        prop: "clientId",
        text: `identity.${identity.name}.clientId`,
      });
      docs.push({
        body: {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: {
            name: serviceAccountName(job.name),
            annotations: { "azure.workload.identity/client-id": clientId },
          },
        },
      });
      // KEDA's own way to read the queue with the identity instead of the connection string (see the note)
      docs.push({
        body: {
          apiVersion: "keda.sh/v1alpha1",
          kind: "TriggerAuthentication",
          metadata: { name: workloadAuthName(job.name) },
          spec: { podIdentity: { provider: "azure-workload", identityId: clientId } },
        },
      });
      notes.push(
        `job ${job.name} runs as identity ${identity.name} through workload identity: federate it with the service account ` +
          `(az identity federated-credential create --name ${job.name} --identity-name ${identity.name} --resource-group "$RESOURCE_GROUP" ` +
          `--issuer "$AKS_OIDC_ISSUER" --subject system:serviceaccount:<namespace>:${serviceAccountName(job.name)}). ` +
          `To scale without the connection string, point a trigger's authenticationRef at ${workloadAuthName(job.name)} ` +
          `and federate the identity with KEDA's operator too (--subject system:serviceaccount:keda:keda-operator)`,
      );
    }
    docs.push({ body: workload(job, value, identity !== undefined) });
    docs[first].comment =
      ` job ${job.name}${job.triggerType === "Manual" ? `: Manual, so a suspended CronJob; start an execution with kubectl create job --from=cronjob/${job.name} ${job.name}-1` : ""}`;
  }
  const ordered = docs.map((d) => {
    const doc = new Document(d.body);
    if (d.comment) doc.commentBefore = d.comment;
    return doc.toString({ lineWidth: 0 });
  });
  const header = commentLines("# ", [
    `Kubernetes + KEDA manifests for the jobs of ${model.source}, exported by eventjobs.`,
    "Values in ${...} are placeholders: secrets are never exported. Set the variables, then apply",
    "(process substitution keeps the filled-in secrets off the disk):",
    ...(ph.vars.size ? ["  export RESOURCE_GROUP=<the resource group of the Azure resources>"] : []),
    ...ph.exports().map((e) => `  ${e}`),
    `  kubectl apply -f <(envsubst ${ph.vars.size ? ph.envsubstList() : "''"} < <this file>)`,
    "The Service Bus namespace and queues are not Kubernetes objects: create them with eventjobs export --format az or terraform.",
    ...notes.map((n) => `note: ${n}`),
  ]);
  if (!ordered.length) return `${header}\n# ${model.source} declares no jobs.\n`;
  return `${header}\n${ordered.join("---\n")}`;
}

function podSpec(job: JobSpec, value: (s: string) => string, identity: boolean): Record<string, unknown> {
  return {
    ...(identity ? { serviceAccountName: serviceAccountName(job.name) } : {}),
    restartPolicy: "Never",
    ...(job.terminationGracePeriodSeconds !== 30
      ? { terminationGracePeriodSeconds: job.terminationGracePeriodSeconds }
      : {}),
    containers: job.template.containers.map((c) => container(job, c, value)),
  };
}

function jobSpec(job: JobSpec, value: (s: string) => string, identity: boolean): Record<string, unknown> {
  return {
    parallelism: job.parallelism,
    completions: job.replicaCompletionCount,
    backoffLimit: job.replicaRetryLimit,
    activeDeadlineSeconds: job.replicaTimeout,
    template: {
      // the workload identity webhook gives pods with this label the identity's token (AZURE_CLIENT_ID, ...)
      ...(identity ? { metadata: { labels: { "azure.workload.identity/use": "true" } } } : {}),
      spec: podSpec(job, value, identity),
    },
  };
}

function workload(job: JobSpec, value: (s: string) => string, identity: boolean): Record<string, unknown> {
  if (job.triggerType === "Event") {
    const s = job.scale!;
    return {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledJob",
      metadata: { name: job.name, ...(job.paused ? { annotations: { "autoscaling.keda.sh/paused": "true" } } : {}) },
      spec: {
        pollingInterval: s.pollingInterval,
        minReplicaCount: s.minExecutions,
        maxReplicaCount: s.maxExecutions,
        successfulJobsHistoryLimit: HISTORY,
        failedJobsHistoryLimit: HISTORY,
        scalingStrategy: { strategy: "default" },
        jobTargetRef: jobSpec(job, value, identity),
        triggers: s.rules.map((r) => ({
          type: r.type,
          name: r.name,
          metadata: Object.fromEntries(Object.entries(r.metadata).map(([k, v]) => [k, value(v)])),
          ...(r.auth?.length
            ? { authenticationRef: { name: triggerAuthName(job.name, r.name) } }
            : identity
              ? { authenticationRef: { name: workloadAuthName(job.name) } }
              : {}),
        })),
      },
    };
  }
  // Schedule → a CronJob in UTC, as ACA evaluates cron; Manual → a suspended CronJob to start with
  // `kubectl create job --from=cronjob/<name> <execution-name>`
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: job.name },
    spec: {
      schedule: job.cronExpression ?? "0 0 1 1 *",
      timeZone: "Etc/UTC",
      ...(job.triggerType === "Manual" || job.paused ? { suspend: true } : {}),
      successfulJobsHistoryLimit: HISTORY,
      failedJobsHistoryLimit: HISTORY,
      jobTemplate: { spec: jobSpec(job, value, identity) },
    },
  };
}

function container(job: JobSpec, c: Container, value: (s: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = { name: c.name, image: value(c.image) };
  if (c.command?.length) out.command = c.command.map(value);
  if (c.args?.length) out.args = c.args.map(value);
  if (c.env?.length) {
    out.env = c.env.map((e) =>
      e.secretRef !== undefined
        ? { name: e.name, valueFrom: { secretKeyRef: { name: secretObjectName(job.name), key: e.secretRef } } }
        : { name: e.name, value: value(e.value ?? "") },
    );
  }
  const q: Record<string, string> = {};
  if (c.resources?.cpu !== undefined) q.cpu = k8sCpu(c.resources.cpu);
  if (c.resources?.memory !== undefined) q.memory = k8sMemory(c.resources.memory);
  if (Object.keys(q).length) out.resources = { requests: q, limits: { ...q } };
  return out;
}

/** Kubernetes quantities: 0.25 cores → "250m", "0.5Gi" → "512Mi". */
export function k8sCpu(cpu: number): string {
  const milli = Math.round(cpu * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

export function k8sMemory(memory: string): string {
  const bytes = parseMemory(memory) ?? 0;
  for (const [unit, size] of [
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const) {
    if (bytes % size === 0 && bytes >= size) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
