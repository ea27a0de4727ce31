// jest (native ESM) with eventjobs/testing: a Service Bus inside the test process, on free ports, gone after the
// tests. In your project:  npm i -D eventjobs @azure/service-bus jest   then   npm test (the script in package.json)
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ServiceBusAdministrationClient } from "@azure/service-bus";
import { startServiceBus } from "eventjobs/testing";
import { placeOrder } from "./orders.mjs";

describe("placeOrder", () => {
  let sb;
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

it("fans a topic out to its subscriptions", async () => {
  const sb = await startServiceBus({ topics: [{ name: "events", subscriptions: ["audit", "billing"] }] });
  try {
    await sb.send("events", "order placed");
    expect((await sb.peek("events/Subscriptions/audit"))[0].body).toBe("order placed");
    expect((await sb.peek("events/Subscriptions/billing"))[0].body).toBe("order placed");
  } finally {
    await sb.stop();
  }
});
