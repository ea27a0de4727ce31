// A project as a list of resources (namespace, queue, ..., job), each with flat fields to compare: what
// plan diffs against the running platform, apply creates or changes, and destroy removes.
import { dirname, resolve } from "node:path";
import { formatDuration } from "../model/duration.js";
import type { NamespaceConfig, ProjectConfig, QueueProperties, SasPolicyConfig } from "../model/config.js";
import { parseScope, type RoleName } from "../identity/config.js";
import { configRuleFields, entityFields } from "./topic-fields.js";

export const KINDS = [
  "namespace",
  "queue",
  "topic",
  "subscription",
  "rule",
  "identity",
  "roleAssignment",
  "image",
  "job",
] as const;
export type Kind = (typeof KINDS)[number];

export interface Resource {
  kind: Kind;
  /** unique within its kind (case-insensitive), e.g. `servicebus-ns-job/queue-messages` */
  id: string;
  /**
   * flat fields: `lockDuration`, `authorizationRules[root].primaryKey`,
   * `properties.template.containers[main].env[A].value`
   */
  fields: Record<string, unknown>;
  /** where it is declared in the file, for errors (`namespaces[0].queues[1]`) */
  path?: string;
  /** what apply needs to create it (the config object) */
  spec?: unknown;
}

export const resourceKey = (r: { kind: string; id: string }): string => `${r.kind}:${r.id.toLowerCase()}`;

/** Values never shown: keys, secrets, connection strings (plan prints "(sensitive)"); secrets.ts decides. */
export { isSensitive } from "./secrets.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Flattens a value into path → leaf; lists of named objects are keyed by name, other lists of objects by index. */
export function flatten(value: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value) && value.some(isObj)) {
    const named =
      value.every((v) => isObj(v) && typeof v.name === "string") &&
      new Set(value.map((v) => (v as Obj).name)).size === value.length;
    value.forEach((v, i) => {
      const key = named ? String((v as Obj).name) : String(i);
      if (!isObj(v)) out[`${prefix}[${key}]`] = v;
      else
        flatten(
          named ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== "name")) : v,
          `${prefix}[${key}]`,
          out,
        );
      if (named && Object.keys(v as Obj).length === 1) out[`${prefix}[${key}]`] = {}; // a list item with only a name
    });
  } else if (isObj(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) out[prefix] = value;
  return out;
}

/** Queue properties as ARM names them (durations in ISO-8601), as plan shows them. */
export function queueFields(p: QueueProperties): Obj {
  return {
    lockDuration: formatDuration(p.lockDurationMs),
    maxDeliveryCount: p.maxDeliveryCount,
    defaultMessageTimeToLive: formatDuration(p.defaultMessageTimeToLiveMs),
    deadLetteringOnMessageExpiration: p.deadLetteringOnMessageExpiration,
    requiresSession: p.requiresSession,
    requiresDuplicateDetection: p.requiresDuplicateDetection,
    duplicateDetectionHistoryTimeWindow: formatDuration(p.duplicateDetectionHistoryTimeWindowMs),
    forwardTo: p.forwardTo ?? "",
    forwardDeadLetteredMessagesTo: p.forwardDeadLetteredMessagesTo ?? "",
    maxSizeInMegabytes: p.maxSizeInMegabytes,
    maxMessageSizeInKilobytes: p.maxMessageSizeInKilobytes,
  };
}

const ruleFields = (policies: SasPolicyConfig[]) =>
  policies.map((p) => ({
    name: p.name,
    rights: [...p.rights].sort(),
    primaryKey: p.primaryKey,
    ...(p.secondaryKey ? { secondaryKey: p.secondaryKey } : {}),
  }));

export function namespaceFields(policies: SasPolicyConfig[], isDefault: boolean): Obj {
  return flatten({ default: isDefault, authorizationRules: ruleFields(policies) });
}

/** A queue's properties and, when it has any, its own authorization rules. */
export function queueResourceFields(p: QueueProperties, policies: SasPolicyConfig[] = []): Obj {
  return policies.length
    ? { ...queueFields(p), ...flatten({ authorizationRules: ruleFields(policies) }) }
    : queueFields(p);
}

export interface ImageDecl {
  registry: string;
  image: string;
  /** absolute */
  context: string;
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  path: string;
}

export interface RoleAssignmentSpec {
  role: RoleName;
  assignee: string;
  scopeText: string;
  namespace: string;
  entity: string;
}

export const roleAssignmentId = (role: string, assignee: string, namespace: string, entity: string) =>
  `${role}|${assignee}|${namespace}${entity ? `/${entity}` : ""}`.toLowerCase();

/** The images a project declares, with contexts resolved against the project file's directory. */
export function imageDecls(config: ProjectConfig): ImageDecl[] {
  const base = dirname(resolve(config.source ?? "eventjobs.yaml"));
  const list = Array.isArray(config.extra?.images) ? (config.extra!.images as Obj[]) : [];
  return list.map((i, n) => ({
    registry: String(i.registry),
    image: String(i.image),
    context: resolve(base, String(i.context)),
    ...(typeof i.dockerfile === "string" ? { dockerfile: i.dockerfile } : {}),
    ...(isObj(i.buildArgs)
      ? { buildArgs: Object.fromEntries(Object.entries(i.buildArgs).map(([k, v]) => [k, String(v)])) }
      : {}),
    path: `images[${n}]`,
  }));
}

/**
 * Every resource the project declares except images (their digest is known once built) and jobs (apply resolves
 * them).
 */
export function declaredResources(config: ProjectConfig): Resource[] {
  const out: Resource[] = [];
  const nsIndex = (ns: NamespaceConfig) => config.namespaces.indexOf(ns);
  for (const ns of config.namespaces) {
    const p = `namespaces[${nsIndex(ns)}]`;
    const isDefault = ns.name.toLowerCase() === config.defaultNamespace.toLowerCase();
    out.push({
      kind: "namespace",
      id: ns.name,
      fields: namespaceFields(ns.policies, isDefault),
      path: p,
      spec: { ...ns, isDefault },
    });
    ns.queues.forEach((q, i) =>
      out.push({
        kind: "queue",
        id: `${ns.name}/${q.name}`,
        fields: queueResourceFields(q.properties, q.policies),
        path: `${p}.queues[${i}]`,
        spec: { namespace: ns.name, queue: q },
      }),
    );
    (ns.topics ?? []).forEach((t, i) => {
      const tp = `${p}.topics[${i}]`;
      out.push({
        kind: "topic",
        id: `${ns.name}/${t.name}`,
        fields: entityFields(t.properties),
        path: tp,
        spec: { namespace: ns.name, topic: t },
      });
      t.subscriptions.forEach((s, j) => {
        out.push({
          kind: "subscription",
          id: `${ns.name}/${t.name}/${s.name}`,
          fields: entityFields(s.properties),
          path: `${tp}.subscriptions[${j}]`,
          spec: { namespace: ns.name, topic: t.name, subscription: s },
        });
        s.rules.forEach((r, k) =>
          out.push({
            kind: "rule",
            id: `${ns.name}/${t.name}/${s.name}/${r.name}`,
            fields: configRuleFields(r),
            path: `${tp}.subscriptions[${j}].rules[${k}]`,
            spec: { namespace: ns.name, topic: t.name, subscription: s.name, rule: r },
          }),
        );
      });
    });
  }
  const extra = config.extra ?? {};
  const list = (k: string) => (Array.isArray(extra[k]) ? (extra[k] as Obj[]) : []);
  list("identities").forEach((i, n) => {
    const fields: Obj = {};
    if (typeof i.clientId === "string") fields.clientId = i.clientId.toLowerCase();
    if (typeof i.principalId === "string") fields.principalId = i.principalId.toLowerCase();
    out.push({
      kind: "identity",
      id: String(i.name),
      fields,
      path: `identities[${n}]`,
      spec: { name: String(i.name), ...fields },
    });
  });
  list("roleAssignments").forEach((r, n) => {
    const scope = parseScope(String(r.scope))!;
    const ns =
      config.namespaces.find((x) => x.name.toLowerCase() === scope.namespace.toLowerCase())?.name ?? scope.namespace;
    const spec: RoleAssignmentSpec = {
      role: String(r.role) as RoleName,
      assignee: String(r.assignee).trim(),
      scopeText: String(r.scope),
      namespace: ns,
      entity: scope.entity,
    };
    const role = [
      "Azure Service Bus Data Owner",
      "Azure Service Bus Data Sender",
      "Azure Service Bus Data Receiver",
    ].find((x) => x.toLowerCase() === spec.role.trim().toLowerCase()) as RoleName;
    spec.role = role;
    out.push({
      kind: "roleAssignment",
      id: roleAssignmentId(role, spec.assignee, ns, scope.entity),
      fields: { role, assignee: spec.assignee, scope: `${ns}${scope.entity ? `/${scope.entity}` : ""}` },
      path: `roleAssignments[${n}]`,
      spec,
    });
  });
  list("jobs").forEach((j, n) => {
    const { name: _name, ...rest } = j;
    out.push({ kind: "job", id: String(j.name), fields: flatten(rest), path: `jobs[${n}]`, spec: j });
  });
  return out;
}

/** How a resource is named in plan and progress lines. */
export function describe(r: { kind: Kind; id: string; fields?: Record<string, unknown> }): string {
  const names: Record<Kind, string> = {
    namespace: "namespace",
    queue: "queue",
    topic: "topic",
    subscription: "subscription",
    rule: "rule",
    identity: "identity",
    roleAssignment: "role assignment",
    image: "image",
    job: "job",
  };
  if (r.kind === "roleAssignment" && r.fields)
    return `role assignment "${r.fields.role}" for ${r.fields.assignee} on ${r.fields.scope}`;
  return `${names[r.kind]} ${r.id}`;
}
