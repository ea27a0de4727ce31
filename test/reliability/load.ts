// Raw rhea clients for the reliability tests: a CBS-authenticated connection, a fast sender (one pre-encoded
// message with its number patched in, a window of unsettled transfers) and a peek-lock receiver that
// completes what it gets. The SDK is far too slow to load a million messages; rhea does it in seconds.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import rhea, { type Connection, type EventContext } from "rhea";
import { putToken } from "../../bench/cbs.js";

/** Opens a connection to 127.0.0.1:`port` and puts a SAS token for the namespace (the emulator's root key) on $cbs. */
export async function connect(port: number): Promise<Connection> {
  const container = rhea.create_container({ id: `reliability-${randomUUID()}` });
  const conn = container.connect({
    host: "127.0.0.1",
    port,
    hostname: "localhost",
    reconnect: false,
    idle_time_out: 0,
  } as rhea.ConnectionOptions);
  container.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    conn.once("connection_open", () => resolve());
    conn.once("disconnected", (ctx: EventContext) => reject(ctx.error ?? new Error("disconnected before open")));
  });
  await putToken(conn, { audience: "sb://localhost/", keyName: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" });
  return conn;
}

export async function close(conn: Connection): Promise<void> {
  if (!conn.is_open()) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    conn.once("connection_close", () => (clearTimeout(t), resolve()));
    conn.close();
  });
}

/** The body of message `i`: `size` bytes, its number in front, so order and content can be checked. */
export function bodyOf(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, 0x2e);
  b.write(`m${String(i).padStart(10, "0")}`, 0, "latin1");
  return b;
}

/**
 * Sends messages `from` … `from + count - 1` (see bodyOf) with at most `window` unsettled, each with message id
 * `<prefix><number>`; resolves with the rate once every one is accepted.
 */
export async function sendMany(
  conn: Connection,
  address: string,
  opts: { from?: number; count: number; size: number; window?: number; prefix?: string },
): Promise<{ ms: number; rate: number }> {
  const from = opts.from ?? 0;
  const window = opts.window ?? 500;
  const prefix = opts.prefix ?? "id-";
  const digits = "0000000000";
  const template = rhea.message.encode({
    durable: true,
    message_id: prefix + digits,
    body: rhea.message.data_section(bodyOf(0, opts.size)),
  });
  const idAt = template.indexOf(prefix + digits, 0, "latin1") + prefix.length;
  const bodyAt = template.indexOf("m" + digits, 0, "latin1") + 1;
  const sender = conn.open_sender({ target: { address }, autosettle: true });
  const start = Date.now();
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let accepted = 0;
    const pump = () => {
      while (sent < opts.count && sent - accepted < window && sender.sendable()) {
        const n = String(from + sent).padStart(10, "0");
        const buf = Buffer.from(template);
        buf.write(n, idAt, 10, "latin1");
        buf.write(n, bodyAt, 10, "latin1");
        sender.send(buf, undefined, 0);
        sent++;
      }
    };
    sender.on("accepted", () => {
      if (++accepted === opts.count) resolve();
      else pump();
    });
    for (const bad of ["rejected", "released", "modified"]) {
      sender.on(bad, (ctx: EventContext) =>
        reject(new Error(`send ${bad}: ${JSON.stringify(ctx.delivery?.remote_state)}`)),
      );
    }
    sender.on("sender_close", () => reject(new Error(`sender closed: ${JSON.stringify(sender.error)}`)));
    sender.on("sendable", pump);
  });
  sender.removeAllListeners("sender_close");
  sender.close();
  const ms = Date.now() - start;
  return { ms, rate: Math.round(opts.count / (ms / 1000)) };
}

/**
 * Receives `count` messages in peek-lock mode and completes each (an accepted, settled disposition); resolves
 * with their bodies in arrival order.
 */
export async function receiveMany(
  conn: Connection,
  address: string,
  count: number,
  opts: { credit?: number; timeoutMs?: number } = {},
): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const receiver = conn.open_receiver({
    source: { address },
    credit_window: 0,
    autoaccept: false,
    snd_settle_mode: 0,
    rcv_settle_mode: 0,
  });
  const credit = opts.credit ?? 200;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`receive: ${out.length} of ${count} within ${opts.timeoutMs ?? 60_000} ms`)),
      opts.timeoutMs ?? 60_000,
    );
    let granted = Math.min(credit, count);
    receiver.once("receiver_open", () => receiver.add_credit(granted));
    receiver.on("message", (ctx: EventContext) => {
      const body = ctx.message!.body as { content?: Buffer } | Buffer;
      out.push(Buffer.isBuffer(body) ? body : Buffer.from(body.content!));
      ctx.delivery!.accept();
      if (out.length === count) {
        clearTimeout(timer);
        resolve();
      } else if (granted < count && granted - out.length < credit / 2) {
        const more = Math.min(credit - (granted - out.length), count - granted);
        granted += more;
        receiver.add_credit(more);
      }
    });
    receiver.on("receiver_close", () => reject(new Error(`receiver closed: ${JSON.stringify(receiver.error)}`)));
  });
  receiver.removeAllListeners("receiver_close");
  receiver.close();
  return out;
}

/** A process's resident set now and at its peak (VmHWM), in MB, from /proc. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))![1]);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}
