// The job processor of bench/jobs.ts: receive one message from SB_QUEUE over SB_CONNECTION (peek-lock),
// complete it, exit 0 (3 if none came). Prints one `bench-timing {...}` line with epoch-ms marks for the
// latency breakdown: process start (performance.timeOrigin), SDK loaded, message received, completed;
// and the CPU time the process used (ms).
import { performance } from "node:perf_hooks";

const now = () => performance.timeOrigin + performance.now();
const boot = performance.timeOrigin;
const { ServiceBusClient } = await import("@azure/service-bus");
const loaded = now();
const client = new ServiceBusClient(process.env.SB_CONNECTION);
const receiver = client.createReceiver(process.env.SB_QUEUE);
const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
const received = now();
if (message) await receiver.completeMessage(message);
const completed = now();
await client.close();
const { user, system } = process.cpuUsage();
console.log(
  `bench-timing ${JSON.stringify({ boot, loaded, received, completed, exiting: now(), cpu: (user + system) / 1000 })}`,
);
process.exit(message ? 0 : 3);
