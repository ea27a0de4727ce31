// One request router shared by the HTTP (5300) and HTTPS (5301) listeners. Components register their
// routes here (health, ATOM admin API, control API, identity endpoint, dashboard) and stay unaware of
// which listener a request came in on, except through `req.secure`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseHost, type Refusal } from "./request-guard.js";

export interface Request extends IncomingMessage {
  /** path without the query string */
  path: string;
  query: URLSearchParams;
  /** path parameters captured by the route pattern's named groups */
  params: Record<string, string>;
  /** true when the request arrived over TLS */
  secure: boolean;
}

export type Handler = (req: Request, res: ServerResponse) => void | Promise<void>;

interface Route {
  method: string; // "*" for any
  pattern: RegExp;
  handler: Handler;
}

/** A check run before routing; a Refusal is answered as `{ error: { code, message } }` instead. */
export type RequestCheck = (req: Request) => Refusal | undefined;

export class Router {
  private readonly routes: Route[] = [];
  private readonly checks: RequestCheck[] = [];

  /** Registers a handler. `pattern` matches the whole path; named groups become `req.params`. */
  on(method: string, pattern: RegExp | string, handler: Handler): this {
    const re =
      typeof pattern === "string" ? new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : pattern;
    this.routes.push({ method: method.toUpperCase(), pattern: re, handler });
    return this;
  }

  /** Adds a check every request passes before its handler runs (request-guard.ts). */
  use(check: RequestCheck): this {
    this.checks.push(check);
    return this;
  }

  /**
   * The node:http request listener. Nothing may throw out of it: an exception in a server's 'request'
   * event is uncaught and ends the process, so a malformed request is answered 400 here.
   */
  readonly handle = (raw: IncomingMessage, res: ServerResponse): void => {
    try {
      this.dispatch(raw, res);
    } catch (e) {
      fail(res, e);
    }
  };

  private dispatch(raw: IncomingMessage, res: ServerResponse): void {
    const req = raw as Request;
    req.secure = Boolean((raw.socket as { encrypted?: boolean }).encrypted);
    const bad = (message: string) => sendJson(res, 400, { error: { code: "BadRequest", message } });
    // RFC 9112 §3.2: a request with more than one Host, or a malformed one, is answered 400
    const hosts = raw.rawHeaders.filter((_, i) => i % 2 === 0 && raw.rawHeaders[i].toLowerCase() === "host").length;
    if (hosts > 1) return bad("The request has more than one Host header");
    if (raw.headers.host !== undefined && !parseHost(raw.headers.host))
      return bad(`The Host header '${raw.headers.host}' is malformed`);
    let url: URL;
    try {
      url = new URL(raw.url ?? "/", "http://localhost");
    } catch {
      return bad(`The request target '${raw.url}' is not a valid URL`);
    }
    try {
      req.path = decodeURIComponent(url.pathname);
    } catch {
      return bad(`The path '${url.pathname}' has a malformed percent-escape (expected %XX forming UTF-8)`);
    }
    req.query = url.searchParams;
    for (const check of this.checks) {
      const refused = check(req);
      if (refused) return sendJson(res, refused.status, { error: { code: refused.code, message: refused.message } });
    }
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(req.path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== "*" && r.method !== req.method) continue;
      req.params = { ...(m.groups ?? {}) };
      Promise.resolve()
        .then(() => r.handler(req, res))
        .catch((err: unknown) => fail(res, err));
      return;
    }
    if (pathMatched)
      sendJson(res, 405, {
        error: { code: "MethodNotAllowed", message: `${req.method} is not allowed on ${req.path}` },
      });
    else sendJson(res, 404, { error: { code: "NotFound", message: `No route for ${req.method} ${req.path}` } });
  }
}

/** Answers a handler's exception (500, or its `status` if it set one) without ever throwing itself. */
function fail(res: ServerResponse, err: unknown): void {
  try {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const given = (err as { status?: unknown })?.status;
    const status = typeof given === "number" && given >= 400 && given < 500 ? given : 500;
    const code = status === 413 ? "RequestTooLarge" : status === 500 ? "InternalError" : "BadRequest";
    sendJson(res, status, { error: { code, message: String((err as Error)?.message ?? err) } });
  } catch {
    res.destroy();
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return; // the client went away, or a stream already answered
  if (body === undefined) {
    res.writeHead(status === 200 ? 204 : status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** How much of an over-limit body is still read and dropped before the 413 (see readBody). */
const DRAIN_MAX = 64 * 1024 * 1024;

/**
 * Reads the request body, bounded so a hostile client cannot exhaust memory: over `limit` (declared or sent)
 * it fails with status 413 once the rest is read and dropped, so the client still gets the answer (closing
 * with unread data would reset the connection under it; requestTimeout bounds the draining).
 */
export function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      req.off("data", onData).off("end", onEnd).off("error", onAbort).off("close", onAbort);
      if (err) {
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks));
    };
    const tooLarge = () =>
      done(Object.assign(new Error(`The request body is over the limit of ${limit} bytes`), { status: 413 }));
    // Over the limit while the body is still coming: keep reading (and dropping) to its end before answering, so
    // that a client that asked to close the connection gets the 413 instead of a reset; past DRAIN_MAX it is cut.
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit + DRAIN_MAX) tooLarge();
      else if (size <= limit) chunks.push(c);
      else chunks.length = 0;
    };
    const onEnd = () => (size > limit ? tooLarge() : done());
    const onAbort = () =>
      done(Object.assign(new Error("The request ended before its body was complete"), { status: 400 }));
    if (Number(req.headers["content-length"] ?? 0) > limit) return tooLarge();
    if (req.readableEnded) return resolve(Buffer.alloc(0));
    if (req.destroyed) return onAbort();
    req.on("data", onData).on("end", onEnd).on("error", onAbort).on("close", onAbort);
  });
}
