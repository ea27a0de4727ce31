// The control API's shared access policies of namespaces and queues, in ARM's shapes: the rule resource
// (`rights` flattened, as az prints it), listKeys (keyName, keys, connection strings) and regenerateKeys.
// listKeys and regenerateKeys are the only routes that return keys.
import type { SasPolicyConfig } from "../model/config.js";
import { AuthorizationRules } from "../servicebus/authorization-rules.js";
import { LOCAL_LOCATION, LOCAL_RESOURCE_GROUP, namespaceId } from "./arm.js";
import { jsonBody, type ApiRoute } from "./control.js";
import type { Request } from "../http/router.js";

export interface ConnectionStringOptions {
  tls: boolean;
  keyName: string;
  key: string;
  /** a queue's rule: the connection string carries `EntityPath=<queue>` */
  entityPath?: string;
}

export interface AuthorizationRulesApiOptions {
  rules: AuthorizationRules;
  connectionString(namespace: string, o: ConnectionStringOptions): string;
  /** the namespace's resource group, for the rules' ids */
  resourceGroup(namespace: string): string;
}

/** A rule as `az servicebus namespace|queue authorization-rule show` prints it (no keys). */
export function ruleResource(
  ns: string,
  queue: string | undefined,
  p: SasPolicyConfig,
  resourceGroup = LOCAL_RESOURCE_GROUP,
): Record<string, unknown> {
  return {
    id: `${namespaceId(ns, resourceGroup)}${queue === undefined ? "" : `/queues/${queue}`}/authorizationRules/${p.name}`,
    name: p.name,
    type:
      queue === undefined
        ? "Microsoft.ServiceBus/Namespaces/AuthorizationRules"
        : "Microsoft.ServiceBus/Namespaces/Queues/AuthorizationRules",
    location: LOCAL_LOCATION,
    resourceGroup,
    rights: [...p.rights].sort(),
  };
}

/**
 * A rule's keys and connection strings, as `az servicebus namespace|queue authorization-rule keys list` prints them.
 */
export function ruleKeys(
  connectionString: AuthorizationRulesApiOptions["connectionString"],
  ns: string,
  queue: string | undefined,
  p: SasPolicyConfig,
  tls: boolean,
) {
  const cs = (key: string) =>
    connectionString(ns, { tls, keyName: p.name, key, ...(queue === undefined ? {} : { entityPath: queue }) });
  return {
    keyName: p.name,
    primaryKey: p.primaryKey,
    secondaryKey: p.secondaryKey ?? null,
    primaryConnectionString: cs(p.primaryKey),
    secondaryConnectionString: p.secondaryKey ? cs(p.secondaryKey) : null,
  };
}

export function registerAuthorizationRulesApi(route: ApiRoute, o: AuthorizationRulesApiOptions): void {
  const { rules } = o;
  const keys = (ns: string, queue: string | undefined, p: SasPolicyConfig, tls: boolean) =>
    ruleKeys(o.connectionString, ns, queue, p, tls);

  // one set of routes per scope: `.../namespaces/:ns` and `.../namespaces/:ns/queues/:queue`
  for (const [prefix, queueOf] of [
    ["/servicebus/namespaces/:ns", () => undefined],
    ["/servicebus/namespaces/:ns/queues/:queue", (req: Request) => req.params.queue],
  ] as Array<[string, (req: Request) => string | undefined]>) {
    const base = `${prefix}/authorizationRules`;
    // a RuleError becomes its status and code in toApiError (control.ts)
    const handle = (fn: (req: Request, ns: string, queue: string | undefined) => unknown) => async (req: Request) =>
      fn(req, req.params.ns, queueOf(req));
    const nsName = (ns: string) => rules.namespaceName(ns);
    const ruleRes = (ns: string, q: string | undefined, p: SasPolicyConfig) =>
      ruleResource(nsName(ns), q, p, o.resourceGroup(ns));
    route(
      "GET",
      base,
      handle((_req, ns, q) => ({ value: rules.list(ns, q).map((p) => ruleRes(ns, q, p)) })),
    );
    route(
      "GET",
      `${base}/:rule`,
      handle((req, ns, q) => ruleRes(ns, q, rules.get(ns, q, req.params.rule))),
    );
    route(
      "PUT",
      `${base}/:rule`,
      handle(async (req, ns, q) => {
        const body = await jsonBody(req);
        const { rule, created } = rules.put(ns, q, req.params.rule, body.rights);
        return { ...ruleRes(ns, q, rule), created };
      }),
    );
    route(
      "DELETE",
      `${base}/:rule`,
      handle((req, ns, q) => void rules.delete(ns, q, req.params.rule)),
    );
    route(
      "POST",
      `${base}/:rule/listKeys`,
      handle((req, ns, q) => keys(nsName(ns), q, rules.get(ns, q, req.params.rule), req.query.get("tls") === "true")),
    );
    route(
      "POST",
      `${base}/:rule/regenerateKeys`,
      handle(async (req, ns, q) => {
        const body = await jsonBody(req);
        const value = body.key === undefined || body.key === null ? undefined : String(body.key);
        const rule = rules.renew(ns, q, req.params.rule, String(body.keyType ?? ""), value);
        return keys(nsName(ns), q, rule, req.query.get("tls") === "true");
      }),
    );
  }
}
