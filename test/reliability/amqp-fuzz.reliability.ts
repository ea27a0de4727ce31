// A bounded AMQP fuzzer against `eventjobs up` (a child process), over raw sockets to the AMQP port: random
// bytes, bad protocol headers, bad frame sizes, unknown and ill-typed performatives, truncated frames,
// mutations (flipped, inserted, deleted bytes) of a recorded valid session (header, open, begin, attach,
// $cbs put-token, transfer), deep nesting, invalid UTF-8, thousands of sessions and links on one connection,
// many connections at once, and byte-at-a-time (slow-loris) peers. Afterwards the process must be alive,
// its stderr free of stack traces, RangeError and TypeError, no connection closed as an internal error, and
// the SDK must still send and receive. Prints one summary line. Knobs: AMQP_FUZZ_INPUTS (default 10000),
// AMQP_FUZZ_SECONDS (default 150), AMQP_FUZZ_SEED (default random; the summary names it).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import rhea from "rhea";
import { createSasToken } from "../../src/identity/sas.js";
import {
  AMQP_HEADER,
  amqpFrame,
  EMPTY_FRAME,
  listFrame,
  mapOfOne,
  openFrame,
  PERFORMATIVE,
  RawPeer,
  rawFrame,
  SASL_HEADER,
  saslFrame,
} from "../helpers/amqp-raw.js";
import { Rng } from "../helpers/amqp-values.js";
import { queuesYaml } from "../helpers/broker.js";
import { RETRY } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

type Any = any; // rhea's frame and terminus modules have no TypeScript types
const req = createRequire(import.meta.url);
const frames = req("rhea/lib/frames.js") as Any;
const terminus = req("rhea/lib/terminus.js") as Any;
const message = rhea.message as Any;

const INPUTS = Number(process.env.AMQP_FUZZ_INPUTS ?? 10000);
const SECONDS = Number(process.env.AMQP_FUZZ_SECONDS ?? 150);
const SEED = Number(process.env.AMQP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PARALLEL = 16;
const CASE_MS = 400; // how long one input waits for the server's answer
const QUEUE = "fuzzq";
const AUDIENCE = `sb://localhost/${QUEUE}`;
const TOKEN = createSasToken(AUDIENCE, "RootManageSharedAccessKey", "SAS_KEY_VALUE", 3600);

const rng = new Rng(SEED);
const { int, pick, chance, bytes, randomValue, compound, str, randomText, deep } = rng;

// --- a valid session, in phases (the client waits for the server between them, as a real one does) -----

const source = (address?: string) => terminus.source(address === undefined ? {} : { address }).described();
const target = (address?: string) => terminus.target(address === undefined ? {} : { address }).described();
const attach = (handle: number, role: boolean, name: string, src: Any, tgt: Any) =>
  amqpFrame(
    0,
    frames.attach({
      name,
      handle,
      role,
      snd_settle_mode: 0,
      rcv_settle_mode: 0,
      source: src,
      target: tgt,
      initial_delivery_count: role ? undefined : 0,
    }),
  );
const transfer = (handle: number, id: number, body: Buffer) =>
  amqpFrame(
    0,
    frames.transfer({
      handle,
      delivery_id: id,
      delivery_tag: Buffer.from(String(id)),
      message_format: 0,
      settled: false,
      more: false,
    }),
    body,
  );

function putTokenMessage(
  type = "servicebus.windows.net:sastoken",
  token: unknown = TOKEN,
  audience: unknown = AUDIENCE,
): Buffer {
  return message.encode({
    message_id: "put-1",
    reply_to: "cbs-reply",
    to: "$cbs",
    application_properties: { operation: "put-token", type, name: audience },
    body: token,
  });
}

/** A put-token request with a made-up token: JWT-like, SAS-like with broken fields, or no string at all. */
function badPutToken(): Buffer {
  const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
  const token = pick<unknown>([
    `${b64({ alg: pick(["RS256", "none", "HS256", 7]), kid: pick(["x", null, "a".repeat(500)]) })}.${b64(pick([{ aud: "https://servicebus.azure.net", exp: 9e12 }, "not json", [], { exp: "soon" }]))}.${b64(bytes(int(300)))}`,
    `SharedAccessSignature sr=${pick(["%", "%zz", encodeURIComponent(AUDIENCE)])}&sig=${pick(["%E0%A4%A", "abc", ""])}&se=${pick(["9999999999", "x", "-1"])}&skn=${pick(["%", "RootManageSharedAccessKey", ""])}`,
    randomText().toString("latin1"),
    bytes(int(100)),
    int(1000),
    null,
  ]);
  return putTokenMessage(
    pick(["jwt", "servicebus.windows.net:sastoken", "", randomText().toString("latin1")]),
    token,
    pick([AUDIENCE, "", "sb://%zz/", randomText().toString("latin1"), 5]),
  );
}

function validPhases(
  body: Buffer = message.encode({ message_id: "m-1", body: "fuzz", application_properties: { k: "v", n: 1 } }),
): Buffer[] {
  return [
    Buffer.concat([
      AMQP_HEADER,
      openFrame({ idle_time_out: 60_000 }),
      amqpFrame(0, frames.begin({ next_outgoing_id: 0, incoming_window: 2048, outgoing_window: 2048 })),
      attach(0, false, "cbs-send", source(), target("$cbs")),
      attach(1, true, "cbs-reply", source("$cbs"), target("cbs-reply")),
      amqpFrame(
        0,
        frames.flow({
          next_incoming_id: 0,
          incoming_window: 2048,
          next_outgoing_id: 0,
          outgoing_window: 2048,
          handle: 1,
          delivery_count: 0,
          link_credit: 10,
        }),
      ),
    ]),
    transfer(0, 0, putTokenMessage()),
    attach(2, false, "send-q", source(), target(QUEUE)),
    transfer(2, 1, body),
    Buffer.concat([
      amqpFrame(0, frames.disposition({ role: true, first: 0, settled: true, state: message.accepted().described() })),
      amqpFrame(0, frames.detach({ handle: 2, closed: true })),
      amqpFrame(0, frames.end({})),
      amqpFrame(0, frames.close({})),
    ]),
  ];
}

/** Sends the phases, waiting (bounded) for the server to answer each before the next. */
async function playPhases(peer: RawPeer, phases: Buffer[]): Promise<void> {
  for (const phase of phases) {
    const seen = peer.received.length;
    peer.write(phase);
    await peer.waitFor(() => (peer.received.length > seen ? true : undefined), CASE_MS / 2);
    if (!peer.isOpen) return;
  }
}

// --- the inputs -------------------------------------------------------------------------------

interface Stats {
  inputs: number;
  connections: number;
  byKind: Record<string, number>;
  closes: Record<string, number>;
}
const stats: Stats = { inputs: 0, connections: 0, byKind: {}, closes: {} };

type Case = (port: number) => Promise<void>;

/** One connection: `send` writes to it; then wait (bounded) for the server, record how it closed, hang up. */
async function withPeer(port: number, send: (peer: RawPeer) => Promise<void> | void, waitMs = CASE_MS): Promise<void> {
  const peer = await RawPeer.connect(port);
  stats.connections++;
  try {
    await send(peer);
    await peer.waitFor(() => (peer.closeError() ? true : undefined), waitMs);
    const condition = peer.closeError()?.condition ?? (peer.isOpen ? "open" : "socket closed");
    stats.closes[condition] = (stats.closes[condition] ?? 0) + 1;
  } finally {
    peer.destroy();
  }
}

function mutate(b: Buffer): Buffer {
  let out = Buffer.from(b);
  for (let i = 0, n = 1 + int(8); i < n; i++) {
    const at = int(out.length);
    const op = int(3);
    if (op === 0) out[at] ^= 1 << int(8);
    else if (op === 1) out = Buffer.concat([out.subarray(0, at), bytes(1 + int(4)), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(4))]);
  }
  return out;
}

const PERFORMATIVE_CODES = [
  0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x40, 0x41, 0x44, 0x1d, 0x24, 0x28, 0x00, 0x77, 0xff,
];

const CASES: Record<string, Case> = {
  "random bytes": (port) =>
    withPeer(
      port,
      (p) =>
        void p.write(
          Buffer.concat([chance(0.5) ? pick([AMQP_HEADER, SASL_HEADER]) : Buffer.alloc(0), bytes(1 + int(2048))]),
        ),
    ),
  "bad protocol header": (port) =>
    withPeer(port, (p) => {
      const h = Buffer.from(pick([AMQP_HEADER, SASL_HEADER]));
      h[4 + int(4)] = int(256);
      p.write(
        chance(0.2)
          ? Buffer.from(
              pick([
                "GET / HTTP/1.1\r\n\r\n",
                "AMQP",
                "AMQP\x02\x01\x00\x00",
                "AMQP\x00\x00\x09\x01",
                "\x00\x00\x00\x08\x02\x00\x00\x00",
              ]),
              "latin1",
            )
          : h,
      );
    }),
  "bad frame size": (port) =>
    withPeer(port, async (p) => {
      if (chance(0.5)) {
        p.write(AMQP_HEADER);
        p.write(openFrame());
        await p.waitFor(() => p.received.find((f) => f.code === PERFORMATIVE.open), CASE_MS);
      } else p.write(pick([AMQP_HEADER, SASL_HEADER]));
      const head = Buffer.alloc(8);
      head.writeUInt32BE(pick([0, 1, 4, 7, 8, 9, 512, 16385, 65537, 0x7fffffff, 0xffffffff, int(2 ** 32)]), 0);
      head[4] = pick([0, 1, 2, 3, 255]);
      head[5] = pick([0, 1, 2]);
      p.write(Buffer.concat([head, bytes(int(64))]));
    }),
  "unknown or ill-typed performative": (port) =>
    withPeer(port, async (p) => {
      p.write(AMQP_HEADER);
      if (chance(0.7)) p.write(openFrame());
      const fields = Array.from({ length: int(12) }, () => randomValue());
      const code = chance(0.7) ? pick(PERFORMATIVE_CODES) : int(256);
      p.write(chance(0.8) ? listFrame(code, fields, chance(0.9) ? 0 : int(65536)) : rawFrame(randomValue()));
    }),
  "truncated session": (port) =>
    withPeer(port, (p) => {
      const all = Buffer.concat(validPhases());
      p.write(all.subarray(0, 1 + int(all.length - 1)));
      if (chance(0.5)) p.socket.end();
    }),
  "mutated session": (port) =>
    withPeer(port, async (p) => {
      const phases = validPhases();
      const which = int(phases.length);
      phases[which] = mutate(phases[which]);
      await playPhases(p, phases);
    }),
  "bad put-token": (port) =>
    withPeer(port, async (p) => {
      const phases = validPhases();
      phases[1] = transfer(0, 0, badPutToken());
      await playPhases(p, phases);
    }),
  "mutated message": (port) =>
    withPeer(port, async (p) => {
      const body = message.encode({
        message_id: "m",
        body: chance(0.5) ? "text" : message.data_section(bytes(20)),
        application_properties: { a: 1, b: "x" },
        message_annotations: { "x-opt-partition-key": "k" },
      });
      await playPhases(
        p,
        validPhases(chance(0.3) ? Buffer.concat([Buffer.from([0x00, 0x53, 0x77]), randomValue()]) : mutate(body)),
      );
    }),
  "deep nesting": (port) =>
    withPeer(port, async (p) => {
      const d = deep(pick([65, 100, 500, 1000, 3000]));
      const where = int(4);
      if (where === 0) {
        p.write(AMQP_HEADER);
        p.write(
          listFrame(PERFORMATIVE.open, [
            str(0xa1, "raw"),
            str(0xa1, "localhost"),
            ...Array(7).fill(Buffer.from([0x40])),
            mapOfOne(d),
          ]),
        );
      } else if (where === 1) {
        await playPhases(p, validPhases(Buffer.concat([Buffer.from([0x00, 0x53, 0x77]), d])));
      } else if (where === 2) {
        const phases = validPhases();
        phases[0] = Buffer.concat([
          phases[0],
          listFrame(PERFORMATIVE.attach, [
            str(0xa1, "deep"),
            Buffer.from([0x52, 9]),
            Buffer.from([0x42]),
            Buffer.from([0x40, 0x40]),
            Buffer.concat([
              Buffer.from([0x00, 0x53, 0x28]),
              compound(0xd0, [str(0xa1, QUEUE), Buffer.from([0x40, 0x40, 0x40, 0x40, 0x40, 0x40]), mapOfOne(d)]),
            ]),
          ]),
        ]);
        await playPhases(p, phases);
      } else {
        const phases = validPhases();
        phases[1] = Buffer.concat([
          phases[1],
          listFrame(PERFORMATIVE.disposition, [
            Buffer.from([0x41, 0x43]),
            Buffer.from([0x40, 0x41]),
            Buffer.concat([Buffer.from([0x00, 0x53, 0x25]), compound(0xd0, [d])]),
          ]),
        ]);
        await playPhases(p, phases);
      }
    }),
  "invalid UTF-8": (port) =>
    withPeer(port, async (p) => {
      const text = Buffer.concat([randomText(), Buffer.from(pick(rng.badUtf8))]);
      const phases = validPhases(message.encode({ message_id: text.toString("latin1"), body: "x" }));
      p.write(AMQP_HEADER);
      p.write(listFrame(PERFORMATIVE.open, [str(0xa1, text), str(0xa1, chance(0.5) ? "localhost" : text)]));
      await p.waitFor(() => p.received.find((f) => f.code === PERFORMATIVE.open), CASE_MS);
      p.write(amqpFrame(0, frames.begin({ next_outgoing_id: 0, incoming_window: 100, outgoing_window: 100 })));
      p.write(
        listFrame(PERFORMATIVE.attach, [
          str(0xa1, text),
          Buffer.from([0x43]),
          Buffer.from([0x42]),
          Buffer.from([0x40, 0x40]),
          source(),
          Buffer.concat([Buffer.from([0x00, 0x53, 0x29]), compound(0xd0, [str(pick([0xa1, 0xa3]), text)])]),
        ]),
      );
      p.write(phases[3]);
    }),
  SASL: (port) =>
    withPeer(port, async (p) => {
      p.write(SASL_HEADER);
      await p.waitFor(() => p.received.find((f) => f.code === PERFORMATIVE.saslMechanisms), CASE_MS);
      const mech = pick(["ANONYMOUS", "MSSBCBS", "PLAIN", "EXTERNAL", "", "x".repeat(300)]);
      const init = chance(0.7)
        ? saslFrame(frames.sasl_init({ mechanism: mech, initial_response: bytes(int(64)), hostname: "localhost" }))
        : mutate(saslFrame(frames.sasl_init({ mechanism: mech })));
      p.write(init);
      await p.waitFor(() => p.received.find((f) => f.code === PERFORMATIVE.saslOutcome), CASE_MS);
      const rest = Buffer.concat(validPhases());
      p.write(chance(0.5) ? rest : mutate(rest));
    }),
};

/** The recorded session, unmutated, is what the mutations start from: the server must accept it whole. */
async function validSessionWorks(port: number): Promise<void> {
  const peer = await RawPeer.connect(port);
  try {
    const phases = validPhases();
    await playPhases(peer, phases.slice(0, -1));
    const accepted = await peer.waitFor(
      () => peer.received.find((f) => f.code === PERFORMATIVE.disposition && f.performative.first === 1),
      10_000,
    );
    peer.write(phases[phases.length - 1]);
    await peer.waitFor(() => peer.received.find((f) => f.code === PERFORMATIVE.close), 5000);
    assert.ok(accepted && message.is_accepted(accepted.performative.state), "the session's message is accepted");
    assert.ok(
      peer.received.some((f) => f.code === PERFORMATIVE.close) && !peer.closeError(),
      "the session ends with a clean close",
    );
  } finally {
    peer.destroy();
  }
}

/** Heavy cases run a few times each, next to the random ones. */
async function sessionsAndLinks(port: number): Promise<void> {
  await withPeer(
    port,
    async (p) => {
      p.write(Buffer.concat(validPhases().slice(0, 2)));
      const out: Buffer[] = [];
      for (let ch = 1; ch < 5000; ch++)
        out.push(amqpFrame(ch, frames.begin({ next_outgoing_id: 0, incoming_window: 10, outgoing_window: 10 })));
      for (let h = 10; h < 5010; h++)
        out.push(attach(h, chance(0.5), `link-${h}`, source("$cbs"), target(chance(0.5) ? QUEUE : "$cbs")));
      // then a session beyond channel-max (4999)
      out.push(amqpFrame(5000, frames.begin({ next_outgoing_id: 0, incoming_window: 10, outgoing_window: 10 })));
      for (let i = 0; i < out.length; i += 500) p.write(Buffer.concat(out.slice(i, i + 500)));
      await p.waitFor(() => p.closeError(), 20_000);
    },
    5000,
  );
  stats.inputs++;
}

async function manyConnections(port: number, n: number): Promise<void> {
  const peers = await Promise.all(Array.from({ length: n }, () => RawPeer.connect(port)));
  stats.connections += n;
  for (const p of peers) {
    p.write(AMQP_HEADER);
    p.write(openFrame());
  }
  await Promise.all(peers.map((p) => p.waitFor(() => p.received.find((f) => f.code === PERFORMATIVE.open), 10_000)));
  const opened = peers.filter((p) => p.received.some((f) => f.code === PERFORMATIVE.open)).length;
  for (const p of peers) p.destroy();
  stats.inputs++;
  assert.equal(opened, n, `all ${n} connections opened`);
}

async function slowLoris(port: number): Promise<void> {
  const data = Buffer.concat([AMQP_HEADER, openFrame(), EMPTY_FRAME]);
  await withPeer(
    port,
    async (p) => {
      for (const b of data) {
        if (!p.write(Buffer.from([b]))) break;
        await new Promise((r) => setImmediate(r));
      }
    },
    CASE_MS,
  );
  stats.inputs++;
}

// --- the run ----------------------------------------------------------------------------------

let server: ServerProcess;
const dir = mkdtempSync(join(tmpdir(), "eventjobs-amqp-fuzz-"));

before(async () => {
  const config = join(dir, "eventjobs.yaml");
  writeFileSync(config, queuesYaml({ [QUEUE]: {} }));
  server = await startServer({ args: ["--config", config], env: { EVENTJOBS_AMQP_AUTH_TIMEOUT_MS: "10000" } });
});

after(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("AMQP fuzzing", () => {
  it(
    `survives ${INPUTS} fuzzed inputs (within ${SECONDS} s) and still serves`,
    { timeout: (SECONDS + 120) * 1000 },
    async () => {
      const rssBefore = server.rss();
      const deadline = Date.now() + SECONDS * 1000;
      const kinds = Object.keys(CASES);
      let crashes = 0;
      await validSessionWorks(server.amqpPort);
      await sessionsAndLinks(server.amqpPort);
      await manyConnections(server.amqpPort, 500);
      await Promise.all(Array.from({ length: 20 }, () => slowLoris(server.amqpPort)));
      const worker = async () => {
        while (stats.inputs < INPUTS && Date.now() < deadline && server.child.exitCode === null) {
          const kind = pick(kinds);
          stats.inputs++;
          stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
          await CASES[kind](server.amqpPort).catch(() => {
            // a refused connect is a server that stopped listening
            if (server.child.exitCode !== null) crashes++;
          });
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      await sessionsAndLinks(server.amqpPort);
      const stderr = server.stderr();
      const alive = server.child.exitCode === null && server.child.signalCode === null;
      if (!alive) crashes++;
      crashes += (stderr.match(/RangeError|TypeError|Maximum call stack|internal error|\n\s+at /g) ?? []).length;
      const rssAfter = alive ? server.rss() : 0;
      const lines = stderr.split("\n").filter(Boolean);
      const distinct = [...new Set(lines.map((l) => l.replace(/\d+/g, "N").slice(0, 100)))];
      console.log(
        `amqp fuzz: seed ${SEED}, ${stats.inputs} inputs, ${stats.connections} connections, ${crashes} crashes, ` +
          `RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB -> ${(rssAfter / 2 ** 20).toFixed(0)} MB; closes ${JSON.stringify(stats.closes)}; inputs ${JSON.stringify(stats.byKind)}; ` +
          `${lines.length} stderr lines${distinct.length ? `: ${JSON.stringify(distinct.slice(0, 10))}` : ""}`,
      );
      assert.ok(alive, `the server is alive\n${stderr}`);
      assert.equal(crashes, 0, `no crash in stderr:\n${stderr.slice(-5000)}`);
      assert.equal(stats.closes["amqp:internal-error"] ?? 0, 0, "no connection closed as an internal error");
      const client = new ServiceBusClient(server.connectionString, RETRY);
      try {
        await client.createSender(QUEUE).sendMessages({ body: "after the fuzz" });
        const receiver = client.createReceiver(QUEUE, { receiveMode: "receiveAndDelete" });
        let found = false;
        for (let i = 0; i < 20 && !found; i++) {
          const got = await receiver.receiveMessages(50, { maxWaitTimeInMs: 1000 });
          found = got.some((m) => m.body === "after the fuzz");
        }
        assert.ok(found, "the SDK receives what it sent");
      } finally {
        await client.close();
      }
    },
  );
});
