// The managed-identity endpoint issues tokens only for what Entra would issue them for here: Service Bus (the
// service, or a namespace this server serves) and the tenant's apps (a managed identity's client id). Anything
// else gets Entra's answer for an unknown resource: 400 invalid_resource, AADSTS500011.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { tokenEndpointUrl } from "../../src/identity/service.js";
import { decodeJwt } from "../../src/identity/tokens.js";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { ROOT } from "../helpers/server-process.js";

const job = uniqueName("res-job");
const yaml = `
namespaces:
  - name: sbemulatorns
  - name: otherns
identities:
  - name: app-id
jobs:
  - name: ${job}
    identity: { type: "SystemAssigned,UserAssigned", userAssignedIdentities: { app-id: {} } }
    properties:
      configuration: { triggerType: Manual, replicaTimeout: 60 }
      template: { containers: [{ name: main, image: x, command: [node, -e, "1"] }] }
`;

let broker: TestBroker;
let header: string;
let base: string;

before(async () => {
  broker = await startBroker(yaml);
  const identity = broker.platform.identity;
  header = identity.endpoint.bind(
    identity.jobBinding(job, { type: "SystemAssigned,UserAssigned", userAssignedIdentities: { "app-id": {} } })!,
    120_000,
  );
  base = tokenEndpointUrl("127.0.0.1", broker.platform.endpoints.httpPort);
});
after(() => broker?.close());

/** GET the endpoint with `resource` given as the raw (already percent-encoded) query value. */
async function token(
  rawResource: string,
  param = "resource",
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}?api-version=2019-08-01&${param}=${rawResource}`, {
    headers: { "X-IDENTITY-HEADER": header },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the resources the managed-identity endpoint issues tokens for", () => {
  test("unknown resources → 400 invalid_resource with Entra's AADSTS500011 message, and no token", async () => {
    const tenant = broker.platform.identity.registry.tenantId;
    const e = encodeURIComponent;
    // [the query value as sent, the resource as the message names it (control characters escaped)]
    const bad = [
      ["%00%ff", "\\u0000\uFFFD"],
      ...[
        "https://management.azure.com/",
        "https://vault.azure.net",
        "https://unknown.servicebus.windows.net/",
        "https://.servicebus.windows.net",
        "https://servicebus.azure.net.evil.example/",
        "http://servicebus.azure.net/",
        "11111111-2222-3333-4444-555555555555",
        "api://11111111-2222-3333-4444-555555555555",
      ].map((r) => [e(r), r]),
    ];
    for (const [raw, shown] of bad) {
      const r = await token(raw);
      assert.equal(r.status, 400, raw);
      assert.equal(r.body.error, "invalid_resource", raw);
      assert.equal(r.body.access_token, undefined, raw);
      assert.equal(r.body.statusCode, 400);
      assert.equal(r.body.error_description, r.body.message);
      assert.ok(
        String(r.body.message).startsWith(
          `AADSTS500011: The resource principal named ${shown} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        ),
        `${raw}: ${r.body.message}`,
      );
    }
    // as a scope, too
    const scope = await token(encodeURIComponent("https://management.azure.com//.default"), "scope");
    assert.equal(scope.status, 400);
    assert.match(
      String(scope.body.message),
      /^AADSTS500011: The resource principal named https:\/\/management\.azure\.com\/ was not found/,
    );
  });

  test("Service Bus audiences the broker accepts, and the tenant's apps → a token with that audience", async () => {
    const app = broker.platform.identity.registry.user("app-id")!.clientId;
    const good = [
      "https://servicebus.azure.net",
      "https://servicebus.azure.net/",
      "https://ServiceBus.azure.net//.default",
      "https://sbemulatorns.servicebus.windows.net",
      "https://otherns.servicebus.windows.net/",
      app,
      `api://${app}`,
    ];
    for (const resource of good) {
      const r = await token(encodeURIComponent(resource));
      assert.equal(r.status, 200, `${resource}: ${JSON.stringify(r.body)}`);
      const aud = resource.replace(/\/\.default$/, "");
      assert.equal(r.body.resource, aud);
      assert.equal(decodeJwt(String(r.body.access_token)).claims.aud, aud);
    }
  });

  test("ManagedIdentityCredential gets a Service Bus token and Entra's error for another resource", async () => {
    const script = `
      import { ManagedIdentityCredential } from "@azure/identity";
      const c = new ManagedIdentityCredential({ clientId: process.env.CLIENT_ID });
      const out = {};
      for (const scope of ["https://servicebus.azure.net/.default", "https://management.azure.com/.default"]) {
        try { out[scope] = { ok: Boolean((await c.getToken(scope)).token) }; } catch (e) { out[scope] = { error: e.message }; }
      }
      console.log("RESULT " + JSON.stringify(out));
    `;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      IDENTITY_ENDPOINT: base,
      IDENTITY_HEADER: header,
      CLIENT_ID: broker.platform.identity.registry.user("app-id")!.clientId,
    };
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script],
        { cwd: ROOT, env, timeout: 60_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      ),
    );
    const out = JSON.parse(
      stdout
        .split("\n")
        .find((l) => l.startsWith("RESULT "))!
        .slice("RESULT ".length),
    );
    assert.deepEqual(out["https://servicebus.azure.net/.default"], { ok: true });
    assert.match(
      out["https://management.azure.com/.default"].error,
      /AADSTS500011: The resource principal named https:\/\/management\.azure\.com was not found/,
    );
  });
});
