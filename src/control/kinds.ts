// The running platform seen as resources (what plan compares with), and how apply changes each kind.
// Every create or update returns how to undo it, so a failure part-way leaves the platform as it was.
import {
  DEFAULT_NAMESPACE,
  EMULATOR_ROOT_POLICY,
  type NamespaceConfig,
  type QueueConfig,
  type SasPolicyConfig,
} from "../model/config.js";
import type { RefLookup } from "../model/refs.js";
import type { IdentityDecl } from "../identity/config.js";
import type { IdentityService } from "../identity/service.js";
import type { Jobs } from "../triggering/jobs-service.js";
import type { Broker } from "../servicebus/broker.js";
import { imageResource, installedImages, removeImage } from "./images.js";
import { liveTopicResource, putTopicResource, removeTopicResource } from "./topic-kinds.js";
import {
  flatten,
  namespaceFields,
  queueResourceFields,
  resourceKey,
  roleAssignmentId,
  type Kind,
  type Resource,
  type RoleAssignmentSpec,
} from "./resources.js";

/** What apply works on; the Platform provides it. */
export interface PlatformParts {
  broker: Broker;
  identity: IdentityService;
  jobs: Jobs;
  imagesDir: string;
  lookupRef: RefLookup;
  /** a namespace's `connectionString|fqdn|host`, also for one not created yet */
  namespaceRef(
    ns: { name: string; isDefault: boolean; policy: { name: string; primaryKey: string } },
    prop: string,
  ): string | undefined;
  /** issues the TLS certificate again for a changed set of namespaces */
  serverCertificate(): unknown;
}

export type Undo = () => void | Promise<void>;

const policiesCopy = (ps: SasPolicyConfig[]) => ps.map((p) => ({ ...p, rights: [...p.rights] }));

export class LiveView {
  private images?: ReturnType<typeof installedImages>;

  constructor(
    private readonly p: PlatformParts,
    /** recorded-only kinds (topics, ...) by resource key */
    private readonly recorded: Record<string, Record<string, unknown>>,
  ) {}

  /** The running resource, or undefined when there is none. */
  get = (r: { kind: Kind; id: string }): Resource | undefined => {
    const { broker, identity, jobs } = this.p;
    const [nsName, rest] = [r.id.split("/")[0], r.id.slice(r.id.indexOf("/") + 1)];
    switch (r.kind) {
      case "namespace": {
        const ns = broker.namespace(r.id);
        return (
          ns && {
            kind: "namespace",
            id: ns.name,
            fields: namespaceFields(ns.policies, ns.name.toLowerCase() === broker.defaultNamespace),
          }
        );
      }
      case "queue": {
        const ns = broker.namespace(nsName);
        const q = ns?.queue(rest);
        return (
          q && {
            kind: "queue",
            id: `${ns!.name}/${q.path.slice(q.path.indexOf("/") + 1)}`,
            fields: queueResourceFields(q.props, ns!.queuePolicies(rest)),
          }
        );
      }
      case "topic":
      case "subscription":
      case "rule":
        return liveTopicResource(broker, r);
      case "identity": {
        const i = identity.registry.user(r.id);
        return i && { kind: "identity", id: i.name, fields: { clientId: i.clientId, principalId: i.principalId } };
      }
      case "roleAssignment": {
        const a = identity.registry
          .roleAssignments()
          .find((x) => roleAssignmentId(x.role, x.assignee, x.scope.namespace, x.scope.entity) === r.id.toLowerCase());
        return (
          a && {
            kind: "roleAssignment",
            id: r.id,
            fields: {
              role: a.role,
              assignee: a.assignee,
              scope: `${a.scope.namespace}${a.scope.entity ? `/${a.scope.entity}` : ""}`,
            },
          }
        );
      }
      case "image": {
        this.images ??= installedImages(this.p.imagesDir);
        const rec = this.images.get(r.id.toLowerCase());
        return rec && imageResource(rec);
      }
      case "job": {
        const stored = jobs.store.listJobs().find((j) => j.name === r.id);
        if (!stored) return undefined;
        const { name: _n, ...rest } = stored.definition as Record<string, unknown>;
        return { kind: "job", id: stored.name, fields: flatten(rest) };
      }
      default: {
        const fields = this.recorded[resourceKey(r)];
        return fields && { kind: r.kind, id: r.id, fields };
      }
    }
  };
}

/** Creates or updates one resource; returns the undo. */
export async function put(
  p: PlatformParts,
  r: Resource,
  now: Resource | undefined,
  recorded: Record<string, Record<string, unknown>>,
): Promise<Undo> {
  const { broker, identity, jobs } = p;
  switch (r.kind) {
    case "namespace": {
      const spec = r.spec as NamespaceConfig & { isDefault: boolean };
      const existing = broker.namespace(spec.name);
      const wasDefault = broker.defaultNamespace;
      if (!existing) {
        broker.addNamespace({ name: spec.name, queues: [], topics: [], policies: policiesCopy(spec.policies) });
        if (spec.isDefault) broker.setDefaultNamespace(spec.name);
        p.serverCertificate();
        return async () => {
          broker.setDefaultNamespace(wasDefault);
          await broker.removeNamespace(spec.name);
          p.serverCertificate();
        };
      }
      const before = existing.policies;
      existing.policies = policiesCopy(spec.policies);
      if (spec.isDefault) broker.setDefaultNamespace(spec.name);
      return () => {
        existing.policies = before;
        broker.setDefaultNamespace(wasDefault);
      };
    }
    case "queue": {
      const { namespace, queue } = r.spec as { namespace: string; queue: QueueConfig };
      const ns = broker.namespace(namespace)!;
      const existing = ns.queue(queue.name);
      const before = existing && { ...existing.props };
      const rulesBefore = ns.queuePolicies(queue.name);
      ns.createQueue(queue.name, { ...queue.properties });
      ns.setQueuePolicies(queue.name, policiesCopy(queue.policies ?? []));
      if (!before) return () => ns.deleteQueue(queue.name).then(() => undefined);
      return () => {
        ns.createQueue(queue.name, before);
        ns.setQueuePolicies(queue.name, rulesBefore);
      };
    }
    case "topic":
    case "subscription":
    case "rule":
      return putTopicResource(broker, r);
    case "identity": {
      const spec = r.spec as IdentityDecl;
      const before = identity.registry.user(spec.name);
      identity.registry.upsertUser(spec);
      return () => {
        if (before) identity.registry.upsertUser(before);
        else identity.registry.removeUser(spec.name);
      };
    }
    case "roleAssignment": {
      const s = r.spec as RoleAssignmentSpec;
      const decl = {
        role: s.role,
        assignee: s.assignee,
        scope: { namespace: s.namespace, entity: s.entity },
        scopeText: s.scopeText,
        path: r.path ?? "roleAssignments",
      };
      identity.registry.addAssignment(decl);
      return () => void identity.registry.removeAssignments((a) => a === decl);
    }
    case "job": {
      const entry = r.spec as Record<string, unknown>;
      const before = jobs.store.listJobs().find((j) => j.name === r.id)?.definition;
      jobs.apply(entry); // running executions keep running; the scale loop restarts with the new definition
      return () => void (before ? jobs.apply(before) : jobs.remove(r.id));
    }
    case "image":
      throw new Error("images are committed from staging");
    default: {
      const key = resourceKey(r);
      const before = recorded[key];
      recorded[key] = r.fields;
      return () => void (before ? (recorded[key] = before) : delete recorded[key]);
    }
  }
}

/** Deletes one resource (deletes are done last and are not undone: a deleted queue's messages are gone). */
export async function remove(
  p: PlatformParts,
  r: Resource,
  recorded: Record<string, Record<string, unknown>>,
): Promise<void> {
  const { broker, identity, jobs } = p;
  switch (r.kind) {
    case "namespace": {
      const ns = broker.namespace(r.id);
      if (!ns) return;
      if (ns.name.toLowerCase() === DEFAULT_NAMESPACE) {
        // the emulator's namespace is always served; "deleting" it resets its key (rules made at run time stay)
        ns.policies = [
          ...policiesCopy([EMULATOR_ROOT_POLICY]),
          ...ns.policies.filter((x) => x.createdAtRuntime && x.name !== EMULATOR_ROOT_POLICY.name),
        ];
        return;
      }
      // children are deleted first, so a queue still here was made another way: it and its messages stay
      const topics = ns.topics.topicNames();
      const others = [...ns.queueNames(), ...topics];
      if (others.length)
        throw new Error(
          `it holds ${topics.length ? "queues or topics" : "queues"} the project did not create (${others.join(", ")}); delete them (eventjobs servicebus queue|topic delete) or declare them in the file, then try again`,
        );
      await broker.removeNamespace(r.id);
      if (!broker.namespace(broker.defaultNamespace)) {
        const next =
          [...broker.namespaces.values()][0] ??
          broker.addNamespace({
            name: DEFAULT_NAMESPACE,
            queues: [],
            topics: [],
            policies: policiesCopy([EMULATOR_ROOT_POLICY]),
          });
        broker.setDefaultNamespace(next.name);
      }
      p.serverCertificate();
      return;
    }
    case "queue": {
      const [ns, ...q] = r.id.split("/");
      await broker.namespace(ns)?.deleteQueue(q.join("/"));
      return;
    }
    case "topic":
    case "subscription":
    case "rule":
      return removeTopicResource(broker, r);
    case "identity":
      identity.registry.removeUser(r.id);
      return;
    case "roleAssignment":
      identity.registry.removeAssignments(
        (a) => roleAssignmentId(a.role, a.assignee, a.scope.namespace, a.scope.entity) === r.id.toLowerCase(),
      );
      return;
    case "image": {
      const rec = installedImages(p.imagesDir).get(r.id.toLowerCase());
      if (rec) removeImage(p.imagesDir, rec);
      return;
    }
    case "job":
      if (jobs.store.listJobs().some((j) => j.name === r.id)) jobs.remove(r.id);
      return;
    default:
      delete recorded[resourceKey(r)];
  }
}
