// A bounded HTTP fuzzer against `eventjobs up` (a child process): a few thousand randomized requests over the
// HTTP port, the HTTPS port and the HTTP side of the AMQPS port (malformed paths and percent-escapes, random
// methods, fuzzed headers, bodies with and without content types, truncated and pipelined requests, junk
// WebSocket upgrades), next to slow-loris connections the server must time out. Afterwards the process must be
// alive, /health must answer on every listener and the SDK must send and receive. Prints one summary line
// (docs/reliability.md quotes it). Knobs: HTTP_FUZZ_INPUTS (default 5000), HTTP_FUZZ_SECONDS (default 60),
// HTTP_FUZZ_SEED (default random; printed first, so a failing run's inputs can be generated again; how they
// interleave over the parallel connections depends on timing).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { createSasToken } from "../../src/identity/sas.js";
import { HEADERS_TIMEOUT_MS } from "../../src/listeners.js";
import { tempFiles } from "../helpers/files.js";
import { connect, httpRequest, rawRequest, type Target } from "../helpers/raw-http.js";
import { RETRY, receiveOne } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const INPUTS = Number(process.env.HTTP_FUZZ_INPUTS ?? 5000);
const SECONDS = Number(process.env.HTTP_FUZZ_SECONDS ?? 60);
const SEED = Number(process.env.HTTP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PARALLEL = 32;
const SLOW_LORIS = 24;
const { write } = tempFiles("eventjobs-http-fuzz-");
const SAS = createSasToken("sb://localhost/", "RootManageSharedAccessKey", "SAS_KEY_VALUE");

/** mulberry32: small, seeded, good enough to pick inputs */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
const chance = (p: number) => rnd() < p;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

const SEGMENTS = [
  "api",
  "v1",
  "jobs",
  "executions",
  "logs",
  "start",
  "stop",
  "apply",
  "plan",
  "destroy",
  "project",
  "servicebus",
  "namespaces",
  "sbemulatorns",
  "queues",
  "keys",
  "messages",
  "receive",
  "authorizationRules",
  "RootManageSharedAccessKey",
  "listKeys",
  "identities",
  "roleAssignments",
  "msi",
  "token",
  "exec",
  "health",
  "$namespaceinfo",
  "$Resources",
  "Queues",
  "Topics",
  "Subscriptions",
  "Rules",
  "$servicebus",
  "websocket",
  "dashboard",
  "assets",
  "favicon.ico",
  "fuzzq",
  "..",
  ".",
  "",
  "%",
  "%ff",
  "%E0%A4%A",
  "%00",
  "%2F",
  "%2e%2e",
  "%c0%af",
  "%u0041",
  "%%",
  "%zz",
  "é",
  "\u00ff",
  "a".repeat(300),
  "*",
];
const METHODS = [
  "GET",
  "GET",
  "GET",
  "POST",
  "POST",
  "PUT",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "CONNECT",
  "PROPFIND",
  "MKCOL",
  "BREW",
  "get",
  "G\u00c9T",
  "GET\x00",
  "",
];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/atom+xml;type=entry;charset=utf-8",
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json\x01",
  "",
  "*/*",
];

function path(): string {
  if (chance(0.05))
    return pick([
      "*",
      "http://localhost/health",
      "http://[::/x",
      "//x:99999/",
      "/" +
        bytes(20)
          .toString("latin1")
          .replace(/[\r\n ]/g, "x"),
      "",
    ]);
  const n = 1 + int(6);
  let p = "";
  for (let i = 0; i < n; i++)
    p += (chance(0.1) ? "//" : "/") + (chance(0.15) ? `%${int(256).toString(16).padStart(2, "0")}` : pick(SEGMENTS));
  if (chance(0.3))
    p +=
      "?" +
      Array.from(
        { length: 1 + int(4) },
        () =>
          `${pick(["resource", "api-version", "follow", "tail", "since", "$skip", "$top", "tls", "%zz", ""])}=${pick(["%00%ff", "2019-08-01", "true", "-1", "1e309", "https://servicebus.azure.net", "%", "x".repeat(int(2000))])}`,
      ).join(pick(["&", "&&", ";"]));
  return p;
}

function host(port: number): string[] {
  return pick<string[]>([
    [`localhost:${port}`],
    [`localhost:${port}`],
    [`127.0.0.1:${port}`],
    [`sbemulatorns.localhost:${port}`],
    ["sbemulatorns.servicebus.windows.net"],
    [],
    ["evil.example"],
    ["a b"],
    ["[::1"],
    [`localhost:${port}`, "evil.example"],
    ["localhost:99999"],
    ["x".repeat(5000)],
    [""],
    ["\u00ff\u00fe"],
  ]);
}

function body(): { data: Buffer; type?: string } {
  const type = chance(0.8) ? pick(CONTENT_TYPES) : undefined;
  const r = int(12);
  if (r === 0) return { data: Buffer.alloc(0), type };
  if (r <= 3)
    return {
      data: Buffer.from(
        pick([
          "{",
          "{}",
          "[]",
          "null",
          '{"a":',
          '{"text":1,"file":"rel"}',
          '{"body":"x","sessionId":{}}',
          '{"lockTokens":[1,{}]}',
          '{"assignee":"x","role":[],"scope":7}',
          '"' + "a".repeat(1000),
        ]),
      ),
      type,
    };
  if (r <= 5)
    return {
      data: Buffer.from(
        pick([
          "<entry><content>",
          '<?xml version="1.0"?><entry xmlns="http://www.w3.org/2005/Atom"><content><QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"><MaxDeliveryCount>-1</MaxDeliveryCount><ForwardTo>sb://[bad/%ff</ForwardTo></QueueDescription></content></entry>',
          '<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>',
          "<a>&#xFFFFFF;</a>",
          "<".repeat(10000),
          "<a>".repeat(200) + "</a>".repeat(200),
        ]),
      ),
      type,
    };
  if (r <= 7) return { data: bytes(int(4096)), type };
  if (r === 8) return { data: Buffer.alloc(300 * 1024 + int(5 * 1024 * 1024), "a"), type }; // over the admin and control API limits
  return {
    data: Buffer.from(
      JSON.stringify({
        name: pick(SEGMENTS),
        properties: { configuration: { triggerType: pick(["Manual", "Event", 7]) } },
        text: pick(["", "namespaces: [", "x: 1"]),
        file: "/nowhere/x.yaml",
      }),
    ),
    type,
  };
}

/** One randomized input: the bytes to send, one part after the other. */
function input(port: number): Buffer[] {
  const kind = int(20);
  const method = pick(METHODS);
  const target = path();
  const version = chance(0.95) ? "HTTP/1.1" : pick(["HTTP/1.0", "HTTP/2.0", "HTTP/9", "", "http/1.1"]);
  const lines = [`${method} ${target} ${version}`.trimEnd()];
  for (const h of host(port)) lines.push(`Host: ${h}`);
  if (chance(0.3)) lines.push(`Origin: ${pick(["http://evil.example", `http://localhost:${port}`, "null", "%", ""])}`);
  if (chance(0.3))
    lines.push(
      `Authorization: ${pick([SAS, SAS + "x", "Bearer x", "SharedAccessSignature sr=%ff&sig=&se=1&skn=", ""])}`,
    );
  if (chance(0.2)) lines.push(`X-IDENTITY-HEADER: ${pick([identityHeader, "nope", ""])}`);
  if (chance(0.15))
    lines.push(
      `X-Fuzz: ${bytes(1 + int(64))
        .toString("latin1")
        .replace(/[\r\n]/g, "")}`,
    );
  if (chance(0.05)) lines.push(`X-Big: ${"b".repeat(10_000 + int(40_000))}`);
  if (chance(0.05)) for (let i = 0; i < 300; i++) lines.push(`X-Many-${i}: ${i}`);
  if (chance(0.05))
    lines.push(
      pick([
        "no colon",
        ": empty name",
        "Bad Name: x",
        "X-Folded: a\r\n b",
        "Content-Length: -1",
        "Content-Length: 1e3",
        "Transfer-Encoding: gzip, chunked",
      ]),
    );
  if (kind === 0) {
    // a WebSocket upgrade with junk in it, and junk after it
    lines.push(
      "Connection: Upgrade",
      `Upgrade: ${pick(["websocket", "WebSocket", "h2c", "junk"])}`,
      `Sec-WebSocket-Key: ${pick(["dGhlIHNhbXBsZSBub25jZQ==", "x", ""])}`,
      `Sec-WebSocket-Version: ${pick(["13", "8", "99", "x"])}`,
      `Sec-WebSocket-Protocol: ${pick(["AMQPWSB10", "x", ""])}`,
    );
    return [Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), bytes(int(2048))];
  }
  const b = chance(0.6) ? body() : undefined;
  if (b?.type !== undefined) lines.push(`Content-Type: ${b.type}`);
  const chunked = b !== undefined && chance(0.2);
  if (chunked) lines.push("Transfer-Encoding: chunked");
  else if (b)
    lines.push(
      `Content-Length: ${chance(0.9) ? b.data.length : pick([0, b.data.length + 10, Math.max(0, b.data.length - 1), 99_999_999])}`,
    );
  let data = Buffer.concat([
    Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"),
    !b
      ? Buffer.alloc(0)
      : chunked
        ? Buffer.concat([
            Buffer.from(`${b.data.length.toString(16)}${chance(0.1) ? ";ext=" + "e".repeat(20_000) : ""}\r\n`),
            b.data,
            Buffer.from(pick(["\r\n0\r\n\r\n", "\r\nzz\r\n", "\r\n"])),
          ])
        : b.data,
  ]);
  if (kind === 1) data = data.subarray(0, int(data.length)); // truncated anywhere
  if (kind === 2) data = Buffer.concat([data, httpRequest("GET", path(), { Host: `localhost:${port}` })]); // pipelined
  return [data];
}

let server: ServerProcess;
let ca: string;
let identityHeader = "";
const statuses = new Map<string, number>();
const tally = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);

before(async () => {
  console.log(`http-fuzz: seed ${SEED} (HTTP_FUZZ_SEED repeats this run)`);
  const config = write("eventjobs.yaml", "namespaces:\n  - name: sbemulatorns\nidentities:\n  - name: fuzz-id\n");
  server = await startServer({ args: ["--config", config] });
  ca = readFileSync(server.stdout().match(/^\s*ca: (\S+)/m)![1], "utf8");
  // a real IDENTITY_HEADER, so the token endpoint's resource checks get fuzzed too
  const secret = readFileSync(join(server.dataDir, "identity", "exec-token"), "utf8").trim();
  const r = await rawRequest(
    { port: server.httpPort },
    httpRequest(
      "POST",
      "/msi/exec",
      { Host: `127.0.0.1:${server.httpPort}`, Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      "{}",
    ),
  );
  identityHeader = JSON.parse(r.body).env.IDENTITY_HEADER;
});
after(() => server?.dispose());

/** Holds a connection open with a partial request head; resolves with how long until the server closed it. */
async function slowLoris(t: Target, partial: string): Promise<number> {
  const start = Date.now();
  let s: Socket;
  try {
    s = await connect(t);
  } catch {
    return 0;
  }
  return new Promise((resolve) => {
    s.on("error", () => {});
    s.resume(); // read what the server answers (408), so its closing is seen
    s.on("close", () => resolve(Date.now() - start));
    if (partial) s.write(partial);
    // a trickle of header bytes: each one alone would reset an idle timer, not a headers timeout
    const drip = setInterval(() => partial && s.writable && s.write("X-Drip: 1\r\n"), 2000);
    s.on("close", () => clearInterval(drip));
  });
}

describe("HTTP fuzzing", () => {
  it("survives a few thousand randomized requests and times out slow-loris connections", async () => {
    const targets: Array<[string, Target]> = [
      ["http", { port: server.httpPort }],
      ["https", { port: server.httpsPort, ca }],
      ["amqps", { port: server.amqpsPort, ca }],
    ];
    const perTarget = new Map(targets.map(([n]) => [n, 0]));
    // slow loris: partial heads over every listener, and TLS connections that never finish the handshake
    const lorises = targets.flatMap(([, t]) =>
      Array.from({ length: SLOW_LORIS / 3 }, (_, i) =>
        slowLoris(t, i % 2 ? "GET /health HTTP/1.1\r\nHost: localhost\r\n" : "POST /api/v1/apply HTTP/1.1\r\n"),
      ),
    );
    for (const port of [server.httpsPort, server.amqpsPort])
      for (let i = 0; i < 4; i++) lorises.push(slowLoris({ port }, "")); // TCP to a TLS port, no handshake
    for (let i = 0; i < 4; i++) lorises.push(slowLoris({ port: server.httpPort }, "")); // connected, silent
    const deadline = Date.now() + SECONDS * 1000;
    let tried = 0;
    const worker = async () => {
      while (tried < INPUTS && Date.now() < deadline) {
        tried++;
        const [name, t] = pick(targets);
        perTarget.set(name, perTarget.get(name)! + 1);
        const data = input(t.port);
        // most inputs half-close after the last byte (the server sees a truncated request at once); the rest
        // wait for the server's own timeout
        const r = await rawRequest(t, data, {
          timeoutMs: HEADERS_TIMEOUT_MS + 5000,
          head: data[0].subarray(0, 5).toString() === "HEAD ",
          end: !chance(0.02),
        });
        tally(
          r.status !== undefined
            ? String(r.status)
            : r.ended === "error"
              ? "reset without an answer"
              : `${r.ended} without an answer`,
        );
        assert.equal(
          server.child.exitCode,
          null,
          `the server exited after input ${tried} (seed ${SEED})\nstderr:\n${server.stderr()}`,
        );
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const fuzzSeconds = (Date.now() - started) / 1000;
    const loris = await Promise.all(lorises);
    const worst = Math.max(...loris);

    assert.equal(server.child.exitCode, null, `the server exited\nstderr:\n${server.stderr()}`);
    for (const [name, t] of targets) {
      const h = await rawRequest(t, httpRequest("GET", "/health"));
      assert.equal(h.status, 200, `/health on ${name}: ${h.head}`);
    }
    // a queue made now (a fuzzed destroy may have run), then the SDK's round trip
    const queue = `fuzz-check-${SEED}`;
    const made = await rawRequest(
      { port: server.httpPort },
      httpRequest(
        "PUT",
        `/api/v1/servicebus/namespaces/sbemulatorns/queues/${queue}`,
        { Host: `127.0.0.1:${server.httpPort}`, "Content-Type": "application/json" },
        "{}",
      ),
    );
    assert.ok(made.status === 200 || made.status === 201, made.body);
    const client = new ServiceBusClient(server.connectionString, RETRY);
    try {
      await client.createSender(queue).sendMessages({ body: "after the fuzz" });
      assert.equal(
        (await receiveOne(client.createReceiver(queue, { receiveMode: "receiveAndDelete" }))).body,
        "after the fuzz",
      );
    } finally {
      await client.close();
    }

    const counts = [...statuses]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}×${v}`)
      .join(" ");
    console.log(
      `http-fuzz: ${tried} inputs (${[...perTarget].map(([n, c]) => `${n} ${c}`).join(", ")}) in ${fuzzSeconds.toFixed(1)} s, seed ${SEED}; ` +
        `statuses: ${counts}; slow loris: ${loris.length}/${loris.length} connections closed by the server, the last after ${(worst / 1000).toFixed(1)} s; ` +
        `server alive, /health 200 on http, https and amqps, SDK send/receive ok`,
    );
    const fiveHundreds = [...statuses].filter(([k]) => k.startsWith("5"));
    assert.deepEqual(fiveHundreds, [], "no input makes a handler fail (5xx)");
    assert.ok(worst <= HEADERS_TIMEOUT_MS + 10_000, `slow loris held for ${worst} ms`);
  });
});
