// The same workload through the official @azure/service-bus SDK (ours only):
// sendMessages() in batches, then receiver.subscribe() in peekLock completing each message.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { withTimeout } from "./procs.js";

export interface SdkOptions {
  port: number;
  queue: string;
  keyName: string;
  key: string;
  messages: number;
  size: number;
  batch: number;
  concurrency: number;
}

export interface SdkResult {
  sendRate: number;
  receiveRate: number;
  stale: number;
}

export async function runSdk(o: SdkOptions): Promise<SdkResult> {
  const cs = `Endpoint=sb://localhost:${o.port};SharedAccessKeyName=${o.keyName};SharedAccessKey=${o.key};UseDevelopmentEmulator=true`;
  const client = new ServiceBusClient(cs, { retryOptions: { maxRetries: 0, timeoutInMs: 30_000 } });
  const runId = randomBytes(6).toString("hex");
  const body = randomBytes(o.size);
  const budget = Math.max(180_000, o.messages * 10);
  try {
    // Send: sequential sendMessages(array of `batch`), as an application would.
    const sender = client.createSender(o.queue);
    const s0 = performance.now();
    await withTimeout(
      (async () => {
        for (let i = 0; i < o.messages; i += o.batch) {
          const chunk = [];
          for (let j = i; j < Math.min(o.messages, i + o.batch); j++) chunk.push({ body, messageId: `${runId}-${j}` });
          await sender.sendMessages(chunk);
        }
      })(),
      budget,
      "SDK send",
    );
    const sendMs = performance.now() - s0;
    await withTimeout(sender.close(), 10_000, "SDK sender close").catch(() => {});

    // Receive: subscribe in peekLock; autoCompleteMessages completes each after processMessage.
    const receiver = client.createReceiver(o.queue, { receiveMode: "peekLock" });
    let received = 0;
    let stale = 0;
    let r0 = 0;
    let sub: { close(): Promise<void> } | undefined;
    const receiveMs = await withTimeout(
      new Promise<number>((resolve, reject) => {
        r0 = performance.now();
        sub = receiver.subscribe(
          {
            processMessage: async (m: ServiceBusReceivedMessage) => {
              if (typeof m.messageId !== "string" || !m.messageId.startsWith(`${runId}-`)) {
                stale++;
                return;
              }
              if (++received === o.messages) resolve(performance.now() - r0);
            },
            processError: async (args) => {
              reject(new Error(`SDK receive error (${args.errorSource}): ${args.error.message}`));
            },
          },
          { maxConcurrentCalls: o.concurrency, autoCompleteMessages: true },
        );
      }),
      budget,
      "SDK receive",
    );
    // Let the last completions reach the broker before closing.
    await withTimeout(sub!.close(), 15_000, "SDK subscription close").catch(() => {});
    await withTimeout(receiver.close(), 10_000, "SDK receiver close").catch(() => {});
    return { sendRate: o.messages / (sendMs / 1000), receiveRate: o.messages / (receiveMs / 1000), stale };
  } finally {
    await withTimeout(client.close(), 10_000, "SDK client close").catch(() => {});
  }
}
