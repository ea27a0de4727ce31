// ARM resource shapes, so `-o json` and the control API print what az and the Azure REST API print for
// the same resource (Microsoft.App/jobs, Microsoft.App/jobs/executions, Microsoft.ServiceBus/namespaces/queues).
import { formatDuration } from "../model/duration.js";
import type { QueueProperties } from "../model/config.js";
import { LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION } from "../identity/registry.js";
import type { ExecutionRecord } from "../jobs/store.js";

/** Subscription and resource group are Azure-only; these stand-ins (identity/registry.ts) keep ids well-formed. */
export { LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION };
export const LOCAL_LOCATION = "local";

const base = (rg = LOCAL_RESOURCE_GROUP) => `/subscriptions/${LOCAL_SUBSCRIPTION}/resourceGroups/${rg}`;

export const jobId = (name: string, rg?: string) => `${base(rg)}/providers/Microsoft.App/jobs/${name}`;

/** `rg`: the namespace's resource group (`servicebus namespace create -g`), else the local stand-in. */
export const namespaceId = (ns: string, rg?: string) => `${base(rg)}/providers/Microsoft.ServiceBus/namespaces/${ns}`;

type Obj = Record<string, unknown>;

/** The resource group a stored job entry records (its environment's, from -g). */
export const jobGroup = (entry: Obj | undefined): string | undefined =>
  /\/resourceGroups\/([^/]+)/i.exec(String(((entry?.properties ?? {}) as Obj).environmentId ?? ""))?.[1];

/** A stored job entry (as the user wrote it) as Azure returns the Microsoft.App/jobs resource. */
export function jobResource(entry: Obj, extras: { resourceGroup?: string; environment?: string } = {}): Obj {
  const name = String(entry.name);
  const props = (entry.properties ?? {}) as Obj;
  const configuration = structuredClone((props.configuration ?? {}) as Obj);
  const resourceGroup = extras.resourceGroup ?? jobGroup(entry);
  // secret values are never returned (az shows names only; `secret list --show-values` is separate)
  if (Array.isArray(configuration.secrets))
    configuration.secrets = (configuration.secrets as Obj[]).map((s) => ({ name: s.name }));
  return {
    id: jobId(name, resourceGroup),
    name,
    type: "Microsoft.App/jobs",
    location: (entry.location as string) ?? LOCAL_LOCATION,
    ...(entry.tags ? { tags: entry.tags } : {}),
    ...(entry.identity ? { identity: entry.identity } : {}),
    properties: {
      provisioningState: "Succeeded",
      environmentId:
        (props.environmentId as string) ??
        `${base(resourceGroup)}/providers/Microsoft.App/managedEnvironments/${extras.environment ?? "local"}`,
      workloadProfileName: (props.workloadProfileName as string) ?? "Consumption",
      configuration,
      template: props.template,
      ...(entry.paused !== undefined ? { paused: entry.paused } : {}),
    },
  };
}

export function executionResource(e: ExecutionRecord, resourceGroup?: string): Obj {
  return {
    id: `${jobId(e.job, resourceGroup)}/executions/${e.name}`,
    name: e.name,
    type: "Microsoft.App/jobs/executions",
    properties: {
      status: e.status,
      startTime: e.startTime,
      ...(e.endTime ? { endTime: e.endTime } : {}),
      template: e.template,
      // eventjobs additions: what started it, why it ended, its replicas
      trigger: e.trigger,
      ...(e.reason ? { reason: e.reason } : {}),
      replicas: e.replicas.map(({ pids: _pids, ...r }) => r),
    },
  };
}

export function queueResource(
  namespace: string,
  name: string,
  p: QueueProperties,
  counts: { active: number; deadLetter: number; scheduled: number; total: number; sizeInBytes: number },
  resourceGroup?: string,
): Obj {
  return {
    id: `${namespaceId(namespace, resourceGroup)}/queues/${name}`,
    name,
    type: "Microsoft.ServiceBus/namespaces/queues",
    location: LOCAL_LOCATION,
    properties: {
      lockDuration: formatDuration(p.lockDurationMs),
      maxSizeInMegabytes: p.maxSizeInMegabytes,
      maxMessageSizeInKilobytes: p.maxMessageSizeInKilobytes,
      requiresDuplicateDetection: p.requiresDuplicateDetection,
      requiresSession: p.requiresSession,
      defaultMessageTimeToLive: formatDuration(p.defaultMessageTimeToLiveMs),
      deadLetteringOnMessageExpiration: p.deadLetteringOnMessageExpiration,
      duplicateDetectionHistoryTimeWindow: formatDuration(p.duplicateDetectionHistoryTimeWindowMs),
      maxDeliveryCount: p.maxDeliveryCount,
      ...(p.forwardTo ? { forwardTo: p.forwardTo } : {}),
      ...(p.forwardDeadLetteredMessagesTo ? { forwardDeadLetteredMessagesTo: p.forwardDeadLetteredMessagesTo } : {}),
      status: "Active",
      messageCount: counts.total,
      sizeInBytes: counts.sizeInBytes,
      countDetails: {
        activeMessageCount: counts.active,
        deadLetterMessageCount: counts.deadLetter,
        scheduledMessageCount: counts.scheduled,
        transferMessageCount: 0,
        transferDeadLetterMessageCount: 0,
      },
    },
  };
}
