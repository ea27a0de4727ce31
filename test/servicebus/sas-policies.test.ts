// Shared access policies of namespaces and queues, black-box: the SDK with the connection strings the
// control API's listKeys prints; a queue's rule is valid for that queue only, with its rights; key
// renewal refuses the old key at once; rules and keys survive a restart; the emulator's key stays valid.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import { startBroker, type TestBroker } from "../helpers/broker.js";

const YAML = `namespaces:
  - name: sbemulatorns
    queues:
      - name: orders
        authorizationRules:
          - name: orders-app
            rights: [Send, Listen]
            primaryKey: orders-app-key-0123456789
          - name: orders-listen
            rights: [Listen]
      - name: other
`;

const options: ServiceBusClientOptions = { retryOptions: { maxRetries: 0, timeoutInMs: 15_000 } };
type Keys = {
  keyName: string;
  primaryKey: string;
  secondaryKey: string | null;
  primaryConnectionString: string;
  secondaryConnectionString: string | null;
};

let broker: TestBroker;
let dataDir: string;
const clients: ServiceBusClient[] = [];

function client(cs: string): ServiceBusClient {
  const c = new ServiceBusClient(cs, options);
  clients.push(c);
  return c;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; data: any }> {
  const res = await fetch(
    `http://127.0.0.1:${broker.platform.endpoints.httpPort}/api/v1/servicebus/namespaces/sbemulatorns${path}`,
    {
      method,
      // as the CLI sends every request: the control API refuses state changes without it (http/request-guard.ts)
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
  );
  return { status: res.status, data: res.status === 204 ? undefined : await res.json() };
}

async function keys(path: string): Promise<Keys> {
  const r = await api("POST", `${path}/listKeys`);
  assert.equal(r.status, 200, JSON.stringify(r.data));
  return r.data as Keys;
}

async function expectUnauthorized(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: { code?: string; message?: string }) => {
    assert.equal(e.code, "UnauthorizedAccess", `expected UnauthorizedAccess, got ${e.code}: ${e.message}`);
    return true;
  });
}

async function roundTrip(cs: string, queue: string, id: string): Promise<void> {
  const c = client(cs);
  await c.createSender(queue).sendMessages({ body: id, messageId: id });
  const receiver = c.createReceiver(queue, { receiveMode: "receiveAndDelete" });
  const seen: unknown[] = [];
  while (seen.length < 5 && !seen.includes(id)) {
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    seen.push(m?.messageId ?? null); // earlier tests' messages come first
    if (!m) break;
  }
  assert.ok(seen.includes(id), `${id} received (got ${seen.join(", ")})`);
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "eventjobs-sas-"));
  broker = await startBroker(YAML, { dataDir });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("SAS policies of queues and namespaces", () => {
  test("a queue's rule: its connection string has EntityPath and works on that queue; another queue is refused", async () => {
    const k = await keys("/queues/orders/authorizationRules/orders-app");
    assert.equal(k.keyName, "orders-app");
    assert.equal(k.primaryKey, "orders-app-key-0123456789");
    assert.equal(
      k.primaryConnectionString,
      `Endpoint=sb://localhost:${broker.port};SharedAccessKeyName=orders-app;SharedAccessKey=orders-app-key-0123456789;EntityPath=orders;UseDevelopmentEmulator=true;`,
    );
    await roundTrip(k.primaryConnectionString, "orders", "entity-1");
    // the SDK refuses another queue name with EntityPath set, so the key goes in a namespace connection string
    const withoutEntity = k.primaryConnectionString.replace("EntityPath=orders;", "");
    await expectUnauthorized(client(withoutEntity).createSender("other").sendMessages({ body: "x" }));
    await expectUnauthorized(
      client(withoutEntity).createReceiver("other").receiveMessages(1, { maxWaitTimeInMs: 2000 }),
    );
  });

  test("a Listen-only queue rule (generated key, Base64 of 32 bytes) receives but cannot send", async () => {
    const k = await keys("/queues/orders/authorizationRules/orders-listen");
    assert.equal(Buffer.from(k.primaryKey, "base64").length, 32);
    await client(broker.connectionString)
      .createSender("orders")
      .sendMessages({ body: "for listener", messageId: "l-1" });
    const c = client(k.primaryConnectionString);
    await expectUnauthorized(c.createSender("orders").sendMessages({ body: "x" }));
    const got = await c
      .createReceiver("orders", { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.equal(got[0]?.messageId, "l-1");
  });

  test("rules list and show print no keys; create checks rights as Service Bus does", async () => {
    const list = await api("GET", "/queues/orders/authorizationRules");
    assert.deepEqual(
      list.data.value.map((r: any) => [r.name, r.type, r.rights]),
      [
        ["orders-app", "Microsoft.ServiceBus/Namespaces/Queues/AuthorizationRules", ["Listen", "Send"]],
        ["orders-listen", "Microsoft.ServiceBus/Namespaces/Queues/AuthorizationRules", ["Listen"]],
      ],
    );
    assert.doesNotMatch(JSON.stringify(list.data), /Key"/);
    const bad = await api("PUT", "/authorizationRules/bad", { rights: ["Manage"] });
    assert.equal(bad.status, 400);
    assert.match(bad.data.error.message, /Manage must come with Send and Listen/);
    assert.equal((await api("GET", "/queues/orders/authorizationRules/nope")).status, 404);
  });

  test("renewing a key refuses tokens signed with the old one at once; the new one works", async () => {
    const created = await api("PUT", "/queues/orders/authorizationRules/rotating", { rights: ["Send", "Listen"] });
    assert.equal(created.status, 201);
    const before = await keys("/queues/orders/authorizationRules/rotating");
    assert.ok(before.secondaryKey, "created rules get both keys, as in Azure");
    await roundTrip(before.primaryConnectionString, "orders", "rot-1");
    const renewed = await api("POST", "/queues/orders/authorizationRules/rotating/regenerateKeys", {
      keyType: "PrimaryKey",
    });
    assert.equal(renewed.status, 200);
    assert.notEqual(renewed.data.primaryKey, before.primaryKey);
    assert.equal(renewed.data.secondaryKey, before.secondaryKey);
    await expectUnauthorized(
      client(before.primaryConnectionString).createSender("orders").sendMessages({ body: "old key" }),
    );
    await roundTrip(renewed.data.primaryConnectionString, "orders", "rot-2");
    await roundTrip(before.secondaryConnectionString!, "orders", "rot-3"); // the other key still works
    const given = await api("POST", "/queues/orders/authorizationRules/rotating/regenerateKeys", {
      keyType: "SecondaryKey",
      key: "my-own-secondary-key",
    });
    assert.equal(given.data.secondaryKey, "my-own-secondary-key");
  });

  test("a namespace rule created at run time: Send only cannot receive; the emulator's primary key cannot be renewed", async () => {
    assert.equal((await api("PUT", "/authorizationRules/ns-sender", { rights: ["Send"] })).status, 201);
    const k = await keys("/authorizationRules/ns-sender");
    assert.doesNotMatch(k.primaryConnectionString, /EntityPath/);
    await client(k.primaryConnectionString).createSender("other").sendMessages({ body: "ns", messageId: "ns-1" });
    await expectUnauthorized(
      client(k.primaryConnectionString).createReceiver("other").receiveMessages(1, { maxWaitTimeInMs: 2000 }),
    );
    const refused = await api("POST", "/authorizationRules/RootManageSharedAccessKey/regenerateKeys", {
      keyType: "PrimaryKey",
    });
    assert.equal(refused.status, 409);
    assert.match(refused.data.error.message, /well-known SAS_KEY_VALUE/);
  });

  test("rules and keys survive a restart (0600 file); the emulator's well-known key still works", async () => {
    const rotating = await keys("/queues/orders/authorizationRules/rotating");
    const listen = await keys("/queues/orders/authorizationRules/orders-listen");
    const sender = await keys("/authorizationRules/ns-sender");
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await broker.close({ keepData: true });
    assert.equal(statSync(join(dataDir, "authorization-rules.json")).mode & 0o777, 0o600);
    broker = await startBroker(YAML, { dataDir });
    const [r2, l2, s2] = await Promise.all([
      keys("/queues/orders/authorizationRules/rotating"),
      keys("/queues/orders/authorizationRules/orders-listen"),
      keys("/authorizationRules/ns-sender"),
    ]);
    assert.deepEqual(
      [r2.primaryKey, r2.secondaryKey, l2.primaryKey, s2.primaryKey],
      [rotating.primaryKey, rotating.secondaryKey, listen.primaryKey, sender.primaryKey],
    );
    await roundTrip(r2.primaryConnectionString, "orders", "after-restart");
    await roundTrip(broker.connectionString, "other", "emulator-key");
    assert.match(broker.connectionString, /SharedAccessKey=SAS_KEY_VALUE;/);
  });
});
