// The one place that wires components from a loaded config: store → broker → listeners.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { registerControlApi } from "./api/control.js";
import { registerV1 } from "./api/v1.js";
import { progressLines, ProjectService } from "./control/project.js";
import { keepGeneratedKeys, readState, servedConfig, stateKeys } from "./control/state.js";
import { RequestGuard } from "./api/request-guard.js";
import { Router, sendJson } from "./api/router.js";
import type { ProjectConfig } from "./config/model.js";
import type { RefLookup } from "./config/refs.js";
import type { Clock } from "./triggering/schedule-trigger.js";
import { createJobs, type Jobs } from "./triggering/jobs-service.js";
import { serviceBusTriggers } from "./scaling/triggers/embedded.js";
import { ensureCa, type LocalCa } from "./identity/ca.js";
import { ensureServerCert, serverNames } from "./identity/certs.js";
import { IdentityService, tokenEndpointUrl } from "./identity/service.js";
import { createHttpListener, listenOn, serveAmqpWebSockets, TlsListener } from "./listeners.js";
import { AmqpServer } from "./servicebus/amqp/server.js";
import { registerAdminApi } from "./servicebus/admin/routes.js";
import { AuthorizationRules } from "./servicebus/authorization-rules.js";
import { Broker, parseRuntimeDefinition } from "./servicebus/broker.js";
import { MemoryStore } from "./servicebus/store/memory.js";
import { SqliteStore } from "./servicebus/store/sqlite.js";
import type { MessageStore } from "./servicebus/store/types.js";

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
   * the namespaces' names (`up --allowed-host`); a leading "." accepts every subdomain (api/request-guard.ts)
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

export interface Endpoints {
  host: string;
  amqpPort: number;
  httpPort: number;
  amqpsPort: number;
  httpsPort: number;
}

export class Platform {
  private http?: Server;
  private amqp?: AmqpServer;
  /** every HTTP(S) route: components register here */
  readonly router = new Router();
  endpoints!: Endpoints;
  /** jobs: definitions, executions, logs, scale loops */
  jobs!: Jobs;
  /** the CA that signed the TLS certificate; `ca.certPath` is what clients trust */
  ca!: LocalCa;
  /** managed identities, the token issuer and endpoint, JWT + RBAC for $cbs */
  identity!: IdentityService;
  /** plan / apply / destroy of project files, and what the project owns */
  project!: ProjectService;
  /** shared access policies of namespaces and queues changed at run time */
  rules!: AuthorizationRules;
  private tls: TlsListener[] = [];
  /** aborted when close() begins: streams that would otherwise stay open (logs --follow) end on it */
  private readonly stopping = new AbortController();
  private wss?: ReturnType<typeof serveAmqpWebSockets>;

  private constructor(
    readonly broker: Broker,
    private readonly store: MessageStore,
    private readonly opts: PlatformOptions,
  ) {}

  static async start(opts: PlatformOptions): Promise<Platform> {
    const dataDir = opts.dataDir ?? ".eventjobs";
    let store: MessageStore;
    if (opts.inMemory) store = new MemoryStore();
    else {
      mkdirSync(dataDir, { recursive: true });
      store = new SqliteStore(join(dataDir, "eventjobs.db"));
    }
    const persist = !opts.inMemory || opts.dataDir !== undefined;
    const previous = persist ? readState(dataDir) : undefined;
    // a namespace key the file leaves out stays the one it had (connection strings survive restarts)
    keepGeneratedKeys(opts.config, stateKeys(previous));
    // a data dir with an applied project starts as it was left, with what was made outside the project
    // (sbemulatorns and its run-time queues); apply (below) then makes the file's changes
    const runtime = store.listEntities().flatMap((r) => (parseRuntimeDefinition(r.definition) ? [r.path.split("/")[0]] : []));
    const base = servedConfig(previous, opts.config, runtime);
    const broker = new Broker(store, base);
    // rules created and keys renewed at run time (authorization-rule ...) come back; the file's keys still win at apply
    const rules = new AuthorizationRules(broker, persist ? dataDir : undefined);
    rules.restore();
    keepGeneratedKeys(opts.config, (ns, queue) => (queue === undefined ? broker.namespace(ns)?.policies : broker.namespace(ns)?.queuePolicies(queue)));
    const p = new Platform(broker, store, { ...opts, dataDir });
    p.rules = rules;
    try {
      p.identity = new IdentityService({
        config: base,
        dir: !opts.inMemory || opts.dataDir ? join(dataDir, "identity") : undefined,
        endpointUrl: () => tokenEndpointUrl(p.endpoints.host, p.endpoints.httpPort),
        caFile: () => p.ca.certPath,
        job: (name) => p.jobs?.engine.job(name),
        namespaces: () => broker.namespaces.keys(),
      });
      await p.listen();
      // `up --config` goes through apply: images first (no execution starts without its image), then the rest
      const progress = progressLines(opts.log ?? (() => {}));
      p.project = new ProjectService(
        { broker, get identity() { return p.identity; }, get jobs() { return p.jobs; }, imagesDir: join(dataDir, "images"), lookupRef: p.lookupRef, namespaceRef: (ns, prop) => p.namespaceRef(ns, prop), serverCertificate: () => p.serverCertificate() },
        persist ? dataDir : undefined,
      );
      p.project.buildImages(opts.config, progress);
      p.jobs = createJobs({
        dataDir,
        inMemory: opts.inMemory,
        jobs: (base.extra?.jobs as unknown[] | undefined) ?? [],
        triggers: serviceBusTriggers({
          broker,
          ownPorts: () => [p.endpoints.amqpPort, p.endpoints.amqpsPort, p.endpoints.httpPort, p.endpoints.httpsPort],
          ca: () => readFileSync(p.ca.certPath, "utf8"),
        }),
        refs: p.lookupRef,
        platformEnv: (job) => p.identity.replicaEnv(job),
        clock: opts.clock,
      });
      await p.project.apply(opts.config, progress, { imagesBuilt: true });
      registerControlApi(p.router, { jobs: p.jobs, dataDir, host: p.endpoints.host, stopping: p.stopping.signal });
      registerV1(p.router, p, dataDir, persist); // projects, Service Bus, identities
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  private async listen(): Promise<void> {
    const host = this.opts.host ?? "127.0.0.1";
    this.amqp = new AmqpServer({ broker: this.broker, log: this.opts.log, validateToken: this.identity.validateToken });
    const amqpPort = await this.amqp.listen({ port: this.opts.amqpPort ?? 5672, host });
    // Host, Origin and Content-Type checks against cross-site requests and DNS rebinding
    const guard = new RequestGuard({ listenHost: host, namespaces: () => this.broker.namespaces.keys(), allowedHosts: this.opts.allowedHosts });
    this.router.use(guard.check);
    this.router.on("GET", "/health", (_req, res) => sendJson(res, 200, { status: "healthy", message: "Service is healthy." }));
    this.identity.register(this.router);
    registerAdminApi(this.router, this.broker); // ATOM admin API; its entity paths are a catch-all, so keep it last
    this.http = createHttpListener(this.router.handle);
    const httpPort = await listenOn(this.http, this.opts.httpPort ?? 5300, host);
    // TLS: both ports speak AMQP and HTTPS/wss (listeners.ts); the same router serves HTTP and HTTPS
    this.wss = serveAmqpWebSockets(this.http, this.amqp);
    this.ca = ensureCa(this.opts.caDir);
    const credentials = this.serverCertificate();
    this.tls = [new TlsListener(credentials, this.amqp, this.http), new TlsListener(credentials, this.amqp, this.http)];
    const amqpsPort = await this.tls[0].listen(this.opts.amqpsPort ?? 5671, host);
    const httpsPort = await this.tls[1].listen(this.opts.httpsPort ?? 5301, host);
    this.endpoints = { host, amqpPort, httpPort, amqpsPort, httpsPort };
    if (!this.opts.inMemory || this.opts.dataDir) this.writeServerFile();
  }

  /**
   * The emulator's well-known connection string, pointing at our AMQP port. With `tls: true`, the cloud form
   * instead (no UseDevelopmentEmulator): `Endpoint=sb://<host>:<amqpsPort>/`, for clients that trust the local CA.
   * The SDKs send AMQPS, AMQP over wss and the admin API all to that port, and it serves all three.
   */
  connectionString(namespace?: string, opts: { tls?: boolean; keyName?: string; key?: string; entityPath?: string } = {}): string {
    const ns = this.broker.namespace(namespace ?? this.broker.defaultNamespace)!;
    return this.formatConnectionString(namespaceHost(ns.name, ns.name === this.broker.defaultNamespace), ns.policies[0], opts);
  }

  private formatConnectionString(host: string, policy: { name: string; primaryKey: string }, opts: { tls?: boolean; keyName?: string; key?: string; entityPath?: string } = {}): string {
    // another rule's key (authorization-rule keys list); a queue's rule adds EntityPath, as Azure's do
    const keys = `SharedAccessKeyName=${opts.keyName ?? policy.name};SharedAccessKey=${opts.key ?? policy.primaryKey};${opts.entityPath ? `EntityPath=${opts.entityPath};` : ""}`;
    if (opts.tls) return `Endpoint=sb://${host}:${this.endpoints.amqpsPort}/;${keys}`;
    const port = this.endpoints.amqpPort === 5672 ? "" : `:${this.endpoints.amqpPort}`;
    return `Endpoint=sb://${host}${port};${keys}UseDevelopmentEmulator=true;`;
  }

  /**
   * Issues the server certificate again if the names changed (a namespace was added) and serves it to new
   * TLS connections. Start calls this; call it again after changing namespaces at run time.
   */
  serverCertificate(): { key: string; cert: string } {
    const names = serverNames([...this.broker.namespaces.keys()], [this.opts.host ?? "127.0.0.1"]);
    const { key, cert } = ensureServerCert(this.ca, names, join(this.opts.dataDir!, "tls", "server.pem"));
    for (const l of this.tls) l.setCredentials({ key, cert });
    return { key, cert };
  }

  private writeServerFile(): void {
    const dir = this.opts.dataDir!;
    mkdirSync(dir, { recursive: true });
    const e = this.endpoints;
    writeFileSync(
      join(dir, "server.json"),
      JSON.stringify(
        {
          pid: process.pid,
          amqp: `amqp://${e.host}:${e.amqpPort}`,
          http: `http://${e.host}:${e.httpPort}`,
          amqps: `amqps://${e.host}:${e.amqpsPort}`,
          https: `https://${e.host}:${e.httpsPort}`,
          caFile: this.ca.certPath,
        },
        null,
        2,
      ),
    );
  }

  /** `${servicebus.<ns>.connectionString|fqdn|host}` as a job sees them. */
  readonly lookupRef: RefLookup = (kind, name, prop) => {
    if (kind === "identity") return this.identity?.lookupRef(name, prop);
    if (kind !== "servicebus") return undefined;
    const ns = this.broker.namespace(name);
    if (!ns) return undefined;
    return this.namespaceRef({ name: ns.name, isDefault: ns.name === this.broker.defaultNamespace, policy: ns.policies[0] }, prop);
  };

  /** A namespace's `connectionString|fqdn|host`, also for one that apply is about to create. */
  namespaceRef(ns: { name: string; isDefault: boolean; policy: { name: string; primaryKey: string } }, prop: string): string | undefined {
    const host = namespaceHost(ns.name, ns.isDefault);
    if (prop === "connectionString") return this.formatConnectionString(host, ns.policy);
    if (prop === "host") return host;
    // SDKs connect to the FQDN on 5671; JS also takes "host:port" (Debian's Python SDK only ever uses 5671)
    if (prop === "fqdn") return this.endpoints.amqpsPort === 5671 ? host : `${host}:${this.endpoints.amqpsPort}`;
    return undefined;
  }

  async close(): Promise<void> {
    this.stopping.abort(); // log followers' streams end now (their CLI says the server stopped)
    await this.project?.close(); // an apply under way finishes and its stream ends with the result; no new one starts
    // no new HTTP requests; idle keep-alive connections end now, busy ones (long polls) after a short grace
    const httpClosed = new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
    this.http?.closeIdleConnections();
    const cut = setTimeout(() => this.http?.closeAllConnections(), 1000);
    await this.jobs?.close();
    await this.amqp?.close();
    await Promise.all(this.tls.map((l) => l.close()));
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    await httpClosed;
    clearTimeout(cut);
    this.broker.close(); // queues its last writes (locks) first
    await this.store.flush();
    this.store.close();
    if (this.opts.dataDir) rmSync(join(this.opts.dataDir, "server.json"), { force: true });
  }
}

/** The host name clients use for a namespace: `localhost` reaches the default one, `<ns>.localhost` the others. */
function namespaceHost(name: string, isDefault: boolean): string {
  return isDefault ? "localhost" : `${name}.localhost`;
}
