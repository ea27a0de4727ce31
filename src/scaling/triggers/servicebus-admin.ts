// azure-servicebus over a namespace's admin (ATOM) API, the way KEDA reads it: KEDA's scaler on the Go
// SDK's admin client (azservicebus/admin v1.10). For namespaces this machine does not host — or to
// read our own server exactly as KEDA would. Facts relied on:
//  - GET https://<host>/<queue>?api-version=2021-05 (subscription: /<topic>/Subscriptions/<sub>), with
//    `Authorization: SharedAccessSignature sr=<lowercase escaped URL>&sig=…&se=…&skn=…`;
//  - regex mode pages GET /$Resources/Queues (or /<topic>/Subscriptions) with `$skip` += page length and
//    no `$top`, until a page is empty; names come from each entry's <title>;
//  - a 404, or a 200 carrying the empty "Publicly Listed Services" feed, means the entity does not exist
//    (KEDA: `queue %s doesn't exist`); other ≥400 answers are azcore ResponseErrors (printed below);
//  - a description without <CountDetails> fails with `invalid queue runtime properties: no CountDetails element`.
// UseDevelopmentEmulator=true (our extension; Go's admin client only speaks https): plain http to the
// emulator's admin port, 5300 unless `port` says otherwise.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import { sign } from "../../identity/sas.js";
import { child, children, parseXml, XmlError, type XmlElement } from "../../servicebus/admin/xml.js";
import { goQuote, parseGoBool } from "../goparse.js";
import type { ServiceBusMetadata } from "../servicebus.js";
import { selectEntityCount, type EntityCount } from "../servicebus-count.js";

/** What a scale loop needs from a trigger: the current count (ActiveMessageCount or the regex aggregate). */
export interface CountReader {
  read(): Promise<number>;
}

export interface FetchResponse {
  status: number;
  statusText: string;
  text(): Promise<string>;
}
/** The subset of `fetch` used here (the global fetch fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal?: AbortSignal },
) => Promise<FetchResponse>;

export interface ServiceBusAdminReaderOptions {
  /** replaces the built-in node:http(s) client (which honours `ca`) */
  fetch?: FetchLike;
  /** extra CA certificate(s) (PEM) to trust, e.g. eventjobs' local CA */
  ca?: string | Buffer | Array<string | Buffer>;
  /** the admin API's port: default 5300 for UseDevelopmentEmulator=true, else the Endpoint's port or 443 */
  port?: number;
  /** per-request timeout; KEDA's default global HTTP timeout is 3000 ms */
  timeoutMs?: number;
}

export interface AdminConnection {
  /** `https://host[:port]` (`http://…` for the emulator) */
  baseUrl: string;
  keyName?: string;
  key?: string;
  /** a ready-made `SharedAccessSignature sr=…` from the connection string */
  signature?: string;
  entityPath?: string;
  emulator: boolean;
}

/** Parses a connection string with the Go SDK's rules and error texts (internal/conn). */
export function parseAdminConnection(connectionString: string, port?: number): AdminConnection {
  const values = new Map<string, string>();
  for (const part of connectionString.split(";")) {
    if (part === "") continue;
    const i = part.indexOf("=");
    if (i < 0) throw new Error("failed parsing connection string due to unmatched key value separated by '='");
    values.set(part.slice(0, i).toLowerCase(), part.slice(i + 1));
  }
  const endpoint = values.get("endpoint") ?? "";
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#:]+|\[[^\]]+\])(?::(\d+))?/i.exec(endpoint);
  if (!m) throw new Error(`key ${goQuote("Endpoint")} must not be empty`);
  let emulator = false;
  const flag = values.get("usedevelopmentemulator");
  if (flag !== undefined) {
    const b = parseGoBool(flag);
    if (b === undefined) throw new Error(`strconv.ParseBool: parsing ${goQuote(flag)}: invalid syntax`);
    emulator = b;
  }
  const keyName = values.get("sharedaccesskeyname");
  const key = values.get("sharedaccesskey");
  const signature = values.get("sharedaccesssignature");
  if (signature === undefined && keyName === undefined)
    throw new Error(`key ${goQuote("SharedAccessKeyName")} must not be empty`);
  if (key === undefined && signature === undefined) {
    throw new Error(`key ${goQuote("SharedAccessKey")} or ${goQuote("SharedAccessSignature")} cannot both be empty`);
  }
  const host = m[1];
  const effectivePort = port ?? (emulator ? 5300 : m[2] ? Number(m[2]) : 443);
  const scheme = emulator ? "http" : "https";
  const defaultPort = emulator ? 80 : 443;
  return {
    baseUrl: `${scheme}://${host}${effectivePort === defaultPort ? "" : `:${effectivePort}`}`,
    keyName,
    key,
    signature,
    entityPath: values.get("entitypath"),
    emulator,
  };
}

/** The Authorization header for one request: the Go SDK signs the full URL, lowercased and escaped. */
function authorization(conn: AdminConnection, url: string): string {
  if (conn.signature !== undefined) return conn.signature;
  const sr = encodeURIComponent(url).toLowerCase();
  const se = Math.floor(Date.now() / 1000) + 2 * 3600;
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sign(sr, se, conn.key ?? ""))}&se=${se}&skn=${conn.keyName ?? ""}`;
}

/** node:http(s) GET honouring `ca` and the timeout, with Go-like error texts for transport failures. */
function nodeFetch(options: ServiceBusAdminReaderOptions): FetchLike {
  return (url, init) =>
    new Promise<FetchResponse>((resolve, reject) => {
      const u = new URL(url);
      const send = u.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(
        u,
        { method: init.method, headers: init.headers, ca: extraCa(options.ca), timeout: options.timeoutMs ?? 3000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", text: async () => body });
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(
          Object.assign(new Error("context deadline exceeded (Client.Timeout exceeded while awaiting headers)"), {
            code: "ETIMEDOUT",
          }),
        ),
      );
      req.on("error", (e: NodeJS.ErrnoException) => reject(transportError(init.method, url, u, e)));
      req.end();
    });
}

function transportError(method: string, url: string, u: URL, e: NodeJS.ErrnoException): Error {
  const verb = method[0] + method.slice(1).toLowerCase();
  const addr = `${u.hostname}:${u.port || (u.protocol === "https:" ? 443 : 80)}`;
  const cause =
    e.code === "ECONNREFUSED"
      ? `dial tcp ${addr}: connect: connection refused`
      : e.code === "ENOTFOUND"
        ? `dial tcp: lookup ${u.hostname}: no such host`
        : /certificate|self.signed|UNABLE_TO_VERIFY/i.test(`${e.code} ${e.message}`)
          ? `tls: failed to verify certificate: x509: ${e.message}`
          : e.message;
  return Object.assign(new Error(`${verb} ${goQuote(url)}: ${cause}`), { cause: e });
}

/** azcore's ResponseError text, as KEDA logs and reports it. */
function responseError(method: string, url: string, res: FetchResponse, body: string): Error {
  const sep = "-".repeat(80);
  const u = new URL(url);
  const text =
    `${method} ${u.protocol.slice(0, -1)}://${u.host}${u.pathname}\n${sep}\n` +
    `RESPONSE ${res.status}: ${res.status} ${res.statusText}\nERROR CODE UNAVAILABLE\n${sep}\n` +
    `${body.length ? `${body}\n` : "Response contained no body\n"}${sep}\n`;
  return Object.assign(new Error(text), { statusCode: res.status });
}

type Fetched = { kind: "missing" } | { kind: "xml"; root: XmlElement };

/** The Go client's decoding of one description (entry) or listing (feed). */
function decode(body: string, expected: "entry" | "feed"): Fetched {
  if (!body.trim()) throw new Error("EOF");
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (e) {
    if (e instanceof XmlError) throw new Error(`XML syntax error: ${e.message}`);
    throw e;
  }
  if (root.name === expected) return { kind: "xml", root };
  if (root.name === "feed" && child(root, "title")?.text === "Publicly Listed Services") return { kind: "missing" };
  throw new Error(`expected element type <${expected}> but have <${root.name}>`);
}

/** encoding/xml into an *int32: trimmed, empty is 0, anything else must parse. */
function int32(el: XmlElement | undefined): number {
  const t = el?.text.trim() ?? "";
  if (t === "") return 0;
  if (!/^[+-]?\d+$/.test(t) || Math.abs(Number(t)) > 2 ** 31)
    throw new Error(
      `strconv.ParseInt: parsing ${goQuote(t)}: ${/^[+-]?\d+$/.test(t) ? "value out of range" : "invalid syntax"}`,
    );
  return Number(t);
}

/** ActiveMessageCount of one entry (QueueDescription or SubscriptionDescription). */
function activeCount(entry: XmlElement, kind: "queue" | "subscription"): number {
  const desc = child(entry, "content")?.children.find(
    (c) => c.name === (kind === "queue" ? "QueueDescription" : "SubscriptionDescription"),
  );
  const counts = child(desc, "CountDetails");
  if (!counts) throw new Error(`invalid ${kind} runtime properties: no CountDetails element`);
  return int32(child(counts, "ActiveMessageCount"));
}

/** A CountReader for one azure-servicebus trigger, reading over HTTP(S) with the trigger's connection string. */
export function serviceBusAdminReader(
  meta: ServiceBusMetadata,
  options: ServiceBusAdminReaderOptions = {},
): CountReader {
  if (!meta.connection)
    throw new Error("no connection setting given: workload identity is not supported by the admin API reader");
  const conn = parseAdminConnection(meta.connection, options.port);
  const doFetch = options.fetch ?? nodeFetch(options);
  const isQueue = meta.entityType === "queue";

  async function get(
    path: string,
    query: Record<string, string> = {},
  ): Promise<{ res: FetchResponse; body: string; url: string }> {
    const u = new URL(`${conn.baseUrl}/${path}`);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    u.searchParams.set("api-version", "2021-05");
    const url = u.toString();
    const signal = options.fetch && options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const res = await doFetch(url, { method: "GET", headers: { Authorization: authorization(conn, url) }, signal });
    return { res, body: await res.text(), url };
  }

  async function readOne(): Promise<number> {
    const path = isQueue ? meta.queueName : `${meta.topicName}/Subscriptions/${meta.subscriptionName}`;
    const { res, body, url } = await get(path);
    const doesNotExist = () =>
      new Error(
        isQueue
          ? `queue ${meta.queueName} doesn't exist`
          : `subscription ${meta.subscriptionName} doesn't exist in topic ${meta.topicName}`,
      );
    if (res.status === 404) throw doesNotExist();
    if (res.status >= 400) throw responseError("GET", url, res, body);
    const doc = decode(body, "entry");
    if (doc.kind === "missing") throw doesNotExist();
    return activeCount(doc.root, isQueue ? "queue" : "subscription");
  }

  /** Pages the listing like the Go pager: `$skip` grows by each page's length until a page is empty. */
  async function readAll(): Promise<number> {
    const path = isQueue ? "$Resources/Queues" : `${meta.topicName}/Subscriptions`;
    const entities: EntityCount[] = [];
    for (let skip = 0, pages = 0; ; pages++) {
      if (pages > 10_000) throw new Error(`${path}: the listing does not end (the server ignores $skip)`);
      const { res, body, url } = await get(path, skip > 0 ? { $skip: String(skip) } : {});
      if (res.status >= 400) throw responseError("GET", url, res, body);
      const doc = decode(body, "feed");
      const entries = doc.kind === "xml" ? children(doc.root, "entry") : [];
      if (entries.length === 0) break;
      for (const e of entries)
        entities.push({
          name: child(e, "title")?.text ?? "",
          activeMessageCount: activeCount(e, isQueue ? "queue" : "subscription"),
        });
      skip += entries.length;
    }
    return selectEntityCount(meta, entities);
  }

  return { read: () => (meta.useRegex ? readAll() : readOne()) };
}

/**
 * Node's `ca` option replaces the default roots; keep them and add the extra ones (a real namespace and our local CA
 * both verify).
 */
function extraCa(ca: ServiceBusAdminReaderOptions["ca"]): Array<string | Buffer> | undefined {
  if (!ca) return undefined;
  return [...rootCertificates, ...(Array.isArray(ca) ? ca : [ca])];
}
