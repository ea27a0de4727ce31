// The one place that wires components from a loaded config, in one order, each given what it needs:
// store → broker → rules → CA → identity → listeners → jobs → project service → control API and dashboard.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { dirname, join } from "node:path";
import { Addresses, type ConnectionOptions, type Endpoints } from "./addresses.js";
import { registerControlApi } from "./api/control.js";
import { registerV1 } from "./api/v1.js";
import { registerDashboard } from "./dashboard/static.js";
import type { ProjectConfig } from "./model/config.js";
import type { RefLookup } from "./model/refs.js";
import { buildImages, progressLines, ProjectService } from "./control/project-service.js";
import { keepGeneratedKeys, readState, servedConfig, stateKeys } from "./control/state.js";
import { RequestGuard } from "./http/request-guard.js";
import { Router, sendJson } from "./http/router.js";
import { ensureCa, type LocalCa } from "./identity/ca.js";
import { ensureServerCert, serverNames } from "./identity/certs.js";
import { IdentityService, tokenEndpointUrl } from "./identity/service.js";
import { createHttpListener, listenOn, serveAmqpWebSockets, TlsListener } from "./listeners.js";
import { serviceBusTriggers } from "./scaling/triggers/embedded.js";
import { registerAdminApi } from "./servicebus/admin/routes.js";
import { AmqpServer } from "./servicebus/amqp/server.js";
import { AuthorizationRules } from "./servicebus/authorization-rules.js";
import { Broker } from "./servicebus/broker.js";
import { MemoryStore } from "./servicebus/store/memory.js";
import { SqliteStore } from "./servicebus/store/sqlite.js";
import type { MessageStore } from "./servicebus/store/types.js";
import { createJobs, type Jobs } from "./triggering/jobs-service.js";
import type { Clock } from "./triggering/schedule-trigger.js";

export type { Endpoints } from "./addresses.js";

export interface PlatformOptions {
  config: ProjectConfig;
  /** default ./.eventjobs; holds the database and server.json */
  dataDir?: string;
  /** keep messages in memory only (nothing survives a restart) */
  inMemory?: boolean;
  /** default 127.0.0.1 */
  host?: string;
  /**
   * Host names the control API, dashboard and identity endpoint answer to besides loopback names, `host` and
   * the namespaces' names (`up --allowed-host`); a leading "." accepts every subdomain (http/request-guard.ts)
   */
  allowedHosts?: string[];
  /** default 5672; 0 picks a free port */
  amqpPort?: number;
  /** default 5300; 0 picks a free port */
  httpPort?: number;
  /** AMQP over TLS; default 5671; 0 picks a free port */
  amqpsPort?: number;
  /** HTTPS (and AMQP over wss); default 5301; 0 picks a free port */
  httpsPort?: number;
  /** the local CA's directory; default `EVENTJOBS_CA_DIR` or the user's data home (identity/ca.ts) */
  caDir?: string;
  log?: (line: string) => void;
  /** the job schedule's clock (tests) */
  clock?: Clock;
}

type Credentials = { key: string; cert: string };

/** What close() shuts down; when start fails part-way, whatever was built so far. */
interface Running {
  store: MessageStore;
  broker: Broker;
  /** aborted when close() begins: streams that would otherwise stay open (logs --follow) end on it */
  stopping: AbortController;
  serverFile: string;
  project?: ProjectService;
  http?: Server;
  amqp?: AmqpServer;
  tls: TlsListener[];
  wss?: ReturnType<typeof serveAmqpWebSockets>;
  jobs?: Jobs;
}

interface Parts {
  broker: Broker;
  rules: AuthorizationRules;
  ca: LocalCa;
  identity: IdentityService;
  router: Router;
  endpoints: Endpoints;
  jobs: Jobs;
  project: ProjectService;
  addresses: Addresses;
  serverCertificate: () => Credentials;
  running: Running;
}

export class Platform {
  readonly broker: Broker;
  /** shared access policies of namespaces and queues changed at run time */
  readonly rules: AuthorizationRules;
  /** the CA that signed the TLS certificate; `ca.certPath` is what clients trust */
  readonly ca: LocalCa;
  /** managed identities, the token issuer and endpoint, JWT + RBAC for $cbs */
  readonly identity: IdentityService;
  /** every HTTP(S) route: components register here */
  readonly router: Router;
  readonly endpoints: Endpoints;
  /** jobs: definitions, executions, logs, scale loops */
  readonly jobs: Jobs;
  /** plan / apply / destroy of project files, and what the project owns */
  readonly project: ProjectService;
  /** `${servicebus.<ns>.connectionString|fqdn|host}` and `${identity.<name>.…}` as a job sees them */
  readonly lookupRef: RefLookup;
  private readonly addresses: Addresses;
  private readonly renewCertificate: () => Credentials;
  private readonly running: Running;

  private constructor(p: Parts) {
    this.broker = p.broker;
    this.rules = p.rules;
    this.ca = p.ca;
    this.identity = p.identity;
    this.router = p.router;
    this.endpoints = p.endpoints;
    this.jobs = p.jobs;
    this.project = p.project;
    this.addresses = p.addresses;
    this.lookupRef = p.addresses.lookupRef;
    this.renewCertificate = p.serverCertificate;
    this.running = p.running;
  }

  static async start(opts: PlatformOptions): Promise<Platform> {
    const dataDir = opts.dataDir ?? ".eventjobs";
    const host = opts.host ?? "127.0.0.1";
    // false: an in-memory platform without a data dir, which keeps no state there (it still writes server.json,
    // which the CLI finds the server by, and the TLS certificate)
    const persist = !opts.inMemory || opts.dataDir !== undefined;

    // store
    let store: MessageStore;
    if (opts.inMemory) store = new MemoryStore();
    else {
      mkdirSync(dataDir, { recursive: true });
      store = new SqliteStore(join(dataDir, "eventjobs.db"));
    }

    // broker
    const previous = persist ? readState(dataDir) : undefined;
    // a namespace key the file leaves out stays the one it had (connection strings survive restarts)
    keepGeneratedKeys(opts.config, stateKeys(previous));
    // a data dir with an applied project starts as it was left, with what was made outside the project
    // (sbemulatorns and its run-time queues); apply (below) then makes the file's changes
    const base = servedConfig(previous, opts.config);
    const broker = new Broker(store, base);

    // rules created and keys renewed at run time (authorization-rule ...) come back; the file's keys still win at apply
    const rules = new AuthorizationRules(broker, persist ? dataDir : undefined);
    rules.restore();
    keepGeneratedKeys(opts.config, (ns, queue) =>
      queue === undefined ? broker.namespace(ns)?.policies : broker.namespace(ns)?.queuePolicies(queue),
    );

    const running: Running = {
      store,
      broker,
      stopping: new AbortController(),
      serverFile: join(dataDir, "server.json"),
      tls: [],
    };
    try {
      // CA; the server certificate names the namespaces served, so it is issued again when they change
      const ca = ensureCa(opts.caDir);
      const certificate = (): Credentials => {
        const { key, cert } = ensureServerCert(
          ca,
          serverNames([...broker.namespaces.keys()], [host]),
          join(dataDir, "tls", "server.pem"),
        );
        return { key, cert };
      };

      // identity. Two parts it needs come later: the HTTP port (the listeners need identity's token check)
      // and the jobs (they need identity's replica variables); it asks for both only once they exist.
      let tokenUrl = "";
      let jobs: Jobs | undefined;
      const identity = new IdentityService({
        config: base,
        dir: persist ? join(dataDir, "identity") : undefined,
        endpointUrl: () => tokenUrl,
        caFile: () => ca.certPath,
        job: (name) => jobs?.engine.job(name),
        namespaces: () => broker.namespaces.keys(),
      });

      // listeners
      const amqp = (running.amqp = new AmqpServer({ broker, log: opts.log, validateToken: identity.validateToken }));
      const amqpPort = await amqp.listen({ port: opts.amqpPort ?? 5672, host });
      const router = new Router();
      // Host, Origin and Content-Type checks against cross-site requests and DNS rebinding
      const guard = new RequestGuard({
        listenHost: host,
        namespaces: () => broker.namespaces.keys(),
        allowedHosts: opts.allowedHosts,
      });
      router.use(guard.check);
      router.on("GET", "/health", (_req, res) =>
        sendJson(res, 200, { status: "healthy", message: "Service is healthy." }),
      );
      identity.register(router);
      // ATOM admin API; its entity paths are a catch-all that leaves the control API's prefixes alone
      registerAdminApi(router, broker);
      const http = (running.http = createHttpListener(router.handle));
      const httpPort = await listenOn(http, opts.httpPort ?? 5300, host);
      tokenUrl = tokenEndpointUrl(host, httpPort);
      // TLS: both ports speak AMQP and HTTPS/wss (listeners.ts); the same router serves HTTP and HTTPS
      running.wss = serveAmqpWebSockets(http, amqp);
      const credentials = certificate();
      const tls = (running.tls = [new TlsListener(credentials, amqp, http), new TlsListener(credentials, amqp, http)]);
      const amqpsPort = await tls[0].listen(opts.amqpsPort ?? 5671, host);
      const httpsPort = await tls[1].listen(opts.httpsPort ?? 5301, host);
      const endpoints: Endpoints = { host, amqpPort, httpPort, amqpsPort, httpsPort };
      writeServerFile(running.serverFile, endpoints, ca.certPath);
      const addresses = new Addresses(broker, endpoints, (name, prop) => identity.lookupRef(name, prop));
      const serverCertificate = (): Credentials => {
        const c = certificate();
        for (const l of tls) l.setCredentials(c);
        return c;
      };

      // jobs; `up --config` goes through apply, and images come first: no execution starts without its image
      const progress = progressLines(opts.log ?? (() => {}));
      const imagesDir = join(dataDir, "images");
      buildImages(imagesDir, opts.config, progress);
      jobs = running.jobs = createJobs({
        dataDir,
        inMemory: opts.inMemory,
        jobs: (base.extra?.jobs as unknown[] | undefined) ?? [],
        triggers: serviceBusTriggers({
          broker,
          ownPorts: () => [amqpPort, amqpsPort, httpPort, httpsPort],
          ca: () => readFileSync(ca.certPath, "utf8"),
        }),
        refs: addresses.lookupRef,
        platformEnv: (job) => identity.replicaEnv(job),
        clock: opts.clock,
      });

      // project service, then the file's changes
      const project = (running.project = new ProjectService(
        {
          broker,
          identity,
          jobs,
          imagesDir,
          lookupRef: addresses.lookupRef,
          namespaceRef: (ns, prop) => addresses.namespaceRef(ns, prop),
          serverCertificate,
        },
        persist ? dataDir : undefined,
      ));
      await project.apply(opts.config, progress, { imagesBuilt: true });

      // control API: jobs, then projects, Service Bus, identities
      registerControlApi(router, { jobs, dataDir, host, stopping: running.stopping.signal });
      const connectionString = (ns: string, o: ConnectionOptions) => addresses.connectionString(ns, o);
      const stopping = running.stopping.signal;
      registerV1(
        router,
        { host, project, broker, rules, identity, jobs, endpoints, connectionString, serverCertificate, stopping },
        dataDir,
        persist,
      );
      registerDashboard(router);

      return new Platform({
        broker,
        rules,
        ca,
        identity,
        router,
        endpoints,
        jobs,
        project,
        addresses,
        serverCertificate,
        running,
      });
    } catch (e) {
      await shutdown(running);
      throw e;
    }
  }

  /**
   * The emulator's well-known connection string, pointing at our AMQP port. With `tls: true`, the cloud form
   * instead (no UseDevelopmentEmulator): `Endpoint=sb://<host>:<amqpsPort>/`, for clients that trust the local CA.
   */
  connectionString(namespace?: string, opts: ConnectionOptions = {}): string {
    return this.addresses.connectionString(namespace, opts);
  }

  /**
   * Issues the server certificate again if the names changed (a namespace was added) and serves it to new
   * TLS connections. Apply calls this after changing namespaces.
   */
  serverCertificate(): Credentials {
    return this.renewCertificate();
  }

  /** A namespace's `connectionString|fqdn|host`, also for one that apply is about to create. */
  namespaceRef(
    ns: { name: string; isDefault: boolean; policy: { name: string; primaryKey: string } },
    prop: string,
  ): string | undefined {
    return this.addresses.namespaceRef(ns, prop);
  }

  close(): Promise<void> {
    return shutdown(this.running);
  }
}

/** server.json: how the CLI and `eventjobs exec` find this server. */
function writeServerFile(file: string, e: Endpoints, caFile: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const addresses = {
    pid: process.pid,
    amqp: `amqp://${e.host}:${e.amqpPort}`,
    http: `http://${e.host}:${e.httpPort}`,
    amqps: `amqps://${e.host}:${e.amqpsPort}`,
    https: `https://${e.host}:${e.httpsPort}`,
    caFile,
  };
  writeFileSync(file, JSON.stringify(addresses, null, 2));
}

async function shutdown(r: Running): Promise<void> {
  r.stopping.abort(); // log followers' streams end now (their CLI says the server stopped)
  await r.project?.close(); // an apply under way finishes and its stream ends with the result; no new one starts
  // no new HTTP requests; idle keep-alive connections end now, busy ones (long polls) after a short grace
  const httpClosed = new Promise<void>((resolve) => (r.http ? r.http.close(() => resolve()) : resolve()));
  r.http?.closeIdleConnections();
  const cut = setTimeout(() => r.http?.closeAllConnections(), 1000);
  await r.jobs?.close();
  await r.amqp?.close();
  await Promise.all(r.tls.map((l) => l.close()));
  for (const ws of r.wss?.clients ?? []) ws.terminate();
  await httpClosed;
  clearTimeout(cut);
  r.broker.close(); // queues its last writes (locks) first
  await r.store.flush();
  r.store.close();
  rmSync(r.serverFile, { force: true });
}
