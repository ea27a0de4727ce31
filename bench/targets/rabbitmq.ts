// RabbitMQ targets: a durable classic and a durable quorum queue on one private node.
import { startRabbit } from "../rabbitmq.js";
import type { Server } from "./types.js";

export async function startRabbitTargets(log: (s: string) => void): Promise<Server> {
  const r = await startRabbit(log);
  const common = { host: "127.0.0.1", port: r.port, hostname: "localhost", username: "guest", password: "guest" };
  return {
    version: r.version,
    targets: [
      { name: "rabbit-classic", probe: { ...common, sendAddress: r.queues.classic, receiveAddress: r.queues.classic } },
      { name: "rabbit-quorum", probe: { ...common, sendAddress: r.queues.quorum, receiveAddress: r.queues.quorum } },
    ],
    stop: r.stop,
  };
}
