// A web page must not be able to drive the control API: no "simple" cross-origin request (text/plain, no
// preflight) changes anything, a foreign Origin is refused, and a foreign Host (DNS rebinding) reads nothing.
// The CLI's and SDKs' own requests (same origin, JSON, the namespaces' host names) keep working.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { createSasToken } from "../../src/identity/sas.js";
import { uniqueName } from "../helpers/broker.js";
import { tempFiles } from "../helpers/files.js";
import { httpRequest, rawRequest, type RawReply } from "../helpers/raw-http.js";
import { ROOT, startServer, type ServerProcess } from "../helpers/server-process.js";

const { tempDir } = tempFiles("eventjobs-cross-site-");
const JOB = uniqueName("evil-job");
let server: ServerProcess;
let caFile: string;
let marker: string;
let project: string;

before(async () => {
  server = await startServer({ args: ["--allowed-host", "devbox.example", "--allowed-host", ".corp.example"] });
  caFile = server.stdout().match(/^\s*ca: (\S+)/m)![1];
  const dir = tempDir();
  marker = `${dir}/pwned`;
  // what a hostile page would apply: a Manual job that runs a shell command of its choosing
  const text = `namespaces:
  - name: sbemulatorns
jobs:
  - name: ${JOB}
    properties:
      configuration: { triggerType: Manual, replicaTimeout: 60 }
      template: { containers: [{ name: main, image: busybox, command: ["/bin/sh", "-c", "touch ${marker}"] }] }
`;
  project = JSON.stringify({ text, file: `${dir}/eventjobs.yaml` });
});
after(() => server?.dispose());

const own = () => `127.0.0.1:${server.httpPort}`;
function api(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawReply> {
  return rawRequest(
    { port: server.httpPort },
    httpRequest(method, `/api/v1${path}`, { Host: own(), ...headers }, body),
  );
}
const error = (r: RawReply) => JSON.parse(r.body).error as { code: string; message: string };
const jobStatus = async () => (await api("GET", `/jobs/${JOB}`)).status;

describe("cross-site requests to the control API", () => {
  test("a text/plain POST of apply (no preflight needed) is refused with 415 and applies nothing", async () => {
    for (const headers of [
      { "Content-Type": "text/plain" },
      { "Content-Type": "text/plain", Origin: "http://evil.example" },
      {},
    ]) {
      const r = await api("POST", "/apply", headers, project);
      assert.ok(r.status === 415 || r.status === 403, `${JSON.stringify(headers)}: ${r.status} ${r.body}`);
      assert.deepEqual(Object.keys(JSON.parse(r.body).error), ["code", "message"]);
    }
    const plain = await api("POST", "/apply", { "Content-Type": "text/plain" }, project);
    assert.equal(plain.status, 415);
    assert.deepEqual(error(plain), {
      code: "UnsupportedMediaType",
      message: "POST /api/v1/apply needs Content-Type: application/json (got Content-Type 'text/plain')",
    });
    const form = await api("POST", "/apply", { "Content-Type": "application/x-www-form-urlencoded" }, "text=x");
    assert.equal(form.status, 415);
    assert.equal(await jobStatus(), 404, "the job was not created");
  });

  test("a foreign Origin is refused with 403 naming it, even with JSON, and for reads too", async () => {
    const r = await api(
      "POST",
      "/apply",
      { "Content-Type": "application/json", Origin: "http://evil.example" },
      project,
    );
    assert.equal(r.status, 403);
    assert.deepEqual(error(r), {
      code: "OriginNotAllowed",
      message: `Origin 'http://evil.example' is not allowed: this server only takes requests from its own origin (http://${own()})`,
    });
    assert.equal(await jobStatus(), 404);
    for (const origin of [
      "null",
      `https://${own()}`,
      `http://127.0.0.1:${server.httpPort + 1}`,
      "http://localhost.evil.example",
    ]) {
      const g = await api("GET", "/jobs", { Origin: origin });
      assert.equal(g.status, 403, origin);
      assert.match(error(g).message, new RegExp(`^Origin '${origin.replace(/[.]/g, "\\.")}' is not allowed`));
    }
  });

  test("a foreign Host (DNS rebinding) cannot read the namespace's keys", async () => {
    for (const host of [
      "evil.example",
      `evil.example:${server.httpPort}`,
      "localhost.evil.example",
      "127.0.0.1.nip.io",
    ]) {
      const r = await api("GET", "/servicebus/namespaces/sbemulatorns/keys", { Host: host });
      assert.equal(r.status, 403, host);
      assert.equal(error(r).code, "HostNotAllowed");
      assert.match(error(r).message, new RegExp(`^Host '${host.replace(/[.]/g, "\\.")}' is not allowed`));
      assert.doesNotMatch(r.body, /SAS_KEY_VALUE|primaryKey|connectionString/i);
      // POST …/listKeys, the az-shaped way to the same keys
      const post = await api(
        "POST",
        "/servicebus/namespaces/sbemulatorns/authorizationRules/RootManageSharedAccessKey/listKeys",
        { Host: host, "Content-Type": "application/json" },
        "{}",
      );
      assert.equal(post.status, 403, host);
      assert.doesNotMatch(post.body, /SAS_KEY_VALUE/);
    }
    // the identity endpoint checks Host too
    const msi = await rawRequest(
      { port: server.httpPort },
      httpRequest("GET", "/msi/token?api-version=2019-08-01&resource=https://servicebus.azure.net", {
        Host: "evil.example",
        "X-IDENTITY-HEADER": "x",
      }),
    );
    assert.equal(msi.status, 403);
  });

  test("same-origin JSON requests work: loopback names, the namespaces' names, --allowed-host names", async () => {
    const applied = await api(
      "POST",
      "/apply",
      { "Content-Type": "application/json", Origin: `http://${own()}` },
      project,
    );
    assert.equal(applied.status, 200, applied.body);
    assert.match(applied.body, /"event":"result"/);
    assert.equal(await jobStatus(), 200, "the job exists now");
    for (const host of [
      own(),
      `localhost:${server.httpPort}`,
      `sbemulatorns.localhost:${server.httpPort}`,
      `[::1]:${server.httpPort}`,
      "127.1.2.3",
      "sbemulatorns.servicebus.windows.net",
      "devbox.example:8080",
      "a.corp.example",
      "corp.example",
    ]) {
      const r = await api("GET", "/servicebus/namespaces/sbemulatorns/keys", { Host: host, Origin: `http://${host}` });
      assert.equal(r.status, 200, `${host}: ${r.body}`);
      assert.equal(JSON.parse(r.body).primaryKey, "SAS_KEY_VALUE", host);
    }
    for (const host of [
      "devbox.example.evil",
      "xcorp.example",
      "sbemulatorns.servicebus.windows.net.evil.example",
      "otherns.servicebus.windows.net",
    ]) {
      assert.equal((await api("GET", "/jobs", { Host: host })).status, 403, host);
    }
    // a DELETE without a body needs no Content-Type (it cannot be sent cross-origin without a preflight)
    const deleted = await api("DELETE", `/jobs/${JOB}`);
    assert.equal(deleted.status, 204, deleted.body);
  });

  test("a started job cannot be triggered cross-site either, and nothing ran", async () => {
    const applied = await api("POST", "/apply", { "Content-Type": "application/json" }, project);
    assert.equal(applied.status, 200, applied.body);
    const start = await api("POST", `/jobs/${JOB}/start`, { "Content-Type": "text/plain" }, "{}");
    assert.equal(start.status, 415);
    const bare = await api("POST", `/jobs/${JOB}/start`);
    assert.equal(bare.status, 415, "a POST without a body is no exception");
    const foreign = await api(
      "POST",
      `/jobs/${JOB}/start`,
      { "Content-Type": "application/json", Origin: "https://evil.example" },
      "{}",
    );
    assert.equal(foreign.status, 403);
    const executions = await api("GET", `/jobs/${JOB}/executions`);
    assert.deepEqual(JSON.parse(executions.body).value, []);
    assert.throws(() => readFileSync(marker), /ENOENT/);
  });
});

describe("the ATOM admin API keeps the SDKs' host names", () => {
  test("raw requests with the namespace's host names, and a foreign Origin is no concern of its SAS check", async () => {
    const sas = createSasToken("sb://localhost/", "RootManageSharedAccessKey", "SAS_KEY_VALUE");
    for (const host of [
      `localhost:${server.httpPort}`,
      `sbemulatorns.localhost:${server.httpPort}`,
      "sbemulatorns.servicebus.windows.net",
    ]) {
      const r = await rawRequest(
        { port: server.httpPort },
        httpRequest("GET", "/$namespaceinfo", { Host: host, Authorization: sas }),
      );
      assert.equal(r.status, 200, `${host}: ${r.body}`);
      assert.match(r.body, /<Name>sbemulatorns<\/Name>/);
    }
  });

  test("ServiceBusAdministrationClient over HTTPS (the TLS connection string) creates, lists and deletes a queue", async () => {
    const q = uniqueName("xsite-admin");
    const script = `
      import { ServiceBusAdministrationClient } from "@azure/service-bus";
      const admin = new ServiceBusAdministrationClient(process.env.SB_CONNECTION);
      const q = process.env.SB_QUEUE;
      await admin.createQueue(q, { maxDeliveryCount: 3 });
      const names = [];
      for await (const x of admin.listQueues()) names.push(x.name);
      await admin.deleteQueue(q);
      console.log(JSON.stringify({ listed: names.includes(q), exists: await admin.queueExists(q) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_EXTRA_CA_CERTS: caFile,
        SB_CONNECTION: server.tlsConnectionString,
        SB_QUEUE: q,
      },
      timeout: 30_000,
    });
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").pop()!), { listed: true, exists: false });
  });
});
