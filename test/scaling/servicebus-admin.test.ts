// The azure-servicebus trigger's admin-API reader (KEDA's path for external namespaces) against a real
// eventjobs server, plus the answers only a foreign server gives (the MS emulator's entries without
// CountDetails, the service's empty "Publicly Listed Services" feed) through an injected fetch.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { parseServiceBusMetadata } from "../../src/scaling/servicebus.js";
import {
  parseAdminConnection,
  serviceBusAdminReader,
  type FetchLike,
} from "../../src/scaling/triggers/servicebus-admin.js";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { RETRY, receiveN } from "../helpers/sdk.js";
import { adminClient } from "../helpers/admin.js";

const LISTEN = { name: "listener", key: "listen-key-0123456789" };
const rules = `    authorizationRules:
      - name: RootManageSharedAccessKey
        rights: [Listen, Send, Manage]
        primaryKey: SAS_KEY_VALUE
      - name: ${LISTEN.name}
        rights: [Listen, Send]
        primaryKey: ${LISTEN.key}`;

const prefix = uniqueName("keda");
const queues = { a: `${prefix}-a`, b: `${prefix}-b`, c: `${prefix}-c`, other: uniqueName("other") };

let broker: TestBroker;
let sdk: ServiceBusClient;
let port: number;

function meta(metadata: Record<string, string>, connection = broker.connectionString) {
  return parseServiceBusMetadata(metadata, { authParams: { connection } });
}

before(async () => {
  broker = await startBroker(
    queuesYaml(Object.fromEntries(Object.values(queues).map((q) => [q, { lockDuration: "PT5M" }])), rules),
    { inMemory: true },
  );
  port = broker.platform.endpoints.httpPort;
  sdk = new ServiceBusClient(broker.connectionString, RETRY);
  const send = (q: string, n: number) =>
    sdk.createSender(q).sendMessages(Array.from({ length: n }, (_, i) => ({ body: i })));
  await Promise.all([send(queues.a, 2), send(queues.b, 5), send(queues.c, 1), send(queues.other, 9)]);
  // two of b's messages stay locked: they still count, as in Service Bus
  assert.equal((await receiveN(sdk.createReceiver(queues.b), 2)).length, 2);
  await sdk.createSender(queues.c).scheduleMessages({ body: "later" }, new Date(Date.now() + 3600_000));
});
after(async () => {
  await sdk?.close();
  await broker?.close();
});

describe("serviceBusAdminReader against eventjobs' admin API", () => {
  test("queue: ActiveMessageCount over http with the emulator connection string (locked count, scheduled do not)", async () => {
    assert.equal(await serviceBusAdminReader(meta({ queueName: queues.a }), { port }).read(), 2);
    assert.equal(await serviceBusAdminReader(meta({ queueName: queues.b }), { port }).read(), 5);
    assert.equal(await serviceBusAdminReader(meta({ queueName: queues.c }), { port }).read(), 1);
  });

  test("subscriptions: ActiveMessageCount of one subscription, and over the matching ones with useRegex", async () => {
    const admin = adminClient(broker);
    const topic = uniqueName("keda-t");
    await admin.createTopic(topic);
    await admin.createSubscription(topic, "audit");
    await admin.createSubscription(topic, "audit-eu");
    await admin.createSubscription(topic, "billing", {
      defaultRuleOptions: { name: "none", filter: { sqlExpression: "1=0" } },
    });
    await sdk.createSender(topic).sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    const one = meta({ topicName: topic, subscriptionName: "audit" });
    assert.equal(await serviceBusAdminReader(one, { port }).read(), 3);
    const sum = meta({ topicName: topic, subscriptionName: "audit.*", useRegex: "true" });
    assert.equal(await serviceBusAdminReader(sum, { port }).read(), 6);
    const billing = meta({ topicName: topic, subscriptionName: "billing" });
    assert.equal(await serviceBusAdminReader(billing, { port }).read(), 0, "its rule took none");
    await admin.deleteTopic(topic);
  });

  test("regex: sum, max and avg over the matching queues, paging with $skip as the Go client does", async () => {
    const urls: string[] = [];
    const recording: FetchLike = (url, init) => (urls.push(url), fetch(url, init));
    const pattern = `${prefix}-.*`;
    assert.equal(
      await serviceBusAdminReader(meta({ queueName: pattern, useRegex: "true" }), { port, fetch: recording }).read(),
      8,
    );
    // one page with every queue (no $top: the server's page size), then $skip = entries seen, which is empty
    assert.equal(urls.length, 2);
    assert.equal(new URL(urls[0]).pathname, "/$Resources/Queues");
    assert.equal(new URL(urls[0]).search, "?api-version=2021-05");
    assert.equal(new URL(urls[1]).searchParams.get("$skip"), String(Object.keys(queues).length));
    assert.equal(
      await serviceBusAdminReader(meta({ queueName: pattern, useRegex: "true", operation: "max" }), { port }).read(),
      5,
    );
    assert.equal(
      await serviceBusAdminReader(meta({ queueName: pattern, useRegex: "true", operation: "avg" }), { port }).read(),
      2,
    );
    assert.equal(
      await serviceBusAdminReader(meta({ queueName: "nothing-matches-.*", useRegex: "true" }), { port }).read(),
      0,
    );
  });

  test("a missing entity: KEDA's `doesn't exist` errors", async () => {
    await assert.rejects(serviceBusAdminReader(meta({ queueName: "no-such-queue" }), { port }).read(), {
      message: "queue no-such-queue doesn't exist",
    });
    await assert.rejects(serviceBusAdminReader(meta({ topicName: "t", subscriptionName: "s" }), { port }).read(), {
      message: "subscription s doesn't exist in topic t",
    });
  });

  test("a policy without Manage: azcore's ResponseError text with the service's 401", async () => {
    const cs = `Endpoint=sb://localhost:${broker.port};SharedAccessKeyName=${LISTEN.name};SharedAccessKey=${LISTEN.key};UseDevelopmentEmulator=true;`;
    const err = await serviceBusAdminReader(meta({ queueName: queues.a }, cs), { port })
      .read()
      .then(
        () => assert.fail("expected an error"),
        (e: Error) => e,
      );
    const lines = err.message.split("\n");
    assert.equal(lines[0], `GET http://localhost:${port}/${queues.a}`);
    assert.equal(lines[1], "-".repeat(80));
    assert.equal(lines[2], "RESPONSE 401: 401 Unauthorized");
    assert.equal(lines[3], "ERROR CODE UNAVAILABLE");
    assert.match(lines[5], /^<Error><Code>401<\/Code><Detail>Manage,EntityRead claims required for this operation\./);
    assert.equal(lines[6], "-".repeat(80));
  });

  test("a wrong key: 401 InvalidSignature; nothing listening: Go's dial error", async () => {
    const wrong = broker.connectionString.replace("SAS_KEY_VALUE", "not-the-key");
    await assert.rejects(
      serviceBusAdminReader(meta({ queueName: queues.a }, wrong), { port }).read(),
      /RESPONSE 401: 401 Unauthorized[\s\S]*InvalidSignature: The token has an invalid signature\./,
    );
    await assert.rejects(serviceBusAdminReader(meta({ queueName: queues.a }), { port: 1 }).read(), {
      message: `Get "http://localhost:1/${queues.a}?api-version=2021-05": dial tcp localhost:1: connect: connection refused`,
    });
  });

  test("https with the cloud-form connection string, trusting the local CA", async () => {
    const cs = broker.platform.connectionString(undefined, { tls: true });
    assert.match(cs, /^Endpoint=sb:\/\/localhost:\d+\/;/);
    const reader = serviceBusAdminReader(meta({ queueName: queues.b }, cs), {
      ca: readFileSync(broker.platform.ca.certPath),
    });
    assert.equal(await reader.read(), 5);
    // without the CA the TLS handshake fails, as it would for KEDA
    await assert.rejects(
      serviceBusAdminReader(meta({ queueName: queues.b }, cs)).read(),
      /tls: failed to verify certificate/,
    );
  });
});

describe("serviceBusAdminReader: what other servers answer", () => {
  const reply =
    (status: number, body: string): FetchLike =>
    async () => ({ status, statusText: status === 200 ? "OK" : "Not Found", text: async () => body });
  const entry = (desc: string) =>
    `<entry xmlns="http://www.w3.org/2005/Atom"><title type="text">q</title><content type="application/xml"><QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">${desc}</QueueDescription></content></entry>`;
  const emulatorCs =
    "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;";

  test("the MS emulator's entries carry no CountDetails", async () => {
    const r = serviceBusAdminReader(meta({ queueName: "q" }, emulatorCs), {
      fetch: reply(200, entry("<MessageCount>3</MessageCount>")),
    });
    await assert.rejects(r.read(), { message: "invalid queue runtime properties: no CountDetails element" });
    const s = serviceBusAdminReader(meta({ topicName: "t", subscriptionName: "s" }, emulatorCs), {
      fetch: reply(200, entry("")),
    });
    await assert.rejects(
      s.read(),
      /invalid subscription runtime properties: no CountDetails element|no CountDetails element/,
    );
  });

  test("the service's empty feed for a missing entity, and prefixed CountDetails children", async () => {
    const emptyFeed = `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Publicly Listed Services</title><subtitle type="text">This is the list of publicly-listed services currently available.</subtitle></feed>`;
    await assert.rejects(
      serviceBusAdminReader(meta({ queueName: "gone" }, emulatorCs), { fetch: reply(200, emptyFeed) }).read(),
      {
        message: "queue gone doesn't exist",
      },
    );
    const counts = `<CountDetails xmlns:d2p1="http://schemas.microsoft.com/netservices/2011/06/servicebus"><d2p1:ActiveMessageCount>42</d2p1:ActiveMessageCount></CountDetails>`;
    assert.equal(
      await serviceBusAdminReader(meta({ queueName: "q" }, emulatorCs), { fetch: reply(200, entry(counts)) }).read(),
      42,
    );
  });

  test("a subscription: GET <topic>/Subscriptions/<sub> for its CountDetails, the topic's listing with useRegex", async () => {
    const urls: string[] = [];
    const sub = (name: string, active: number) =>
      `<entry xmlns="http://www.w3.org/2005/Atom"><title type="text">${name}</title><content type="application/xml"><SubscriptionDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"><CountDetails xmlns:d2p1="http://schemas.microsoft.com/netservices/2011/06/servicebus"><d2p1:ActiveMessageCount>${active}</d2p1:ActiveMessageCount><d2p1:ScheduledMessageCount>9</d2p1:ScheduledMessageCount></CountDetails></SubscriptionDescription></content></entry>`;
    const served: FetchLike = async (url) => {
      urls.push(url);
      const u = new URL(url);
      const body =
        u.pathname === "/orders/Subscriptions/audit"
          ? sub("audit", 7)
          : u.searchParams.has("$skip")
            ? `<feed xmlns="http://www.w3.org/2005/Atom"></feed>`
            : `<feed xmlns="http://www.w3.org/2005/Atom">${sub("audit", 7)}${sub("audit-eu", 3)}${sub("billing", 50)}</feed>`;
      return { status: 200, statusText: "OK", text: async () => body };
    };
    const one = meta({ topicName: "orders", subscriptionName: "audit" }, emulatorCs);
    assert.equal(await serviceBusAdminReader(one, { fetch: served }).read(), 7);
    assert.equal(new URL(urls[0]).pathname, "/orders/Subscriptions/audit");
    const regex = meta({ topicName: "orders", subscriptionName: "audit.*", useRegex: "true" }, emulatorCs);
    assert.equal(await serviceBusAdminReader(regex, { fetch: served }).read(), 10);
    assert.equal(new URL(urls[1]).pathname, "/orders/Subscriptions");
  });

  test("where it sends: emulator strings → http on 5300 (or the given port), others → https on the Endpoint's port or 443", () => {
    assert.equal(parseAdminConnection(emulatorCs).baseUrl, "http://localhost:5300");
    assert.equal(parseAdminConnection(emulatorCs, 8080).baseUrl, "http://localhost:8080");
    assert.equal(
      parseAdminConnection(
        "Endpoint=sb://localhost:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
      ).baseUrl,
      "http://localhost:5300",
    );
    assert.equal(
      parseAdminConnection(
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v;EntityPath=q",
      ).baseUrl,
      "https://ns.servicebus.windows.net",
    );
    assert.equal(
      parseAdminConnection(
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v;EntityPath=q",
      ).entityPath,
      "q",
    );
    assert.equal(
      parseAdminConnection("Endpoint=sb://localhost:5301/;SharedAccessKeyName=k;SharedAccessKey=v").baseUrl,
      "https://localhost:5301",
    );
  });

  test("connection string errors use the Go SDK's texts", () => {
    assert.throws(() => parseAdminConnection("SharedAccessKeyName=k;SharedAccessKey=v"), {
      message: 'key "Endpoint" must not be empty',
    });
    assert.throws(() => parseAdminConnection("Endpoint=sb://x/;SharedAccessKey=v"), {
      message: 'key "SharedAccessKeyName" must not be empty',
    });
    assert.throws(() => parseAdminConnection("Endpoint=sb://x/;SharedAccessKeyName=k"), {
      message: 'key "SharedAccessKey" or "SharedAccessSignature" cannot both be empty',
    });
    assert.throws(() => parseAdminConnection("Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v;garbage"), {
      message: "failed parsing connection string due to unmatched key value separated by '='",
    });
    assert.throws(
      () => parseAdminConnection("Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=yes"),
      {
        message: 'strconv.ParseBool: parsing "yes": invalid syntax',
      },
    );
  });

  test("a SharedAccessSignature connection string sends that token as is", async () => {
    let seen: string | undefined;
    const capture: FetchLike = async (_url, init) => (
      (seen = init.headers.Authorization),
      {
        status: 200,
        statusText: "OK",
        text: async () =>
          entry(`<CountDetails xmlns:d2p1="x"><d2p1:ActiveMessageCount>1</d2p1:ActiveMessageCount></CountDetails>`),
      }
    );
    const cs =
      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1&skn=c";
    assert.equal(await serviceBusAdminReader(meta({ queueName: "q" }, cs), { fetch: capture }).read(), 1);
    assert.equal(seen, "SharedAccessSignature sr=a&sig=b&se=1&skn=c");
  });
});
