// Child process for tls.test.ts. Node reads NODE_EXTRA_CA_CERTS only at start, so an SDK that trusts the
// local CA has to run in a process of its own. Prints one JSON line.
//   sdk <connection string> <queue> <amqps|ws>   send, receive (peek-lock), complete, then check the queue is empty
//   ca <dir>                                     ensureCa(dir) and print its fingerprint (the creation race)
import { ServiceBusClient } from "@azure/service-bus";
import WebSocket from "ws";
import { ensureCa } from "../../src/identity/ca.js";

async function sdk(connectionString: string, queue: string, transport: string): Promise<unknown> {
  const client = new ServiceBusClient(connectionString, {
    retryOptions: { maxRetries: 0, timeoutInMs: 15_000 },
    ...(transport === "ws" ? { webSocketOptions: { webSocket: WebSocket as never } } : {}),
  });
  try {
    const body = { transport, at: Date.now() };
    await client.createSender(queue).sendMessages({ body, messageId: `tls-${transport}` });
    const receiver = client.createReceiver(queue);
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    if (!m) return { ok: false, error: "no message received" };
    await receiver.completeMessage(m);
    const left = await client.createReceiver(queue).peekMessages(10);
    return { ok: true, body: m.body, messageId: m.messageId, left: left.length };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { ok: false, code: err.code, error: err.message };
  } finally {
    await client.close();
  }
}

const [cmd, ...args] = process.argv.slice(2);
const out =
  cmd === "sdk"
    ? await sdk(args[0], args[1], args[2])
    : cmd === "ca"
      ? { fingerprint: ensureCa(args[0]).fingerprint }
      : { error: `unknown ${cmd}` };
console.log(JSON.stringify(out));
