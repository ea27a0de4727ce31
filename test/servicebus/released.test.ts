// The AMQP `released` outcome: Python's uamqp releases a message that arrives between two receive calls (its
// link keeps one credit open). Service Bus counts no delivery for it, so on a queue with MaxDeliveryCount 1
// (the lab's) the message must come back, not go to the dead-letter queue.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import rhea, { type Connection, type EventContext } from "rhea";
import { putToken } from "../../bench/cbs.js";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { peekAll, RETRY, receiveOne } from "../helpers/sdk.js";

const queue = uniqueName("released");
let broker: TestBroker;
let client: ServiceBusClient;

before(async () => {
  broker = await startBroker(queuesYaml({ [queue]: { maxDeliveryCount: 1 } }));
  client = new ServiceBusClient(broker.connectionString, RETRY);
});
after(async () => {
  await client?.close();
  await broker?.close();
});

test("a released message comes back without a delivery counted (no dead-lettering at MaxDeliveryCount 1)", async () => {
  await client.createSender(queue).sendMessages({ body: "arrived between receive calls" });
  const connection: Connection = rhea
    .create_container()
    .connect({ host: "127.0.0.1", port: broker.port, hostname: "localhost", reconnect: false });
  try {
    await new Promise<void>((resolve, reject) => {
      connection.once("connection_open", () => resolve());
      connection.once("disconnected", (ctx: EventContext) => reject(ctx.error ?? new Error("disconnected")));
    });
    const policy = broker.platform.broker.namespace("sbemulatorns")!.policies[0];
    await putToken(connection, { audience: `sb://localhost/${queue}`, keyName: policy.name, key: policy.primaryKey });
    const released = new Promise<void>((resolve) => {
      // one credit, granted once: the released message cannot come straight back to this link
      const receiver = connection.open_receiver({
        source: { address: queue },
        rcv_settle_mode: 0,
        autoaccept: false,
        credit_window: 0,
      });
      receiver.once("receiver_open", () => receiver.flow(1));
      receiver.once("message", (ctx: EventContext) => {
        ctx.delivery!.release();
        resolve();
      });
    });
    await released;
    const again = await receiveOne(client.createReceiver(queue));
    assert.equal(again.body, "arrived between receive calls");
    assert.equal(again.deliveryCount, 0);
    assert.deepEqual(await peekAll(client, queue, "deadLetter"), []);
  } finally {
    connection.close();
  }
});
