// azure-servicebus over the embedded broker: counts read in-process, and a wake-up on every change of
// the entities the rule watches. Authorisation mirrors what KEDA meets over the admin API: the
// connection string's key must be valid for the namespace and carry Manage rights.
import { grants, SasError, verifySharedAccessKey } from "../../identity/sas.js";
import type { Broker } from "../../servicebus/broker.js";
import type { Namespace } from "../../servicebus/entities/namespace.js";
import type { TriggerSource } from "../loop.js";
import type { ServiceBusMetadata } from "../servicebus.js";
import { selectEntityCount } from "../servicebus-count.js";
import { serviceBusAdminReader } from "./servicebus-admin.js";

export interface ParsedConnectionString {
  endpoint: string;
  host: string;
  port?: number;
  keyName?: string;
  key?: string;
  entityPath?: string;
  emulator: boolean;
}

/** Splits a Service Bus connection string (keys are case-insensitive, as in the SDKs). */
export function parseConnectionString(cs: string): ParsedConnectionString {
  const parts = new Map<string, string>();
  for (const part of cs.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) parts.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  const endpoint = parts.get("endpoint") ?? "";
  const m = /^[a-z]+:\/\/([^/:]+|\[[^\]]+\])(?::(\d+))?/i.exec(endpoint);
  return {
    endpoint,
    host: m?.[1] ?? "",
    port: m?.[2] ? Number(m[2]) : undefined,
    keyName: parts.get("sharedaccesskeyname"),
    key: parts.get("sharedaccesskey"),
    entityPath: parts.get("entitypath"),
    emulator: parts.get("usedevelopmentemulator")?.toLowerCase() === "true",
  };
}

const PUBLIC_SUFFIXES = [
  ".servicebus.windows.net",
  ".servicebus.chinacloudapi.cn",
  ".servicebus.usgovcloudapi.net",
  ".servicebus.cloudapi.de",
];

/** True when a connection string points at a cloud namespace rather than at this machine. */
export function isExternal(cs: ParsedConnectionString): boolean {
  if (cs.emulator) return false;
  const host = cs.host.toLowerCase();
  return (
    PUBLIC_SUFFIXES.some((s) => host.endsWith(s)) ||
    !(
      host === "localhost" ||
      host.endsWith(".localhost") ||
      /^[\d.]+$/.test(host) ||
      host.startsWith("[") ||
      !host.includes(".")
    )
  );
}

/** The connection string's key against the namespace's policies (identity/sas.ts), with the admin API's 401 texts. */
function authorize(ns: Namespace, cs: ParsedConnectionString): void {
  let policy;
  try {
    policy = verifySharedAccessKey(cs.keyName, cs.key, ns.policies);
  } catch (e) {
    if (!(e instanceof SasError)) throw e;
    throw new SasError(
      `401 Unauthorized: ${e.message.replace(/\.$/, "")} (policy ${cs.keyName ?? "(none)"} on namespace ${ns.name})`,
    );
  }
  if (!grants(policy.rights, "Manage")) {
    throw new SasError(
      `401 Unauthorized: Manage,EntityRead claims required for this operation (policy ${policy.name} has ${policy.rights.join(", ")})`,
    );
  }
}

/** A TriggerSource reading the embedded broker's namespace that the connection string addresses. */
export function embeddedServiceBusTrigger(broker: Broker, rule: string, meta: ServiceBusMetadata): TriggerSource {
  const cs = parseConnectionString(meta.connection);
  const namespace = () => {
    const ns = broker.namespaceForHost(cs.host) ?? broker.namespace(meta.namespace);
    if (!ns) throw new Error(`namespace ${cs.host || meta.namespace} is not served by this eventjobs server`);
    return ns;
  };
  return {
    name: rule,
    metadata: meta,
    async read() {
      const ns = namespace();
      authorize(ns, cs);
      const isQueue = meta.entityType === "queue";
      const topic = isQueue ? undefined : ns.topics.topic(meta.topicName);
      const all = () => (isQueue ? ns.queueNames() : topic ? [...topic.subscriptions.values()].map((s) => s.name) : []);
      const names = meta.useRegex ? all() : [isQueue ? meta.queueName : meta.subscriptionName];
      const entities = names.flatMap((name) => {
        const q = isQueue ? ns.queue(name) : topic?.subscriptions.get(name.toLowerCase());
        if (!q) return [];
        const c = q.counts();
        // Service Bus counts deferred messages as active (they wait in the queue, locked or not)
        return [{ name, activeMessageCount: c.active + c.deferred }];
      });
      return selectEntityCount(meta, entities);
    },
    watch(wake) {
      const listener = (ns: Namespace) => {
        if (ns === broker.namespaceForHost(cs.host) || ns.name === meta.namespace) wake();
      };
      broker.on("change", listener);
      return () => broker.off("change", listener);
    },
  };
}

export interface ServiceBusTriggersOptions {
  broker: Broker;
  /** this server's own ports: a connection string naming one of them (or none) is served in-process */
  ownPorts: () => number[];
  /** extra CA certificate (PEM) trusted when reading an external namespace (our local CA) */
  ca?: () => string | undefined;
}

/**
 * Picks the count source per rule: the embedded broker (with push wake-ups) when the connection string
 * points at this server, else the namespace's admin API over HTTP(S), polled, exactly as KEDA reads it.
 */
export function serviceBusTriggers(
  o: ServiceBusTriggersOptions,
): (rule: string, meta: ServiceBusMetadata) => TriggerSource {
  return (rule, meta) => {
    const cs = parseConnectionString(meta.connection);
    const local = !meta.connection || (!isExternal(cs) && (cs.port === undefined || o.ownPorts().includes(cs.port)));
    if (local) return embeddedServiceBusTrigger(o.broker, rule, meta);
    const reader = serviceBusAdminReader(meta, { ca: o.ca?.() });
    return { name: rule, metadata: meta, read: () => reader.read() };
  };
}
