// The control API the dashboard's Service Bus explorer adds (docs/dashboard.md): scheduled sends, dead-letter
// reasons in peeks, receive from the dead-letter queue, resubmit and purge; and the event stream's entity events.
// Real platform, real SDK for dead-lettering, plain HTTP for the API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { uniqueName, type TestBroker } from "../helpers/broker.js";
import { httpRequest, rawRequest } from "../helpers/raw-http.js";
import { startTopics } from "../helpers/topics.js";

const T = uniqueName("explorer-t");
const S = "sub-a";

describe("the explorer's API", () => {
  let broker: TestBroker;
  let client: ServiceBusClient;
  let api: string;

  before(async () => {
    ({ broker, client } = await startTopics([{ name: T, subscriptions: [{ name: S }] }]));
    api = `http://127.0.0.1:${broker.platform.endpoints.httpPort}/api/v1/servicebus/namespaces/sbemulatorns`;
  });
  after(async () => {
    await client?.close();
    await broker?.close();
  });

  const call = async (path: string, body?: unknown) => {
    const r = await fetch(`${api}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json();
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const counts = async (path: string) => (await call(path)).properties.countDetails;
  /** A queue of the test's own, made through the API. */
  const newQueue = async () => {
    const name = uniqueName("explorer-q");
    const r = await fetch(`${api}/queues/${name}`, { method: "PUT", headers: { "content-type": "application/json" } });
    assert.equal(r.status, 201);
    return name;
  };

  /** Sends through the SDK and dead-letters it with a reason, as a processor that gives up would. */
  async function deadLettered(entity: string, sub: string | undefined, body: string): Promise<void> {
    await client.createSender(entity).sendMessages({ body, messageId: body });
    const receiver = sub ? client.createReceiver(entity, sub) : client.createReceiver(entity);
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.equal(m?.body, body);
    await receiver.deadLetterMessage(m, { deadLetterReason: "BadInput", deadLetterErrorDescription: "no good" });
    await receiver.close();
  }

  it("schedules a message for later: it is peeked as Scheduled with its time and counted as scheduled", async () => {
    const Q = await newQueue();
    const at = new Date(Date.now() + 3600_000).toISOString();
    await call(`/queues/${Q}/messages`, { body: "later", scheduledEnqueueTimeUtc: at });
    const [m] = (await call(`/queues/${Q}/messages?count=10`)).value;
    assert.equal(m.state, "Scheduled");
    assert.equal(m.scheduledEnqueueTimeUtc, at);
    assert.equal((await counts(`/queues/${Q}`)).scheduledMessageCount, 1);
    const bad = await fetch(`${api}/queues/${Q}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ body: "x", scheduledEnqueueTimeUtc: "tomorrow" }),
    });
    assert.equal(bad.status, 400);
  });

  it("peeks the dead-letter queue with reasons, resubmits to the queue, receives and deletes from the DLQ", async () => {
    const Q = await newQueue();
    await deadLettered(Q, undefined, "dl-1");
    await deadLettered(Q, undefined, "dl-2");
    const dlq = (await call(`/queues/${Q}/messages?count=10&deadLetter=true`)).value;
    assert.deepEqual(
      dlq.map((m: any) => [m.body, m.deadLetterReason, m.deadLetterErrorDescription]),
      [
        ["dl-1", "BadInput", "no good"],
        ["dl-2", "BadInput", "no good"],
      ],
    );
    const r = await call(`/queues/${Q}/messages/resubmit`, { sequenceNumbers: [dlq[0].sequenceNumber] });
    assert.deepEqual(r.resubmitted, [dlq[0].sequenceNumber]);
    const receiver = client.createReceiver(Q, { receiveMode: "receiveAndDelete" });
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await receiver.close();
    assert.equal(again.body, "dl-1");
    assert.equal(again.messageId, "dl-1");
    const taken = await call(`/queues/${Q}/messages/receive`, {
      mode: "receiveAndDelete",
      deadLetter: true,
      waitSeconds: 0,
    });
    assert.deepEqual(
      taken.value.map((m: any) => m.body),
      ["dl-2"],
    );
    assert.equal((await counts(`/queues/${Q}`)).deadLetterMessageCount, 0);
    const missing = await fetch(`${api}/queues/${Q}/messages/resubmit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sequenceNumbers: [999_999] }),
    });
    assert.equal(missing.status, 404);
  });

  it("resubmits a subscription's dead-lettered message to its topic", async () => {
    await deadLettered(T, S, "sub-dl");
    const [m] = (await call(`/topics/${T}/subscriptions/${S}/messages?deadLetter=true`)).value;
    await call(`/topics/${T}/subscriptions/${S}/messages/resubmit`, { sequenceNumbers: [m.sequenceNumber] });
    const [back] = (await call(`/topics/${T}/subscriptions/${S}/messages?count=10`)).value;
    assert.equal(back.body, "sub-dl");
    assert.equal((await counts(`/topics/${T}/subscriptions/${S}`)).deadLetterMessageCount, 0);
  });

  it("purges active, scheduled and dead-lettered messages", async () => {
    const Q = await newQueue();
    await deadLettered(Q, undefined, "p-dl");
    for (const body of ["p-1", "p-2"]) await call(`/queues/${Q}/messages`, { body });
    await call(`/queues/${Q}/messages`, {
      body: "p-later",
      scheduledEnqueueTimeUtc: new Date(Date.now() + 3600_000).toISOString(),
    });
    const before = await counts(`/queues/${Q}`);
    assert.deepEqual(
      [before.activeMessageCount, before.scheduledMessageCount, before.deadLetterMessageCount],
      [2, 1, 1],
    );
    assert.equal((await call(`/queues/${Q}/messages/purge`, {})).purged, 3);
    assert.deepEqual((await call(`/queues/${Q}/messages/purge`, { deadLetter: true })).purged, 1);
    const after = await counts(`/queues/${Q}`);
    assert.deepEqual([after.activeMessageCount, after.scheduledMessageCount, after.deadLetterMessageCount], [0, 0, 0]);
  });

  it("streams entity changes with their counts as server-sent events", async () => {
    const Q = await newQueue();
    const ac = new AbortController();
    const base = `http://127.0.0.1:${broker.platform.endpoints.httpPort}`;
    const res = await fetch(`${base}/api/v1/events`, { signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = "";
    const seen = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended: ${text}`);
        text += Buffer.from(value).toString("utf8");
        const event = text
          .split("\n\n")
          .map((block) => /^event: entity\ndata: (.*)$/m.exec(block)?.[1])
          .filter(Boolean)
          .map((d) => JSON.parse(d!))
          .find(
            (e) => e.kind === "queue" && e.name === Q && e.resource.properties.countDetails.activeMessageCount === 1,
          );
        if (event) return event;
      }
    })();
    await call(`/queues/${Q}/messages`, { body: "event me" });
    const event = await seen;
    ac.abort();
    assert.equal(event.namespace, "sbemulatorns");
    // DNS rebinding: a page on another name must not read the stream, nor load the dashboard
    const port = broker.platform.endpoints.httpPort;
    for (const path of ["/api/v1/events", "/", "/assets/app.js"]) {
      const foreign = await rawRequest({ port }, httpRequest("GET", path, { Host: "rebound.example" }));
      assert.equal(foreign.status, 403, path);
    }
    const half = await fetch(`${base}/api/v1/events?job=x`);
    assert.equal(half.status, 400);
  });
});
