// The code under test: an app function that puts an order on the "orders" queue with the official SDK.
import { ServiceBusClient } from "@azure/service-bus";

export async function placeOrder(connectionString, order) {
  const client = new ServiceBusClient(connectionString);
  try {
    await client.createSender("orders").sendMessages({ body: order, contentType: "application/json" });
  } finally {
    await client.close();
  }
}
