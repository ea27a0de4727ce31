// The control API modules beyond jobs (control.ts): projects, Service Bus, identities, Log Analytics queries,
// the event stream.
// One call from the platform registers them all with the same token check.
import { join } from "node:path";
import type { ProjectService } from "../control/project-service.js";
import type { Endpoints } from "../addresses.js";
import type { Router } from "../http/router.js";
import type { IdentityService } from "../identity/service.js";
import type { AuthorizationRules } from "../servicebus/authorization-rules.js";
import type { Broker } from "../servicebus/broker.js";
import type { Jobs } from "../triggering/jobs-service.js";
import { registerAuthorizationRulesApi, type ConnectionStringOptions } from "./authorization-rules.js";
import { apiRoute } from "./control.js";
import { registerEventsApi } from "./events.js";
import { registerIdentityApi } from "./identity.js";
import { registerMonitorApi } from "./monitor.js";
import { registerProjectApi } from "./project.js";
import { registerGroupsApi } from "./groups.js";
import { namespaceGroup, registerServiceBusApi } from "./servicebus.js";
import { registerNamespacesApi } from "./servicebus-namespaces.js";
import { registerServiceBusTools } from "./servicebus-tools.js";
import { registerTopicsApi } from "./servicebus-topics.js";
import { registerStatusApi } from "./status.js";

/** What these modules use of the running platform (platform.ts passes it; declared here so api/ does not import it). */
export interface V1Parts {
  /** the address the listeners are bound to */
  host: string;
  project: ProjectService;
  broker: Broker;
  rules: AuthorizationRules;
  identity: IdentityService;
  jobs: Jobs;
  endpoints: Endpoints;
  connectionString(namespace: string, o: ConnectionStringOptions): string;
  /** issues the TLS certificate again when the served namespaces change */
  serverCertificate(): unknown;
  /** aborted when the server shuts down: the event streams end then */
  stopping?: AbortSignal;
}

/** `persist` false: an in-memory platform without a data dir, which writes nothing. */
export function registerV1(router: Router, p: V1Parts, dataDir: string, persist: boolean): void {
  const route = apiRoute(router, { dataDir, host: p.host });
  registerProjectApi(route, p.project);
  const connectionString = (ns: string, o: ConnectionStringOptions) => p.connectionString(ns, o);
  const groupLocation = registerGroupsApi(route, persist ? dataDir : undefined);
  registerNamespacesApi(route, {
    broker: p.broker,
    rules: p.rules,
    connectionString,
    serverCertificate: () => p.serverCertificate(),
    groupLocation,
  });
  registerServiceBusApi(route, { broker: p.broker, connectionString });
  registerTopicsApi(route, p.broker);
  registerServiceBusTools(route, p.broker);
  registerAuthorizationRulesApi(route, {
    rules: p.rules,
    connectionString,
    resourceGroup: (ns) => namespaceGroup(p.broker, ns),
  });
  registerIdentityApi(route, {
    identity: p.identity,
    broker: p.broker,
    jobs: () => p.jobs,
    dir: persist ? join(dataDir, "identity") : undefined,
  });
  registerMonitorApi(route, { logs: () => p.jobs.logs, dataDir: persist ? dataDir : undefined });
  registerEventsApi(route, { broker: p.broker, jobs: p.jobs, stopping: p.stopping });
  // last: it answers only once everything before it is in place (`eventjobs status`, `wait-ready`)
  registerStatusApi(route, { broker: p.broker, jobs: p.jobs, endpoints: p.endpoints });
}
