// A job whose azure-servicebus rule names a topic's subscription (topicName + subscriptionName): the embedded
// count source reads the subscription's active messages as KEDA does, wakes on the subscription's changes, and
// each message starts one execution whose replica receives it from the subscription.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { parseServiceBusMetadata } from "../../src/scaling/servicebus.js";
import { embeddedServiceBusTrigger } from "../../src/scaling/triggers/embedded.js";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { consoleText, finished, jobEntry, waitFor } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";

const topic = uniqueName("orders");
const JOB = "sub-job";

describe("a job triggered by a topic subscription", () => {
  let broker: TestBroker;
  let client: ServiceBusClient;
  before(async () => {
    const job = jobEntry({
      name: JOB,
      maxExecutions: 2,
      pollingInterval: 300, // only push wake-ups start executions within the test's time
      rules: [{ name: "sub-rule", metadata: { topicName: topic, subscriptionName: "work" } }],
      env: { SB_TOPIC: topic, SB_SUBSCRIPTION: "work" },
    });
    broker = await startBroker(`namespaces:
  - name: sbemulatorns
    topics:
      - name: ${topic}
        subscriptions:
          - name: work
            properties: { lockDuration: PT5M, maxDeliveryCount: 1 }
            rules:
              - name: only-work
                filterType: CorrelationFilter
                correlationFilter: { label: work }
          - name: everything
jobs: ${JSON.stringify([job])}
`);
    client = new ServiceBusClient(broker.connectionString, RETRY);
  });
  after(async () => {
    await client?.close();
    await broker?.close();
  });

  it("counts the subscription's active and deferred messages, not the topic's other subscriptions", async () => {
    const meta = (m: Record<string, string>) =>
      parseServiceBusMetadata(m, { authParams: { connection: broker.connectionString } });
    const source = (m: Record<string, string>) => embeddedServiceBusTrigger(broker.platform.broker, "r", meta(m));
    const everything = source({ topicName: topic, subscriptionName: "EVERYTHING" });
    const before = await everything.read();
    const sender = client.createSender(topic);
    await sender.sendMessages([
      { body: "x", subject: "other" },
      { body: "y", subject: "other" },
    ]);
    await sender.scheduleMessages({ body: "later", subject: "other" }, new Date(Date.now() + 3600_000));
    const receiver = client.createReceiver(topic, "everything");
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await receiver.deferMessage(m);
    assert.equal(await everything.read(), before + 2, "deferred counts, scheduled does not");
    assert.equal(
      await source({ topicName: topic, subscriptionName: "ever.*", useRegex: "true", operation: "max" }).read(),
      before + 2,
    );
    await assert.rejects(source({ topicName: topic, subscriptionName: "nope" }).read(), {
      message: `subscription nope doesn't exist in topic ${topic}`,
    });
    await assert.rejects(source({ topicName: "no-topic", subscriptionName: "work" }).read(), {
      message: "subscription work doesn't exist in topic no-topic",
    });
    await receiver.close();
    await sender.close();
  });

  it("runs one execution per message that reaches the subscription", async () => {
    const p = broker.platform;
    const sender = client.createSender(topic);
    const bodies = ["job one", "job two", "job three"].map((b) => `${b} ${topic}`);
    await sender.sendMessages(bodies.map((body) => ({ body, subject: "work" })));
    await sender.sendMessages({ body: "not for the job", subject: "other" });
    const execs = await waitFor(
      "3 executions to succeed",
      () => {
        const list = p.jobs.engine.executions(JOB);
        return list.length >= 3 && list.every(finished) ? list : undefined;
      },
      60_000,
    );
    assert.equal(execs.length, 3);
    assert.deepEqual(
      execs.map((e) => e.status),
      ["Succeeded", "Succeeded", "Succeeded"],
    );
    const received = execs.map((e) => /Received: (.*)/.exec(consoleText(p, e.name))?.[1]).sort();
    assert.deepEqual(received, [...bodies].sort());
    assert.equal(p.broker.namespace("sbemulatorns")!.topics.getSubscription(topic, "work")!.counts.active, 0);
    await sender.close();
  });
});
