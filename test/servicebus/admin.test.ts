// Black-box tests of the ATOM admin API: raw HTTP against the platform's HTTP port (the MS emulator's 5300
// role), and @azure/service-bus 7.9.5's ServiceBusAdministrationClient. That client only speaks https to
// the Endpoint's host:port (it ignores UseDevelopmentEmulator), so in-process it gets one pipeline policy
// that points its requests at our http port; over HTTPS it runs unmodified in a child process that trusts
// the local CA through NODE_EXTRA_CA_CERTS.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ServiceBusAdministrationClient, ServiceBusClient } from "@azure/service-bus";
import { createSasToken } from "../../src/identity/sas.js";
import { child, children, parseXml, type XmlElement } from "../../src/servicebus/admin/xml.js";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { adminClient } from "../helpers/admin.js";
import { RETRY, receiveN } from "../helpers/sdk.js";

const ROOT = { name: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" };
const LISTEN = { name: "listener", key: "listen-key-0123456789" };
const rules = `    authorizationRules:
      - name: ${ROOT.name}
        rights: [Listen, Send, Manage]
        primaryKey: ${ROOT.key}
      - name: ${LISTEN.name}
        rights: [Listen]
        primaryKey: ${LISTEN.key}`;

const SB = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect";
const entry = (desc: string) =>
  `<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">` +
  `<QueueDescription xmlns="${SB}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">${desc}</QueueDescription></content></entry>`;

let broker: TestBroker;
let sdk: ServiceBusClient;
const existing = uniqueName("adm");

interface Call {
  method?: string;
  body?: string;
  key?: { name: string; key: string } | null;
  headers?: Record<string, string>;
  /** the token's audience; default the whole URL, lowercased, as the JS admin client signs */
  audience?: string;
  on?: TestBroker;
}
interface Reply {
  status: number;
  type: string | null;
  text: string;
  xml?: XmlElement;
}

async function call(path: string, c: Call = {}): Promise<Reply> {
  const b = c.on ?? broker;
  const url = `http://localhost:${b.platform.endpoints.httpPort}/${path}`;
  const headers: Record<string, string> = { ...c.headers };
  const key = c.key === undefined ? ROOT : c.key;
  if (key) headers.authorization = createSasToken((c.audience ?? url).toLowerCase(), key.name, key.key);
  // node:http rather than fetch: fetch does not let a caller set the Host header
  const res = await new Promise<{ status: number; type: string | null; text: string }>((resolve, reject) => {
    const req = request(url, { method: c.method ?? "GET", headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (d: Buffer) => chunks.push(d));
      r.on("end", () =>
        resolve({
          status: r.statusCode!,
          type: r.headers["content-type"] ?? null,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      r.on("error", reject);
    });
    req.on("error", reject);
    req.end(c.body);
  });
  return { ...res, xml: res.text ? parseXml(res.text) : undefined };
}

function description(r: Reply): XmlElement {
  assert.equal(r.xml?.name, "entry", r.text);
  return child(r.xml, "content")!.children[0];
}
const field = (desc: XmlElement, name: string) => child(desc, name)?.text;
function counts(desc: XmlElement): Record<string, number> {
  const cd = child(desc, "CountDetails")!;
  return Object.fromEntries(cd.children.map((c) => [c.name, Number(c.text)]));
}
/** The error detail without the tracking suffix. */
function detail(r: Reply): string {
  assert.equal(r.xml?.name, "Error", r.text);
  assert.equal(field(r.xml!, "Code"), String(r.status));
  return field(r.xml!, "Detail")!.replace(/ To know more visit .*$/, "");
}

before(async () => {
  broker = await startBroker(queuesYaml({ [existing]: { maxDeliveryCount: 3 } }, rules), { inMemory: true });
  sdk = new ServiceBusClient(broker.connectionString, RETRY);
});
after(async () => {
  await sdk?.close();
  await broker?.close();
});

describe("ATOM admin API over HTTP", () => {
  test("GET /<queue>: an ATOM entry with a full QueueDescription and CountDetails", async () => {
    const r = await call(`${existing}?api-version=2021-05`);
    assert.equal(r.status, 200);
    assert.equal(r.type, "application/atom+xml;type=entry;charset=utf-8");
    assert.equal(r.xml!.attrs.xmlns, "http://www.w3.org/2005/Atom");
    assert.equal(child(r.xml, "title")!.text, existing);
    assert.equal(new URL(child(r.xml, "id")!.text).pathname, `/${existing}`);
    const d = description(r);
    assert.equal(d.attrs.xmlns, SB);
    for (const f of [
      "LockDuration",
      "MaxSizeInMegabytes",
      "MaxDeliveryCount",
      "EnablePartitioning",
      "RequiresSession",
      "EnableBatchedOperations",
      "DefaultMessageTimeToLive",
      "RequiresDuplicateDetection",
      "DuplicateDetectionHistoryTimeWindow",
      "DeadLetteringOnMessageExpiration",
      "EnableExpress",
      "SizeInBytes",
      "MessageCount",
      "CreatedAt",
      "UpdatedAt",
      "AccessedAt",
    ]) {
      assert.ok(field(d, f) !== undefined, `${f} is present`);
    }
    assert.equal(field(d, "MaxDeliveryCount"), "3");
    assert.equal(field(d, "LockDuration"), "PT1M");
    // the SDK insists on exactly one attribute on CountDetails: the prefix declaration of its children
    const cd = child(d, "CountDetails")!;
    assert.deepEqual(cd.attrs, { "xmlns:d2p1": "http://schemas.microsoft.com/netservices/2011/06/servicebus" });
    assert.deepEqual(
      cd.children.map((c) => c.qname),
      [
        "d2p1:ActiveMessageCount",
        "d2p1:DeadLetterMessageCount",
        "d2p1:ScheduledMessageCount",
        "d2p1:TransferMessageCount",
        "d2p1:TransferDeadLetterMessageCount",
      ],
    );
  });

  test("CountDetails: locked and deferred messages are active; scheduled and dead-lettered are not", async () => {
    const q = uniqueName("adm-counts");
    assert.equal((await call(q, { method: "PUT", body: entry("<LockDuration>PT5M</LockDuration>") })).status, 201);
    const sender = sdk.createSender(q);
    await sender.sendMessages([1, 2, 3, 4, 5, 6].map((n) => ({ body: n })));
    await sender.scheduleMessages([{ body: "later-1" }, { body: "later-2" }], new Date(Date.now() + 3600_000));
    const receiver = sdk.createReceiver(q);
    const got = await receiveN(receiver, 4);
    assert.equal(got.length, 4);
    await receiver.deadLetterMessage(got[0], { deadLetterReason: "test" });
    await receiver.deferMessage(got[1]);
    // got[2], got[3] stay locked
    const want = {
      ActiveMessageCount: 5,
      DeadLetterMessageCount: 1,
      ScheduledMessageCount: 2,
      TransferMessageCount: 0,
      TransferDeadLetterMessageCount: 0,
    };
    let d: XmlElement | undefined;
    for (const end = Date.now() + 5000; Date.now() < end;) {
      d = description(await call(q));
      if (JSON.stringify(counts(d)) === JSON.stringify(want)) break;
    }
    assert.deepEqual(counts(d!), want);
    assert.equal(field(d!, "MessageCount"), "8");
    assert.ok(Number(field(d!, "SizeInBytes")) > 0);
    assert.notEqual(field(d!, "AccessedAt"), "0001-01-01T00:00:00Z");
    await receiver.close();
    await sender.close();
  });

  test("PUT creates a queue usable over AMQP at once; 409 when it exists; If-Match: * updates; DELETE removes it", async () => {
    const q = uniqueName("adm-crud");
    const created = await call(q, {
      method: "PUT",
      body: entry("<LockDuration>PT30S</LockDuration><MaxDeliveryCount>4</MaxDeliveryCount>"),
      headers: { "content-type": "application/atom+xml;type=entry;charset=utf-8" },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.type, "application/atom+xml;type=entry;charset=utf-8");
    assert.equal(field(description(created), "LockDuration"), "PT30S");
    assert.equal(field(description(created), "MaxDeliveryCount"), "4");

    const sender = sdk.createSender(q);
    await sender.sendMessages({ body: "over amqp" });
    const receiver = sdk.createReceiver(q, { receiveMode: "receiveAndDelete" });
    const [m] = await receiveN(receiver, 1);
    assert.equal(m?.body, "over amqp");

    const again = await call(q, { method: "PUT", body: entry("") });
    assert.equal(again.status, 409);
    assert.match(detail(again), new RegExp(`^The messaging entity 'sbemulatorns:Queue:${q}' already exists\\.$`));

    // an update replaces the description: what it leaves out takes the default again
    const updated = await call(q, {
      method: "PUT",
      body: entry("<MaxDeliveryCount>7</MaxDeliveryCount>"),
      headers: { "if-match": "*" },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(field(description(updated), "MaxDeliveryCount"), "7");
    assert.equal(field(description(updated), "LockDuration"), "PT1M");
    assert.equal(field(description(await call(q)), "MaxDeliveryCount"), "7");

    const missing = await call(uniqueName("adm-none"), {
      method: "PUT",
      body: entry(""),
      headers: { "if-match": "*" },
    });
    assert.equal(missing.status, 404);

    const deleted = await call(q, { method: "DELETE" });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.text, "");
    assert.equal((await call(q)).status, 404);
    assert.equal((await call(q, { method: "DELETE" })).status, 404);
    await assert.rejects(
      sender.sendMessages({ body: "gone" }),
      (e: Error & { code?: string }) =>
        e.code === "MessagingEntityNotFound" || /could not be found|not found/i.test(e.message),
    );
    await receiver.close();
    await sender.close();
  });

  test("a missing queue is 404 with the service's <Error> body", async () => {
    const r = await call("no-such-queue-here");
    assert.equal(r.status, 404);
    assert.equal(r.type, "application/xml; charset=utf-8");
    assert.equal(detail(r), "The messaging entity 'sbemulatorns:Queue:no-such-queue-here' was not found.");
    assert.match(
      field(r.xml!, "Detail")!,
      /TrackingId:.*, SystemTracker:localhost:Queue:no-such-queue-here, Timestamp:/,
    );
    assert.equal((await call("some-topic/Subscriptions/sub")).status, 404);
  });

  test("property errors are 400s naming the property and the value", async () => {
    const cases: Array<[string, RegExp]> = [
      ["<LockDuration>PT10M</LockDuration>", /'PT10M' of property 'LockDuration'/],
      ["<LockDuration>five minutes</LockDuration>", /'five minutes' of property 'LockDuration'/],
      ["<MaxDeliveryCount>0</MaxDeliveryCount>", /'0' of property 'MaxDeliveryCount'/],
      ["<RequiresSession>maybe</RequiresSession>", /'maybe' of property 'RequiresSession'/],
      ["<MaxSizeInMegabytes>1000</MaxSizeInMegabytes>", /'1000' of property 'MaxSizeInMegabytes'/],
      [
        "<ForwardTo>sb://localhost/nowhere-queue</ForwardTo>",
        /'sb:\/\/localhost\/nowhere-queue' of property 'ForwardTo'/,
      ],
      ["<Status>Paused</Status>", /'Paused' of property 'Status'/],
    ];
    for (const [desc, re] of cases) {
      const q = uniqueName("adm-bad");
      const r = await call(q, { method: "PUT", body: entry(desc) });
      assert.equal(r.status, 400, desc);
      assert.match(detail(r), re);
      assert.equal((await call(q)).status, 404, "nothing was created");
    }
    const notXml = await call(uniqueName("adm-bad"), { method: "PUT", body: "<entry><content>" });
    assert.equal(notXml.status, 400);
    assert.match(detail(notXml), /not valid XML/);
    const badName = await call("$weird", { method: "PUT", body: entry("") });
    assert.equal(badName.status, 400);
    // a subscription or rule description at a queue's path
    const misplaced = await call(uniqueName("adm-sub"), {
      method: "PUT",
      body: entry("").replace(/QueueDescription/g, "SubscriptionDescription"),
    });
    assert.equal(misplaced.status, 400);
    // RequiresSession cannot change on an existing queue
    const q = uniqueName("adm-session");
    assert.equal((await call(q, { method: "PUT", body: entry("") })).status, 201);
    const change = await call(q, {
      method: "PUT",
      body: entry("<RequiresSession>true</RequiresSession>"),
      headers: { "if-match": "*" },
    });
    assert.equal(change.status, 400);
    assert.equal(detail(change), "The value for the RequiresSession property of an existing Queue cannot be changed.");
  });

  test("ForwardTo takes a name or an absolute URI and reports sb://<host>/<name>", async () => {
    const target = uniqueName("adm-target");
    const source = uniqueName("adm-source");
    assert.equal((await call(target, { method: "PUT", body: entry("") })).status, 201);
    const r = await call(source, { method: "PUT", body: entry(`<ForwardTo>sb://localhost/${target}</ForwardTo>`) });
    assert.equal(r.status, 201, r.text);
    assert.equal(field(description(r), "ForwardTo"), `sb://localhost:${broker.platform.endpoints.httpPort}/${target}`);
    await sdk.createSender(source).sendMessages({ body: "forward me" });
    const d = description(await call(target));
    assert.equal(counts(d).ActiveMessageCount, 1);
  });

  test("GET /$Resources/Queues pages with $skip/$top and a rel=next link", async () => {
    const b = await startBroker(queuesYaml({ "list-a": {}, "list-b": {}, "list-c": {} }), { inMemory: true });
    try {
      const first = await call("$Resources/Queues?$top=2&api-version=2021-05", { on: b });
      assert.equal(first.status, 200);
      assert.equal(first.type, "application/atom+xml;type=feed;charset=utf-8");
      assert.equal(first.xml!.name, "feed");
      assert.deepEqual(
        children(first.xml, "entry").map((e) => child(e, "title")!.text),
        ["list-a", "list-b"],
      );
      const next = children(first.xml, "link").find((l) => l.attrs.rel === "next")!;
      assert.equal(new URL(next.attrs.href).searchParams.get("$skip"), "2");
      const second = await call("$Resources/Queues?$skip=2&$top=2", { on: b });
      assert.deepEqual(
        children(second.xml, "entry").map((e) => child(e, "title")!.text),
        ["list-c"],
      );
      assert.equal(
        children(second.xml, "link").find((l) => l.attrs.rel === "next"),
        undefined,
      );
      const beyond = await call("$Resources/Queues?$skip=3", { on: b });
      assert.equal(children(beyond.xml, "entry").length, 0);
      assert.equal((await call("$Resources/Queues?$top=abc", { on: b })).status, 400);
      assert.equal((await call("$Resources/Topics", { on: b })).status, 200);
      const info = await call("$namespaceinfo", { on: b });
      assert.equal(field(child(info.xml, "content")!.children[0], "Name"), "sbemulatorns");
      assert.equal(field(child(info.xml, "content")!.children[0], "MessagingSKU"), "Standard");
    } finally {
      await b.close();
    }
  });

  test("the Host header selects the namespace, as on the AMQP side", async () => {
    const yaml = `namespaces:\n  - name: sbemulatorns\n    queues:\n      - name: in-default\n  - name: shipping\n    queues:\n      - name: in-shipping\n`;
    const b = await startBroker(yaml, { inMemory: true });
    try {
      const host = { host: `shipping.localhost:${b.platform.endpoints.httpPort}` };
      assert.equal((await call("in-shipping", { on: b, headers: host })).status, 200);
      assert.equal((await call("in-default", { on: b, headers: host })).status, 404);
      assert.equal((await call("in-default", { on: b })).status, 200);
      const unknown = await call("in-default", { on: b, headers: { host: "elsewhere.localhost" } });
      assert.equal(unknown.status, 404);
      assert.match(detail(unknown), /namespace for host 'elsewhere.localhost' could not be found/);
    } finally {
      await b.close();
    }
  });

  test("a queue created at run time survives a restart with its messages; a deleted one stays deleted", async () => {
    const first = await startBroker(queuesYaml({}));
    const kept = uniqueName("adm-kept");
    const dropped = uniqueName("adm-dropped");
    try {
      assert.equal(
        (
          await call(kept, {
            on: first,
            method: "PUT",
            body: entry("<MaxDeliveryCount>5</MaxDeliveryCount><UserMetadata>keep me</UserMetadata>"),
          })
        ).status,
        201,
      );
      assert.equal((await call(dropped, { on: first, method: "PUT", body: entry("") })).status, 201);
      const c = new ServiceBusClient(first.connectionString, RETRY);
      await c.createSender(kept).sendMessages({ body: "durable" });
      await c.close();
      assert.equal((await call(dropped, { on: first, method: "DELETE" })).status, 200);
    } finally {
      await first.close({ keepData: true });
    }
    const second = await startBroker(queuesYaml({}), { dataDir: first.dataDir });
    try {
      const d = description(await call(kept, { on: second }));
      assert.equal(field(d, "MaxDeliveryCount"), "5");
      assert.equal(field(d, "UserMetadata"), "keep me");
      assert.equal(counts(d).ActiveMessageCount, 1);
      assert.equal((await call(dropped, { on: second })).status, 404);
      const c = new ServiceBusClient(second.connectionString, RETRY);
      const [m] = await receiveN(c.createReceiver(kept, { receiveMode: "receiveAndDelete" }), 1);
      assert.equal(m?.body, "durable");
      await c.close();
    } finally {
      await second.close();
    }
  });
});

describe("admin API authorization (SAS, Manage required)", () => {
  test("no Authorization header → 401 MissingToken", async () => {
    const r = await call(existing, { key: null });
    assert.equal(r.status, 401);
    assert.match(detail(r), /^MissingToken:/);
  });

  test("wrong key → 401 InvalidSignature", async () => {
    const r = await call(existing, { key: { name: ROOT.name, key: "not-the-key" } });
    assert.equal(r.status, 401);
    assert.equal(detail(r), "InvalidSignature: The token has an invalid signature.");
  });

  test("Listen-only policy → 401 with the service's wording per operation", async () => {
    const get = await call(existing, { key: LISTEN });
    assert.equal(get.status, 401);
    assert.equal(detail(get), "Manage,EntityRead claims required for this operation.");
    const list = await call("$Resources/Queues", { key: LISTEN });
    assert.equal(detail(list), "Manage,EntityRead claims required for this operation.");
    const put = await call(uniqueName("adm-listen"), { key: LISTEN, method: "PUT", body: entry("") });
    assert.equal(put.status, 401);
    assert.equal(detail(put), "Authorization failed for specified action: Manage,EntityWrite.");
    const del = await call(existing, { key: LISTEN, method: "DELETE" });
    assert.equal(del.status, 401);
    assert.equal(detail(del), "Authorization failed for specified action: Manage,EntityDelete.");
    // like the service, a missing entity is reported as missing before rights are checked
    assert.equal((await call("no-such-queue-at-all", { key: LISTEN })).status, 404);
  });

  test("the token's audience: the namespace URL (Python) covers everything, another queue's does not", async () => {
    const base = `http://localhost:${broker.platform.endpoints.httpPort}`;
    assert.equal((await call(existing, { audience: base })).status, 200);
    const other = await call(existing, { audience: `${base}/some-other-queue` });
    assert.equal(other.status, 401);
    assert.match(detail(other), /^InvalidAudience:/);
  });

  test("an expired token → 401 ExpiredToken", async () => {
    const url = `http://localhost:${broker.platform.endpoints.httpPort}/${existing}`;
    const token = createSasToken(url, ROOT.name, ROOT.key, -10);
    const res = await fetch(url, { headers: { authorization: token } });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /ExpiredToken: The token is expired/);
  });
});

describe("ServiceBusAdministrationClient (@azure/service-bus 7.9.5)", () => {
  test("7.9.5 ignores UseDevelopmentEmulator: it always sends https to the Endpoint's host:port", async () => {
    const admin = new ServiceBusAdministrationClient(broker.connectionString);
    const urls: string[] = [];
    admin.pipeline.addPolicy({
      name: "record",
      sendRequest: async (req) => (urls.push(req.url), { status: 599, headers: req.headers, request: req }),
    });
    await assert.rejects(admin.getQueue(existing));
    assert.equal(urls[0], `https://localhost:${broker.port}/${existing}?api-version=2021-05`);
  });

  test("runtime properties, CRUD, listing and error codes", async () => {
    const admin = adminClient(broker);
    const q = uniqueName("adm-sdk");
    const created = await admin.createQueue(q, {
      lockDuration: "PT45S",
      maxDeliveryCount: 4,
      userMetadata: "from the sdk",
    });
    assert.equal(created.name, q);
    assert.equal(created.lockDuration, "PT45S");
    assert.equal(created.userMetadata, "from the sdk");
    await sdk.createSender(q).sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    const locked = await receiveN(sdk.createReceiver(q), 1);
    assert.equal(locked.length, 1);
    const rt = await admin.getQueueRuntimeProperties(q);
    assert.equal(rt.name, q);
    assert.equal(rt.activeMessageCount, 3);
    assert.equal(rt.totalMessageCount, 3);
    assert.equal(rt.deadLetterMessageCount, 0);
    assert.ok(rt.createdAt instanceof Date && !Number.isNaN(rt.createdAt.getTime()));

    const props = await admin.getQueue(q);
    props.maxDeliveryCount = 8;
    assert.equal((await admin.updateQueue(props)).maxDeliveryCount, 8);
    assert.equal(await admin.queueExists(q), true);
    assert.equal(await admin.queueExists(uniqueName("adm-none")), false);

    const names: string[] = [];
    for await (const page of admin.listQueues().byPage({ maxPageSize: 1 })) names.push(...page.map((p) => p.name));
    assert.ok(names.includes(q) && names.includes(existing), names.join());
    let seen = false;
    for await (const r of admin.listQueuesRuntimeProperties()) if (r.name === q) seen = r.activeMessageCount === 3;
    assert.ok(seen);
    assert.equal((await admin.getNamespaceProperties()).name, "sbemulatorns");

    await assert.rejects(admin.createQueue(q), { code: "MessageEntityAlreadyExistsError", statusCode: 409 });
    await assert.rejects(admin.getQueue(uniqueName("adm-none")), {
      code: "MessageEntityNotFoundError",
      statusCode: 404,
    });
    await assert.rejects(
      admin.createQueue(uniqueName("adm-bad"), { lockDuration: "PT10M" }),
      (e: Error & { code?: string; statusCode?: number }) => {
        assert.equal(e.code, "ServiceError");
        assert.equal(e.statusCode, 400);
        assert.match(e.message, /'PT10M' of property 'LockDuration'/);
        return true;
      },
    );
    const listener = adminClient(
      broker,
      `Endpoint=sb://localhost:${broker.port};SharedAccessKeyName=${LISTEN.name};SharedAccessKey=${LISTEN.key};UseDevelopmentEmulator=true;`,
    );
    await assert.rejects(listener.getQueueRuntimeProperties(q), (e: Error & { code?: string }) => {
      assert.equal(e.code, "UnauthorizedRequestError");
      assert.match(e.message, /^Manage,EntityRead claims required for this operation\./);
      return true;
    });
    await admin.deleteQueue(q);
    assert.equal(await admin.queueExists(q), false);
  });

  test("over HTTPS, unmodified, trusting the local CA through NODE_EXTRA_CA_CERTS", async () => {
    // the TLS connection string's Endpoint is the AMQPS port, which also serves HTTPS (listeners.ts)
    const cs = broker.platform.connectionString(undefined, { tls: true });
    const q = uniqueName("adm-https");
    // the child gets the connection string through its environment, never on a command line
    const script = `
      import { ServiceBusAdministrationClient } from "@azure/service-bus";
      const admin = new ServiceBusAdministrationClient(process.env.SB_CONNECTION);
      const q = process.env.SB_QUEUE;
      const created = await admin.createQueue(q, { maxDeliveryCount: 6 });
      const rt = await admin.getQueueRuntimeProperties(q);
      const names = [];
      for await (const x of admin.listQueues()) names.push(x.name);
      let code;
      try { await admin.getQueue(q + "-missing"); } catch (e) { code = e.code; }
      await admin.deleteQueue(q);
      console.log(JSON.stringify({ created: created.maxDeliveryCount, active: rt.activeMessageCount, listed: names.includes(q), code, exists: await admin.queueExists(q) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? "",
        NODE_EXTRA_CA_CERTS: broker.platform.ca.certPath,
        SB_CONNECTION: cs,
        SB_QUEUE: q,
      },
      timeout: 30_000,
    });
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").pop()!), {
      created: 6,
      active: 0,
      listed: true,
      code: "MessageEntityNotFoundError",
      exists: false,
    });
  });
});
