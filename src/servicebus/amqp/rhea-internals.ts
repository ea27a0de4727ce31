// Every hook eventjobs puts into rhea's internals (except delivery.ts's transfer encoding), installed here
// and checked once at start: a hook point that is missing is named in one log line and rhea's own
// behaviour is kept for it.
//  - message decoding: keep each transfer's bytes (the broker stores the bare message as sent), and on the
//    broker's connections skip decoding altogether (a send only needs the bytes);
//  - per connection: frames checked before rhea buffers or decodes them (frame-check.ts), protocol errors
//    answered with a close frame instead of a dropped socket, and socket writes corked per turn.
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import rhea from "rhea";
import { BrokerError } from "../errors.js";
import { splitSections } from "../message/codec.js";
import { checkFrames, FRAMING_ERROR, SASL_FRAME, type FrameFault, type FrameState } from "./frame-check.js";

type Any = any; // rhea's internals have no TypeScript types
const require = createRequire(import.meta.url);
const rheaErrors = require("rhea/lib/errors.js") as Any;
const rheaWs = require("rhea/lib/ws.js") as Any;
const rheaMessage = rhea.message as Any;

const RAW = Symbol.for("eventjobs.raw");
const LAZY = Symbol.for("eventjobs.lazy");
const GUARD = Symbol("eventjobs.guard");
const CORKED = Symbol("eventjobs.corked");

export interface ConnectionLimits {
  /** advertised in our open and enforced on every frame after the client's open */
  maxFrameSize: number;
  /** enforced on SASL frames and everything up to the client's open */
  preOpenFrameSize: number;
  channelMax: number;
  maxLinks: number;
  /** advertised in our open; rhea closes a connection silent for twice this (see docs/troubleshooting.md) */
  idleTimeoutMs: number;
}

export interface ServeOptions {
  limits: ConnectionLimits;
  log?: (line: string) => void;
  /** called once, when the connection's transport is gone */
  onGone?: (connection: Any) => void;
}

const hooks = { decode: false, connection: false, websocket: false, cork: false };
let installed = false;

/** Installs the process-wide hooks (once) and logs any hook point this rhea does not have. */
export function installRheaHooks(container: Any, log?: (line: string) => void): void {
  if (installed) return;
  installed = true;
  const missing: string[] = [];
  hooks.decode = typeof rheaMessage.decode === "function";
  if (hooks.decode) patchMessageDecode();
  else missing.push("message.decode (transfers are re-encoded)");
  const probe = container.create_connection({});
  const transport = probe.amqp_transport;
  hooks.connection =
    typeof transport?.read === "function" &&
    typeof transport.peek_size === "function" &&
    "header_received" in transport &&
    typeof probe._disconnected === "function" &&
    typeof probe.abort_socket === "function" &&
    typeof probe.state?.initialised === "boolean";
  if (!hooks.connection) missing.push("Connection transport/abort (frames are not checked before rhea reads them)");
  hooks.cork = typeof probe._process === "function";
  if (!hooks.cork) missing.push("Connection._process (writes are not corked)");
  hooks.websocket = typeof rheaWs?.wrap === "function";
  if (!hooks.websocket) missing.push("ws.wrap (WebSocket frames are not checked)");
  if (missing.length)
    log?.(`amqp: rhea ${require("rhea/package.json").version} lacks hook points: ${missing.join("; ")}`);
}

// --- messages ---------------------------------------------------------------------------------

function patchMessageDecode(): void {
  if (rheaMessage.decode[RAW]) return;
  const decode = rheaMessage.decode;
  rheaMessage[LAZY] = 0;
  rheaMessage.decode = (buf: Buffer) => {
    if (rheaMessage[LAZY] > 0) return { [RAW]: buf, [LAZY]: decode };
    const m = safeDecode(decode, buf);
    Object.defineProperty(m, RAW, { value: buf, enumerable: false });
    return m;
  };
  rheaMessage.decode[RAW] = true;
}

/** rhea's decode of bytes checked first (codec.ts walkValue): undecodable ones, however deep, give `{}`. */
function safeDecode(decode: (b: Buffer) => Any, buf: Buffer): Any {
  try {
    splitSections(buf, true);
    return decode(buf);
  } catch {
    // the raw bytes alone: the transfer is then rejected, not the connection dropped
    return {};
  }
}

/** The bytes of a format-0 transfer as the client sent them. */
export function rawOf(m: Any): Buffer | undefined {
  const raw = m?.[RAW];
  if (Buffer.isBuffer(raw)) return raw;
  return hooks.decode || !m ? undefined : rheaMessage.encode(m);
}

/** The decoded form of a message that was passed on undecoded (an undecodable one is `{}`). */
export function decoded(m: Any): Any {
  const decode = m?.[LAZY];
  if (!decode) return m;
  const out = safeDecode(decode, m[RAW]);
  Object.defineProperty(out, RAW, { value: m[RAW], enumerable: false });
  return out;
}

// --- connections ------------------------------------------------------------------------------

interface Guard {
  failed: boolean;
  gone: boolean;
  opts: ServeOptions;
  frames: FrameState;
}

/** Serves AMQP on an accepted socket (TCP or TLS). */
export function serveSocket(container: Any, socket: Socket, opts: ServeOptions): Any {
  const connection = container.create_connection(connectionOptions(opts.limits));
  connection.accept(socket);
  guard(connection, opts);
  return connection;
}

/** Serves AMQP over an accepted WebSocket (`ws` package). */
export function serveWebSocket(container: Any, ws: Any, opts: ServeOptions): Any {
  if (!hooks.websocket) return container.websocket_accept(ws, connectionOptions(opts.limits));
  const socket = rheaWs.wrap(ws);
  socket.destroy = () => ws.terminate(); // what rhea's abort does to a socket that has not gone by itself
  const connection = container.create_connection(connectionOptions(opts.limits));
  connection.accept(socket);
  guard(connection, opts);
  return connection;
}

function connectionOptions(l: ConnectionLimits): Any {
  return {
    tcp_no_delay: true,
    reconnect: false,
    max_frame_size: l.maxFrameSize,
    channel_max: l.channelMax,
    idle_time_out: l.idleTimeoutMs,
  };
}

function guard(connection: Any, opts: ServeOptions): void {
  corkEachTurn(connection);
  if (!hooks.connection) return;
  const g: Guard = { failed: false, gone: false, opts, frames: { links: 0 } };
  connection[GUARD] = g;
  const sasl = connection.sasl_transport;
  const inner = [connection.amqp_transport, sasl?.transports?.[3]?.transport ?? sasl?.transport].filter(
    (t) => t && typeof t.read === "function",
  );
  for (const t of new Set(inner)) checkEveryFrame(connection, t, g);
  wrapTopRead(connection, connection.transport, g);
  const disconnected = connection._disconnected;
  connection._disconnected = function (this: Any, ...args: Any[]) {
    if (!g.gone) {
      g.gone = true;
      opts.onGone?.(connection);
    }
    return disconnected.apply(this, args);
  };
}

/** The outermost read: lazy decoding, the protocol header of SASL-or-AMQP, and errors turned into a close. */
function wrapTopRead(connection: Any, transport: Any, g: Guard): void {
  const read = transport.read;
  const selective = transport.transports !== undefined;
  transport.read = function (this: Any, buffer: Buffer) {
    if (g.failed) return buffer.length;
    if (
      selective &&
      !this.header_received &&
      buffer.length >= 8 &&
      !validHeader(buffer, (id) => id in this.transports)
    ) {
      failHeader(connection, g, 3);
      return buffer.length;
    }
    rheaMessage[LAZY]++;
    try {
      return read.call(this, buffer);
    } catch (e) {
      peerError(connection, g, e);
      return buffer.length;
    } finally {
      rheaMessage[LAZY]--;
    }
  };
}

/** Frames checked before rhea's transport reads (or starts buffering) them. */
function checkEveryFrame(connection: Any, transport: Any, g: Guard): void {
  const { read, peek_size: peek } = transport;
  const { preOpenFrameSize, maxFrameSize, channelMax, maxLinks } = g.opts.limits;
  const before = { maxFrameSize: preOpenFrameSize, channelMax, maxLinks };
  const after = { maxFrameSize, channelMax, maxLinks };
  const limit = (t: Any) => (t.frame_type === SASL_FRAME || !connection.remote.open ? before : after);
  transport.read = function (this: Any, buffer: Buffer) {
    if (g.failed) return buffer.length;
    let start = 0;
    if (!this.header_received) {
      if (buffer.length < 8) return read.call(this, buffer);
      if (!validHeader(buffer, (id) => id === this.protocol_id)) {
        failHeader(connection, g, this.header_sent ? -1 : this.protocol_id);
        return buffer.length;
      }
      start = 8;
    }
    const scan = checkFrames(buffer, start, this.frame_type, limit(this), g.frames);
    if (!scan.fault) return read.call(this, buffer);
    // the frames before the faulty one still count (a begin before a bad attach)
    if (scan.end > 0) read.call(this, buffer.subarray(0, scan.end));
    fail(connection, g, scan.fault);
    return buffer.length;
  };
  // rhea asks for the size of a frame it has the start of, to buffer the rest: refuse before it does
  transport.peek_size = function (this: Any, buffer: Buffer) {
    const size = peek.call(this, buffer);
    if (size !== undefined && !g.failed && size > limit(this).maxFrameSize) {
      fail(
        connection,
        g,
        checkFrames(buffer, 0, this.frame_type, limit(this), { links: 0 }).fault ?? {
          condition: FRAMING_ERROR,
          description: "Frame too large.",
        },
      );
      return undefined;
    }
    return size;
  };
}

function validHeader(b: Buffer, protocolOk: (id: number) => boolean): boolean {
  return (
    b[0] === 0x41 &&
    b[1] === 0x4d &&
    b[2] === 0x51 &&
    b[3] === 0x50 &&
    protocolOk(b[4]) &&
    b[5] === 1 &&
    b[6] === 0 &&
    b[7] === 0
  );
}

function peerError(connection: Any, g: Guard, e: Any): void {
  // rhea throws ProtocolError, or a plain Error, for frames that break the protocol's rules
  const peer = e instanceof rheaErrors.ProtocolError || e?.constructor === Error;
  if (!peer) g.opts.log?.(`amqp: closing a connection after an internal error: ${e?.name}: ${e?.message}`);
  fail(
    connection,
    g,
    (peer
      ? new BrokerError("NotAllowed", String(e.message))
      : new BrokerError("InternalError", "Internal error.")
    ).toAmqp(),
  );
}

/** A protocol header we do not speak: answer with one we do (-1: ours is out already), then hang up. */
function failHeader(connection: Any, g: Guard, protocolId: number): void {
  g.failed = true;
  if (protocolId >= 0) connection.socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, protocolId, 1, 0, 0]));
  if (protocolId === connection.amqp_transport.protocol_id) connection.amqp_transport.header_sent = true;
  connection.socket.end();
  abortLater(connection);
}

function fail(connection: Any, g: Guard, fault: FrameFault): void {
  if (g.failed) return;
  g.failed = true;
  if (!connection.amqp_transport.header_received) {
    // still in SASL: nothing can be said in AMQP
    connection.socket.end();
    abortLater(connection);
    return;
  }
  // a close must follow an open of ours (the spec's way to refuse a connection)
  if (!connection.state.initialised) connection.open();
  connection.close({ condition: fault.condition, description: fault.description });
  // rhea writes the open and close on its next tick; then the socket ends once nothing is pending
  setImmediate(() => {
    if (g.gone) return;
    abortLater(connection);
    connection.output();
  });
}

/** rhea ends the socket after its next write (abort_idle set) and drops it if the peer has not gone in 1 s. */
function abortLater(connection: Any): void {
  if (connection.abort_idle) return;
  const socket = connection.socket;
  connection.abort_idle = setTimeout(() => connection.abort_socket(socket), 1000);
}

/** Closes a served connection with an error (and its socket soon after), as a frame fault does. */
export function closeConnection(connection: Any, error: BrokerError): void {
  const { condition, description } = error.toAmqp();
  const g: Guard | undefined = connection[GUARD];
  if (g) return fail(connection, g, { condition, description });
  connection.close({ condition, description });
  if (hooks.connection) abortLater(connection);
}

/**
 * rhea writes every frame with its own socket.write (one syscall each with TCP_NODELAY). Its queued work —
 * transfers, dispositions, flows — runs in one `_process` call per tick, so cork the socket around it and
 * the frames leave in one writev.
 */
function corkEachTurn(connection: Any): void {
  const socket = connection.socket;
  const original = connection._process;
  if (!hooks.cork || !socket || typeof socket.cork !== "function" || typeof original !== "function" || original[CORKED])
    return;
  const corked = function (this: Any) {
    socket.cork();
    try {
      original.call(this);
    } finally {
      socket.uncork();
    }
  };
  corked[CORKED] = true;
  connection._process = corked;
}
