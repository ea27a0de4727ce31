// Black-box auth tests: the SDK against a real broker, SAS keys, SAS tokens and policy rights ($cbs put-token).
// SAS tokens go in through the connection string's SharedAccessSignature: the SDK's (host, AzureSASCredential)
// constructor always uses TLS on 5671, while UseDevelopmentEmulator (plain AMQP) is only read from connection strings.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import { createSasToken } from "../../src/identity/sas.js";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";

const ROOT = { name: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" };
const SEND = { name: "sender", key: "send-key-0123456789" };
const LISTEN = { name: "listener", key: "listen-key-0123456789" };

const rules = `    authorizationRules:
      - name: ${ROOT.name}
        rights: [Listen, Send, Manage]
        primaryKey: ${ROOT.key}
      - name: ${SEND.name}
        rights: [Send]
        primaryKey: ${SEND.key}
      - name: ${LISTEN.name}
        rights: [Listen]
        primaryKey: ${LISTEN.key}
        secondaryKey: ${LISTEN.key}-secondary`;

// fail fast: auth errors are not retryable, but bound everything anyway
const clientOptions: ServiceBusClientOptions = { retryOptions: { maxRetries: 0, timeoutInMs: 15_000 } };

const queues = {
  a: uniqueName("auth-a"),
  b: uniqueName("auth-b"),
  c: uniqueName("auth-c"),
  d: uniqueName("auth-d"),
  other: uniqueName("auth-other"),
};

let broker: TestBroker;
const clients: ServiceBusClient[] = [];

function keyConnectionString(keyName: string, key: string): string {
  return `Endpoint=sb://localhost:${broker.port};SharedAccessKeyName=${keyName};SharedAccessKey=${key};UseDevelopmentEmulator=true;`;
}
function tokenConnectionString(token: string): string {
  return `Endpoint=sb://localhost:${broker.port};SharedAccessSignature=${token};UseDevelopmentEmulator=true;`;
}
function client(connectionString: string): ServiceBusClient {
  const c = new ServiceBusClient(connectionString, clientOptions);
  clients.push(c);
  return c;
}

function isUnauthorized(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  assert.equal(err.code, "UnauthorizedAccess", `expected code UnauthorizedAccess, got ${err.code}: ${err.message}`);
  return true;
}

before(async () => {
  const q = Object.fromEntries(Object.values(queues).map((n) => [n, {}]));
  broker = await startBroker(queuesYaml(q, rules));
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await broker?.close();
});

describe("SAS auth", () => {
  test("the emulator's well-known connection string (with the port) works as is", async () => {
    const cs = `Endpoint=sb://localhost:${broker.port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
    const c = client(cs);
    const sender = c.createSender(queues.a);
    await sender.sendMessages({ body: "well-known", messageId: "wk-1" });
    const receiver = c.createReceiver(queues.a, { receiveMode: "receiveAndDelete" });
    const msgs = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].body, "well-known");
    assert.equal(msgs[0].messageId, "wk-1");
  });

  test("the well-known string works on a broker without authorizationRules (default policy)", async () => {
    const q = uniqueName("auth-default");
    const b = await startBroker(queuesYaml({ [q]: {} }));
    const c = new ServiceBusClient(
      `Endpoint=sb://localhost:${b.port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
      clientOptions,
    );
    try {
      await c.createSender(q).sendMessages({ body: "x" });
      const msgs = await c
        .createReceiver(q, { receiveMode: "receiveAndDelete" })
        .receiveMessages(1, { maxWaitTimeInMs: 5000 });
      assert.equal(msgs.length, 1);
    } finally {
      await c.close();
      await b.close();
    }
  });

  test("a management operation (peek) as the first operation on a connection is authorised by its put-token", async () => {
    // the SDK puts a token for `sb://host:port/<queue>/$management` before it attaches the management links
    const root = client(keyConnectionString(ROOT.name, ROOT.key));
    await root.createSender(queues.a).sendMessages({ body: "to peek", messageId: "peek-me" });
    const fresh = client(keyConnectionString(ROOT.name, ROOT.key));
    const peeked = await fresh.createReceiver(queues.a).peekMessages(10);
    assert.deepEqual(
      peeked.map((m) => m.messageId),
      ["peek-me"],
    );
    // and a Listen-only key can peek too, a Send-only key cannot
    const listener = client(keyConnectionString(LISTEN.name, LISTEN.key));
    assert.equal((await listener.createReceiver(queues.a).peekMessages(10)).length, 1);
    const sender = client(keyConnectionString(SEND.name, SEND.key));
    await assert.rejects(sender.createReceiver(queues.a).peekMessages(10), isUnauthorized);
    await root
      .createReceiver(queues.a, { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
  });

  test("a wrong SAS key: sending throws UnauthorizedAccess", async () => {
    const c = client(keyConnectionString(ROOT.name, "not-the-key"));
    await assert.rejects(c.createSender(queues.b).sendMessages({ body: "nope" }), isUnauthorized);
  });

  test("an unknown key name: sending throws UnauthorizedAccess", async () => {
    const c = client(keyConnectionString("NoSuchPolicy", ROOT.key));
    await assert.rejects(c.createSender(queues.b).sendMessages({ body: "nope" }), isUnauthorized);
  });

  test("an expired SAS token signed with the right key: UnauthorizedAccess", async () => {
    const token = createSasToken(`sb://localhost/${queues.b}`, ROOT.name, ROOT.key, -120);
    assert.match(token, /se=\d+/);
    const c = client(tokenConnectionString(token));
    await assert.rejects(c.createSender(queues.b).sendMessages({ body: "expired" }), (e: Error) => {
      isUnauthorized(e);
      assert.match(e.message, /expired/i, "the error should say the token expired");
      return true;
    });
  });

  test("a valid SAS token (connection string SharedAccessSignature) for the namespace works", async () => {
    const token = createSasToken(`sb://localhost`, ROOT.name, ROOT.key, 600);
    const c = client(tokenConnectionString(token));
    await c.createSender(queues.c).sendMessages({ body: "token-ok" });
    const msgs = await c
      .createReceiver(queues.c, { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].body, "token-ok");
  });

  test("a policy's secondary key works as well as its primary key", async () => {
    const root = client(keyConnectionString(ROOT.name, ROOT.key));
    await root.createSender(queues.c).sendMessages({ body: "for secondary" });
    const c = client(keyConnectionString(LISTEN.name, `${LISTEN.key}-secondary`));
    const msgs = await c
      .createReceiver(queues.c, { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.deepEqual(
      msgs.map((m) => m.body),
      ["for secondary"],
    );
  });

  test("tokens as other tools write them: namespace root with a trailing slash, the queue name in another case", async () => {
    for (const sr of ["sb://localhost/", `sb://localhost/${queues.c.toUpperCase()}`]) {
      const c = client(tokenConnectionString(createSasToken(sr, ROOT.name, ROOT.key, 600)));
      await c.createSender(queues.c).sendMessages({ body: sr });
      const msgs = await c
        .createReceiver(queues.c, { receiveMode: "receiveAndDelete" })
        .receiveMessages(1, { maxWaitTimeInMs: 5000 });
      assert.deepEqual(
        msgs.map((m) => m.body),
        [sr],
        `token with sr=${sr}`,
      );
    }
  });

  test("a token scoped to another queue cannot use this queue", async () => {
    const token = createSasToken(`sb://localhost/${queues.other}`, ROOT.name, ROOT.key, 600);
    const c = client(tokenConnectionString(token));
    await assert.rejects(c.createSender(queues.b).sendMessages({ body: "wrong scope" }), isUnauthorized);
    // ...but it does work for its own queue
    await c.createSender(queues.other).sendMessages({ body: "right scope" });
  });

  test("a Send-only policy can send but receiving throws UnauthorizedAccess", async () => {
    const c = client(keyConnectionString(SEND.name, SEND.key));
    await c.createSender(queues.d).sendMessages({ body: "from sender" });
    const receiver = c.createReceiver(queues.d);
    await assert.rejects(receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 }), isUnauthorized);
    // the message is still there for an authorised receiver
    const root = client(keyConnectionString(ROOT.name, ROOT.key));
    const msgs = await root
      .createReceiver(queues.d, { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].body, "from sender");
  });

  test("a Listen-only policy can receive but cannot send", async () => {
    const root = client(keyConnectionString(ROOT.name, ROOT.key));
    await root.createSender(queues.d).sendMessages({ body: "for listener" });
    const c = client(keyConnectionString(LISTEN.name, LISTEN.key));
    await assert.rejects(c.createSender(queues.d).sendMessages({ body: "nope" }), isUnauthorized);
    const msgs = await c
      .createReceiver(queues.d, { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].body, "for listener");
  });
});
