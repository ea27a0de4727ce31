// A raw AMQP 1.0 peer over a plain socket, for tests that send what no client library would: hand-made
// frames, wrong sizes, deep nesting. Frames are encoded with rhea's frame writer (or by hand); what the
// server sends back is parsed into frames with the performative's code and fields.
import { createRequire } from "node:module";
import { connect } from "node:net";
import type { Duplex } from "node:stream";

type Any = any; // rhea's frame module has no TypeScript types
const frames = createRequire(import.meta.url)("rhea/lib/frames.js") as Any;

export const AMQP_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);
export const SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);

export const PERFORMATIVE = {
  open: 0x10,
  begin: 0x11,
  attach: 0x12,
  flow: 0x13,
  transfer: 0x14,
  disposition: 0x15,
  detach: 0x16,
  end: 0x17,
  close: 0x18,
  saslMechanisms: 0x40,
  saslOutcome: 0x44,
} as const;

export interface ReceivedFrame {
  type: number;
  channel: number;
  /** descriptor code of the performative; -1 for an empty frame */
  code: number;
  /** rhea's decoded performative (fields by name) */
  performative?: Any;
}

/** An AMQP frame around a performative built with rhea (`frames.open({...})`) and an optional payload. */
export function amqpFrame(channel: number, performative: Any, payload?: Buffer): Buffer {
  return frames.write_frame(frames.amqp_frame(channel, performative, payload));
}

export function saslFrame(performative: Any): Buffer {
  return frames.write_frame(frames.sasl_frame(performative));
}

/** A frame around any bytes as its body: type 0 (AMQP) or 1 (SASL). */
export function rawFrame(body: Buffer, channel = 0, type = 0): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head[4] = 2;
  head[5] = type;
  head.writeUInt16BE(channel, 6);
  return Buffer.concat([head, body]);
}

export const EMPTY_FRAME = rawFrame(Buffer.alloc(0));

/** rhea's frame and terminus constructors, to build performatives: `rhea.frames.begin({...})`. */
export const rhea = { frames, terminus: createRequire(import.meta.url)("rhea/lib/terminus.js") as Any };

export function openFrame(fields: Record<string, unknown> = {}): Buffer {
  return amqpFrame(0, frames.open({ container_id: "raw-test", hostname: "localhost", ...fields }));
}

/** `depth` levels of described values around a null (two bytes per level). */
export function nestedDescribed(depth: number): Buffer {
  const b = Buffer.alloc(depth * 2 + 1, 0x40);
  for (let i = 0; i < depth; i++) b[i * 2] = 0x00;
  return b;
}

/** A frame holding performative `code` as a list32 of the given encoded fields. */
export function listFrame(code: number, fields: Buffer[], channel = 0): Buffer {
  const content = Buffer.concat(fields);
  const head = Buffer.from([0x00, 0x53, code, 0xd0, 0, 0, 0, 0, 0, 0, 0, 0]);
  head.writeUInt32BE(4 + content.length, 4);
  head.writeUInt32BE(fields.length, 8);
  return rawFrame(Buffer.concat([head, content]), channel);
}

/** A map32 of one symbol key "x" to `value` (encoded). */
export function mapOfOne(value: Buffer): Buffer {
  const head = Buffer.from([0xd1, 0, 0, 0, 0, 0, 0, 0, 2, 0xa3, 0x01, 0x78]);
  head.writeUInt32BE(4 + 3 + value.length, 1);
  return Buffer.concat([head, value]);
}

const str8 = (s: string) => Buffer.concat([Buffer.from([0xa1, Buffer.byteLength(s)]), Buffer.from(s)]);
const NULL = Buffer.from([0x40]);

/** An open frame whose properties map holds one value: `value`, encoded (e.g. nestedDescribed(5000)). */
export function openWithProperty(value: Buffer): Buffer {
  return listFrame(PERFORMATIVE.open, [
    str8("raw"),
    str8("localhost"),
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    mapOfOne(value),
  ]);
}

/** A begin frame whose properties map holds one value: `value`, encoded. */
export function beginWithProperty(value: Buffer, channel = 0): Buffer {
  const window = Buffer.from([0x52, 100]);
  return listFrame(
    PERFORMATIVE.begin,
    [NULL, Buffer.from([0x43]), window, window, NULL, NULL, NULL, mapOfOne(value)],
    channel,
  );
}

/** A socket to the server with the frames it sent so far. */
export class RawPeer {
  readonly received: ReceivedFrame[] = [];
  headers = 0;
  /** resolves when the socket is closed, with ms since connecting */
  readonly closed: Promise<number>;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private isClosed = false;
  readonly startedAt = Date.now();

  private constructor(readonly socket: Duplex) {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", () => {});
    // closed when the server ends its side (a WebSocket's stream only closes once both sides ended)
    this.closed = new Promise((resolve) => {
      const done = () => {
        if (this.isClosed) return;
        this.isClosed = true;
        this.wake();
        resolve(Date.now() - this.startedAt);
      };
      socket.once("end", done);
      socket.once("close", done);
    });
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawPeer(s)));
      s.once("error", reject);
    });
  }

  /** A peer on a connected stream: a TLS socket, a WebSocket's stream. */
  static over(stream: Duplex): RawPeer {
    return new RawPeer(stream);
  }

  /** Writes, ignoring a socket the server already closed (that is what some tests wait for). */
  write(b: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(b);
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** The first received frame with this performative code, waiting up to `ms`. */
  async next(code: number, ms = 5000): Promise<ReceivedFrame> {
    const found = await this.waitFor(() => this.received.find((f) => f.code === code), ms);
    if (!found)
      throw new Error(
        `no frame 0x${code.toString(16)} within ${ms} ms; got ${this.received.map((f) => f.code.toString(16)).join(",")}${this.isClosed ? " (closed)" : ""}`,
      );
    return found;
  }

  /** Waits until `check` returns something (or the socket closed, or `ms` passed). */
  async waitFor<T>(check: () => T | undefined, ms: number): Promise<T | undefined> {
    const end = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined || this.isClosed || Date.now() >= end) return v;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, end - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The close frame's error, if the server sent one. */
  closeError(): { condition?: string; description?: string } | undefined {
    const c = this.received.find((f) => f.code === PERFORMATIVE.close);
    return c?.performative?.error;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length >= 8 && this.buf.toString("latin1", 0, 4) === "AMQP") {
        this.headers++;
        this.buf = this.buf.subarray(8);
        continue;
      }
      if (this.buf.length < 4) break;
      const size = this.buf.readUInt32BE(0);
      if (this.buf.length < size) break;
      const slice = this.buf.subarray(0, size);
      this.buf = this.buf.subarray(size);
      const doff = slice[4] * 4;
      const code = slice.length > doff ? (slice[doff + 1] === 0x53 ? slice[doff + 2] : -2) : -1;
      let performative: Any;
      try {
        performative = frames.read_frame(slice).performative;
      } catch {
        performative = undefined;
      }
      this.received.push({ type: slice[5], channel: slice.readUInt16BE(6), code, performative });
    }
    this.wake();
  }
}
