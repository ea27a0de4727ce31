// startServiceBus(): the platform in the test's own process, on free loopback ports, with helpers shaped for a test
// file. Each helper is a control API call (control-client.ts), the one the matching CLI command makes. Every
// instance has its own ports, data dir and stores, so several can run in one process (docs/testing.md).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { emptyConfig, loadConfigFile, parseConfigText } from "../config/load.js";
import type { ProjectConfig } from "../model/config.js";
import { Platform } from "../platform.js";
import { AdminAgent, type AdminClientOptions } from "./admin-agent.js";
import { ControlClient, ControlError, seg } from "./control-client.js";
import { ExecutionHelpers, type Execution, type LogEntry, type WaitOptions } from "./executions.js";

type Obj = Record<string, unknown>;

/** A queue: its name, or its name and properties as eventjobs.yaml writes them (`lockDuration: PT30S`, …). */
export type QueueSpec = string | { name: string; properties?: Obj };
/**
 * A subscription; `rules` (the control API's rule properties: `{ name, properties: { sqlFilter: … } }`) replace the
 * `$Default` rule a new subscription gets, as rules declared in eventjobs.yaml do.
 */
export type SubscriptionSpec =
  string | { name: string; properties?: Obj; rules?: Array<{ name: string; properties: Obj }> };
export type TopicSpec = string | { name: string; properties?: Obj; subscriptions?: SubscriptionSpec[] };

export interface StartServiceBusOptions {
  /** made in the default namespace once the server is up (createQueue) */
  queues?: QueueSpec[];
  /** made with their subscriptions and rules once the server is up (createTopic) */
  topics?: TopicSpec[];
  /** the whole platform from a project: a path to eventjobs.yaml or Config.json, or eventjobs.yaml's shape */
  project?: string | Obj;
  /** default: a new temporary directory, removed by stop(); a directory you give is never removed */
  dataDir?: string;
  /** default true: messages and jobs in memory; false keeps them in SQLite in the data dir */
  inMemory?: boolean;
  /** the local CA's directory (default EVENTJOBS_CA_DIR or the user's data home, as `eventjobs up`) */
  caDir?: string;
  /** the platform's progress lines (image builds, apply); default: dropped */
  log?: (line: string) => void;
}

export interface OutgoingMessage {
  /** sent as an AMQP string value, as the SDKs send a string body */
  body: string;
  messageId?: string;
  contentType?: string;
  subject?: string;
  correlationId?: string;
  sessionId?: string;
  applicationProperties?: Record<string, string | number | boolean>;
}

/** A message as `peek` returns it: the fields an SDK's received message has, the body decoded. */
export interface PeekedMessage {
  sequenceNumber: number;
  messageId?: string;
  body: unknown;
  bodyEncoding?: "base64";
  contentType?: string;
  subject?: string;
  correlationId?: string;
  sessionId?: string;
  applicationProperties: Obj;
  enqueuedTimeUtc: string;
  deliveryCount: number;
  state: string;
  deadLetterReason?: string;
  [field: string]: unknown;
}

export interface ServiceBus extends AsyncDisposable {
  /** the emulator's connection string on this instance's AMQP port: `new ServiceBusClient(connectionString)` */
  connectionString: string;
  /** the same namespace over TLS (`Endpoint=sb://localhost:<amqps port>/`), for clients that trust `caFile` */
  tlsConnectionString: string;
  /** `localhost:<amqps port>`: for `new ServiceBusClient(fqdn, credential)` with a token credential over TLS */
  fqdn: string;
  /** `new ServiceBusAdministrationClient(connectionString, adminClientOptions)`: HTTPS trusting the local CA */
  adminClientOptions: AdminClientOptions;
  /** the local CA's certificate (PEM file) */
  caFile: string;
  /** http://127.0.0.1:<port>: health, the control API, the admin API */
  httpUrl: string;
  endpoints: { host: string; amqpPort: number; amqpsPort: number; httpPort: number; httpsPort: number };
  dataDir: string;
  /** the platform itself (src/platform.ts), for what the helpers do not cover */
  platform: Platform;
  createQueue(name: string, properties?: Obj): Promise<Obj>;
  createTopic(name: string, o?: { properties?: Obj; subscriptions?: SubscriptionSpec[] }): Promise<Obj>;
  /** to a queue or a topic; a string is the body */
  send(entity: string, message: string | OutgoingMessage): Promise<{ sequenceNumber: number; messageId: string }>;
  /** a queue, or a subscription as `<topic>/Subscriptions/<name>`; default up to 100 messages */
  peek(entity: string, o?: { count?: number; deadLetter?: boolean }): Promise<PeekedMessage[]>;
  waitForExecution(job: string, o?: WaitOptions): Promise<Execution>;
  /** newest first */
  executions(job: string): Promise<Execution[]>;
  logs(execution: Execution | { job: string; name: string }, o?: { kind?: "console" | "system" }): Promise<LogEntry[]>;
  /** stops the platform (executions too) and removes the data dir it made; safe to call twice */
  stop(): Promise<void>;
}

const OPTION_KEYS = ["queues", "topics", "project", "dataDir", "inMemory", "caDir", "log"];

export async function startServiceBus(options: StartServiceBusOptions = {}): Promise<ServiceBus> {
  checkOptions(options);
  const config = projectConfig(options.project);
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "eventjobs-testing-"));
  let platform: Platform;
  try {
    platform = await Platform.start({
      config,
      dataDir,
      inMemory: options.inMemory ?? true,
      host: "127.0.0.1",
      amqpPort: 0,
      httpPort: 0,
      amqpsPort: 0,
      httpsPort: 0,
      caDir: options.caDir,
      log: options.log,
    });
  } catch (e) {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const sb = handle(platform, dataDir, ownDir);
  try {
    for (const q of options.queues ?? [])
      await (typeof q === "string" ? sb.createQueue(q) : sb.createQueue(q.name, q.properties));
    for (const t of options.topics ?? []) await (typeof t === "string" ? sb.createTopic(t) : sb.createTopic(t.name, t));
  } catch (e) {
    await sb.stop();
    throw e;
  }
  return sb;
}

/** Bad options fail before anything starts, naming the option and the value. */
function checkOptions(o: StartServiceBusOptions): void {
  const bad = (path: string, value: unknown, expected: string): never => {
    throw new TypeError(`startServiceBus: ${path}: ${JSON.stringify(value) ?? String(value)} — expected ${expected}`);
  };
  if (typeof o !== "object" || o === null) bad("options", o, "an object");
  for (const k of Object.keys(o))
    if (!OPTION_KEYS.includes(k)) bad(k, (o as Obj)[k], `no such option (${OPTION_KEYS.join(", ")})`);
  const named = (path: string, list: unknown, what: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) bad(path, list, `a list of ${what}s`);
    (list as unknown[]).forEach((x, i) => {
      const name = typeof x === "string" ? x : (x as Obj | null)?.name;
      if (typeof name !== "string" || !name) bad(`${path}[${i}]`, x, `a ${what} name or { name, properties }`);
    });
  };
  named("queues", o.queues, "queue");
  named("topics", o.topics, "topic");
  if (o.project !== undefined && typeof o.project !== "string" && (typeof o.project !== "object" || o.project === null))
    bad("project", o.project, "a path to eventjobs.yaml or Config.json, or an object in eventjobs.yaml's shape");
  if (o.dataDir !== undefined && (typeof o.dataDir !== "string" || !o.dataDir))
    bad("dataDir", o.dataDir, "a directory path");
  if (o.inMemory !== undefined && typeof o.inMemory !== "boolean") bad("inMemory", o.inMemory, "true or false");
  if (o.log !== undefined && typeof o.log !== "function") bad("log", o.log, "a function (line) => void");
}

function projectConfig(project: StartServiceBusOptions["project"]): ProjectConfig {
  if (project === undefined) return emptyConfig();
  if (typeof project === "string") return loadConfigFile(project);
  // an object is read as eventjobs.yaml (JSON is YAML): the same checks, relative paths from the working directory
  return parseConfigText(JSON.stringify(project, null, 2), resolve("startServiceBus-project.yaml"));
}

function handle(platform: Platform, dataDir: string, ownDir: boolean): ServiceBus {
  const e = platform.endpoints;
  const httpUrl = `http://${e.host}:${e.httpPort}`;
  const api = new ControlClient(httpUrl);
  const jobs = new ExecutionHelpers(api);
  const ns = platform.broker.defaultNamespace;
  const agent = new AdminAgent({ host: e.host, port: e.httpsPort, ca: readFileSync(platform.ca.certPath, "utf8") });
  const base = `/servicebus/namespaces/${seg(ns)}`;

  /** `<topic>/Subscriptions/<sub>` → the subscription's route; anything else names a queue */
  const entityRoute = (entity: string) => {
    const m = /^([^/]+)\/subscriptions\/([^/]+)$/i.exec(entity);
    return m ? `${base}/topics/${seg(m[1])}/subscriptions/${seg(m[2])}` : `${base}/queues/${seg(entity)}`;
  };

  const createSubscription = async (topic: string, s: SubscriptionSpec) => {
    const sub = typeof s === "string" ? { name: s } : s;
    const what = `createTopic("${topic}"): subscription "${sub.name}"`;
    const path = `${base}/topics/${seg(topic)}/subscriptions/${seg(sub.name)}`;
    await api.call(what, "PUT", path, { properties: sub.properties ?? {} });
    const rules = (typeof s === "string" ? undefined : s.rules) ?? [];
    for (const r of rules)
      await api.call(`${what}, rule "${r.name}"`, "PUT", `${path}/rules/${seg(r.name)}`, {
        properties: r.properties ?? {},
      });
    // given rules are the subscription's rules, as in eventjobs.yaml: the $Default (1=1) a new one gets goes
    if (rules.length && !rules.some((r) => r.name === "$Default"))
      await api.call(`${what}: removing $Default`, "DELETE", `${path}/rules/${seg("$Default")}`);
  };

  let stopped: Promise<void> | undefined;
  const sb: ServiceBus = {
    connectionString: platform.connectionString(),
    tlsConnectionString: platform.connectionString(undefined, { tls: true }),
    fqdn: platform.lookupRef("servicebus", ns, "fqdn") ?? `localhost:${e.amqpsPort}`,
    adminClientOptions: { agent },
    caFile: platform.ca.certPath,
    httpUrl,
    endpoints: { ...e },
    dataDir,
    platform,

    createQueue: (name, properties = {}) =>
      api.call(`createQueue("${name}")`, "PUT", `${base}/queues/${seg(name)}`, { properties }),

    async createTopic(name, o = {}) {
      const topic = await api.call(`createTopic("${name}")`, "PUT", `${base}/topics/${seg(name)}`, {
        properties: o.properties ?? {},
      });
      for (const s of o.subscriptions ?? []) await createSubscription(name, s);
      return topic;
    },

    async send(entity, message) {
      const body = typeof message === "string" ? { body: message } : message;
      const what = `send("${entity}")`;
      try {
        return await api.call(what, "POST", `${base}/queues/${seg(entity)}/messages`, body);
      } catch (err) {
        // not a queue: a topic of that name
        if (!(err instanceof ControlError) || err.status !== 404) throw err;
        return await api.call(what, "POST", `${base}/topics/${seg(entity)}/messages`, body).catch((t) => {
          throw t instanceof ControlError && t.status === 404
            ? new Error(`${what}: no queue or topic "${entity}" in namespace ${ns}`)
            : t;
        });
      }
    },

    async peek(entity, o = {}) {
      const query = new URLSearchParams({ count: String(o.count ?? 100) });
      if (o.deadLetter) query.set("deadLetter", "true");
      return (await api.call(`peek("${entity}")`, "GET", `${entityRoute(entity)}/messages?${query}`)).value;
    },

    waitForExecution: (job, o) => jobs.waitForExecution(job, o),
    executions: (job) => jobs.executions(job),
    logs: (execution, o) => jobs.logs(execution, o),

    stop() {
      stopped ??= (async () => {
        agent.destroy();
        api.close();
        await platform.close();
        if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
    [Symbol.asyncDispose]() {
      return sb.stop();
    },
  };
  return sb;
}
