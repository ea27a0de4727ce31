// How clients and jobs reach the served namespaces once the listeners have their ports: connection strings,
// and the `${servicebus.<ns>.connectionString|fqdn|host}` / `${identity.<name>.…}` references jobs use.
import type { RefLookup } from "./model/refs.js";
import type { Broker } from "./servicebus/broker.js";

export interface Endpoints {
  host: string;
  amqpPort: number;
  httpPort: number;
  amqpsPort: number;
  httpsPort: number;
}

export interface ConnectionOptions {
  tls?: boolean;
  keyName?: string;
  key?: string;
  entityPath?: string;
}

export class Addresses {
  constructor(
    private readonly broker: Broker,
    private readonly endpoints: Endpoints,
    /** `${identity.<name>.<prop>}` */
    private readonly identityRef: (name: string, prop: string) => string | undefined,
  ) {}

  /**
   * The emulator's well-known connection string, pointing at our AMQP port. With `tls: true`, the cloud form
   * instead (no UseDevelopmentEmulator): `Endpoint=sb://<host>:<amqpsPort>/`, for clients that trust the local CA.
   * The SDKs send AMQPS, AMQP over wss and the admin API all to that port, and it serves all three.
   */
  connectionString(namespace?: string, opts: ConnectionOptions = {}): string {
    const ns = this.broker.namespace(namespace ?? this.broker.defaultNamespace)!;
    return this.format(namespaceHost(ns.name, ns.name === this.broker.defaultNamespace), ns.policies[0], opts);
  }

  /** `${servicebus.<ns>.connectionString|fqdn|host}` as a job sees them. */
  readonly lookupRef: RefLookup = (kind, name, prop) => {
    if (kind === "identity") return this.identityRef(name, prop);
    if (kind !== "servicebus") return undefined;
    const ns = this.broker.namespace(name);
    if (!ns) return undefined;
    return this.namespaceRef(
      { name: ns.name, isDefault: ns.name === this.broker.defaultNamespace, policy: ns.policies[0] },
      prop,
    );
  };

  /** A namespace's `connectionString|fqdn|host`, also for one that apply is about to create. */
  namespaceRef(
    ns: { name: string; isDefault: boolean; policy: { name: string; primaryKey: string } },
    prop: string,
  ): string | undefined {
    const host = namespaceHost(ns.name, ns.isDefault);
    if (prop === "connectionString") return this.format(host, ns.policy);
    if (prop === "host") return host;
    // SDKs connect to the FQDN on 5671; JS also takes "host:port" (Debian's Python SDK only ever uses 5671)
    if (prop === "fqdn") return this.endpoints.amqpsPort === 5671 ? host : `${host}:${this.endpoints.amqpsPort}`;
    return undefined;
  }

  private format(host: string, policy: { name: string; primaryKey: string }, opts: ConnectionOptions = {}): string {
    // another rule's key (authorization-rule keys list); a queue's rule adds EntityPath, as Azure's do
    const keys = `SharedAccessKeyName=${opts.keyName ?? policy.name};SharedAccessKey=${opts.key ?? policy.primaryKey};${opts.entityPath ? `EntityPath=${opts.entityPath};` : ""}`;
    if (opts.tls) return `Endpoint=sb://${host}:${this.endpoints.amqpsPort}/;${keys}`;
    const port = this.endpoints.amqpPort === 5672 ? "" : `:${this.endpoints.amqpPort}`;
    return `Endpoint=sb://${host}${port};${keys}UseDevelopmentEmulator=true;`;
  }
}

/** The host name clients use for a namespace: `localhost` reaches the default one, `<ns>.localhost` the others. */
function namespaceHost(name: string, isDefault: boolean): string {
  return isDefault ? "localhost" : `${name}.localhost`;
}
