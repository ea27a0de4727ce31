// The pieces under the SDK flow, on the wire: the managed-identity endpoint's requests and answers (as
// @azure/msal-node's AppService source and Python azure-identity's app_service.py send them), $cbs put-token
// of type jwt (signature, audience, expiry) with RBAC from role assignments, and the config's identity part.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError } from "../../src/model/config.js";
import { parseConfigText } from "../../src/config/load.js";
import { parseIdentityConfig, parseScope } from "../../src/identity/config.js";
import { tokenEndpointUrl } from "../../src/identity/service.js";
import { issueAccessToken, signJwt, verifyAccessToken } from "../../src/identity/tokens.js";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { CbsConnection } from "../helpers/cbs.js";
import { tempFiles } from "../helpers/files.js";

const { tempDir } = tempFiles("eventjobs-rbac-");
const q = { sb: uniqueName("rbac-send"), own: uniqueName("rbac-own"), recv: uniqueName("rbac-recv") };
const job = uniqueName("rbac-job");

const yaml = `
namespaces:
  - name: sbemulatorns
    queues:
${Object.values(q)
  .map((n) => `      - name: ${n}`)
  .join("\n")}
identities:
  - name: sender-id
  - name: owner-id
  - name: reader-id
roleAssignments:
  - { role: Azure Service Bus Data Sender, assignee: sender-id, scope: sbemulatorns/queues/${q.sb} }
  - { role: Azure Service Bus Data Owner, assignee: owner-id, scope: sbemulatorns }
  - { role: Azure Service Bus Data Receiver, assignee: reader-id, scope: sbemulatorns/queues/${q.recv} }
  - { role: Azure Service Bus Data Sender, assignee: ${job}, scope: sbemulatorns/queues/${q.recv} }
jobs:
  - name: ${job}
    identity: { type: "SystemAssigned,UserAssigned", userAssignedIdentities: { reader-id: {} } }
    properties:
      configuration: { triggerType: Manual, replicaTimeout: 60, manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 } }
      template: { containers: [{ name: main, image: x, command: [node, -e, "1"] }] }
`;

let broker: TestBroker;
const SB = "https://servicebus.azure.net/";
const who = (name: string) => broker.platform.identity.registry.user(name)!;
const token = async (name: string, resource = SB, lifetimeSeconds?: number) =>
  (await issueAccessToken(broker.platform.identity.issuer, who(name), resource, { lifetimeSeconds })).token;

before(async () => {
  broker = await startBroker(yaml);
});
after(() => broker?.close());

describe("the managed-identity endpoint", () => {
  let header: string;
  let base: string;
  const get = async (query: string, h: Record<string, string> = { "X-IDENTITY-HEADER": header }) => {
    const res = await fetch(`${base}?${query}`, { headers: h });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  before(() => {
    // what a replica of the job gets (replicaEnv does this for the job's spec)
    const identity = broker.platform.identity;
    header = identity.endpoint.bind(
      identity.jobBinding(job, { type: "SystemAssigned,UserAssigned", userAssignedIdentities: { "reader-id": {} } })!,
      60_000,
    );
    base = tokenEndpointUrl("127.0.0.1", broker.platform.endpoints.httpPort);
  });

  test("client_id → { access_token, expires_on (epoch seconds string), resource, token_type, client_id }", async () => {
    const r = await get(
      `api-version=2019-08-01&resource=${encodeURIComponent(SB)}&client_id=${who("reader-id").clientId}`,
    );
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ["access_token", "client_id", "expires_on", "resource", "token_type"]);
    assert.match(r.body.expires_on, /^\d{10}$/);
    assert.equal(r.body.resource, SB);
    assert.equal(r.body.token_type, "Bearer");
    assert.equal(r.body.client_id, who("reader-id").clientId);
    const claims = await verifyAccessToken(r.body.access_token, broker.platform.identity.issuer);
    assert.equal(claims.exp, Number(r.body.expires_on));
    assert.equal(claims.oid, who("reader-id").principalId);
    const header = JSON.parse(Buffer.from(r.body.access_token.split(".")[0], "base64url").toString());
    assert.deepEqual(header, { typ: "JWT", alg: "RS256", kid: broker.platform.identity.issuer.kid });
  });

  test("no id → the job's system-assigned identity; object_id, principal_id, mi_res_id, msi_res_id select too", async () => {
    const system = broker.platform.identity.registry.system(job);
    const r = await get(`api-version=2019-08-01&resource=${encodeURIComponent(SB)}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.client_id, system.clientId);
    const c = await verifyAccessToken(r.body.access_token, broker.platform.identity.issuer);
    assert.equal(c.xms_mirid, system.resourceId);
    const reader = who("reader-id");
    for (const sel of [
      `object_id=${reader.principalId}`,
      `principal_id=${reader.principalId}`,
      `mi_res_id=${encodeURIComponent(reader.resourceId)}`,
      `msi_res_id=${encodeURIComponent(reader.resourceId)}`,
    ]) {
      const s = await get(`api-version=2019-08-01&resource=${encodeURIComponent(SB)}&${sel}`);
      assert.equal(s.body.client_id, reader.clientId, sel);
    }
  });

  test("a scope is accepted for resource and loses its /.default", async () => {
    const r = await get(`api-version=2019-08-01&scope=${encodeURIComponent("https://servicebus.azure.net//.default")}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.resource, SB);
  });

  test("errors are 400/401 with a message, never 404/410/5xx (which the SDKs retry)", async () => {
    const q = `api-version=2019-08-01&resource=${encodeURIComponent(SB)}`;
    const cases: Array<[string, Record<string, string> | undefined, number, RegExp]> = [
      [q, {}, 400, /missing the X-IDENTITY-HEADER/],
      [q, { "X-IDENTITY-HEADER": "not-a-header" }, 401, /X-IDENTITY-HEADER value is not valid/],
      [`resource=${encodeURIComponent(SB)}`, undefined, 400, /api-version/],
      ["api-version=2019-08-01", undefined, 400, /no resource/],
      [
        `${q}&client_id=${who("sender-id").clientId}`,
        undefined,
        400,
        /Unable to load the proper Managed Identity.*not|no identity/,
      ],
      [
        `${q}&client_id=${who("reader-id").clientId}&object_id=${who("reader-id").principalId}`,
        undefined,
        400,
        /at most one/,
      ],
    ];
    for (const [query, h, status, message] of cases) {
      const r = await get(query, h);
      assert.equal(r.status, status, query);
      assert.match(r.body.message, message);
      assert.equal(r.body.error_description, r.body.message);
    }
  });
});

describe("$cbs put-token of type jwt", () => {
  let c: CbsConnection;
  const aud = (queue: string) => `sb://localhost/${queue}`;
  before(async () => {
    c = await CbsConnection.open(broker.port);
  });
  after(() => c?.close());

  test("a token from the issuer with the Sender role: put-token OK, then send is accepted", async () => {
    assert.deepEqual(await c.putToken("jwt", await token("sender-id"), aud(q.sb)), { status: 200, description: "OK" });
    assert.deepEqual(await c.send(q.sb, "hi"), { accepted: true });
  });

  test("refresh: another put-token on the same connection keeps the links working", async () => {
    const conn = await CbsConnection.open(broker.port);
    try {
      for (let i = 0; i < 3; i++)
        assert.equal((await conn.putToken("jwt", await token("sender-id"), aud(q.sb))).status, 200);
      assert.deepEqual(await conn.send(q.sb, "after refresh"), { accepted: true });
    } finally {
      conn.close();
    }
  });

  test("the namespace's own audience (https://<ns>.servicebus.windows.net/) is accepted too", async () => {
    const conn = await CbsConnection.open(broker.port);
    try {
      assert.equal(
        (
          await conn.putToken(
            "jwt",
            await token("owner-id", "https://sbemulatorns.servicebus.windows.net/"),
            aud(q.own),
          )
        ).status,
        200,
      );
      assert.deepEqual(await conn.send(q.own, "owner"), { accepted: true });
    } finally {
      conn.close();
    }
  });

  test("a token for another resource: 401 InvalidAudience", async () => {
    const r = await c.putToken("jwt", await token("owner-id", "https://storage.azure.com/"), aud(q.own));
    assert.equal(r.status, 401);
    assert.equal(r.description, "InvalidAudience: The authorization header contains a token with a wrong audience.");
  });

  test("an expired token: 401 ExpiredToken with its expiration time", async () => {
    const r = await c.putToken("jwt", await token("owner-id", SB, -60), aud(q.own));
    assert.equal(r.status, 401);
    assert.match(
      r.description,
      /^ExpiredToken: The token is expired\. Expiration time: '\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ'$/,
    );
  });

  test("a token signed by another key, a tampered token, garbage: 401", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const good = await issueAccessToken(broker.platform.identity.issuer, who("owner-id"), SB);
    const forged = await signJwt(good.claims, { kid: broker.platform.identity.issuer.kid, privateKey });
    const [h, , s] = good.token.split(".");
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...good.claims, oid: "x" })).toString("base64url")}.${s}`;
    for (const t of [forged, tampered])
      assert.deepEqual(await c.putToken("jwt", t, aud(q.own)), {
        status: 401,
        description: "InvalidSignature: The token has an invalid signature.",
      });
    assert.equal((await c.putToken("jwt", "not a jwt", aud(q.own))).status, 401);
  });

  test("a role on one queue gives nothing on another: attach is refused with the service's wording", async () => {
    const conn = await CbsConnection.open(broker.port);
    try {
      assert.equal((await conn.putToken("jwt", await token("sender-id"), aud(q.own))).status, 200);
      assert.deepEqual(await conn.send(q.own, "nope"), {
        accepted: false,
        condition: "amqp:unauthorized-access",
        description: `Unauthorized access. 'Send' claim(s) are required to perform this operation. Resource: 'sb://localhost/${q.own}'.`,
      });
    } finally {
      conn.close();
    }
  });

  test("a job's system-assigned identity gets its own role assignments (assigned by job name)", async () => {
    const conn = await CbsConnection.open(broker.port);
    try {
      const system = broker.platform.identity.registry.system(job);
      const t = (await issueAccessToken(broker.platform.identity.issuer, system, SB)).token;
      assert.equal((await conn.putToken("jwt", t, aud(q.recv))).status, 200);
      assert.deepEqual(await conn.send(q.recv, "from the job"), { accepted: true });
    } finally {
      conn.close();
    }
  });

  test("roles → rights: Owner gives Manage, Send, Listen; a namespace-wide audience gets the narrower scopes", () => {
    const reg = broker.platform.identity.registry;
    assert.deepEqual(reg.claimsFor(who("owner-id").principalId, "sbemulatorns", q.own), [
      { scope: q.own, rights: ["Manage", "Send", "Listen"] },
    ]);
    assert.deepEqual(reg.claimsFor(who("reader-id").principalId, "sbemulatorns", ""), [
      { scope: q.recv, rights: ["Listen"] },
    ]);
    assert.deepEqual(reg.claimsFor(who("reader-id").principalId, "other-ns", q.recv), []);
  });
});

/** The rest of a minimal valid job entry (jobs are checked in full at load). */
const JOB_BODY =
  "    properties: { configuration: { triggerType: Manual, replicaTimeout: 60 }, template: { containers: [{ name: main, image: busybox }] } }\n";

describe("identities and role assignments in eventjobs.yaml", () => {
  const parse = (text: string) => {
    const config = parseConfigText(text, "eventjobs.yaml");
    return parseIdentityConfig(
      config.extra,
      config.namespaces.map((n) => n.name),
      "eventjobs.yaml",
    );
  };
  const ns = "namespaces:\n  - name: orders\n";

  test("scopes: namespace, queue, topic, subscription, and the ARM id form", () => {
    assert.deepEqual(parseScope("orders"), { namespace: "orders", entity: "" });
    assert.deepEqual(parseScope("orders/queues/Q1"), { namespace: "orders", entity: "q1" });
    assert.deepEqual(parseScope("orders/topics/t/subscriptions/S"), {
      namespace: "orders",
      entity: "t/subscriptions/s",
    });
    assert.deepEqual(
      parseScope("/subscriptions/abc/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/orders/queues/q1"),
      { namespace: "orders", entity: "q1" },
    );
    for (const bad of [
      "",
      "/orders",
      "orders/queues",
      "orders/things/x",
      "orders/queues/q/subscriptions/s",
      "/subscriptions/a/resourceGroups/b/providers/Microsoft.Storage/storageAccounts/x",
    ]) {
      assert.equal(parseScope(bad), undefined, bad);
    }
  });

  test("an unknown role lists the three Service Bus data roles; errors name the path and value", () => {
    const text = `${ns}identities:\n  - name: app-id\nroleAssignments:\n  - { role: Contributor, assignee: app-id, scope: orders }\n  - { role: Azure Service Bus Data Sender, assignee: app-id, scope: billing/queues/x }\n`;
    assert.throws(
      () => parse(text),
      (e: ConfigError) => {
        assert.match(
          e.message,
          /eventjobs\.yaml:6:13: roleAssignments\[0\]\.role: "Contributor" — expected one of the Service Bus data roles: "Azure Service Bus Data Owner", "Azure Service Bus Data Sender", "Azure Service Bus Data Receiver"/,
        );
        assert.match(
          e.message,
          /roleAssignments\[1\]\.scope: "billing\/queues\/x" — expected a scope in a namespace this config defines \(orders\)/,
        );
        return true;
      },
    );
  });

  test("identity names and ids are checked; a job's user-assigned identity must be declared", () => {
    const text = `${ns}identities:\n  - name: a\n  - name: ok-id\n    clientId: not-a-guid\njobs:\n  - name: j1\n    identity: { type: UserAssigned, userAssignedIdentities: { missing-id: {} } }\n`;
    assert.throws(
      () => parse(text),
      (e: ConfigError) => {
        assert.match(e.message, /identities\[0\]\.name: "a" — expected 3-128 letters/);
        assert.match(e.message, /identities\[1\]\.clientId: "not-a-guid" — expected a GUID/);
        assert.match(
          e.message,
          /jobs\[0\]\.identity\.userAssignedIdentities: "missing-id" — expected an identity declared under identities \(ok-id\)/,
        );
        return true;
      },
    );
  });

  test("a job names its user-assigned identities by name, ARM id or ${identity.<name>.resourceId}; errors show at load", () => {
    const jobs = [
      "app-id",
      "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id",
      "${identity.app-id.resourceId}",
    ];
    const text = `${ns}identities:\n  - name: app-id\njobs:\n${jobs.map((k, i) => `  - name: j${i}\n    identity: { type: UserAssigned, userAssignedIdentities: { "${k}": {} } }\n${JOB_BODY}`).join("")}`;
    assert.deepEqual(
      parse(text).jobs.map((j) => j.userAssigned),
      [["app-id"], ["app-id"], ["app-id"]],
    );
    assert.throws(
      () =>
        parseConfigText(`${ns}roleAssignments:\n  - { role: Reader, assignee: x, scope: orders }\n`, "eventjobs.yaml"),
      /roleAssignments\[0\]\.role: "Reader"/,
    );
  });

  test("an assignee that is no identity stops the platform from starting, naming it", async () => {
    const text = `${ns}identities:\n  - name: app-id\nroleAssignments:\n  - { role: Azure Service Bus Data Sender, assignee: nobody, scope: orders }\n`;
    await assert.rejects(
      startBroker(text),
      /roleAssignments\[0\]\.assignee: "nobody" — expected an identity name, client id or principal id \(identities: app-id\)/,
    );
  });

  test("generated ids and the issuer key persist in the data dir: same ids and still-valid tokens after a restart", async () => {
    const dataDir = tempDir();
    const text = `${ns}identities:\n  - name: app-id\n`;
    let b = await startBroker(text, { dataDir });
    const first = b.platform.identity.registry.user("app-id")!;
    const t = (await issueAccessToken(b.platform.identity.issuer, first, SB)).token;
    await b.close({ keepData: true });
    b = await startBroker(text, { dataDir });
    try {
      assert.deepEqual(b.platform.identity.registry.user("app-id"), first);
      assert.equal((await verifyAccessToken(t, b.platform.identity.issuer)).oid, first.principalId);
      const key = join(dataDir, "identity", "issuer-key.pem");
      assert.equal(statSync(key).mode & 0o777, 0o600);
      assert.match(readFileSync(key, "utf8"), /BEGIN PRIVATE KEY/);
    } finally {
      await b.close();
    }
  });
});
