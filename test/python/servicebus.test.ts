// Debian's Python SDK (python3-azure: azure-servicebus 7.8.2 on uamqp 1.5.3, azure-identity 1.13) against
// eventjobs, run by /usr/bin/python3 as child processes (docs/tls.md: Debian's SDK speaks only AMQPS on 5671).
// - uamqp ignores the Endpoint's port and always connects to 5671, so this file's one broker listens there;
//   it is the only test file that does, and its tests run one after another.
// - uamqp's OpenSSL honours SSL_CERT_FILE, so the children trust the local CA through the variables every job
//   replica gets (identity.caEnv()): the system store is never touched.
// Without /usr/bin/python3 + python3-azure the tests skip, saying why; with CI=true they fail instead.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, TEST_CA_DIR, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { consoleText, waitForExecution } from "../helpers/jobs.js";
import { peekAll, RETRY } from "../helpers/sdk.js";
import { CLI } from "../helpers/cli-entry.js";
import { holdAmqpsPort } from "../helpers/amqps-port.js";

// the Python SDK only reaches 5671: one test file serves it at a time
after(await holdAmqpsPort());
const ROOT = resolve(import.meta.dirname, "../..");
const PYTHON = "/usr/bin/python3";
const FLOW = join(ROOT, "test/python/servicebus_flow.py");
const TOPIC_FLOW = join(ROOT, "test/python/servicebus_topics.py");
const LAB_PROCESSOR = join(ROOT, "examples/seed/app/processor.py");
const AMQPS_PORT = 5671;
const PORT_WAIT_MS = 90_000;
const CI = process.env.CI === "true" || process.env.CI === "1";

const NS = "servicebus-ns-job";
const Q = {
  lab: "queue-messages",
  flow: "py-flow",
  oneDelivery: "py-one-delivery",
  sessions: "py-sessions",
  other: "py-other",
  asMe: "py-as-me",
};
const TOPIC = "py-topic";
const SUB = { all: "py-all", red: "py-red", sql: "py-sql", admin: "py-admin" };
const yaml = `
namespaces:
  - name: ${NS}
    queues:
      - name: ${Q.lab}
        properties: { lockDuration: PT5M, maxDeliveryCount: 1 }
      - name: ${Q.flow}
      - name: ${Q.oneDelivery}
        properties: { maxDeliveryCount: 1 }
      - name: ${Q.sessions}
        properties: { requiresSession: true }
      - name: ${Q.other}
      - name: ${Q.asMe}
    topics:
      - name: ${TOPIC}
        subscriptions:
          - name: ${SUB.all}
          - name: ${SUB.red}
          - name: ${SUB.sql}
          - name: ${SUB.admin}
identities:
  - name: identity-aca
  - name: identity-none
roleAssignments:
  - role: Azure Service Bus Data Receiver
    assignee: identity-aca
    scope: ${NS}/queues/${Q.lab}
  - role: Azure Service Bus Data Sender
    assignee: identity-aca
    scope: ${NS}/queues/${Q.lab}
`;

function pythonProblem(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  try {
    execFileSync(PYTHON, ["-c", "import azure.servicebus, azure.identity, uamqp"], {
      stdio: "ignore",
      timeout: 30_000,
    });
  } catch {
    return "Debian's python3-azure is not installed (apt-get install python3-azure)";
  }
  return undefined;
}
const problem = pythonProblem();

/** False (the test skips, saying why) when Debian's Python SDK is missing; under CI that fails the test. */
function pythonHere(t: TestContext): boolean {
  if (!problem) {
    if (startError) throw startError;
    return true;
  }
  if (CI) assert.fail(`${problem}: with CI=true the Python SDK tests must run (.ci/run installs python3-azure)`);
  t.skip(`${problem}; Python SDK tests skipped`);
  return false;
}
let startError: Error | undefined;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs /usr/bin/python3 with a clean environment: nothing from ours that would steer the credential or the CA. */
function python(args: string[], env: Record<string, string>, cwd = ROOT): Promise<Run> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(AZURE_|IDENTITY_|MSI_|IMDS_|SSL_CERT_|REQUESTS_CA_BUNDLE|NODE_EXTRA_CA_CERTS|PYTHON)/.test(k)) base[k] = v;
  return new Promise((done) => {
    execFile(PYTHON, args, { cwd, env: { ...base, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Whether nothing listens on 127.0.0.1:`port` right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", () => done(false));
    s.listen(port, "127.0.0.1", () => s.close(() => done(true)));
  });
}

/**
 * The broker on AMQPS 5671. Another run of this file on the machine (a second `npm test`) holds the port for
 * about 20 s, so wait for it; anything holding it longer gets a clear error.
 */
async function startOn5671(): Promise<TestBroker> {
  const deadline = Date.now() + PORT_WAIT_MS;
  for (;;) {
    if (await portFree(AMQPS_PORT)) {
      const dataDir = mkdtempSync(join(tmpdir(), "eventjobs-python-"));
      try {
        const b = await startBroker(yaml, { amqpsPort: AMQPS_PORT, dataDir });
        return { ...b, close: async (o) => (await b.close(o), rmSync(dataDir, { recursive: true, force: true })) };
      } catch (e) {
        rmSync(dataDir, { recursive: true, force: true });
        if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `port ${AMQPS_PORT} stayed in use for ${PORT_WAIT_MS / 1000} s (an \`eventjobs up\`?): Debian's Python SDK only connects to AMQPS on ${AMQPS_PORT}, so these tests need it free`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("Debian's Python SDK (uamqp) over AMQPS on 5671", () => {
  let broker: TestBroker | undefined;
  let sas: ServiceBusClient;

  before(async () => {
    if (problem) return;
    try {
      broker = await startOn5671();
    } catch (e) {
      startError = e as Error; // every test reports it (a failing hook would only show as cancelled tests)
      return;
    }
    sas = new ServiceBusClient(broker.connectionString, RETRY);
  });
  after(async () => {
    await sas?.close();
    await broker?.close();
  });

  /** The CA variables a job replica gets. */
  const caEnv = () => broker!.platform.identity.caEnv();
  /**
   * The TLS connection string without its port (5671 is implied): uamqp drops the port from link addresses
   * while the SDK compares a session receiver's attach reply with an address that keeps it, so with a port a
   * Python session receiver learns neither its locked-until time nor a next-available session's id.
   */
  const pythonConnectionString = () =>
    broker!.platform.connectionString(NS, { tls: true }).replace(`:${AMQPS_PORT}/`, "/");

  type Steps = Map<string, { ok: boolean; result?: any; error?: string; message?: string; trace?: string }>;
  /** Runs a flow script and collects its `STEP <json>` lines by step name. */
  async function steps(script: string, env: Record<string, string>): Promise<Steps> {
    const r = await python([script], { ...caEnv(), SB_CONNECTION: pythonConnectionString(), ...env });
    const found: Steps = new Map();
    for (const line of r.stdout.split("\n"))
      if (line.startsWith("STEP ")) {
        const s = JSON.parse(line.slice(5));
        found.set(s.step, s);
      }
    if (found.size === 0)
      throw new Error(`the Python flow ${script} printed no steps (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
    return found;
  }

  // one Python process runs every connection-string step on queues; the tests below check its report
  let flow: Promise<Steps> | undefined;
  function flowSteps() {
    flow ??= steps(FLOW, {
      QUEUE: Q.flow,
      ONE_DELIVERY_QUEUE: Q.oneDelivery,
      SESSION_QUEUE: Q.sessions,
      WS_ENDPOINT: `sb://localhost:${broker!.platform.endpoints.httpsPort}`,
    });
    return flow;
  }
  async function result(name: string, from: () => Promise<Steps> = flowSteps): Promise<any> {
    const s = (await from()).get(name);
    assert.ok(s, `step "${name}" ran`);
    assert.ok(s.ok, `step "${name}": ${s.error}: ${s.message}\n${s.trace}`);
    return s.result;
  }

  /**
   * Another process for the topic: the subscriptions' rules first, through @azure/service-bus's rule manager
   * (Python's azure-servicebus 7.8.2 has rules only in ServiceBusAdministrationClient, which a later step drives
   * through our ATOM API), then servicebus_topics.py.
   */
  let topicFlow: Promise<Steps> | undefined;
  function topicSteps() {
    topicFlow ??= (async () => {
      const red = sas.createRuleManager(TOPIC, SUB.red);
      await red.deleteRule("$Default");
      await red.createRule("red", { applicationProperties: { color: "red" } });
      const sql = sas.createRuleManager(TOPIC, SUB.sql);
      await sql.deleteRule("$Default");
      await sql.createRule("blue-and-more-than-one", { sqlExpression: "color = 'blue' AND n > 1" });
      return steps(TOPIC_FLOW, {
        TOPIC,
        SUB_ALL: SUB.all,
        SUB_RED: SUB.red,
        SUB_SQL: SUB.sql,
        SUB_ADMIN: SUB.admin,
        // the admin client goes to https://<host><:port>: the TLS connection string keeps its port here
        ADMIN_CONNECTION: broker!.platform.connectionString(NS, { tls: true }),
      });
    })();
    return topicFlow;
  }
  const topicResult = (name: string) => result(name, topicSteps);

  test("connection string: send, peek, receive, complete, abandon, dead-letter, defer, renew lock", async (t) => {
    if (!pythonHere(t)) return;
    await result("send");
    const peeked = await result("peek");
    assert.deepEqual(
      peeked.map((p: [string, number]) => p[0]),
      ["m0", "m1", "m2", "m3"],
    );
    assert.deepEqual(
      peeked.map((p: [string, number]) => p[1]),
      [...peeked.map((p: [string, number]) => p[1])].sort((a, b) => a - b),
    );
    assert.deepEqual(
      await result("receive"),
      ["m0", "m1", "m2", "m3"].map((b) => [b, 0, true, true]),
    );
    await result("complete, abandon, dead-letter, defer");
    assert.deepEqual(await result("abandoned message again, renew lock, complete"), ["m1", 1, true]);
    assert.deepEqual(await result("receive deferred, complete"), ["m3", true]);
    assert.deepEqual(await result("dead-letter queue"), [["m2", "bad-input", "could not parse"]]);
    assert.deepEqual(await result("queue empty"), []);
  });

  test("a message uamqp releases between receive calls comes back uncounted (MaxDeliveryCount 1)", async (t) => {
    if (!pythonHere(t)) return;
    assert.deepEqual(await result("message between receive calls"), [[], [["late", 0]]]);
    assert.deepEqual(await peekAll(sas, Q.oneDelivery, "deadLetter"), []);
  });

  test("sessions: session receiver, state, renew session lock, locked elsewhere, next available, defer", async (t) => {
    if (!pythonHere(t)) return;
    await result("send with session_id");
    assert.deepEqual(await result("session receiver A"), [
      "A",
      true,
      [
        ["a1", "A"],
        ["a2", "A"],
      ],
    ]);
    assert.equal(await result("session state"), "checkpoint-7");
    assert.equal(await result("renew session lock"), true);
    assert.deepEqual(await result("session peek"), [], "nothing left in session A (b1 is in B)");
    const locked = (await flowSteps()).get("session locked by another receiver")!;
    assert.equal(locked.ok, false);
    assert.equal(locked.error, "SessionCannotBeLockedError", locked.message);
    assert.deepEqual(await result("next available session, defer in a session"), ["B", "b1", null]);
    assert.deepEqual(await peekAll(sas, Q.sessions), []);
  });

  test("AMQP over WebSockets (custom_endpoint_address) reaches a port other than 5671", async (t) => {
    if (!pythonHere(t)) return;
    assert.deepEqual(await result("websocket on another port"), ["over wss"]);
  });

  test("topic: send single and batch with application properties; a subscription with a correlation rule", async (t) => {
    if (!pythonHere(t)) return;
    assert.equal(await topicResult("topic send, single and batch"), 4);
    assert.deepEqual(await topicResult("correlation filter subscription"), [
      ["t0", { color: "red", n: 1 }, null],
      ["t2", { color: "red", n: 3 }, "batch"],
    ]);
    const rules: string[] = [];
    for (const sub of [SUB.all, SUB.red])
      for await (const r of sas.createRuleManager(TOPIC, sub).listRules()) rules.push(`${sub}/${r.name}`);
    assert.deepEqual(rules, [`${SUB.all}/$Default`, `${SUB.red}/red`]);
    const r = sas.createReceiver(TOPIC, SUB.red);
    assert.deepEqual(await r.peekMessages(10).finally(() => r.close()), [], "completed, all of them");
  });

  test("topic: a subscription with a SQL rule (color = 'blue' AND n > 1)", async (t) => {
    if (!pythonHere(t)) return;
    await topicResult("topic send, single and batch");
    assert.deepEqual(await topicResult("SQL filter subscription"), [
      ["t1", { color: "blue", n: 2 }, "batch"],
      ["t3", { color: "blue", n: 4 }, "batch"],
    ]);
    const rules: string[] = [];
    for await (const r of sas.createRuleManager(TOPIC, SUB.sql).listRules()) rules.push(r.name);
    assert.deepEqual(rules, ["blue-and-more-than-one"]);
    const r = sas.createReceiver(TOPIC, SUB.sql);
    assert.deepEqual(await r.peekMessages(10).finally(() => r.close()), [], "completed, all of them");
  });

  test("subscription: peek, receive, complete, abandon, dead-letter, defer, receive deferred, dead-letter queue", async (t) => {
    if (!pythonHere(t)) return;
    await topicResult("topic send, single and batch");
    const peeked = await topicResult("subscription peek");
    assert.deepEqual(
      peeked.map((p: [string, number]) => p[0]),
      ["t0", "t1", "t2", "t3", "t4"],
    );
    assert.deepEqual(
      peeked.map((p: [string, number]) => p[1]),
      [...peeked.map((p: [string, number]) => p[1])].sort((a, b) => a - b),
    );
    assert.deepEqual(await topicResult("subscription receive"), [
      ["t0", { color: "red", n: 1 }, 0, true],
      ["t1", { color: "blue", n: 2 }, 0, true],
      ["t2", { color: "red", n: 3 }, 0, true],
      ["t3", { color: "blue", n: 4 }, 0, true],
      ["t4", { color: "blue", n: 1 }, 0, true],
    ]);
    await topicResult("subscription complete, abandon, dead-letter, defer");
    assert.deepEqual(await topicResult("subscription abandoned message again, renew lock, complete"), ["t1", 1, true]);
    assert.deepEqual(await topicResult("subscription receive deferred, complete"), [
      "t3",
      true,
      { color: "blue", n: 4 },
    ]);
    assert.deepEqual(await topicResult("subscription empty"), []);
    assert.deepEqual(await topicResult("subscription dead-letter queue"), [
      [
        "t2",
        // the service adds the reason and description to the application properties too
        { DeadLetterErrorDescription: "red is not allowed", DeadLetterReason: "bad-color", color: "red", n: 3 },
        "bad-color",
        "red is not allowed",
      ],
    ]);
  });

  test("rules through Python's ServiceBusAdministrationClient: create (correlation, SQL with an action), delete, list; what they route", async (t) => {
    if (!pythonHere(t)) return;
    await topicResult("topic send, single and batch");
    // listed by name, as the service lists rules
    assert.deepEqual(await topicResult("admin rules: create, delete, list"), [
      ["big", { sql: "n > 5" }, "SET tagged = 'yes'"],
      ["green", { correlation: { color: "green" } }, null],
    ]);
    assert.deepEqual(await topicResult("admin rules route messages"), [
      ["g1", { color: "green", n: 1 }],
      ["y9", { color: "yellow", n: 9, tagged: "yes", RuleName: "big" }],
    ]);
  });

  test("the lab's processor.py, unchanged, as a job replica: DefaultAzureCredential → managed identity → receive, complete", async (t) => {
    if (!pythonHere(t)) return;
    const p = broker!.platform;
    const job = "job-python";
    p.jobs.apply({
      name: job,
      identity: { type: "UserAssigned", userAssignedIdentities: { "identity-aca": {} } },
      properties: {
        configuration: {
          triggerType: "Manual",
          replicaTimeout: 120,
          replicaRetryLimit: 0,
          manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 },
        },
        template: {
          containers: [
            {
              name: "job-python",
              image: "eventjobsdemo.azurecr.io/job-python:1.0.0",
              command: [PYTHON, LAB_PROCESSOR],
              env: [
                { name: "SERVICEBUS_FQDN", value: `\${servicebus.${NS}.fqdn}` },
                { name: "SERVICEBUS_QUEUE_NAME", value: Q.lab },
                { name: "MANAGED_IDENTITY_CLIENT_ID", value: "${identity.identity-aca.clientId}" },
              ],
            },
          ],
        },
      },
    });
    await sas.createSender(Q.lab).sendMessages({ body: "hello from the lab" });
    const exec = p.jobs.runtime.start(job);
    const done = await waitForExecution(p, exec.name, 90_000);
    const log = consoleText(p, exec.name);
    assert.equal(done.status, "Succeeded", log);
    assert.match(log, /Received: "?hello from the lab"?/);
    assert.match(log, /Message completed/);
    assert.deepEqual(await peekAll(sas, Q.lab), []);
  });

  test("managed identity without a role: the processor fails with the service's Unauthorized error", async (t) => {
    if (!pythonHere(t)) return;
    const identity = broker!.platform.identity;
    await sas.createSender(Q.other).sendMessages({ body: "not for you" });
    const header = identity.endpoint.bind(identity.execBinding("identity-none"), 60_000);
    try {
      const r = await python([LAB_PROCESSOR], {
        ...caEnv(),
        IDENTITY_ENDPOINT: `http://127.0.0.1:${broker!.platform.endpoints.httpPort}/msi/token`,
        IDENTITY_HEADER: header,
        SERVICEBUS_FQDN: "localhost",
        SERVICEBUS_QUEUE_NAME: Q.other,
        MANAGED_IDENTITY_CLIENT_ID: identity.registry.user("identity-none")!.clientId,
      });
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /ServiceBusAuthorizationError/);
      assert.match(
        r.stderr,
        new RegExp(
          `Unauthorized access\\. 'Listen' claim\\(s\\) are required to perform this operation\\. Resource: 'sb://localhost/${Q.other}'`,
        ),
      );
    } finally {
      identity.endpoint.revoke(header);
    }
    assert.equal((await peekAll(sas, Q.other)).length, 1, "the message stays");
  });

  test("the lab's processor.py from the host through `eventjobs exec` (the lab's \"run it from your machine\")", async (t) => {
    if (!pythonHere(t)) return;
    const p = broker!.platform;
    await sas.createSender(Q.lab).sendMessages({ body: "hello from the host" });
    const clientId = p.identity.registry.user("identity-aca")!.clientId;
    const r = await new Promise<Run>((done) =>
      execFile(
        process.execPath,
        [...CLI, "exec", "--identity", "identity-aca", "--data-dir", broker!.dataDir, "--", PYTHON, LAB_PROCESSOR],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            SERVICEBUS_FQDN: "localhost",
            SERVICEBUS_QUEUE_NAME: Q.lab,
            MANAGED_IDENTITY_CLIENT_ID: clientId,
          },
          timeout: 120_000,
        },
        (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Received: "?hello from the host"?/);
    assert.match(r.stdout, /Message completed/);
    assert.deepEqual(await peekAll(sas, Q.lab), []);
  });

  test("the lab's processor.py as the developer: `exec --as-me`, DefaultAzureCredential → AzureCliCredential → eventjobs' az", async (t) => {
    if (!pythonHere(t)) return;
    const dataDir = broker!.dataDir;
    const imdsServer = createHttpServer((_req, res) =>
      res
        .writeHead(400, { "content-type": "application/json" })
        .end('{"error":"invalid_request","error_description":"Identity not found"}'),
    );
    await new Promise<void>((r) => imdsServer.listen(0, "127.0.0.1", r));
    t.after(() => imdsServer.close());
    const imds = `http://127.0.0.1:${(imdsServer.address() as { port: number }).port}`;
    assert.equal((await cli(dataDir, ["login"])).code, 0);
    await sas.createSender(Q.asMe).sendMessages({ body: "hello as me" });
    const processor = () =>
      cli(dataDir, ["exec", "--as-me", "--data-dir", dataDir, "--", PYTHON, LAB_PROCESSOR], {
        env: {
          SERVICEBUS_FQDN: "localhost",
          SERVICEBUS_QUEUE_NAME: Q.asMe,
          // the lab's processor always names a client id; without IDENTITY_ENDPOINT it only matters to IMDS
          MANAGED_IDENTITY_CLIENT_ID: "00000000-0000-0000-0000-000000000001",
          // IMDS, which DefaultAzureCredential asks first, answering as on a VM without that identity (a sandbox
          // may answer 169.254.169.254 itself, and an answer that is not IMDS's stops the chain)
          AZURE_POD_IDENTITY_AUTHORITY_HOST: imds,
        },
      });
    const refused = await processor();
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, /Unauthorized access\. 'Listen' claim\(s\) are required/);

    const role = await cli(dataDir, [
      "role",
      "assignment",
      "create",
      "--assignee",
      "developer@eventjobs.local",
      "--role",
      "Azure Service Bus Data Receiver",
      "--scope",
      `${NS}/queues/${Q.asMe}`,
    ]);
    assert.equal(role.code, 0, role.stderr);
    const r = await processor();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Received: "?hello as me"?/);
    assert.match(r.stdout, /Message completed/);
    assert.deepEqual(await peekAll(sas, Q.asMe), []);
  });
});

// After the broker above has closed (tests in a file run one after another), so 5671 is free for the demo.
describe("npm start with the Python processor", () => {
  test("npm start -- --once: the lab end to end with Debian's Python SDK", async (t) => {
    if (problem) return void pythonHere(t);
    const deadline = Date.now() + PORT_WAIT_MS;
    while (!(await portFree(AMQPS_PORT))) {
      if (Date.now() > deadline) assert.fail(`port ${AMQPS_PORT} stayed in use; the Python demo needs it`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // inside the checkout: the data dir of the demo lives there (as .eventjobs-demo does)
    const dataDir = join(ROOT, `.eventjobs-e2e-py-${process.pid}`);
    try {
      const r = await new Promise<Run>((done) =>
        execFile(
          "npm",
          [
            "start",
            "--silent",
            "--",
            "--once",
            "--processor",
            "python",
            "--data-dir",
            dataDir,
            "--message",
            "python e2e hello",
            "--amqp-port",
            "0",
            "--http-port",
            "0",
            "--https-port",
            "0",
          ],
          { cwd: ROOT, env: { ...process.env, EVENTJOBS_CA_DIR: TEST_CA_DIR }, timeout: 150_000 },
          (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /processor: examples\/seed\/app\/processor.py \(Debian's python3-azure\)/);
      assert.match(r.stdout, /\[stdout\] Received: "?python e2e hello"?/);
      assert.match(r.stdout, /execution job-python-[a-z0-9]{7} Succeeded/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
