// Shared @azure/service-bus SDK plumbing for the black-box servicebus tests.
import assert from "node:assert/strict";
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from "@azure/service-bus";
import { queuesYaml, startBroker, type TestBroker } from "./broker.js";

// fail fast instead of retrying for minutes when the broker answers with an error
export const RETRY = {
  retryOptions: { maxRetries: 1, retryDelayInMs: 100, maxRetryDelayInMs: 500, timeoutInMs: 20_000 },
};

/** Starts a broker with the given queues (name → properties) and an SDK client connected to it. */
export async function startSdk(
  queues: Record<string, Record<string, unknown>>,
): Promise<{ broker: TestBroker; client: ServiceBusClient }> {
  const broker = await startBroker(queuesYaml(queues));
  const client = new ServiceBusClient(broker.connectionString, RETRY);
  return { broker, client };
}

/** Closes what `startSdk` opened (either may be unset if `startSdk` failed). */
export async function stopSdk(client: ServiceBusClient | undefined, broker: TestBroker | undefined): Promise<void> {
  await client?.close();
  await broker?.close();
}

/** Receives until `n` messages arrived or the deadline passed. */
export async function receiveN(
  receiver: ServiceBusReceiver,
  n: number,
  deadlineMs = 10_000,
): Promise<ServiceBusReceivedMessage[]> {
  const out: ServiceBusReceivedMessage[] = [];
  const end = Date.now() + deadlineMs;
  while (out.length < n && Date.now() < end) {
    const wait = Math.max(100, Math.min(2000, end - Date.now()));
    out.push(...(await receiver.receiveMessages(n - out.length, { maxWaitTimeInMs: wait })));
  }
  return out;
}

export async function receiveOne(
  receiver: ServiceBusReceiver,
  deadlineMs = 10_000,
): Promise<ServiceBusReceivedMessage> {
  const [m] = await receiveN(receiver, 1, deadlineMs);
  assert.ok(m, `a message arrives within ${deadlineMs} ms`);
  return m;
}

/** Everything in the queue (or its DLQ), peeked by a fresh receiver from sequence number 1. */
export async function peekAll(
  client: ServiceBusClient,
  name: string,
  subQueueType?: "deadLetter",
): Promise<ServiceBusReceivedMessage[]> {
  // (a receiver's peekMessages continues after the last message it peeked, so use a new one each time)
  const r = client.createReceiver(name, subQueueType ? { subQueueType } : {});
  try {
    return await r.peekMessages(100);
  } finally {
    await r.close();
  }
}

/** Waits until the wall clock passes `t` (for behaviour that is inherently about time: locks, TTL). */
export async function waitUntil(t: number): Promise<void> {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, Math.min(200, t - Date.now() + 1)));
}
