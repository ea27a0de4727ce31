// The control API modules beyond jobs (control.ts): projects, Service Bus, identities. One call from the
// platform registers them all with the same token check.
import { join } from "node:path";
import type { Platform } from "../platform.js";
import { registerAuthorizationRulesApi, type ConnectionStringOptions } from "./authorization-rules.js";
import { apiRoute } from "./control.js";
import { registerIdentityApi } from "./identity.js";
import { registerProjectApi } from "./project.js";
import { registerServiceBusApi } from "./servicebus.js";
import type { Router } from "./router.js";

/** `persist` false: an in-memory platform without a data dir, which writes nothing. */
export function registerV1(router: Router, p: Platform, dataDir: string, persist: boolean): void {
  const route = apiRoute(router, { dataDir, host: p.endpoints.host });
  registerProjectApi(route, p.project);
  const connectionString = (ns: string, o: ConnectionStringOptions) => p.connectionString(ns, o);
  registerServiceBusApi(route, { broker: p.broker, connectionString });
  registerAuthorizationRulesApi(route, { rules: p.rules, connectionString });
  registerIdentityApi(route, { identity: p.identity, broker: p.broker, jobs: () => p.jobs, dir: persist ? join(dataDir, "identity") : undefined });
}
