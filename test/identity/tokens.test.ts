// The token issuer on its own: what verifyAccessToken refuses and with which wording (the service's), tokens
// signed the way the issuer signed them before it used jose, and a $cbs put-token whose verification is still
// pending when its connection closes.
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  decodeJwt,
  issueAccessToken,
  issuerUrl,
  loadIssuer,
  signJwt,
  TokenError,
  verifyAccessToken,
  type Issuer,
} from "../../src/identity/tokens.js";
import type { TokenValidator } from "../../src/identity/claims.js";
import { AmqpServer } from "../../src/servicebus/amqp/server.js";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { CbsConnection } from "../helpers/cbs.js";
import { tempFiles } from "../helpers/files.js";

const { tempDir } = tempFiles("eventjobs-tokens-");
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const subject = {
  clientId: "11111111-1111-4111-8111-111111111111",
  principalId: "22222222-2222-4222-8222-222222222222",
  resourceId: "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app",
};
const SB = "https://servicebus.azure.net/";
const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

const issuer: Issuer = loadIssuer(TENANT);
const refused = (message: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof TokenError, String(e));
  if (typeof message === "string") assert.equal(e.message, message);
  else assert.match(e.message, message);
  return true;
};
const INVALID_SIGNATURE = "InvalidSignature: The token has an invalid signature.";

describe("verifyAccessToken", () => {
  test("an issued token verifies: the claims, header { typ, alg, kid }", async () => {
    const { token, claims } = await issueAccessToken(issuer, subject, SB);
    assert.deepEqual(await verifyAccessToken(token, issuer), claims);
    assert.deepEqual(decodeJwt(token).header, { typ: "JWT", alg: "RS256", kid: issuer.kid });
    assert.equal(claims.iss, issuerUrl(TENANT));
  });

  test("a token signed by hand with node:crypto (how tokens were signed before jose) still verifies", async () => {
    const { claims } = await issueAccessToken(issuer, subject, SB);
    const input = `${b64({ typ: "JWT", alg: "RS256", kid: issuer.kid })}.${b64(claims)}`;
    const token = `${input}.${sign("sha256", Buffer.from(input), issuer.privateKey).toString("base64url")}`;
    assert.equal((await verifyAccessToken(token, issuer)).oid, subject.principalId);
  });

  test("the key file (PKCS#8 PEM) is read back: the same kid, tokens still valid", async () => {
    const file = `${tempDir()}/issuer-key.pem`;
    const first = loadIssuer(TENANT, file);
    const { token } = await issueAccessToken(first, subject, SB);
    const again = loadIssuer(TENANT, file);
    assert.equal(again.kid, first.kid);
    assert.equal((await verifyAccessToken(token, again)).sub, subject.principalId);
  });

  test("alg none, HS256 keyed with the public key, another key, another kid, a tampered payload: InvalidSignature", async () => {
    const { token, claims } = await issueAccessToken(issuer, subject, SB);
    const [h, p, s] = token.split(".");
    const none = `${b64({ typ: "JWT", alg: "none" })}.${p}.`;
    const noneKid = `${b64({ typ: "JWT", alg: "none", kid: issuer.kid })}.${p}.`;
    const hsInput = `${b64({ typ: "JWT", alg: "HS256", kid: issuer.kid })}.${p}`;
    const pem = issuer.publicKey.export({ type: "spki", format: "pem" });
    const hs = `${hsInput}.${createHmac("sha256", pem).update(hsInput).digest("base64url")}`;
    const other = await signJwt(claims, {
      kid: issuer.kid,
      privateKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey,
    });
    const otherKid = await signJwt(claims, { kid: "someone-else", privateKey: issuer.privateKey });
    const tampered = `${h}.${b64({ ...claims, oid: "x" })}.${s}`;
    const unsigned = `${h}.${p}.`;
    for (const t of [none, noneKid, hs, other, otherKid, tampered, unsigned]) {
      await assert.rejects(verifyAccessToken(t, issuer), refused(INVALID_SIGNATURE), decodeJwt(t).header.alg as string);
    }
  });

  test("not a JWT: InvalidToken", async () => {
    for (const t of ["", "not a jwt", "a.b.c", `${b64("{")}.${b64({})}.x`]) {
      await assert.rejects(verifyAccessToken(t, issuer), refused("InvalidToken: The token is not a JWT."), t);
    }
  });

  test("another issuer: InvalidIssuer naming it", async () => {
    const { claims } = await issueAccessToken(issuer, subject, SB);
    const t = await signJwt({ ...claims, iss: "https://sts.windows.net/other/" }, issuer);
    await assert.rejects(
      verifyAccessToken(t, issuer),
      refused("InvalidIssuer: The token issuer 'https://sts.windows.net/other/' is not trusted."),
    );
  });

  test("expired: ExpiredToken with the service's time format; exp == now is expired already", async () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const { token } = await issueAccessToken(issuer, subject, SB, { now, lifetimeSeconds: 60 });
    await assert.rejects(
      verifyAccessToken(token, issuer, now + 60_000),
      refused("ExpiredToken: The token is expired. Expiration time: '2026-01-02 03:05:05Z'"),
    );
    assert.ok(await verifyAccessToken(token, issuer, now + 59_999));
  });

  test("nbf: up to 5 minutes ahead is accepted (clock skew), later is InvalidToken not valid before", async () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const { token } = await issueAccessToken(issuer, subject, SB, { now: now + 300_000 });
    assert.ok(await verifyAccessToken(token, issuer, now));
    const later = await issueAccessToken(issuer, subject, SB, { now: now + 301_000 });
    await assert.rejects(
      verifyAccessToken(later.token, issuer, now),
      refused("InvalidToken: The token is not valid before '2026-01-02 03:09:06Z'"),
    );
  });
});

describe("$cbs put-token: verification pending while the connection closes", () => {
  let broker: TestBroker;
  let server: AmqpServer;
  let port: number;
  const queue = uniqueName("tokens-late");
  let gate: { called: Promise<void>; release: (ok: boolean) => void } | undefined;
  const validateToken: TokenValidator = (type) => {
    if (type !== "jwt-slow") return Promise.resolve({ scope: "", rights: ["Send"], expiresAt: Date.now() + 60_000 });
    let called!: () => void;
    const calledP = new Promise<void>((r) => (called = r));
    return new Promise((resolve, reject) => {
      gate = {
        called: calledP,
        release: (ok) =>
          ok
            ? resolve({ scope: "", rights: ["Send"], expiresAt: Date.now() + 60_000 })
            : reject(new TokenError("InvalidSignature: The token has an invalid signature.")),
      };
      called();
    });
  };

  before(async () => {
    broker = await startBroker(`namespaces:\n  - name: sbemulatorns\n    queues:\n      - name: ${queue}\n`);
    server = new AmqpServer({ broker: broker.platform.broker, validateToken });
    port = await server.listen({ port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await server?.close();
    await broker?.close();
  });

  for (const ok of [true, false]) {
    test(`the late ${ok ? "success" : "refusal"} is dropped; the server keeps answering others`, async () => {
      const c = await CbsConnection.open(port);
      gate = undefined;
      void c.putToken("jwt-slow", "t", `sb://localhost/${queue}`);
      while (!gate) await new Promise((r) => setTimeout(r, 5));
      await gate.called;
      const closed = new Promise((r) => c.connection.once("connection_close", r));
      c.close();
      await closed;
      await new Promise((r) => setTimeout(r, 50));
      gate.release(ok);
      await new Promise((r) => setTimeout(r, 50));
      const other = await CbsConnection.open(port);
      try {
        assert.deepEqual(await other.putToken("jwt", "t", `sb://localhost/${queue}`), {
          status: 200,
          description: "OK",
        });
        assert.deepEqual(await other.send(queue, "after"), { accepted: true });
      } finally {
        other.close();
      }
    });
  }

  test("the reply to a pending verification goes back on the link it came from, with its correlation id", async () => {
    const c = await CbsConnection.open(port);
    try {
      gate = undefined;
      const slow = c.putToken("jwt-slow", "t", `sb://localhost/${queue}`);
      while (!gate) await new Promise((r) => setTimeout(r, 5));
      // a second request answered first: each reply is matched by correlation id
      assert.deepEqual(await c.putToken("jwt", "t", `sb://localhost/${queue}`), { status: 200, description: "OK" });
      gate.release(false);
      assert.deepEqual(await slow, { status: 401, description: INVALID_SIGNATURE });
    } finally {
      c.close();
    }
  });
});
