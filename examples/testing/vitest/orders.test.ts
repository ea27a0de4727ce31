// vitest with eventjobs/testing: a Service Bus inside the test worker, on free ports, gone after the tests.
// In your project:  npm i -D eventjobs @azure/service-bus vitest   then   npx vitest run
import { ServiceBusAdministrationClient } from "@azure/service-bus";
import { startServiceBus, type ServiceBus } from "eventjobs/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { placeOrder } from "./orders.js";

describe("placeOrder", () => {
  let sb: ServiceBus;
  beforeAll(async () => {
    sb = await startServiceBus({ queues: ["orders"] });
  });
  afterAll(() => sb.stop());

  it("puts the order on the queue", async () => {
    await placeOrder(sb.connectionString, { id: 1, item: "book" });
    const [message] = await sb.peek("orders");
    expect(message.body).toEqual({ id: 1, item: "book" });
    expect(message.contentType).toBe("application/json");
  });

  it("is counted by the admin client", async () => {
    const admin = new ServiceBusAdministrationClient(sb.connectionString, sb.adminClientOptions);
    expect((await admin.getQueueRuntimeProperties("orders")).activeMessageCount).toBe(1);
  });
});

// one server for one test: `await using` stops it when the test ends, passed or failed
it("fans a topic out to its subscriptions", async () => {
  await using sb = await startServiceBus({ topics: [{ name: "events", subscriptions: ["audit", "billing"] }] });
  await sb.send("events", "order placed");
  expect((await sb.peek("events/Subscriptions/audit"))[0].body).toBe("order placed");
  expect((await sb.peek("events/Subscriptions/billing"))[0].body).toBe("order placed");
});
