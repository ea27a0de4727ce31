// The developer's own credential (docs/developer-credential.md): `eventjobs login`, the `az` that
// `eventjobs shellenv` puts first on PATH, and @azure/identity's AzureCliCredential / DefaultAzureCredential
// (narrowed to the Azure CLI) sending and receiving over AMQPS with the developer's role assignments, and
// refused without them. The `az` runs as the credentials run it: `/bin/sh -c "az account get-access-token …"`
// from /bin.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { tempFiles } from "../helpers/files.js";

const ROOT = resolve(import.meta.dirname, "../..");
const PROCESSOR = join(ROOT, "test/fixtures/cli-processor.mjs");
const { tempDir } = tempFiles("eventjobs-azlogin-");
const NS = "servicebus-ns-job";
const QUEUE = "queue-messages";
const YAML = `namespaces:\n  - name: ${NS}\n    queues:\n      - name: ${QUEUE}\n`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Out = { code: number | null; stdout: string; stderr: string };

function run(argv: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Out> {
  return new Promise((done) => {
    execFile(argv[0], argv.slice(1), { cwd, env, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The test's environment minus anything that would steer a credential or the CA elsewhere. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(AZURE_|IDENTITY_|MSI_|IMDS_|EVENTJOBS_|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|REQUESTS_CA_BUNDLE)/.test(k))
      env[k] = v;
  return env;
}

/** What `eval "$(eventjobs shellenv)"` leaves in a shell, applied to `base`. */
function applyShellenv(text: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const line of text.trim().split("\n")) {
    const path = /^export PATH='([^']*)':"\$PATH"$/.exec(line);
    const plain = /^export (\w+)='([^']*)'$/.exec(line);
    if (path) env.PATH = `${path[1]}:${env.PATH}`;
    else if (plain) env[plain[1]] = plain[2];
    else if (line.startsWith("unset ")) for (const k of line.slice(6).split(" ")) delete env[k];
    else throw new Error(`unexpected shellenv line: ${line}`);
  }
  return env;
}

function result(out: Out): { ok: boolean; body?: unknown; error?: string; code?: string; claims?: any } {
  const line = out.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`no RESULT line (exit ${out.code})\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`);
  return JSON.parse(line.slice("RESULT ".length));
}

describe("eventjobs login, shellenv and the Azure CLI credential", () => {
  let broker: TestBroker;
  let env: NodeJS.ProcessEnv;
  const dataDir = tempDir();
  const processor = (extra: Record<string, string>) =>
    run([process.execPath, PROCESSOR], {
      ...env,
      SERVICEBUS_FQDN: `localhost:${broker.platform.endpoints.amqpsPort}`,
      SERVICEBUS_QUEUE_NAME: QUEUE,
      ...extra,
    });
  const az = (args: string) => run(["/bin/sh", "-c", `az ${args}`], env, "/bin");

  before(async () => {
    broker = await startBroker(YAML, { dataDir });
    const shellenv = await cli(dataDir, ["shellenv"]);
    assert.equal(shellenv.code, 0, shellenv.stderr);
    assert.doesNotMatch(shellenv.stdout, /IDENTITY_HEADER=|eyJ/, "no secret in shellenv");
    env = applyShellenv(shellenv.stdout, cleanEnv());
    assert.equal(env.NODE_EXTRA_CA_CERTS, broker.platform.ca.certPath);
    assert.ok(env.SSL_CERT_FILE && env.SSL_CERT_FILE === env.REQUESTS_CA_BUNDLE);
  });
  after(() => broker?.close());

  test("before `eventjobs login` the credential is unavailable (az: Please run 'az login')", async () => {
    const [r, me] = await Promise.all([
      processor({ MODE: "token" }),
      fetch(`http://127.0.0.1:${broker.platform.endpoints.httpPort}/api/v1/identity/me`),
    ]);
    const out = result(r);
    assert.equal(out.ok, false);
    assert.match(out.error!, /az login/);
    assert.equal(me.status, 404);
  });

  test("login makes the developer principal once; the control API and az account show name it", async () => {
    const first = await cli(dataDir, ["login"]);
    assert.equal(first.code, 0, first.stderr);
    const me = JSON.parse(first.stdout);
    assert.match(me.objectId, GUID);
    assert.equal(me.userPrincipalName, "developer@eventjobs.local");
    assert.equal(me.tenantId, broker.platform.identity.registry.tenantId);
    const [again, api, show, table] = await Promise.all([
      cli(dataDir, ["login"]),
      fetch(`http://127.0.0.1:${broker.platform.endpoints.httpPort}/api/v1/identity/me`).then((r) => r.json()),
      az("account show"),
      cli(dataDir, ["login", "-o", "table"]),
    ]);
    assert.equal(JSON.parse(again.stdout).objectId, me.objectId, "login again shows the same principal");
    assert.deepEqual(api, me);
    assert.match(table.stdout, /^UserPrincipalName\s+ObjectId\s+TenantId\n/);
    assert.equal(show.code, 0, show.stderr);
    const account = JSON.parse(show.stdout);
    assert.deepEqual(Object.keys(account), [
      "environmentName",
      "homeTenantId",
      "id",
      "isDefault",
      "managedByTenants",
      "name",
      "state",
      "tenantId",
      "user",
    ]);
    assert.deepEqual(account.user, { name: "developer@eventjobs.local", type: "user" });
    assert.equal(account.tenantId, me.tenantId);
  });

  test("az account get-access-token prints az 2.x's JSON with a user token for the developer", async () => {
    const me = JSON.parse((await cli(dataDir, ["login"])).stdout);
    const [plain, tenant, scope, tsv, bad, other] = await Promise.all([
      az("account get-access-token --output json --resource https://servicebus.azure.net"),
      az(`account get-access-token --output json --resource https://servicebus.azure.net --tenant ${me.tenantId}`),
      az("account get-access-token --scope https://servicebus.azure.net/.default"),
      az("account get-access-token --resource https://servicebus.azure.net --query expires_on -o tsv"),
      az(
        "account get-access-token --resource https://servicebus.azure.net --tenant 72f988bf-0000-0000-0000-000000000000",
      ),
      az("account get-access-token --resource https://management.azure.com/"),
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    const t = JSON.parse(plain.stdout);
    assert.deepEqual(Object.keys(t), ["accessToken", "expiresOn", "expires_on", "subscription", "tenant", "tokenType"]);
    assert.equal(t.tokenType, "Bearer");
    assert.equal(t.tenant, me.tenantId);
    assert.equal(t.subscription, "00000000-0000-0000-0000-000000000000");
    assert.ok(Number.isInteger(t.expires_on));
    assert.match(t.expiresOn, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    // expiresOn is local time (Python's azure-identity parses it as naive local time)
    const [date, time] = t.expiresOn.split(" ");
    const [y, mo, d] = date.split("-").map(Number);
    const [h, mi, s] = time.split(":").map(Number);
    assert.equal(new Date(y, mo - 1, d, h, mi, Math.floor(s)).getTime(), t.expires_on * 1000);
    const claims = JSON.parse(Buffer.from(t.accessToken.split(".")[1], "base64url").toString());
    assert.equal(claims.aud, "https://servicebus.azure.net");
    assert.equal(claims.oid, me.objectId);
    assert.equal(claims.upn, "developer@eventjobs.local");
    assert.equal(claims.tid, me.tenantId);
    assert.equal(claims.idtyp, "user");
    assert.equal(claims.scp, "user_impersonation");
    assert.equal(claims.exp, t.expires_on);

    assert.deepEqual(Object.keys(JSON.parse(tenant.stdout)), [
      "accessToken",
      "expiresOn",
      "expires_on",
      "tenant",
      "tokenType",
    ]);
    assert.equal(JSON.parse(scope.stdout).tokenType, "Bearer");
    assert.match(tsv.stdout, /^\d{10}\n$/);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ERROR: AADSTS90002: Tenant '72f988bf-0000-0000-0000-000000000000' not found/);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^ERROR: AADSTS500011: The resource principal named https:\/\/management\.azure\.com\//);
    assert.equal(bad.stdout + other.stdout, "");
  });

  test("the broker enforces the developer's role assignments (AzureCliCredential, DefaultAzureCredential)", async () => {
    await cli(dataDir, ["login"]);
    const refused = result(await processor({ MODE: "send", BODY: "no role" }));
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /Unauthorized access\. 'Send' claim\(s\) are required/);

    const sender = await cli(dataDir, [
      "role",
      "assignment",
      "create",
      "--assignee",
      "developer@eventjobs.local",
      "--role",
      "Azure Service Bus Data Sender",
      "--scope",
      `${NS}/queues/${QUEUE}`,
    ]);
    assert.equal(sender.code, 0, sender.stderr);
    assert.equal(JSON.parse(sender.stdout).principalType, "User");
    assert.deepEqual(result(await processor({ MODE: "send", BODY: "from me" })), { ok: true });

    const noReceive = result(await processor({ MODE: "receive" }));
    assert.equal(noReceive.ok, false);
    assert.match(noReceive.error!, /'Listen' claim\(s\) are required/);

    const me = JSON.parse((await cli(dataDir, ["login"])).stdout);
    const receiver = await cli(dataDir, [
      "role",
      "assignment",
      "create",
      "--assignee",
      me.objectId,
      "--role",
      "Azure Service Bus Data Receiver",
      "--scope",
      NS,
    ]);
    assert.equal(receiver.code, 0, receiver.stderr);
    const received = await processor({
      MODE: "receive",
      CREDENTIAL: "default",
      AZURE_TOKEN_CREDENTIALS: "AzureCliCredential",
    });
    assert.deepEqual(result(received), { ok: true, body: "from me" });
    assert.match(received.stdout, /Received: from me/);
  });

  test("eventjobs exec --as-me: no managed identity, the developer through az", async () => {
    await cli(dataDir, ["login"]);
    const r = await cli(dataDir, ["exec", "--as-me", "--data-dir", dataDir, "--", process.execPath, PROCESSOR], {
      env: {
        ...cleanEnv(),
        IDENTITY_ENDPOINT: "http://127.0.0.1:1/msi/token",
        IDENTITY_HEADER: "not-for-this",
        MODE: "token",
        CREDENTIAL: "default",
      } as Record<string, string>,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(result(r).claims.upn, "developer@eventjobs.local");
    const both = await cli(dataDir, ["exec", "--as-me", "--identity", "x", "--data-dir", dataDir, "--", "true"]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /--as-me and --identity exclude each other/);
  });

  test("other az commands go to eventjobs' az-style CLI on the same data dir", async () => {
    const r = await az("containerapp job list -o json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });
});
