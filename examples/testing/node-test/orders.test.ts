// node:test with eventjobs/testing: a Service Bus inside the test process, on free ports, gone after the tests.
// In your project:  npm i -D eventjobs @azure/service-bus tsx   then   node --import tsx --test
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ServiceBusAdministrationClient } from "@azure/service-bus";
import { startServiceBus, type ServiceBus } from "eventjobs/testing";
import { placeOrder } from "./orders.js";

describe("placeOrder", () => {
  let sb: ServiceBus;
  before(async () => {
    sb = await startServiceBus({ queues: ["orders"] });
  });
  after(() => sb.stop());

  it("puts the order on the queue", async () => {
    await placeOrder(sb.connectionString, { id: 1, item: "book" });
    const [message] = await sb.peek("orders");
    assert.deepEqual(message.body, { id: 1, item: "book" });
    assert.equal(message.contentType, "application/json");
  });

  it("is counted by the admin client", async () => {
    const admin = new ServiceBusAdministrationClient(sb.connectionString, sb.adminClientOptions);
    const props = await admin.getQueueRuntimeProperties("orders");
    assert.equal(props.activeMessageCount, 1);
  });
});

// one server for one test: `await using` stops it when the test ends, passed or failed
it("fans a topic out to its subscriptions", async () => {
  await using sb = await startServiceBus({ topics: [{ name: "events", subscriptions: ["audit", "billing"] }] });
  await sb.send("events", "order placed");
  assert.equal((await sb.peek("events/Subscriptions/audit"))[0].body, "order placed");
  assert.equal((await sb.peek("events/Subscriptions/billing"))[0].body, "order placed");
});
