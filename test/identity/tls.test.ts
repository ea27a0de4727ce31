// Local CA and TLS: AMQPS, HTTPS and AMQP over WebSockets with a certificate from the per-user CA
// (docs/tls.md). The SDK runs in child processes because Node
// reads NODE_EXTRA_CA_CERTS only at start.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { join, resolve } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, test } from "node:test";
import rhea from "rhea";
import WebSocket from "ws";
import { ensureCa, CA_CERT_FILE } from "../../src/identity/ca.js";
import { certificateNames, ensureServerCert, serverNames } from "../../src/identity/certs.js";
import { putToken } from "../../bench/cbs.js";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { tempFiles } from "../helpers/files.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CHILD = join(ROOT, "test/identity/tls-child.ts");
const { tempDir } = tempFiles("eventjobs-tls-");

/** Runs a node script with tsx; resolves with its exit code, stdout and stderr (never rejects). */
function run(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function child(args: string[], env: Record<string, string | undefined>): Promise<Record<string, unknown>> {
  const r = await run([CHILD, ...args], env);
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`child ${args[0]} printed no JSON (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** The certificate a TLS port presents for `servername`, checked against `ca` (hostname included). */
function peerCertificate(port: number, servername: string, ca: string): Promise<X509Certificate> {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: "127.0.0.1", port, servername, ca }, () => {
      const cert = s.getPeerX509Certificate();
      s.end();
      if (!cert) rej(new Error("no peer certificate"));
      else res(cert);
    });
    s.once("error", rej);
  });
}

function httpsJson(port: number, path: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((res, rej) => {
    httpsGet({ host: "127.0.0.1", servername: "localhost", port, path, ca }, (r) => {
      let text = "";
      r.on("data", (d) => (text += d));
      r.on("end", () => res({ status: r.statusCode ?? 0, body: JSON.parse(text) }));
    }).once("error", rej);
  });
}

describe("TLS with the local CA", () => {
  const caDir = join(tempDir(), "ca");
  const queue = uniqueName("tls");
  let broker: TestBroker;
  let caFile: string;

  before(async () => {
    broker = await startBroker(queuesYaml({ [queue]: {} }), { caDir });
    caFile = broker.platform.ca.certPath;
  });
  after(() => broker?.close());

  test("the TLS connection string is the cloud form on the AMQPS port; the emulator form is unchanged", () => {
    const { amqpsPort, amqpPort } = broker.platform.endpoints;
    assert.notEqual(amqpsPort, 0);
    const tls = broker.platform.connectionString(undefined, { tls: true });
    assert.equal(
      tls,
      `Endpoint=sb://localhost:${amqpsPort}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;`,
    );
    assert.doesNotMatch(tls, /UseDevelopmentEmulator/);
    assert.match(
      broker.connectionString,
      new RegExp(`^Endpoint=sb://localhost:${amqpPort};.*UseDevelopmentEmulator=true;$`),
    );
  });

  test("@azure/service-bus over AMQPS with the TLS connection string: send, receive, complete", async () => {
    const cs = broker.platform.connectionString(undefined, { tls: true });
    const r = await child(["sdk", cs, queue, "amqps"], { NODE_EXTRA_CA_CERTS: caFile });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual((r.body as { transport: string }).transport, "amqps");
    assert.equal(r.left, 0, "completed: nothing left in the queue");
  });

  test("@azure/service-bus over WebSockets (wss) against the HTTPS port: send, receive, complete", async () => {
    const cs = `Endpoint=sb://localhost:${broker.platform.endpoints.httpsPort}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;`;
    const r = await child(["sdk", cs, queue, "ws"], { NODE_EXTRA_CA_CERTS: caFile });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.left, 0);
  });

  test("the SDK sends wss to the Endpoint's port, so wss on the AMQPS port works too (one TLS connection string for both)", async () => {
    const cs = broker.platform.connectionString(undefined, { tls: true });
    const r = await child(["sdk", cs, queue, "ws"], { NODE_EXTRA_CA_CERTS: caFile });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.left, 0);
  });

  test("a client that does not trust the CA fails with a certificate error", async () => {
    const cs = broker.platform.connectionString(undefined, { tls: true });
    const r = await child(["sdk", cs, queue, "amqps"], { NODE_EXTRA_CA_CERTS: undefined });
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.match(`${r.code} ${r.error}`, /certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i, JSON.stringify(r));
  });

  test("AMQP over plain WebSockets (ws://) on the HTTP port opens a connection", async () => {
    const container = rhea.create_container({ id: "ws-probe" });
    const url = `ws://127.0.0.1:${broker.platform.endpoints.httpPort}/$servicebus/websocket`;
    const conn = container.connect({
      connection_details: container.websocket_connect(WebSocket)(url, ["AMQPWSB10"]),
      hostname: "localhost",
      reconnect: false,
    });
    try {
      const remoteId = await new Promise<string>((res, rej) => {
        conn.once("connection_open", (ctx: { connection: { remote: { open: { container_id: string } } } }) =>
          res(ctx.connection.remote.open.container_id),
        );
        conn.once("disconnected", (ctx: { error?: Error }) => rej(ctx.error ?? new Error("disconnected")));
      });
      assert.equal(remoteId, "eventjobs");
    } finally {
      conn.close();
    }
  });

  test("AMQPS with SASL MSSBCBS and no initial response (Python's uamqp): open, $cbs put-token, send, receive", async () => {
    const container = rhea.create_container({ id: "uamqp-like" });
    const conn = container.connect({
      transport: "tls",
      host: "127.0.0.1",
      port: broker.platform.endpoints.amqpsPort,
      servername: "localhost",
      ca: readFileSync(caFile, "utf8"),
      hostname: "localhost",
      reconnect: false,
      // offer only MSSBCBS, as uamqp does; the token follows over $cbs
      sasl_mechanisms: {
        MSSBCBS: () => ({ start: (cb: (err: unknown, response?: Buffer) => void) => cb(undefined, undefined) }),
      },
    } as never);
    try {
      await new Promise<void>((res, rej) => {
        conn.once("connection_open", () => res());
        conn.once("disconnected", (ctx: { error?: Error }) => rej(ctx.error ?? new Error("disconnected")));
      });
      await putToken(conn, {
        audience: `sb://localhost/${queue}`,
        keyName: "RootManageSharedAccessKey",
        key: "SAS_KEY_VALUE",
      });
      const sender = conn.open_sender(queue);
      await new Promise<void>((res, rej) => {
        sender.once("sendable", () => sender.send({ body: "via MSSBCBS", message_id: "mssbcbs-1" }));
        sender.once("accepted", () => res());
        sender.once("rejected", (ctx: { delivery?: { remote_state?: unknown } }) =>
          rej(new Error(JSON.stringify(ctx.delivery?.remote_state))),
        );
      });
      const received = await new Promise<unknown>((res) => {
        const receiver = conn.open_receiver({ source: { address: queue }, autoaccept: true });
        receiver.once("message", (ctx: { message?: { body?: unknown } }) => res(ctx.message?.body));
      });
      assert.equal(received, "via MSSBCBS");
    } finally {
      conn.close();
    }
  });

  test("/health over HTTPS, on the HTTPS port and on the AMQPS port", async () => {
    const ca = readFileSync(caFile, "utf8");
    for (const port of [broker.platform.endpoints.httpsPort, broker.platform.endpoints.amqpsPort]) {
      const r = await httpsJson(port, "/health", ca);
      assert.equal(r.status, 200);
      assert.equal((r.body as { status: string }).status, "healthy");
    }
  });
});

describe("the local CA", () => {
  test("`eventjobs ca path` prints the CA certificate file, which exists and is a CA", async () => {
    const caDir = join(tempDir(), "user-ca");
    const r = await run(["src/cli/main.ts", "ca", "path"], { EVENTJOBS_CA_DIR: caDir });
    assert.equal(r.code, 0, r.stderr);
    const file = r.stdout.trim();
    assert.equal(file, join(caDir, CA_CERT_FILE));
    assert.ok(existsSync(file));
    const x509 = new X509Certificate(readFileSync(file));
    assert.equal(x509.ca, true);
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY/);
  });

  test("`eventjobs ca trust` without a terminal and without --yes: one line, non-zero exit, nothing asked", async () => {
    const r = await run(["src/cli/main.ts", "ca", "trust"], { EVENTJOBS_CA_DIR: join(tempDir(), "ca") });
    assert.notEqual(r.code, 0);
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /--yes|trust store/);
  });

  test("one CA for every data dir: two brokers with different data dirs share the file and fingerprint", async () => {
    const caDir = join(tempDir(), "ca");
    const yaml = queuesYaml({ q: {} });
    const a = await startBroker(yaml, { caDir });
    const b = await startBroker(yaml, { caDir });
    try {
      assert.notEqual(a.dataDir, b.dataDir);
      assert.equal(a.platform.ca.certPath, b.platform.ca.certPath);
      assert.equal(a.platform.ca.fingerprint, b.platform.ca.fingerprint);
      const ca = readFileSync(a.platform.ca.certPath, "utf8");
      for (const p of [a, b]) {
        const cert = await peerCertificate(p.platform.endpoints.amqpsPort, "localhost", ca);
        assert.ok(cert.checkIssued(new X509Certificate(ca)));
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("processes racing to create the CA all end up with the same one", async () => {
    const caDir = join(tempDir(), "race");
    const results = await Promise.all([1, 2, 3, 4].map(() => child(["ca", caDir], {})));
    const prints = new Set(results.map((r) => r.fingerprint));
    assert.equal(prints.size, 1, JSON.stringify(results));
    assert.equal(ensureCa(caDir).fingerprint, [...prints][0]);
  });

  test("the server certificate covers localhost, loopback and every namespace's names", async () => {
    const caDir = join(tempDir(), "ca");
    const yaml = "namespaces:\n  - name: sbemulatorns\n  - name: billing\n    queues:\n      - name: invoices\n";
    const b = await startBroker(yaml, { caDir });
    try {
      const ca = readFileSync(b.platform.ca.certPath, "utf8");
      // the TLS handshake checks the host name against the certificate for each of these
      for (const name of [
        "billing.servicebus.windows.net",
        "billing.localhost",
        "billing",
        "localhost",
        "sbemulatorns.localhost",
      ]) {
        await peerCertificate(b.platform.endpoints.amqpsPort, name, ca);
      }
      const cert = await peerCertificate(b.platform.endpoints.httpsPort, "billing.servicebus.windows.net", ca);
      const names = certificateNames(cert);
      for (const n of [
        "localhost",
        "*.localhost",
        "127.0.0.1",
        "::1",
        "billing",
        "billing.localhost",
        "billing.servicebus.windows.net",
      ]) {
        assert.ok(names.includes(n), `SAN ${n} in ${cert.subjectAltName}`);
      }
      assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
      assert.equal(cert.checkHost("billing.servicebus.windows.net"), "billing.servicebus.windows.net");
      assert.ok(cert.checkIssued(new X509Certificate(ca)));
      await assert.rejects(
        peerCertificate(b.platform.endpoints.amqpsPort, "other.servicebus.windows.net", ca),
        /altnames|Hostname/i,
      );
    } finally {
      await b.close();
    }
  });

  test("the server certificate is kept across restarts and issued again when the namespaces change", async () => {
    const caDir = join(tempDir(), "ca");
    const dataDir = tempDir();
    const certOf = (b: TestBroker) =>
      readFileSync(join(b.dataDir, "tls", "server.pem"), "utf8").match(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/,
      )![0];
    const one = "namespaces:\n  - name: sbemulatorns\n";
    let b = await startBroker(one, { caDir, dataDir });
    const first = certOf(b);
    await b.close();
    b = await startBroker(one, { caDir, dataDir });
    assert.equal(certOf(b), first, "same names: same certificate");
    await b.close();
    b = await startBroker(one + "  - name: payroll\n", { caDir, dataDir });
    try {
      const second = certOf(b);
      assert.notEqual(second, first);
      assert.ok(certificateNames(new X509Certificate(second)).includes("payroll.servicebus.windows.net"));
    } finally {
      await b.close();
    }
  });

  test("a server certificate near its expiry is issued again", () => {
    const ca = ensureCa(join(tempDir(), "ca"));
    const file = join(tempDir(), "server.pem");
    const names = serverNames(["ns1"]);
    const first = ensureServerCert(ca, names, file);
    assert.equal(ensureServerCert(ca, names, file).cert, first.cert);
    const nearExpiry = new Date(first.notAfter.getTime() - 10 * 24 * 60 * 60 * 1000);
    const renewed = ensureServerCert(ca, names, file, nearExpiry);
    assert.notEqual(renewed.cert, first.cert);
    assert.ok(renewed.notAfter > first.notAfter);
  });
});
