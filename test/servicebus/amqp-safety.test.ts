// What a hostile or broken AMQP peer can do to the broker, over real sockets to an `eventjobs up` child:
// frames larger than the limit in force are refused before they are buffered (plain AMQP, AMQPS and
// WebSockets), a connection that never authorizes or goes silent is closed, and values nested too deeply are
// refused with amqp:decode-error (the transfer, or the connection for a performative) without anything
// logged as a crash. After each, the SDK still sends and receives.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { ServiceBusClient } from "@azure/service-bus";
import rheaLib, { type EventContext } from "rhea";
import { createWebSocketStream, WebSocket } from "ws";
import { createSasToken } from "../../src/identity/sas.js";
import {
  AMQP_HEADER,
  amqpFrame,
  beginWithProperty,
  EMPTY_FRAME,
  nestedDescribed,
  openFrame,
  openWithProperty,
  PERFORMATIVE,
  RawPeer,
  rawFrame,
  rhea,
  SASL_HEADER,
} from "../helpers/amqp-raw.js";
import { queuesYaml, uniqueName } from "../helpers/broker.js";
import { CbsConnection } from "../helpers/cbs.js";
import { RETRY } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const AUTH_MS = 4000;
const IDLE_MS = 1000; // advertised; a connection silent for twice this is closed
const QUEUE = uniqueName("safety");
const HEARTBEAT = uniqueName("safety-heartbeat");
const BIG = uniqueName("safety-big"); // takes messages up to 1 MB, so nesting rather than size is what is refused
const ROOT = { keyName: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" };
const FRAMING = "amqp:connection:framing-error";

let server: ServerProcess;
const dir = mkdtempSync(join(tmpdir(), "eventjobs-safety-"));

before(async () => {
  const config = join(dir, "eventjobs.yaml");
  writeFileSync(config, queuesYaml({ [QUEUE]: {}, [HEARTBEAT]: {}, [BIG]: { maxMessageSizeInKilobytes: 1024 } }));
  server = await startServer({
    args: ["--config", config],
    env: { EVENTJOBS_AMQP_AUTH_TIMEOUT_MS: String(AUTH_MS), EVENTJOBS_AMQP_IDLE_TIMEOUT_MS: String(IDLE_MS) },
  });
});

after(async () => {
  const stderr = server?.stderr() ?? "";
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
  assert.doesNotMatch(
    stderr,
    /RangeError|TypeError|Maximum call stack|internal error|\n\s+at /,
    `nothing logged as a crash:\n${stderr}`,
  );
});

/** One message sent and received with the SDK, on a fresh client. */
async function sdkStillServes(queue = QUEUE, body: unknown = `ok ${Date.now()}`): Promise<void> {
  const client = new ServiceBusClient(server.connectionString, RETRY);
  try {
    await client.createSender(queue).sendMessages({ body });
    const receiver = client.createReceiver(queue, { receiveMode: "receiveAndDelete" });
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    assert.ok(m, `the SDK received the message it sent; server stderr:\n${server.stderr().slice(-2000)}`);
    assert.deepEqual(m.body, body);
  } finally {
    await client.close();
  }
}

/** Header and open; resolves with the server's open. */
async function opened(peer: RawPeer): Promise<Record<string, unknown>> {
  peer.write(AMQP_HEADER);
  peer.write(openFrame());
  return (await peer.next(PERFORMATIVE.open)).performative;
}

/** Writes `chunk` until the server closes the socket or `total` bytes went out; resolves with the bytes written. */
async function flood(peer: RawPeer, chunk: Buffer, total: number): Promise<number> {
  let sent = 0;
  while (sent < total && peer.isOpen) {
    if (!peer.write(chunk)) await Promise.race([new Promise((r) => peer.socket.once("drain", r)), peer.closed]);
    sent += chunk.length;
  }
  return sent;
}

describe("frame size limit", () => {
  it(
    "a frame header claiming ~4 GB before open: close with framing-error, without buffering what follows",
    { timeout: 60_000 },
    async () => {
      const rssBefore = server.rss();
      const peer = await RawPeer.connect(server.amqpPort);
      peer.write(AMQP_HEADER);
      const huge = Buffer.alloc(8);
      huge.writeUInt32BE(0xfffffff0, 0);
      huge[4] = 2;
      peer.write(huge);
      await flood(peer, Buffer.alloc(1 << 20), 64 << 20);
      const ms = await peer.closed;
      assert.equal(peer.closeError()?.condition, FRAMING);
      assert.match(String(peer.closeError()?.description), /4294967280 bytes exceeds the max-frame-size/);
      assert.ok(ms < 5000, `closed after ${ms} ms`);
      const grew = server.rss() - rssBefore;
      assert.ok(grew < 32 << 20, `server RSS grew by ${(grew / 2 ** 20).toFixed(1)} MB`);
      await sdkStillServes();
    },
  );

  it(
    "after open, the advertised max-frame-size is enforced: a larger frame closes with framing-error",
    { timeout: 60_000 },
    async () => {
      const peer = await RawPeer.connect(server.amqpPort);
      const open = await opened(peer);
      assert.equal(open.max_frame_size, 65536);
      assert.equal(open.idle_time_out, IDLE_MS);
      assert.equal(typeof open.channel_max, "number");
      peer.write(rawFrame(Buffer.alloc(65536 - 8 + 1, 0x40)));
      await peer.closed;
      assert.equal(peer.closeError()?.condition, FRAMING);
      await sdkStillServes();
    },
  );

  it("in SASL, an oversized frame ends the connection", { timeout: 60_000 }, async () => {
    const peer = await RawPeer.connect(server.amqpPort);
    peer.write(SASL_HEADER);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(1 << 30, 0);
    peer.write(huge);
    const ms = await peer.closed;
    assert.ok(ms < 5000, `closed after ${ms} ms`);
  });

  it("holds on AMQPS and on AMQP over WebSockets", { timeout: 60_000 }, async () => {
    const tls = tlsConnect({
      port: server.amqpsPort,
      host: "127.0.0.1",
      servername: "localhost",
      rejectUnauthorized: false,
    });
    await new Promise((resolve, reject) => tls.once("secureConnect", resolve).once("error", reject));
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/$servicebus/websocket`, "AMQPWSB10");
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    for (const peer of [RawPeer.over(tls), RawPeer.over(createWebSocketStream(ws))]) {
      await opened(peer);
      peer.write(rawFrame(Buffer.alloc(70_000, 0x40)));
      await peer.closed;
      assert.equal(peer.closeError()?.condition, FRAMING);
      peer.destroy();
    }
  });

  it(
    "more than 5000 links on one connection: close with amqp:resource-limit-exceeded",
    { timeout: 60_000 },
    async () => {
      const peer = await RawPeer.connect(server.amqpPort);
      await opened(peer);
      peer.write(amqpFrame(0, rhea.frames.begin({ next_outgoing_id: 0, incoming_window: 10, outgoing_window: 10 })));
      const attach = (h: number) =>
        amqpFrame(
          0,
          rhea.frames.attach({
            name: `l${h}`,
            handle: h,
            role: false,
            target: rhea.terminus.target({ address: "$cbs" }).described(),
          }),
        );
      const all = Array.from({ length: 5001 }, (_, h) => attach(h));
      for (let i = 0; i < all.length; i += 1000) peer.write(Buffer.concat(all.slice(i, i + 1000)));
      await peer.closed;
      assert.equal(peer.closeError()?.condition, "amqp:resource-limit-exceeded");
      assert.match(String(peer.closeError()?.description), /at most 5000 links/);
      assert.equal(
        peer.received.filter((f) => f.code === PERFORMATIVE.attach).length,
        5000,
        "the first 5000 links were attached",
      );
    },
  );

  it("a 1000 KB message still arrives, in frames within the limit", { timeout: 60_000 }, async () => {
    await sdkStillServes(BIG, "x".repeat(1000 * 1024 - 1000));
  });
});

describe("connections that do not authorize, and silent ones", () => {
  it(
    `a connection that puts no token on $cbs is closed after the bound (${AUTH_MS} ms), heartbeats or not`,
    { timeout: 60_000 },
    async () => {
      const peer = await RawPeer.connect(server.amqpPort);
      await opened(peer);
      const beat = setInterval(() => peer.write(EMPTY_FRAME), IDLE_MS / 4);
      try {
        const ms = await peer.closed;
        assert.equal(peer.closeError()?.condition, "amqp:unauthorized-access");
        assert.ok(ms >= AUTH_MS - 100 && ms < AUTH_MS + 3000, `closed after ${ms} ms`);
      } finally {
        clearInterval(beat);
      }
    },
  );

  it(
    "a connection that sends nothing is closed once its idle time-out has passed twice",
    { timeout: 60_000 },
    async () => {
      const peer = await RawPeer.connect(server.amqpPort);
      await opened(peer);
      const ms = await peer.closed;
      assert.equal(peer.closeError()?.condition, "amqp:resource-limit-exceeded");
      assert.ok(ms >= 2 * IDLE_MS - 100 && ms < AUTH_MS, `closed after ${ms} ms`);
    },
  );

  it("a silent TCP connection (not even a protocol header) is closed too", { timeout: 60_000 }, async () => {
    const peer = await RawPeer.connect(server.amqpPort);
    const ms = await peer.closed;
    assert.ok(ms < AUTH_MS + 3000, `closed after ${ms} ms`);
  });

  it("an authorized client's heartbeats keep its connection open", { timeout: 60_000 }, async () => {
    const c = await authorized(HEARTBEAT);
    let gone = false;
    c.connection.once("disconnected", () => (gone = true));
    await new Promise((r) => setTimeout(r, 3 * IDLE_MS + 500));
    assert.equal(gone, false);
    assert.deepEqual(await c.send(HEARTBEAT, "after idle"), { accepted: true });
    c.close();
  });
});

async function authorized(queue: string): Promise<CbsConnection> {
  const c = await CbsConnection.open(server.amqpPort);
  const token = createSasToken(`sb://localhost/${queue}`, ROOT.keyName, ROOT.key, 600);
  assert.equal((await c.putToken("servicebus.windows.net:sastoken", token, `sb://localhost/${queue}`)).status, 200);
  return c;
}

describe("deep nesting", () => {
  it(
    "a message body nested 200 000 levels deep is rejected with amqp:decode-error; the link goes on",
    { timeout: 60_000 },
    async () => {
      const c = await authorized(BIG);
      const sender = c.connection.open_sender({ target: { address: BIG } });
      await new Promise((r) => sender.once("sendable", r));
      const outcome = (d: unknown) =>
        new Promise<{ state: string; error?: { condition?: string; description?: string } }>((resolve) => {
          const done = (state: string) => (ctx: EventContext) => {
            if (ctx.delivery !== d) return;
            sender.removeListener("accepted", acc);
            sender.removeListener("rejected", rej);
            resolve({ state, error: (ctx.delivery?.remote_state as { error?: { condition?: string } })?.error });
          };
          const acc = done("accepted");
          const rej = done("rejected");
          sender.on("accepted", acc);
          sender.on("rejected", rej);
        });
      const deep = Buffer.concat([Buffer.from([0x00, 0x53, 0x77]), nestedDescribed(200_000)]);
      const r1 = await outcome(sender.send(deep, undefined, 0));
      assert.equal(r1.state, "rejected");
      assert.equal(r1.error?.condition, "amqp:decode-error");
      assert.match(String(r1.error?.description), /nested more than/);
      const r2 = await outcome(sender.send({ body: "after the deep one" } as rheaLib.Message));
      assert.equal(r2.state, "accepted");
      c.close();
      const client = new ServiceBusClient(server.connectionString, RETRY);
      const [m] = await client
        .createReceiver(BIG, { receiveMode: "receiveAndDelete" })
        .receiveMessages(1, { maxWaitTimeInMs: 10_000 });
      assert.equal(m?.body, "after the deep one");
      await client.close();
    },
  );

  it(
    "an open frame with properties nested 5000 deep gets a close frame with amqp:decode-error",
    { timeout: 60_000 },
    async () => {
      const peer = await RawPeer.connect(server.amqpPort);
      peer.write(AMQP_HEADER);
      peer.write(openWithProperty(nestedDescribed(5000)));
      await peer.closed;
      assert.equal(peer.closeError()?.condition, "amqp:decode-error");
      assert.ok(
        peer.received.some((f) => f.code === PERFORMATIVE.open),
        "the close follows an open",
      );
      await sdkStillServes();
    },
  );

  it(
    "one nested 100 000 deep is too large to be read at all: close with framing-error",
    { timeout: 60_000 },
    async () => {
      const peer = await RawPeer.connect(server.amqpPort);
      peer.write(AMQP_HEADER);
      peer.write(openWithProperty(nestedDescribed(100_000)));
      await peer.closed;
      assert.equal(peer.closeError()?.condition, FRAMING);
      await sdkStillServes();
    },
  );

  it("a begin nested deeply after a good open: close with amqp:decode-error", { timeout: 60_000 }, async () => {
    const peer = await RawPeer.connect(server.amqpPort);
    await opened(peer);
    peer.write(beginWithProperty(nestedDescribed(1000)));
    await peer.closed;
    assert.equal(peer.closeError()?.condition, "amqp:decode-error");
  });
});
