// What a web page in the user's browser must not be able to do to this server, checked the way trusted local
// developer servers check it (Docker Engine API, Jupyter, Vite). A page on any site can send requests to
// 127.0.0.1, and a DNS-rebound name (evil.example → 127.0.0.1) even lets it read the answers. So for the
// control API and the dashboard:
// - a state-changing request must say `Content-Type: application/json`: a page can send that cross-origin only
//   after a CORS preflight, which this server never grants, so "simple" text/plain or form POSTs are refused;
// - a request whose `Origin` is not this listener's own origin is refused;
// - the `Host` must be a name this server answers to (loopback, its own names, configured ones), which is
//   what defeats DNS rebinding: the rebound page's requests carry the attacker's host name.
// The identity endpoint gets the Host and Origin checks; the ATOM admin API and the AMQP WebSocket path
// authenticate every request with SAS or a token and are left alone.
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

/** An answer for a refused request, in the control API's `{ error: { code, message } }` shape. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export interface GuardOptions {
  /** the address the listeners are bound to (`up --host`) */
  listenHost: string;
  /** the namespaces' names, asked per request (apply adds namespaces at run time) */
  namespaces: () => Iterable<string>;
  /** further accepted names (`up --allowed-host`); a leading "." accepts every subdomain of the name */
  allowedHosts?: string[];
}

/** `Host` parsed into a lowercase name (IPv6 without brackets) and port, or undefined when malformed. */
export function parseHost(value: string): { name: string; port?: number } | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9_.-]+))(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  const name = (m[1] ?? m[2]).toLowerCase().replace(/\.$/, "");
  if (m[1] !== undefined && isIP(name) !== 6) return undefined;
  if (!name) return undefined;
  return { name, port };
}

const WILDCARD = new Set(["0.0.0.0", "::", ""]);
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

type Req = {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  secure: boolean;
  path: string;
};

export class RequestGuard {
  private readonly listenHost: string;
  private readonly allowed: string[];

  constructor(private readonly o: GuardOptions) {
    this.listenHost = o.listenHost.toLowerCase().replace(/^\[|\]$/g, "");
    // a port given with a name is ignored: names are allowed on any port
    this.allowed = (o.allowedHosts ?? []).map((h) => parseHost(h)?.name ?? h.trim().toLowerCase()).filter(Boolean);
  }

  /** The router's check: undefined lets the request through. */
  readonly check = (req: Req): Refusal | undefined => {
    const kind = pathKind(req.path);
    if (!kind) return undefined;
    return (
      this.hostRefusal(req) ?? this.originRefusal(req) ?? (kind === "browser" ? contentTypeRefusal(req) : undefined)
    );
  };

  /** Whether a host name (no port) is one this server answers to. */
  hostAllowed(name: string): boolean {
    const n = name
      .toLowerCase()
      .replace(/^\[|\]$/g, "")
      .replace(/\.$/, "");
    if (n === "localhost" || n.endsWith(".localhost")) return true;
    if ((isIP(n) === 4 && n.startsWith("127.")) || n === "::1") return true;
    if (n === this.listenHost) return true;
    // bound to every interface: the machine's own addresses are its names (an IP literal cannot be rebound)
    if (WILDCARD.has(this.listenHost) && isIP(n) && localAddresses().has(n)) return true;
    for (const ns of this.o.namespaces()) if (n === `${ns.toLowerCase()}.servicebus.windows.net`) return true;
    return this.allowed.some((a) => (a.startsWith(".") ? n === a.slice(1) || n.endsWith(a) : n === a));
  }

  private hostRefusal(req: Req): Refusal | undefined {
    const raw = req.headers.host;
    if (typeof raw !== "string" || !raw)
      return {
        status: 403,
        code: "HostNotAllowed",
        message: "The request has no Host header; this server answers only to its own host names",
      };
    const host = parseHost(raw);
    if (!host || !this.hostAllowed(host.name)) {
      return {
        status: 403,
        code: "HostNotAllowed",
        message: `Host '${raw}' is not allowed: use localhost or 127.0.0.1, or start the server with --allowed-host ${host?.name ?? "<name>"}`,
      };
    }
    return undefined;
  }

  private originRefusal(req: Req): Refusal | undefined {
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    const own = `${req.secure ? "https" : "http"}://${String(req.headers.host ?? "")}`;
    if (typeof origin === "string" && sameOrigin(origin, own)) return undefined;
    return {
      status: 403,
      code: "OriginNotAllowed",
      message: `Origin '${String(origin)}' is not allowed: this server only takes requests from its own origin (${own})`,
    };
  }
}

/** Which checks a path gets: the control API and the dashboard all of them, the identity endpoint Host and Origin. */
function pathKind(path: string): "browser" | "identity" | undefined {
  const p = path.toLowerCase();
  if (p === "/" || /^\/(api|dashboard|assets)(\/|$)/.test(p)) return "browser";
  if (/^\/msi(\/|$)/.test(p)) return "identity";
  return undefined;
}

function contentTypeRefusal(req: Req): Refusal | undefined {
  const method = (req.method ?? "GET").toUpperCase();
  if (!STATE_CHANGING.has(method)) return undefined;
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]
    .trim()
    .toLowerCase();
  if (type === "application/json") return undefined;
  // a DELETE cannot be sent cross-origin without a preflight, so one without a body needs no type
  const bodyless =
    req.headers["transfer-encoding"] === undefined &&
    (req.headers["content-length"] === undefined || req.headers["content-length"] === "0");
  if (method === "DELETE" && bodyless) return undefined;
  const given =
    req.headers["content-type"] === undefined
      ? "no Content-Type"
      : `Content-Type '${String(req.headers["content-type"])}'`;
  return {
    status: 415,
    code: "UnsupportedMediaType",
    message: `${method} ${req.path} needs Content-Type: application/json (got ${given})`,
  };
}

function sameOrigin(origin: string, own: string): boolean {
  try {
    const a = new URL(origin);
    const b = new URL(own);
    return a.origin !== "null" && a.origin === b.origin;
  } catch {
    return false;
  }
}

let addresses: { at: number; set: Set<string> } | undefined;
/** The machine's interface addresses (refreshed every few seconds: interfaces come and go). */
function localAddresses(): Set<string> {
  if (addresses && Date.now() - addresses.at < 5000) return addresses.set;
  const set = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) set.add(a.address.toLowerCase().replace(/%.*$/, ""));
  addresses = { at: Date.now(), set };
  return set;
}
