// TLS and WebSocket listeners. Each TLS port (AMQPS 5671, HTTPS 5301) speaks both AMQP and HTTP: after the
// handshake the first byte tells them apart ("A" of the AMQP protocol header; no HTTP method starts with it).
// The SDKs send everything (AMQPS, WebSockets, the ATOM admin API) to the one port of the connection string's
// Endpoint, so with this one TLS connection string serves them all.
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from "node:tls";
import { WebSocketServer } from "ws";
import type { AmqpServer } from "./servicebus/amqp/server.js";

/** The path the SDKs use for AMQP over WebSockets (Python's uamqp adds a trailing slash). */
export const WEBSOCKET_PATH = "/$servicebus/websocket";
const AMQP_WS_PROTOCOL = "AMQPWSB10";

export class TlsListener {
  private readonly sockets = new Set<TLSSocket>();
  readonly server: TlsServer;

  constructor(credentials: { key: string; cert: string }, amqp: AmqpServer, http: HttpServer) {
    this.server = createTlsServer({ ...credentials, noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      // until a protocol owns the socket, a reset must not become an unhandled 'error'
      const early = () => socket.destroy();
      socket.on("error", early);
      socket.once("data", (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        socket.off("error", early);
        if (first[0] === 0x41) amqp.accept(socket);
        else http.emit("connection", socket);
        socket.resume();
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return listenOn(this.server, port, host);
  }

  /** Serves a new certificate to new connections (the set of namespace names changed). */
  setCredentials(credentials: SecureContextOptions): void {
    this.server.setSecureContext(credentials);
  }

  /** Stops listening and ends every connection (destroying what has not closed within `graceMs`). */
  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((r) => (this.server.listening ? this.server.close(() => r()) : r()));
    for (const s of this.sockets) s.end();
    const timer = setTimeout(() => this.sockets.forEach((s) => s.destroy()), graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }
}

/** Serves AMQP over WebSockets at WEBSOCKET_PATH on an HTTP(S) server's upgrade requests. */
export function serveAmqpWebSockets(http: HttpServer, amqp: AmqpServer): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    // the SDKs ask for AMQPWSB10; answer with whatever was asked so other AMQP clients work too
    handleProtocols: (protocols) => (protocols.has(AMQP_WS_PROTOCOL) ? AMQP_WS_PROTOCOL : (protocols.values().next().value ?? false)),
  });
  http.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0].replace(/\/+$/, "");
    if (path.toLowerCase() === WEBSOCKET_PATH) {
      wss.handleUpgrade(req, socket, head, (ws) => amqp.acceptWebSocket(ws));
    } else if (http.listenerCount("upgrade") === 1) {
      // nobody else serves upgrades on this path
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
  });
  return wss;
}

/** Listens and resolves with the real port (0 picks a free one); rejects with the listen error (EADDRINUSE). */
export function listenOn(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
