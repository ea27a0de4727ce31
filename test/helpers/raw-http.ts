// Raw HTTP/1.1 over net/tls sockets, for what fetch and node:http refuse to send (malformed paths and
// headers, a duplicate Host, truncated bodies, junk upgrades) and to read exactly what the server answers.
import net from "node:net";
import tls from "node:tls";

export interface Target {
  port: number;
  /** TLS with this CA (the server's local CA); absent: plain TCP */
  ca?: string | Buffer;
  /** the TLS server name; default localhost */
  servername?: string;
}

export interface RawReply {
  /** the status code, or undefined when nothing (or no status line) came back */
  status?: number;
  head: string;
  body: string;
  /** how the exchange ended */
  ended: "complete" | "closed" | "error" | "timeout";
}

/** Opens a connection to `t` (resolved once connected, or TLS-established). */
export function connect(t: Target): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = t.ca
      ? tls.connect({ port: t.port, host: "127.0.0.1", ca: t.ca, servername: t.servername ?? "localhost" }, () =>
          resolve(s),
        )
      : net.connect(t.port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

/**
 * Sends `data` (parts written one after another) and reads one response: up to its Content-Length, the end
 * of a chunked body, or the connection closing. Never rejects: a reset or timeout is in `ended`.
 */
export async function rawRequest(
  t: Target,
  data: string | Buffer | Array<string | Buffer>,
  opts: {
    timeoutMs?: number;
    /** a HEAD request: no body follows the head */ head?: boolean;
    /** half-close after sending */ end?: boolean;
  } = {},
): Promise<RawReply> {
  let socket: net.Socket;
  try {
    socket = await connect(t);
  } catch {
    return { head: "", body: "", ended: "error" };
  }
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (ended: RawReply["ended"]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = buf.toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text : text.slice(0, split);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({
        status: m ? Number(m[1]) : undefined,
        head,
        body: split < 0 ? "" : Buffer.from(text.slice(split + 4), "latin1").toString("utf8"),
        ended,
      });
    };
    const timer = setTimeout(() => finish("timeout"), opts.timeoutMs ?? 10_000);
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const text = buf.toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      if (split < 0) return;
      const head = text.slice(0, split);
      if (/^HTTP\/1\.1 1\d\d/.test(head)) {
        // 100 Continue: the real answer follows
        buf = buf.subarray(split + 4);
        return;
      }
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (opts.head || /^HTTP\/1\.[01] (204|304)/.test(head)) finish("complete");
      else if (length && buf.length - (split + 4) >= Number(length[1])) finish("complete");
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head) && text.endsWith("0\r\n\r\n")) finish("complete");
    });
    socket.on("error", () => finish("error"));
    socket.on("close", () => finish("closed"));
    for (const part of [data].flat()) if (!socket.destroyed) socket.write(part);
    if (opts.end && !socket.destroyed) socket.end();
  });
}

/** A well-formed request's bytes. */
export function httpRequest(
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: string | Buffer,
): Buffer {
  const h: Record<string, string | number> = { Host: "localhost", Connection: "close", ...headers };
  if (body !== undefined && h["Content-Length"] === undefined && h["Transfer-Encoding"] === undefined)
    h["Content-Length"] = Buffer.byteLength(body);
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body === undefined ? Buffer.alloc(0) : Buffer.from(body)]);
}
