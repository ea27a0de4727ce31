// RabbitMQ targets: a durable classic and a durable quorum queue on one private node; with `fanoutQueues`, also
// "rabbit-fanout": a fanout exchange bound to that many durable classic queues.
import { startRabbit } from "../rabbitmq.js";
import type { Server } from "./types.js";

export async function startRabbitTargets(log: (s: string) => void, { fanoutQueues = 0 } = {}): Promise<Server> {
  const r = await startRabbit(log, { fanoutQueues });
  const common = { host: "127.0.0.1", port: r.port, hostname: "localhost", username: "guest", password: "guest" };
  return {
    version: r.version,
    targets: [
      { name: "rabbit-classic", probe: { ...common, sendAddress: r.queues.classic, receiveAddress: r.queues.classic } },
      { name: "rabbit-quorum", probe: { ...common, sendAddress: r.queues.quorum, receiveAddress: r.queues.quorum } },
      ...(r.fanout
        ? [
            {
              name: "rabbit-fanout",
              probe: {
                ...common,
                sendAddress: r.fanout.sendAddress,
                receiveAddress: r.fanout.receiveAddresses[0],
                receiveAddresses: r.fanout.receiveAddresses,
              },
            },
          ]
        : []),
    ],
    stop: r.stop,
  };
}
