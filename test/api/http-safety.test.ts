// One malformed HTTP request must not end the server: every HTTP listener of `eventjobs up` (the HTTP port,
// the HTTPS port and the HTTP side of the AMQPS port) answers each one with a 4xx and keeps serving. The
// server runs as a child process, so a crash shows as the process exiting.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { createSasToken } from "../../src/identity/sas.js";
import { uniqueName } from "../helpers/broker.js";
import { tempFiles } from "../helpers/files.js";
import { connect, httpRequest, rawRequest, type RawReply, type Target } from "../helpers/raw-http.js";
import { RETRY, receiveOne } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const { tempDir } = tempFiles("eventjobs-http-safety-");
const QUEUE = uniqueName("safety");
const SAS = createSasToken("sb://localhost/", "RootManageSharedAccessKey", "SAS_KEY_VALUE");
let server: ServerProcess;
let ca: string;

before(async () => {
  const config = `${tempDir()}/eventjobs.yaml`;
  writeFileSync(config, `namespaces:\n  - name: sbemulatorns\n    queues:\n      - name: ${QUEUE}\n`);
  server = await startServer({ args: ["--config", config] });
  ca = readFileSync(server.stdout().match(/^\s*ca: (\S+)/m)![1], "utf8");
});
after(() => server?.dispose());

const LISTENERS: Array<[string, () => Target]> = [
  ["the HTTP port", () => ({ port: server.httpPort })],
  ["the HTTPS port", () => ({ port: server.httpsPort, ca })],
  ["the AMQPS port's HTTP side", () => ({ port: server.amqpsPort, ca })],
];

function assertAlive(): void {
  assert.equal(server.child.exitCode, null, `the server exited\nstderr:\n${server.stderr()}`);
  assert.equal(server.child.signalCode, null, `the server was killed\nstderr:\n${server.stderr()}`);
}

/** Sends one request and checks the answer is the expected 4xx and the server is still there. */
async function expectStatus(
  target: Target,
  data: string | Buffer | Array<string | Buffer>,
  status: number | "4xx",
  what: string,
): Promise<RawReply> {
  const r = await rawRequest(target, data);
  assertAlive();
  if (status === "4xx")
    assert.ok(
      r.status !== undefined && r.status >= 400 && r.status < 500,
      `${what}: expected a 4xx, got ${r.status} (${r.ended}) ${r.head}`,
    );
  else assert.equal(r.status, status, `${what}: ${r.head}\n${r.body}`);
  return r;
}

const raw = (lines: string[]) => lines.join("\r\n") + "\r\n\r\n";

for (const [name, target] of LISTENERS) {
  describe(`malformed requests to ${name}`, () => {
    test("malformed percent-escapes and request targets → 400 naming the problem", async () => {
      for (const path of [
        "/%ff",
        "/%",
        "/api/v1/jobs/%E0%A4%A",
        "/api/v1/jobs/%ff/executions",
        "/%c0%af",
        "/msi/token%",
      ]) {
        const r = await expectStatus(target(), httpRequest("GET", path), 400, path);
        assert.match(JSON.parse(r.body).error.message, /malformed percent-escape/, path);
      }
      const bad = await expectStatus(target(), httpRequest("GET", "//x:99999/"), 400, "a port out of range");
      assert.match(JSON.parse(bad.body).error.message, /not a valid URL/);
    });

    test("malformed headers and request lines → 4xx (duplicate, missing or invalid Host; control characters; oversize; garbage; CONNECT)", async () => {
      const dup = await expectStatus(
        target(),
        raw(["GET /health HTTP/1.1", "Host: localhost", "Host: evil.example"]),
        400,
        "two Host headers",
      );
      assert.match(JSON.parse(dup.body).error.message, /more than one Host/);
      await expectStatus(target(), raw(["GET /health HTTP/1.1", "Host: a b/c"]), 400, "an invalid Host");
      await expectStatus(target(), raw(["GET /health HTTP/1.1", "Host: [::1"]), 400, "an unclosed IPv6 Host");
      await expectStatus(target(), raw(["GET /health HTTP/1.1"]), 400, "HTTP/1.1 without Host");
      await expectStatus(
        target(),
        raw(["GET /health HTTP/1.1", "Host: localhost", "X-Bad: a\x01b"]),
        400,
        "a control character in a header",
      );
      await expectStatus(
        target(),
        raw(["GET /health HTTP/1.1", "Host: localhost", "no colon here"]),
        400,
        "a header line without a colon",
      );
      await expectStatus(
        target(),
        raw(["GET /health HTTP/1.1", "Host: localhost", `X-Big: ${"a".repeat(20_000)}`]),
        431,
        "20 KB of headers",
      );
      await expectStatus(target(), raw(["NOT AN HTTP REQUEST"]), 400, "a garbage request line");
      await expectStatus(
        target(),
        raw(["GET /health HTTP/1.1", "Host: localhost", "Content-Length: 5", "Content-Length: 6"]),
        400,
        "two Content-Lengths",
      );
      await expectStatus(
        target(),
        raw(["CONNECT localhost:443 HTTP/1.1", "Host: localhost:443"]),
        405,
        "CONNECT (a proxy's method)",
      );
    });

    test("bad WebSocket upgrades → 4xx", async () => {
      const up = (method: string, path: string, extra: string[] = []) =>
        raw([`${method} ${path} HTTP/1.1`, "Host: localhost", "Connection: Upgrade", "Upgrade: websocket", ...extra]);
      await expectStatus(target(), up("GET", "/$servicebus/websocket"), 400, "no Sec-WebSocket-Key");
      await expectStatus(
        target(),
        up("GET", "/$servicebus/websocket", [
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 99",
        ]),
        400,
        "an unknown version",
      );
      await expectStatus(
        target(),
        up("POST", "/$servicebus/websocket", [
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 13",
        ]),
        405,
        "POST",
      );
      await expectStatus(target(), up("GET", "/health"), 404, "an upgrade elsewhere");
      await expectStatus(target(), up("GET", "/%ff"), "4xx", "an upgrade to a malformed path");
    });

    test("invalid JSON to the control API → 400 naming the problem", async () => {
      const put = (body: string) =>
        httpRequest("PUT", `/api/v1/jobs/${uniqueName("bad-json")}`, { "Content-Type": "application/json" }, body);
      const r = await expectStatus(target(), put("{not json"), 400, "not JSON");
      assert.deepEqual(Object.keys(JSON.parse(r.body).error), ["code", "message"]);
      assert.match(JSON.parse(r.body).error.message, /not a JSON object: .*JSON/);
      assert.match(
        JSON.parse((await expectStatus(target(), put("[1,2]"), 400, "an array")).body).error.message,
        /not a JSON object/,
      );
      assert.match(
        JSON.parse((await expectStatus(target(), put("\xff\xfe"), 400, "not UTF-8")).body).error.message,
        /not a JSON object/,
      );
      const apply = httpRequest(
        "POST",
        "/api/v1/apply",
        { "Content-Type": "application/json" },
        JSON.stringify({ text: "namespaces: [", file: "/nowhere/eventjobs.yaml" }),
      );
      await expectStatus(target(), apply, 400, "a project file that does not parse");
    });

    test("invalid XML to the admin API → 400 (also a malformed ForwardTo)", async () => {
      const put = (body: string) =>
        httpRequest(
          "PUT",
          `/${uniqueName("bad-xml")}`,
          { Authorization: SAS, "Content-Type": "application/atom+xml" },
          body,
        );
      for (const body of [
        "<entry><content>",
        "not xml at all",
        "<!DOCTYPE x [<!ENTITY a 'b'>]><entry/>",
        "<a>&bogus;</a>",
        "<".repeat(5000),
      ]) {
        const r = await expectStatus(target(), put(body), 400, body.slice(0, 30));
        assert.match(r.body, /<Error><Code>400<\/Code>/);
      }
      const entry = `<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml"><QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"><ForwardTo>sb://localhost/%ff</ForwardTo></QueueDescription></content></entry>`;
      const r = await expectStatus(target(), put(entry), 400, "a ForwardTo with a malformed percent-escape");
      assert.match(r.body, /ForwardTo/);
    });

    test("oversize bodies → 413, declared or sent, and the connection still gets its answer", async () => {
      const json = { "Content-Type": "application/json" };
      const declared = await expectStatus(
        target(),
        httpRequest("PUT", `/api/v1/jobs/${uniqueName("big")}`, { ...json, "Content-Length": 50_000_000 }),
        413,
        "50 MB declared",
      );
      assert.equal(JSON.parse(declared.body).error.code, "RequestTooLarge");
      const chunked = (path: string, headers: Record<string, string>, size: number) => {
        const chunk = Buffer.alloc(64 * 1024, "a");
        const parts: Buffer[] = [httpRequest("PUT", path, { ...headers, "Transfer-Encoding": "chunked" })];
        for (let sent = 0; sent < size; sent += chunk.length)
          parts.push(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]));
        parts.push(Buffer.from("0\r\n\r\n"));
        return parts;
      };
      await expectStatus(
        target(),
        chunked(`/api/v1/jobs/${uniqueName("big")}`, json, 5 * 1024 * 1024),
        413,
        "5 MB sent to the control API",
      );
      const admin = await expectStatus(
        target(),
        chunked(`/${uniqueName("big")}`, { Authorization: SAS }, 512 * 1024),
        413,
        "512 KB sent to the admin API",
      );
      assert.match(admin.body, /<Code>413<\/Code>/);
    });

    test("a client that goes away mid-request, or mid-response, leaves the server serving", async () => {
      const half = await connect(target());
      half.write(
        httpRequest(
          "PUT",
          `/api/v1/jobs/${uniqueName("half")}`,
          { "Content-Type": "application/json", "Content-Length": 1000 },
          '{"a":',
        ),
      );
      half.destroy();
      const follow = await connect(target());
      follow.write(httpRequest("GET", "/api/v1/jobs/none/logs?follow=true"));
      follow.destroy();
      const r = await expectStatus(target(), httpRequest("GET", "/health"), 200, "health after the clients went away");
      assert.equal(JSON.parse(r.body).status, "healthy");
    });
  });
}

describe("after all of that", () => {
  test("the process is alive, /health answers on every listener, and the SDK sends and receives", async () => {
    assertAlive();
    for (const [name, target] of LISTENERS) {
      const r = await rawRequest(target(), httpRequest("GET", "/health"));
      assert.equal(r.status, 200, name);
      assert.deepEqual(JSON.parse(r.body), { status: "healthy", message: "Service is healthy." });
    }
    const client = new ServiceBusClient(server.connectionString, RETRY);
    try {
      await client.createSender(QUEUE).sendMessages({ body: "still serving" });
      const receiver = client.createReceiver(QUEUE, { receiveMode: "receiveAndDelete" });
      assert.equal((await receiveOne(receiver)).body, "still serving");
    } finally {
      await client.close();
    }
    assertAlive();
  });
});
