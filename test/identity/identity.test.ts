// Managed identity end to end (the lab's flow; docs/managed-identity.md): the lab's processor in JavaScript
// (DefaultAzureCredential with the identity's client id + ServiceBusClient on the FQDN over AMQPS) runs as a
// child process with IDENTITY_ENDPOINT/IDENTITY_HEADER and NODE_EXTRA_CA_CERTS, as a job replica, and under
// `eventjobs exec`. The SDK reaches a non-default AMQPS port through fullyQualifiedNamespace "localhost:<port>".
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { EXEC_TOKEN_FILE } from "../../src/identity/service.js";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { tempFiles } from "../helpers/files.js";
import { consoleText, waitForExecution } from "../helpers/jobs.js";
import { receiveOne, RETRY } from "../helpers/sdk.js";
import { CLI } from "../helpers/cli-entry.js";

const ROOT = resolve(import.meta.dirname, "../..");
const PROCESSOR = join(ROOT, "test/fixtures/mi-processor.mjs");
const { tempDir } = tempFiles("eventjobs-identity-");

const q = {
  lab: uniqueName("mi-lab"),
  other: uniqueName("mi-other"),
  job: uniqueName("mi-job"),
  exec: uniqueName("mi-exec"),
};
const id = { rw: uniqueName("id-rw"), none: uniqueName("id-none"), recv: uniqueName("id-recv") };

const yaml = `
namespaces:
  - name: sbemulatorns
    queues:
${Object.values(q)
  .map((n) => `      - name: ${n}`)
  .join("\n")}
identities:
  - name: ${id.rw}
  - name: ${id.none}
  - name: ${id.recv}
    clientId: 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b
roleAssignments:
  - role: Azure Service Bus Data Receiver
    assignee: ${id.rw}
    scope: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sbemulatorns/queues/${q.lab}
  - role: Azure Service Bus Data Sender
    assignee: ${id.rw}
    scope: sbemulatorns/queues/${q.lab}
  - role: azure service bus data receiver
    assignee: 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b
    scope: sbemulatorns
  - role: Azure Service Bus Data Owner
    assignee: ${id.rw}
    scope: sbemulatorns/queues/${q.job}
  - role: Azure Service Bus Data Owner
    assignee: ${id.rw}
    scope: sbemulatorns/queues/${q.exec}
`;

type Result = {
  ok: boolean;
  body?: unknown;
  code?: string;
  name?: string;
  error?: string;
  claims?: Record<string, unknown>;
};

function run(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(argv[0], argv.slice(1), { cwd: ROOT, env: cleanEnv(env), timeout: 90_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The test's environment minus anything that would steer the credential or the CA elsewhere. */
function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(AZURE_|IDENTITY_|MSI_|IMDS_|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|REQUESTS_CA_BUNDLE)/.test(k)) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

function result(out: { stdout: string; stderr: string; code: number | null }): Result {
  const line = out.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`no RESULT line (exit ${out.code})\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`);
  return JSON.parse(line.slice("RESULT ".length));
}

describe("managed identity with @azure/identity + @azure/service-bus", () => {
  let broker: TestBroker;
  let sas: ServiceBusClient;
  let fqdn: string;
  const clientId = (name: string) => broker.platform.identity.registry.user(name)!.clientId;

  /** The processor as a replica of a job with `identity` would run it (its own IDENTITY_HEADER). */
  async function processor(identity: string, queue: string, extra: Record<string, string> = {}): Promise<Result> {
    const binding = broker.platform.identity.execBinding(identity);
    const header = broker.platform.identity.endpoint.bind(binding, 60_000);
    try {
      const env = {
        ...broker.platform.identity.caEnv(),
        IDENTITY_ENDPOINT: `http://127.0.0.1:${broker.platform.endpoints.httpPort}/msi/token`,
        IDENTITY_HEADER: header,
        SERVICEBUS_FQDN: fqdn,
        SERVICEBUS_QUEUE_NAME: queue,
        MANAGED_IDENTITY_CLIENT_ID: clientId(identity),
        NO_RETRY: "1",
        ...extra,
      };
      return result(await run([process.execPath, PROCESSOR], env));
    } finally {
      broker.platform.identity.endpoint.revoke(header);
    }
  }

  before(async () => {
    broker = await startBroker(yaml);
    sas = new ServiceBusClient(broker.connectionString, RETRY);
    fqdn = `localhost:${broker.platform.endpoints.amqpsPort}`;
  });
  after(async () => {
    await sas?.close();
    await broker?.close();
  });

  test("the lab's processor: DefaultAzureCredential(managedIdentityClientId) receives and completes over AMQPS", async () => {
    await sas.createSender(q.lab).sendMessages({ body: "hello from the lab", messageId: "lab-1" });
    const r = await processor(id.rw, q.lab);
    assert.deepEqual(r, { ok: true, body: "hello from the lab" });
    assert.equal((await sas.createReceiver(q.lab).peekMessages(10)).length, 0, "completed");
  });

  test("the token the SDK got carries Entra's managed-identity claims", async () => {
    const r = await processor(id.rw, q.lab, { MODE: "token" });
    assert.equal(r.ok, true, JSON.stringify(r));
    const u = broker.platform.identity.registry.user(id.rw)!;
    const c = r.claims!;
    assert.equal(c.aud, "https://servicebus.azure.net/", "the resource the SDK asked for (scope minus /.default)");
    assert.equal(c.oid, u.principalId);
    assert.equal(c.appid, u.clientId);
    assert.equal(c.azp, u.clientId);
    assert.equal(c.iss, `https://sts.windows.net/${broker.platform.identity.registry.tenantId}/`);
    assert.equal(c.xms_mirid, u.resourceId);
    assert.ok(Number(c.exp) - Number(c.iat) >= 3600);
  });

  test("an identity with the Sender role on the queue can send", async () => {
    const r = await processor(id.rw, q.lab, { MODE: "send", BODY: "sent by identity" });
    assert.equal(r.ok, true, JSON.stringify(r));
    const m = await receiveOne(sas.createReceiver(q.lab, { receiveMode: "receiveAndDelete" }));
    assert.equal(m.body, "sent by identity");
  });

  test("an identity without a role: receiving fails with UnauthorizedAccess and the service's wording", async () => {
    await sas.createSender(q.other).sendMessages({ body: "not for you" });
    const r = await processor(id.none, q.other);
    assert.equal(r.ok, false);
    assert.equal(r.code, "UnauthorizedAccess", JSON.stringify(r));
    assert.match(
      r.error!,
      new RegExp(
        `Unauthorized access\\. 'Listen' claim\\(s\\) are required to perform this operation\\. Resource: 'sb://localhost/${q.other}'`,
      ),
    );
    assert.equal((await sas.createReceiver(q.other).peekMessages(10)).length, 1, "the message stays");
  });

  test("a role scoped to one queue does not reach another queue", async () => {
    const r = await processor(id.rw, q.other);
    assert.equal(r.code, "UnauthorizedAccess", JSON.stringify(r));
  });

  test("Data Receiver (namespace scope, assigned by client id) receives anywhere but cannot send", async () => {
    const r = await processor(id.recv, q.other, { MODE: "send", BODY: "nope" });
    assert.equal(r.code, "UnauthorizedAccess", JSON.stringify(r));
    assert.match(r.error!, /'Send' claim\(s\) are required/);
    const received = await processor(id.recv, q.other);
    assert.deepEqual(received, { ok: true, body: "not for you" });
  });

  test("a wrong IDENTITY_HEADER: the credential fails and says why", async () => {
    const r = await processor(id.rw, q.lab, { MODE: "token", IDENTITY_HEADER: "00000000-1111-2222-3333-444444444444" });
    assert.equal(r.ok, false);
    assert.match(r.error!, /X-IDENTITY-HEADER value is not valid/, JSON.stringify(r));
  });

  test("a client id that is not assigned to the caller: the credential fails naming it", async () => {
    const r = await processor(id.rw, q.lab, { MODE: "token", MANAGED_IDENTITY_CLIENT_ID: clientId(id.none) });
    assert.equal(r.ok, false);
    assert.match(
      r.error!,
      new RegExp(`Unable to load the proper Managed Identity.*${clientId(id.none)}`),
      JSON.stringify(r),
    );
  });

  test("a job replica gets IDENTITY_ENDPOINT/IDENTITY_HEADER and the CA; the lab job runs with a user-assigned identity", async () => {
    const job = uniqueName("mi-job");
    const entry = {
      name: job,
      identity: {
        type: "UserAssigned",
        userAssignedIdentities: {
          [`/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${id.rw}`]: {},
        },
      },
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
              name: "main",
              image: "mcr.microsoft.com/k8se/quickstart-jobs:latest",
              command: ["node", PROCESSOR],
              env: [
                { name: "SERVICEBUS_FQDN", value: fqdn },
                { name: "SERVICEBUS_QUEUE_NAME", value: q.job },
                { name: "MANAGED_IDENTITY_CLIENT_ID", value: `\${identity.${id.rw}.clientId}` },
              ],
            },
          ],
        },
      },
    };
    const spec = broker.platform.jobs.apply(entry);
    const env = broker.platform.identity.replicaEnv(spec);
    assert.match(env.IDENTITY_ENDPOINT, /^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);
    assert.match(env.IDENTITY_HEADER, /^[0-9a-f-]{36}$/);
    assert.equal(env.NODE_EXTRA_CA_CERTS, broker.platform.ca.certPath);
    assert.notEqual(
      env.IDENTITY_HEADER,
      broker.platform.identity.replicaEnv(spec).IDENTITY_HEADER,
      "a header per replica",
    );

    await sas.createSender(q.job).sendMessages({ body: "work for the job" });
    const exec = broker.platform.jobs.runtime.start(job);
    const done = await waitForExecution(broker.platform, exec.name, 60_000);
    const log = consoleText(broker.platform, exec.name);
    assert.equal(done.status, "Succeeded", log);
    assert.match(log, /Received: work for the job/);
  });

  test("a job without identity gets the CA variables and no IDENTITY_* variables", () => {
    const spec = {
      name: "no-identity",
      identity: undefined,
      replicaTimeout: 60,
      terminationGracePeriodSeconds: 5,
    } as never;
    const env = broker.platform.identity.replicaEnv(spec);
    assert.equal(env.IDENTITY_ENDPOINT, undefined);
    assert.equal(env.IDENTITY_HEADER, undefined);
    assert.ok(env.NODE_EXTRA_CA_CERTS && env.SSL_CERT_FILE && env.REQUESTS_CA_BUNDLE);
  });
});

describe("eventjobs exec", () => {
  const cli = (args: string[], env: Record<string, string> = {}) => run([process.execPath, ...CLI, ...args], env);

  test("with no server on the data dir: one line, non-zero exit", async () => {
    const dir = tempDir();
    const r = await cli(["exec", "--data-dir", dir, "--", "node", "-e", "1"]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), `eventjobs: no eventjobs server is running on ${dir}`);
  });

  test("--identity X -- node processor: the lab's processor runs with that identity and the CA", async () => {
    const dataDir = tempDir();
    const broker = await startBroker(yaml, { dataDir });
    const sas = new ServiceBusClient(broker.connectionString, RETRY);
    try {
      const secretFile = join(dataDir, "identity", EXEC_TOKEN_FILE);
      assert.equal(statSync(secretFile).mode & 0o777, 0o600);
      await sas.createSender(q.exec).sendMessages({ body: "via exec" });
      const env = {
        SERVICEBUS_FQDN: `localhost:${broker.platform.endpoints.amqpsPort}`,
        SERVICEBUS_QUEUE_NAME: q.exec,
        MANAGED_IDENTITY_CLIENT_ID: broker.platform.identity.registry.user(id.rw)!.clientId,
        NO_RETRY: "1",
      };
      const r = await cli(["exec", "--data-dir", dataDir, "--identity", id.rw, "--", "node", PROCESSOR], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(result(r), { ok: true, body: "via exec" });
      assert.match(r.stdout, /Received: via exec/);

      // the header only works for the identity it was issued for
      const wrong = await cli(["exec", "--data-dir", dataDir, "--identity", id.none, "--", "node", PROCESSOR], {
        ...env,
        MODE: "token",
      });
      assert.notEqual(wrong.code, 0);
      assert.match(result(wrong).error!, /Unable to load the proper Managed Identity/);

      // the environment it passes on, and the exit code it returns
      const show = await cli([
        "exec",
        "--data-dir",
        dataDir,
        "--identity",
        id.rw,
        "--",
        "node",
        "-e",
        "const e=process.env;console.log(JSON.stringify([e.IDENTITY_ENDPOINT,!!e.IDENTITY_HEADER,e.NODE_EXTRA_CA_CERTS,e.SSL_CERT_FILE===e.REQUESTS_CA_BUNDLE]));process.exit(7)",
      ]);
      assert.equal(show.code, 7);
      const [endpoint, hasHeader, ca, sameBundle] = JSON.parse(show.stdout.trim());
      assert.equal(endpoint, `http://127.0.0.1:${broker.platform.endpoints.httpPort}/msi/token`);
      assert.equal(hasHeader, true);
      assert.equal(ca, broker.platform.ca.certPath);
      assert.equal(sameBundle, true);

      const unknown = await cli([
        "exec",
        "--data-dir",
        dataDir,
        "--identity",
        "no-such-identity",
        "--",
        "node",
        "-e",
        "1",
      ]);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /no identity 'no-such-identity'/);
    } finally {
      await sas.close();
      await broker.close();
    }
  });
});
