// The rhea probe: one connection; send N durable messages with at most `window`
// unsettled (accept latency per message), then receive them all with credit `credit`,
// accepting each (peek-lock style: unsettled deliveries, settled by our accept).
// Fan-out (`receiveAddresses`): the receive phase attaches one receiver per address at once (each with credit
// `credit`) on the same connection and expects every message at every one of them.
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import rhea, { type Connection, type EventContext, type Receiver, type Sender } from "rhea";
import { percentile } from "./stats.js";
import { withTimeout } from "./procs.js";

export interface ProbeOptions {
  host: string;
  port: number;
  /** AMQP open hostname (Service Bus uses it for the namespace). */
  hostname?: string;
  username?: string;
  password?: string;
  sendAddress: string;
  receiveAddress: string;
  /** Fan-out: receive every message from each of these (concurrently) instead of from `receiveAddress`. */
  receiveAddresses?: string[];
  messages: number;
  size: number;
  window: number;
  credit: number;
  /** Runs on the open connection before the links are attached (e.g. CBS put-token). */
  beforeAttach?: (conn: Connection) => Promise<void>;
  /** Socket TCP_NODELAY; undefined leaves rhea's default (see runProbe). */
  tcpNoDelay?: boolean;
  /** Encode every message with rhea (default: patch the id into one pre-encoded template). */
  encodeEach?: boolean;
  /** Fail a phase when nothing happened for this long. */
  stallMs?: number;
}

export interface ProbeResult {
  sendRate: number;
  /** Deliveries/s in the receive phase (fan-out: messages × receivers). */
  receiveRate: number;
  /** Deliveries counted at the receivers over send + receive time (fan-out's end-to-end rate). */
  deliveredRate: number;
  acceptP50: number;
  acceptP99: number;
  sendMs: number;
  receiveMs: number;
  /** Messages from earlier runs that were still queued (accepted and not counted). */
  stale: number;
}

interface DeliveryWithIndex {
  __i?: number;
}

export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  const container = rhea.create_container({ id: `bench-probe-${process.pid}` });
  const conn = container.connect({
    host: o.host,
    port: o.port,
    hostname: o.hostname ?? o.host,
    username: o.username,
    password: o.password,
    reconnect: false,
    idle_time_out: 0,
    // undefined = rhea's default: Nagle stays on until a receiver is attached at connection level.
    tcp_no_delay: o.tcpNoDelay,
  } as rhea.ConnectionOptions);

  // Any connection-level failure aborts whatever phase is running.
  let abort: (err: Error) => void = () => {};
  let closing = false;
  const connFailed = (ctx: EventContext) => {
    if (closing) return;
    const e = ctx.connection?.error as { condition?: string; description?: string } | undefined;
    const se = (ctx as unknown as { error?: Error }).error;
    abort(new Error(`connection lost: ${e?.condition ?? ""} ${e?.description ?? ""} ${se?.message ?? ""}`.trim()));
  };
  conn.on("disconnected", connFailed);
  conn.on("connection_close", connFailed);
  conn.on("connection_error", connFailed);
  // Unhandled rhea errors are emitted on the container; without a listener they would crash us.
  const rheaError = (ctx: EventContext) => {
    if (closing) return;
    const e = (ctx.session?.error ??
      ctx.sender?.error ??
      ctx.receiver?.error ??
      ctx.connection?.error ??
      (ctx as unknown as { error?: unknown }).error) as
      { condition?: string; description?: string; message?: string } | undefined;
    abort(new Error(`AMQP error: ${e?.condition ?? ""} ${e?.description ?? e?.message ?? ""}`.trim()));
  };
  conn.on("session_error", rheaError);
  conn.on("sender_error", rheaError);
  conn.on("receiver_error", rheaError);
  container.on("error", rheaError);

  const phase = <T>(what: string, ms: number, body: (resolve: (v: T) => void, reject: (e: Error) => void) => void) =>
    withTimeout(
      new Promise<T>((resolve, reject) => {
        abort = reject;
        body(resolve, reject);
      }),
      ms,
      what,
    );

  try {
    await phase<void>("connection open", 15_000, (resolve) => conn.once("connection_open", () => resolve()));
    if (o.beforeAttach)
      await phase<void>("before attach", 20_000, (resolve, reject) => {
        o.beforeAttach!(conn).then(resolve, reject);
      });

    const send = await sendPhase(conn, o, phase);
    const recv = await receivePhase(conn, o, phase, send.runId);

    const deliveries = o.messages * (o.receiveAddresses?.length ?? 1);
    return {
      sendRate: o.messages / (send.ms / 1000),
      receiveRate: deliveries / (recv.ms / 1000),
      deliveredRate: deliveries / ((send.ms + recv.ms) / 1000),
      acceptP50: percentile(send.latencies, 50),
      acceptP99: percentile(send.latencies, 99),
      sendMs: send.ms,
      receiveMs: recv.ms,
      stale: recv.stale,
    };
  } finally {
    closing = true;
    try {
      if (conn.is_open()) {
        const closed = new Promise<void>((r) => {
          conn.once("connection_close", () => r());
          conn.once("disconnected", () => r());
        });
        conn.close();
        await withTimeout(closed, 5000, "connection close").catch(() => {});
      }
    } finally {
      (conn as unknown as { socket?: { destroy(): void } }).socket?.destroy();
    }
  }
}

type Phase = <T>(
  what: string,
  ms: number,
  body: (resolve: (v: T) => void, reject: (e: Error) => void) => void,
) => Promise<T>;

/** Encoded message template whose message-id digits are patched per message. */
function messageTemplate(runId: string, size: number): { buf: Buffer; idOffset: number; body: Buffer } {
  const placeholder = `${runId}-0000000000`;
  const body = randomBytes(size);
  const buf = rhea.message.encode({
    durable: true,
    message_id: placeholder,
    body: rhea.message.data_section(body),
  });
  const idOffset = buf.indexOf(placeholder, 0, "latin1");
  if (idOffset < 0) throw new Error("message template: id not found");
  return { buf, idOffset: idOffset + runId.length + 1, body };
}

async function sendPhase(conn: Connection, o: ProbeOptions, phase: Phase) {
  const runId = randomBytes(6).toString("hex");
  const tpl = messageTemplate(runId, o.size);
  const sender: Sender = conn.open_sender({ target: { address: o.sendAddress }, autosettle: true });
  await phase<void>(`attach sender ${o.sendAddress}`, 15_000, (resolve, reject) => {
    sender.once("sender_open", () => resolve());
    sender.once("sender_close", () => reject(new Error(`sender refused: ${JSON.stringify(sender.error)}`)));
  });

  const n = o.messages;
  const sentAt = new Float64Array(n);
  const latencies = new Float64Array(n);
  let sent = 0;
  let accepted = 0;
  let inflight = 0;
  let t0 = 0;
  let t1 = 0;
  const stallMs = o.stallMs ?? 20_000;

  await phase<void>(`send ${n} to ${o.sendAddress}`, Math.max(120_000, n * 5), (resolve, reject) => {
    let lastProgress = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > stallMs) {
        clearInterval(watchdog);
        reject(
          new Error(
            `send stalled: sent ${sent}, accepted ${accepted}, credit ${(sender as unknown as { credit: number }).credit}`,
          ),
        );
      }
    }, 1000);
    const pump = () => {
      while (sent < n && inflight < o.window && sender.sendable()) {
        if (sent === 0) t0 = performance.now();
        sentAt[sent] = performance.now();
        const id = String(sent).padStart(10, "0");
        let d: DeliveryWithIndex;
        if (o.encodeEach) {
          d = sender.send({
            durable: true,
            message_id: `${runId}-${id}`,
            body: rhea.message.data_section(tpl.body),
          }) as unknown as DeliveryWithIndex;
        } else {
          const buf = Buffer.from(tpl.buf);
          buf.write(id, tpl.idOffset, 10, "latin1");
          d = sender.send(buf, undefined, 0) as unknown as DeliveryWithIndex;
        }
        d.__i = sent;
        sent++;
        inflight++;
      }
    };
    const outcome = (ok: boolean) => (ctx: EventContext) => {
      const i = (ctx.delivery as unknown as DeliveryWithIndex).__i;
      if (i === undefined) return;
      if (!ok) {
        clearInterval(watchdog);
        reject(new Error(`message ${i} not accepted: ${JSON.stringify(ctx.delivery?.remote_state)}`));
        return;
      }
      latencies[i] = performance.now() - sentAt[i];
      accepted++;
      inflight--;
      lastProgress = Date.now();
      if (accepted === n) {
        t1 = performance.now();
        clearInterval(watchdog);
        resolve();
      } else pump();
    };
    sender.on("accepted", outcome(true));
    sender.on("rejected", outcome(false));
    sender.on("released", outcome(false));
    sender.on("modified", outcome(false));
    sender.on("sendable", pump);
    sender.on("sender_close", () => {
      clearInterval(watchdog);
      reject(new Error(`sender closed: ${JSON.stringify(sender.error)}`));
    });
    pump();
  });
  sender.removeAllListeners("sender_close");
  await closeLink(sender, "sender");
  return { runId, ms: t1 - t0, latencies };
}

async function receivePhase(conn: Connection, o: ProbeOptions, phase: Phase, runId: string) {
  const n = o.messages;
  const addresses = o.receiveAddresses ?? [o.receiveAddress];
  const total = n * addresses.length;
  let received = 0;
  let stale = 0;
  let t0 = 0;
  let t1 = 0;
  const stallMs = o.stallMs ?? 20_000;
  const prefix = `${runId}-`;
  const receivers: Receiver[] = [];
  const what = addresses.length === 1 ? addresses[0] : `${addresses.length} receivers (${addresses[0]}…)`;

  await phase<void>(`receive ${total} from ${what}`, Math.max(120_000, total * 5), (resolve, reject) => {
    let lastProgress = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > stallMs) {
        clearInterval(watchdog);
        reject(new Error(`receive stalled: received ${received}/${total} (stale ${stale})`));
      }
    }, 1000);
    for (const address of addresses) {
      // snd_settle_mode 0 (unsettled) + rcv_settle_mode 0 (first): the broker keeps each message
      // locked until our accept arrives — peek-lock + complete, as SDK users do.
      const receiver = conn.open_receiver({
        source: { address },
        credit_window: o.credit,
        autoaccept: true,
        snd_settle_mode: 0,
        rcv_settle_mode: 0,
      });
      receivers.push(receiver);
      // the clock starts when the first receiver is attached
      receiver.once("receiver_open", () => {
        if (t0 === 0) t0 = performance.now();
        lastProgress = Date.now();
      });
      receiver.on("receiver_close", () => {
        clearInterval(watchdog);
        reject(new Error(`receiver ${address} closed: ${JSON.stringify(receiver.error)}`));
      });
      receiver.on("message", (ctx: EventContext) => {
        lastProgress = Date.now();
        const id = ctx.message?.message_id;
        if (typeof id !== "string" || !id.startsWith(prefix)) {
          stale++;
          return;
        }
        received++;
        if (received === total) {
          t1 = performance.now();
          clearInterval(watchdog);
          resolve();
        }
      });
    }
  });
  for (const r of receivers) r.removeAllListeners("receiver_close");
  await Promise.all(receivers.map((r) => closeLink(r, "receiver")));
  return { ms: t1 - t0, stale };
}

async function closeLink(link: Sender | Receiver, what: string): Promise<void> {
  const ev = what === "sender" ? "sender_close" : "receiver_close";
  const closed = new Promise<void>((r) => link.once(ev, () => r()));
  link.close();
  await withTimeout(closed, 10_000, `${what} detach`).catch(() => {});
}
