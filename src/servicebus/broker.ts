// The broker's semantic root: namespaces over one store. The wire layers (AMQP, admin API) call into it.
import { EventEmitter } from "node:events";
import {
  DEFAULT_NAMESPACE,
  EMULATOR_ROOT_POLICY,
  QUEUE_DEFAULTS,
  type NamespaceConfig,
  type ProjectConfig,
  type QueueProperties,
} from "../model/config.js";
import { Namespace } from "./entities/namespace.js";
import type { QueueEntity } from "./entities/queue.js";
import type { EntityRecord, MessageStore } from "./store/types.js";
import { parseTopicsDefinition } from "./topics/records.js";

/** What the store keeps (EntityRecord.definition, as JSON) for a queue created or changed at run time. */
export interface RuntimeQueueDefinition {
  kind: "queue";
  properties: QueueProperties;
  /** admin-API properties the broker does not act on (UserMetadata, Status, ...), echoed back as given */
  extras?: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/**
 * What the store keeps for a namespace made at run time (`servicebus namespace create`), under the namespace's
 * lowercase name: its ARM fields. Its keys are kept with the other rules changed at run time
 * (authorization-rules.ts), in a file only its owner reads.
 */
export interface RuntimeNamespaceDefinition {
  kind: "namespace";
  name: string;
  /** made by `namespace create` (its keys are kept by AuthorizationRules); false: only its group was recorded */
  made: boolean;
  resourceGroup: string;
  location: string;
  sku: string;
  tags?: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export function parseNamespaceDefinition(json: string): RuntimeNamespaceDefinition | undefined {
  try {
    const d = JSON.parse(json) as RuntimeNamespaceDefinition;
    return d?.kind === "namespace" && typeof d.name === "string" ? d : undefined;
  } catch {
    return undefined;
  }
}

export function parseRuntimeDefinition(json: string): RuntimeQueueDefinition | undefined {
  try {
    const d = JSON.parse(json) as RuntimeQueueDefinition;
    return d?.kind === "queue" && typeof d.properties === "object" ? d : undefined;
  } catch {
    return undefined;
  }
}

export class Broker extends EventEmitter {
  readonly namespaces = new Map<string, Namespace>();
  /** ARM fields of namespaces made or recorded at run time, by lowercase name */
  private readonly records = new Map<string, RuntimeNamespaceDefinition>();
  /** changed only by setDefaultNamespace (apply) */
  defaultNamespace: string;

  constructor(
    readonly store: MessageStore,
    config: ProjectConfig,
  ) {
    super();
    const records = store.listEntities();
    for (const rec of records) {
      const def = parseNamespaceDefinition(rec.definition);
      if (def) this.records.set(def.name.toLowerCase(), def);
    }
    for (const ns of config.namespaces) this.serve(ns, records);
    this.defaultNamespace = (config.defaultNamespace ?? config.namespaces[0]?.name ?? DEFAULT_NAMESPACE).toLowerCase();
    if (!this.namespaces.has(this.defaultNamespace))
      this.serve({ name: this.defaultNamespace, queues: [], policies: [] }, records);
    // a namespace that only holds entities created at run time (its project was replaced) is served too
    for (const rec of records) {
      const name = rec.path.split("/")[0].toLowerCase();
      if (
        !this.namespaces.has(name) &&
        (parseRuntimeDefinition(rec.definition) || parseTopicsDefinition(rec.definition))
      )
        this.serve({ name, queues: [], policies: [] }, records);
    }
    // a namespace made at run time is served even while it is empty
    for (const def of this.records.values())
      if (!this.namespaces.has(def.name.toLowerCase()))
        this.serve({ name: def.name, queues: [], policies: [] }, records);
  }

  /**
   * Creates a served namespace (no policies: the emulator's root one). Queues, topics and subscriptions created
   * at run time (admin API) that the store kept for it come back; an entity the config declares keeps the
   * config's definition (a declared subscription takes the rules recorded for it).
   */
  private serve(config: NamespaceConfig, records: EntityRecord[]): Namespace {
    const n = new Namespace(config.name, this.store, {
      ...config,
      policies: config.policies.length ? config.policies : [EMULATOR_ROOT_POLICY],
    });
    n.on("change", (q) => this.emit("change", n, q));
    this.namespaces.set(config.name.toLowerCase(), n);
    const prefix = `${config.name.toLowerCase()}/`;
    for (const rec of records) {
      const def = rec.path.toLowerCase().startsWith(prefix) ? parseRuntimeDefinition(rec.definition) : undefined;
      const name = rec.path.slice(prefix.length);
      if (def && !n.queue(name)) n.createQueue(name, { ...QUEUE_DEFAULTS, ...def.properties });
    }
    n.topics.restore(records);
    return n;
  }

  /**
   * The namespace a client means by the host name it connected to (AMQP open hostname):
   * `<ns>`, `<ns>.localhost`, `<ns>.servicebus.windows.net`; localhost and IP addresses → the default one.
   */
  namespaceForHost(hostname: string | undefined): Namespace | undefined {
    const host = (hostname ?? "")
      .toLowerCase()
      .replace(/:\d+$/, "")
      .replace(/^\[|\]$/g, "");
    if (!host || host === "localhost" || /^[\d.]+$/.test(host) || host.includes(":")) {
      return this.namespaces.get(this.defaultNamespace);
    }
    const label = host.split(".")[0];
    return this.namespaces.get(host) ?? this.namespaces.get(label);
  }

  namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name.toLowerCase());
  }

  /** Adds a namespace at run time (apply); queues the store kept for it from an earlier run come back. */
  addNamespace(config: NamespaceConfig): Namespace {
    const existing = this.namespace(config.name);
    if (existing) return existing;
    return this.serve(config, this.store.listEntities());
  }

  /** Removes a namespace at run time with its queues and their messages; links still open to them fail. */
  async removeNamespace(name: string): Promise<boolean> {
    const n = this.namespace(name);
    if (!n) return false;
    for (const q of n.queueNames()) await n.deleteQueue(q);
    for (const t of n.topics.topicNames()) await n.topics.deleteTopic(t);
    n.close();
    this.namespaces.delete(name.toLowerCase());
    if (this.records.delete(name.toLowerCase())) await this.store.deleteEntity(name.toLowerCase());
    return true;
  }

  /** The ARM fields recorded for a namespace (made or recorded at run time), if any. */
  namespaceRecord(name: string): RuntimeNamespaceDefinition | undefined {
    return this.records.get(name.toLowerCase());
  }

  /**
   * Serves a namespace made at run time (or records the ARM fields of one already served) and keeps the record,
   * so it is served again after a restart even with no entities in it.
   */
  async defineNamespace(def: RuntimeNamespaceDefinition, policies: NamespaceConfig["policies"]): Promise<Namespace> {
    const ns = this.namespace(def.name) ?? this.addNamespace({ name: def.name, queues: [], policies });
    const record = { ...def, name: ns.name };
    this.records.set(ns.name.toLowerCase(), record);
    await this.store.saveEntity({ path: ns.name.toLowerCase(), definition: JSON.stringify(record) });
    return ns;
  }

  /**
   * Creates or replaces a queue at run time (admin API, control API) and records its definition, so it
   * comes back after a restart.
   */
  async defineQueue(
    ns: Namespace,
    name: string,
    definition: Omit<RuntimeQueueDefinition, "kind">,
  ): Promise<QueueEntity> {
    const q = ns.createQueue(name, definition.properties);
    const record: RuntimeQueueDefinition = { kind: "queue", ...definition };
    await this.store.saveEntity({ path: q.path, definition: JSON.stringify(record) });
    return q;
  }

  setDefaultNamespace(name: string): void {
    if (!this.namespace(name)) throw new Error(`namespace ${name} is not served`);
    this.defaultNamespace = name.toLowerCase();
  }

  close(): void {
    for (const n of this.namespaces.values()) n.close();
  }
}
