// What makes `new ServiceBusAdministrationClient(sb.connectionString, sb.adminClientOptions)` work in a test process.
// The admin client (@azure/service-bus 7.9) sends its ATOM requests over HTTPS to the Endpoint's host:port, while
// the connection string's port is the plain AMQP listener (where ServiceBusClient belongs), and a running process
// cannot start trusting the local CA through NODE_EXTRA_CA_CERTS (Node reads it once, at start). The SDK passes an
// `agent` option on to every request (core-rest-pipeline's agent policy): this one trusts the CA and opens its
// connections to the broker's HTTPS port, which serves the admin API (docs/testing.md, docs/tls.md).
import { Agent } from "node:https";
import type { Duplex } from "node:stream";
import { connect, type ConnectionOptions } from "node:tls";

export class AdminAgent extends Agent {
  constructor(private readonly target: { host: string; port: number; ca: string }) {
    super({ keepAlive: true });
  }

  // every connection goes to the HTTPS port; the request keeps its URL and Host (localhost:<amqp port>), a name
  // the admin API answers on any port
  override createConnection(): Duplex {
    const { host, port, ca } = this.target;
    return connect({ host, port, ca, servername: "localhost" } satisfies ConnectionOptions);
  }
}

/** Options for ServiceBusAdministrationClient; `agent` matches core-rest-pipeline's PipelineOptions.agent. */
export interface AdminClientOptions {
  agent: Agent;
}
