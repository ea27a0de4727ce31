// TLS and WebSocket listeners. Each TLS port (AMQPS 5671, HTTPS 5301) speaks both AMQP and HTTP: after the
// handshake the first byte tells them apart ("A" of the AMQP protocol header; no HTTP method starts with it).
// The SDKs send everything (AMQPS, WebSockets, the ATOM admin API) to the one port of the connection string's
// Endpoint, so with this one TLS connection string serves them all.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import type { Duplex } from "node:stream";
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type Server as TlsServer,
  type TLSSocket,
} from "node:tls";
import { WebSocketServer } from "ws";
import { MAX_WEBSOCKET_MESSAGE, type AmqpServer } from "./servicebus/amqp/server.js";

/** The path the SDKs use for AMQP over WebSockets (Python's uamqp adds a trailing slash). */
export const WEBSOCKET_PATH = "/$servicebus/websocket";
const AMQP_WS_PROTOCOL = "AMQPWSB10";

/**
 * Limits on how long a client may take, so held-open half requests (slow loris) cannot pile up: the request
 * head, the whole request, the TLS handshake, and the first byte after it (which picks AMQP or HTTP).
 */
export const HEADERS_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 60_000;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
const FIRST_BYTE_TIMEOUT_MS = HEADERS_TIMEOUT_MS;

/**
 * The HTTP server behind every HTTP and HTTPS port. A request Node's parser refuses (malformed request line
 * or header, headers too large, timeout) is answered with a 4xx and its connection closed.
 */
export function createHttpListener(handler: RequestListener): HttpServer {
  const server = createHttpServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    handler,
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    // only where nothing was answered yet: a pipelined response may be half written
    if (err.code !== "ECONNRESET" && socket.writable && (socket as Socket).bytesWritten === 0) {
      const status =
        err.code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? "408 Request Timeout"
            : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    } else socket.destroy();
  });
  // CONNECT (a proxy's method) is no request here; node:http hands its socket over without an 'error' listener
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => socket.destroy());
    socket.end("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", () =>
      socket.destroy(),
    );
  });
  // Node's own headersTimeout/requestTimeout miss connections that stall (on Node 20 a half-sent request head
  // or a silent connection was never timed out), so every connection also gets deadlines of its own: one for
  // each request head (from the connection, or from the previous response), one for each request body.
  server.on("connection", (socket: Socket) => {
    socket.once("close", () => disarm(socket));
    arm(socket, HEADERS_TIMEOUT_MS, () => timedOut(socket));
  });
  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const body = arm(socket, REQUEST_TIMEOUT_MS, () => (res.headersSent ? socket.destroy() : timedOut(socket)));
    req.once("end", () => deadlines.get(socket) === body && disarm(socket));
    // the next request's head is due within the same time (keep-alive's idle timeout usually ends it first)
    res.once("finish", () => !socket.destroyed && arm(socket, HEADERS_TIMEOUT_MS, () => timedOut(socket)));
  });
  return server;
}

const deadlines = new WeakMap<Socket, NodeJS.Timeout>();

function arm(socket: Socket, ms: number, onTimeout: () => void): NodeJS.Timeout {
  disarm(socket);
  const t = setTimeout(onTimeout, ms);
  t.unref();
  deadlines.set(socket, t);
  return t;
}

/** Ends a socket's deadline: a protocol that takes the socket over (WebSocket upgrade) calls this. */
export function disarm(socket: Socket): void {
  clearTimeout(deadlines.get(socket));
  deadlines.delete(socket);
}

function timedOut(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref(); // a peer that reads nothing must not hold it open
}

export class TlsListener {
  private readonly sockets = new Set<TLSSocket>();
  readonly server: TlsServer;

  constructor(credentials: { key: string; cert: string }, amqp: AmqpServer, http: HttpServer) {
    this.server = createTlsServer(
      { ...credentials, noDelay: true, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS },
      (socket) => {
        this.sockets.add(socket);
        socket.once("close", () => this.sockets.delete(socket));
        // A reset must never become an unhandled 'error' (which ends the process): not before a protocol owns
        // the socket, and not after either (rhea drops its listeners when it aborts a connection, and an
        // upgraded HTTP socket loses node:http's).
        socket.on("error", () => socket.destroy());
        socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
        socket.once("data", (first: Buffer) => {
          socket.setTimeout(0);
          socket.pause();
          socket.unshift(first);
          if (first[0] === 0x41) amqp.accept(socket);
          else http.emit("connection", socket);
          socket.resume();
        });
      },
    );
    // a failed or timed-out handshake is only reported here: without this the raw socket stays open
    this.server.on("tlsClientError", (_err, socket) => socket.destroy());
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
    // AMQP checks frames only once ws hands over a message: bound the message as well (server.ts)
    maxPayload: MAX_WEBSOCKET_MESSAGE,
    // the SDKs ask for AMQPWSB10; answer with whatever was asked so other AMQP clients work too
    handleProtocols: (protocols) =>
      protocols.has(AMQP_WS_PROTOCOL) ? AMQP_WS_PROTOCOL : (protocols.values().next().value ?? false),
  });
  http.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // node:http hands an upgraded socket over without its 'error' listener; a reset must not end the process
    socket.on("error", () => socket.destroy());
    disarm(socket); // the request head is complete; AMQP's own timeouts apply from here
    const refuse = (status: string) =>
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    try {
      const path = (req.url ?? "").split("?")[0].replace(/\/+$/, "");
      if (path.toLowerCase() === WEBSOCKET_PATH) {
        // ws answers a handshake it cannot take (wrong method, key, version) with 400 itself
        wss.handleUpgrade(req, socket, head, (ws) => {
          try {
            amqp.acceptWebSocket(ws);
          } catch {
            ws.terminate();
          }
        });
      } else if (http.listenerCount("upgrade") === 1) {
        refuse("404 Not Found"); // nobody else serves upgrades on this path
      }
    } catch {
      refuse("400 Bad Request");
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
