// One request router shared by the HTTP (5300) and HTTPS (5301) listeners. Components register their
// routes here (health, ATOM admin API, control API, identity endpoint, dashboard) and stay unaware of
// which listener a request came in on, except through `req.secure`.
import type { IncomingMessage, ServerResponse } from "node:http";

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

export class Router {
  private readonly routes: Route[] = [];

  /** Registers a handler. `pattern` matches the whole path; named groups become `req.params`. */
  on(method: string, pattern: RegExp | string, handler: Handler): this {
    const re = typeof pattern === "string" ? new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : pattern;
    this.routes.push({ method: method.toUpperCase(), pattern: re, handler });
    return this;
  }

  /** The node:http request listener. */
  readonly handle = (raw: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(raw.url ?? "/", "http://localhost");
    const req = raw as Request;
    req.path = decodeURIComponent(url.pathname);
    req.query = url.searchParams;
    req.secure = Boolean((raw.socket as { encrypted?: boolean }).encrypted);
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(req.path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== "*" && r.method !== req.method) continue;
      req.params = { ...(m.groups ?? {}) };
      Promise.resolve()
        .then(() => r.handler(req, res))
        .catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: { code: "InternalError", message: String((err as Error)?.message ?? err) } });
          else res.destroy();
        });
      return;
    }
    if (pathMatched) sendJson(res, 405, { error: { code: "MethodNotAllowed", message: `${req.method} is not allowed on ${req.path}` } });
    else sendJson(res, 404, { error: { code: "NotFound", message: `No route for ${req.method} ${req.path}` } });
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status === 200 ? 204 : status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the request body (bounded, so a hostile client cannot exhaust memory). */
export async function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw Object.assign(new Error(`request body over ${limit} bytes`), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
