// The one place that wires components from a loaded config: store → broker → listeners.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Router, sendJson } from "./api/router.js";
import type { ProjectConfig } from "./config/model.js";
import { AmqpServer } from "./servicebus/amqp/server.js";
import { Broker } from "./servicebus/broker.js";
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
  /** default 5672; 0 picks a free port */
  amqpPort?: number;
  /** default 5300; 0 picks a free port */
  httpPort?: number;
  log?: (line: string) => void;
}

export interface Endpoints {
  host: string;
  amqpPort: number;
  httpPort: number;
}

export class Platform {
  private http?: Server;
  private amqp?: AmqpServer;
  /** every HTTP(S) route: components register here */
  readonly router = new Router();
  endpoints!: Endpoints;

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
    const broker = new Broker(store, opts.config);
    const p = new Platform(broker, store, { ...opts, dataDir });
    try {
      await p.listen();
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  private async listen(): Promise<void> {
    const host = this.opts.host ?? "127.0.0.1";
    this.amqp = new AmqpServer({ broker: this.broker, log: this.opts.log });
    const amqpPort = await this.amqp.listen({ port: this.opts.amqpPort ?? 5672, host });
    this.router.on("GET", "/health", (_req, res) => sendJson(res, 200, { status: "healthy", message: "Service is healthy." }));
    this.http = createServer(this.router.handle);
    const httpPort = await new Promise<number>((resolve, reject) => {
      this.http!.once("error", reject);
      this.http!.listen(this.opts.httpPort ?? 5300, host, () => resolve((this.http!.address() as AddressInfo).port));
    });
    this.endpoints = { host, amqpPort, httpPort };
    if (!this.opts.inMemory || this.opts.dataDir) this.writeServerFile();
  }

  /** The emulator's well-known connection string, pointing at our AMQP port. */
  connectionString(namespace?: string): string {
    const ns = this.broker.namespace(namespace ?? this.broker.defaultNamespace)!;
    const policy = ns.policies[0];
    const host = ns.name === this.broker.defaultNamespace ? "localhost" : `${ns.name}.localhost`;
    const port = this.endpoints.amqpPort === 5672 ? "" : `:${this.endpoints.amqpPort}`;
    return `Endpoint=sb://${host}${port};SharedAccessKeyName=${policy.name};SharedAccessKey=${policy.primaryKey};UseDevelopmentEmulator=true;`;
  }

  private writeServerFile(): void {
    const dir = this.opts.dataDir!;
    mkdirSync(dir, { recursive: true });
    const e = this.endpoints;
    writeFileSync(
      join(dir, "server.json"),
      JSON.stringify({ pid: process.pid, amqp: `amqp://${e.host}:${e.amqpPort}`, http: `http://${e.host}:${e.httpPort}` }, null, 2),
    );
  }

  async close(): Promise<void> {
    await this.amqp?.close();
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
    this.http?.closeAllConnections?.();
    this.broker.close(); // queues its last writes (locks) first
    await this.store.flush();
    this.store.close();
    if (this.opts.dataDir) rmSync(join(this.opts.dataDir, "server.json"), { force: true });
  }
}
