import type { ProbeOptions } from "../probe.js";

/** Connection + addresses for one probe target (everything except the workload sizes). */
export type ProbeTarget = Omit<ProbeOptions, "messages" | "size" | "window" | "credit">;

/** A started server exposing one or more probe targets (e.g. RabbitMQ: classic + quorum). */
export interface Server {
  targets: { name: string; probe: ProbeTarget }[];
  version?: string;
  /** For the SDK run (ours only). */
  amqpPort?: number;
  stop(): Promise<void>;
}
