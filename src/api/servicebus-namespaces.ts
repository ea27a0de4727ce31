// The control API's Service Bus namespaces: list, show, create at run time (`az servicebus namespace create`:
// served by the broker at once, with a RootManageSharedAccessKey of new keys, kept across restarts), delete
// (with everything in it, as Azure deletes a namespace's entities) and the root rule's keys.
import { DEFAULT_NAMESPACE } from "../model/config.js";
import { NAMESPACE_NAME } from "../model/validate.js";
import { newKey, type AuthorizationRules } from "../servicebus/authorization-rules.js";
import type { Broker } from "../servicebus/broker.js";
import type { Namespace } from "../servicebus/entities/namespace.js";
import { LOCAL_LOCATION, LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION, namespaceId } from "./arm.js";
import { ruleKeys, type ConnectionStringOptions } from "./authorization-rules.js";
import { ApiError, jsonBody, type ApiRoute } from "./control.js";
import { checkGroup, checkName, namespaceGroup, namespaceOf } from "./servicebus.js";

export interface NamespacesApiOptions {
  broker: Broker;
  rules: AuthorizationRules;
  connectionString(namespace: string, o: ConnectionStringOptions): string;
  /** issues the TLS certificate again for the changed set of namespaces */
  serverCertificate(): unknown;
  /** a recorded resource group's location (a namespace created without --location takes it, as in az) */
  groupLocation(group: string): string | undefined;
}

const SKUS = ["Basic", "Standard", "Premium"];
const iso = (ms: number) => new Date(ms).toISOString();

export function registerNamespacesApi(route: ApiRoute, o: NamespacesApiOptions): void {
  const { broker } = o;
  const startedAt = Date.now();
  const nsOf = (name: string) => namespaceOf(broker, name);

  /** az's fields (flattened, as az prints them), and `properties` as the REST API nests them. */
  const resource = (ns: Namespace) => {
    const rec = broker.namespaceRecord(ns.name);
    const sku = rec?.sku ?? "Standard";
    const common = {
      createdAt: iso(rec?.createdAt ?? startedAt),
      metricId: `${LOCAL_SUBSCRIPTION}:${ns.name.toLowerCase()}`,
      provisioningState: "Succeeded",
      serviceBusEndpoint: `https://${ns.name}.servicebus.windows.net:443/`,
      status: "Active",
      updatedAt: iso(rec?.updatedAt ?? startedAt),
    };
    return {
      id: namespaceId(ns.name, rec?.resourceGroup),
      name: ns.name,
      type: "Microsoft.ServiceBus/Namespaces",
      location: rec?.location ?? LOCAL_LOCATION,
      resourceGroup: rec?.resourceGroup ?? LOCAL_RESOURCE_GROUP,
      sku: { name: sku, tier: sku, ...(sku === "Premium" ? { capacity: 1 } : {}) },
      tags: rec?.tags ?? {},
      ...common,
      disableLocalAuth: false,
      minimumTlsVersion: "1.2",
      publicNetworkAccess: "Enabled",
      zoneRedundant: false,
      properties: {
        ...common,
        // eventjobs: whether localhost reaches it, and how many queues it holds
        isDefault: ns.name.toLowerCase() === broker.defaultNamespace,
        queueCount: ns.queueNames().length,
      },
    };
  };

  // ?resourceGroup: only that group's namespaces (list), or a 404 for a namespace recorded in another (show, delete)
  route("GET", "/servicebus/namespaces", (req) => {
    const group = req.query.get("resourceGroup")?.toLowerCase();
    const all = [...broker.namespaces.values()];
    return {
      value: all.filter((ns) => !group || namespaceGroup(broker, ns.name).toLowerCase() === group).map(resource),
    };
  });
  route("GET", "/servicebus/namespaces/:ns", (req) => {
    const ns = nsOf(req.params.ns);
    checkGroup(broker, ns, req.query.get("resourceGroup"));
    return resource(ns);
  });

  // create, or record the resource group and fields of one served already (ARM's PUT creates or updates)
  route("PUT", "/servicebus/namespaces/:ns", async (req) => {
    const name = req.params.ns;
    checkName(name, NAMESPACE_NAME);
    const b = await jsonBody(req, true);
    const str = (k: string) =>
      typeof b[k] === "string" && (b[k] as string).trim() ? (b[k] as string).trim() : undefined;
    const resourceGroup = str("resourceGroup") ?? LOCAL_RESOURCE_GROUP;
    const skuText = str("sku") ?? "Standard";
    const sku = SKUS.find((s) => s.toLowerCase() === skuText.toLowerCase());
    if (!sku) throw new ApiError(400, "InvalidParameter", `sku: '${skuText}' — expected ${SKUS.join(", ")}`);
    const tags = (b.tags && typeof b.tags === "object" ? b.tags : undefined) as Record<string, string> | undefined;
    const existing = broker.namespace(name);
    const rec = broker.namespaceRecord(name);
    if (rec && rec.resourceGroup.toLowerCase() !== resourceGroup.toLowerCase())
      throw new ApiError(
        409,
        "Conflict",
        `The namespace name '${name}' is already taken: it is in resource group '${rec.resourceGroup}' (namespace names are unique).`,
      );
    const now = Date.now();
    const def = {
      kind: "namespace" as const,
      name,
      made: rec?.made ?? !existing,
      resourceGroup: rec?.resourceGroup ?? resourceGroup,
      location: str("location") ?? rec?.location ?? o.groupLocation(resourceGroup) ?? LOCAL_LOCATION,
      sku,
      ...((tags ?? rec?.tags) ? { tags: tags ?? rec?.tags } : {}),
      createdAt: rec?.createdAt ?? (existing ? startedAt : now),
      updatedAt: now,
    };
    if (existing) {
      await broker.defineNamespace(def, existing.policies);
      return { ...resource(existing), created: false };
    }
    const root = {
      name: "RootManageSharedAccessKey",
      rights: ["Listen", "Manage", "Send"] as ("Listen" | "Manage" | "Send")[],
      primaryKey: newKey(),
      secondaryKey: newKey(),
    };
    const ns = await broker.defineNamespace(def, [root]);
    o.rules.setNamespacePolicies(ns.name, [root]); // the keys are kept where the rules changed at run time are
    o.serverCertificate();
    return { ...resource(ns), created: true };
  });

  route("DELETE", "/servicebus/namespaces/:ns", async (req) => {
    const ns = nsOf(req.params.ns);
    checkGroup(broker, ns, req.query.get("resourceGroup"));
    if (ns.name.toLowerCase() === broker.defaultNamespace || ns.name.toLowerCase() === DEFAULT_NAMESPACE)
      throw new ApiError(
        409,
        "Conflict",
        `The namespace '${ns.name}' cannot be deleted: ${ns.name.toLowerCase() === DEFAULT_NAMESPACE ? "the emulator's namespace is always served" : "it is the default namespace (the one localhost reaches)"}. Delete its queues and topics instead.`,
      );
    await broker.removeNamespace(ns.name);
    o.rules.forget(ns.name);
    o.serverCertificate();
    return undefined;
  });

  // az servicebus namespace authorization-rule keys list, for the policy the platform's connection strings use
  route("GET", "/servicebus/namespaces/:ns/keys", (req) => {
    const ns = nsOf(req.params.ns);
    return ruleKeys(o.connectionString, ns.name, undefined, ns.policies[0], req.query.get("tls") === "true");
  });
}
