// Brokers with topics for the black-box topic tests: eventjobs.yaml written as JSON (a YAML subset).
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, type TestBroker } from "./broker.js";
import { RETRY } from "./sdk.js";

export interface SubscriptionSpec {
  name: string;
  properties?: Record<string, unknown>;
  rules?: Array<Record<string, unknown>>;
}

export interface TopicSpec {
  name: string;
  properties?: Record<string, unknown>;
  subscriptions: SubscriptionSpec[];
}

export function topicsYaml(topics: TopicSpec[], queues: Record<string, Record<string, unknown>> = {}): string {
  const ns = {
    name: "sbemulatorns",
    queues: Object.entries(queues).map(([name, properties]) => ({ name, properties })),
    topics: topics.map((t) => ({
      name: t.name,
      properties: t.properties ?? {},
      subscriptions: t.subscriptions.map((s) => ({
        name: s.name,
        properties: s.properties ?? {},
        rules: s.rules ?? [],
      })),
    })),
  };
  return JSON.stringify({ namespaces: [ns] }, null, 1) + "\n";
}

export async function startTopics(
  topics: TopicSpec[],
  queues: Record<string, Record<string, unknown>> = {},
  opts: { dataDir?: string } = {},
): Promise<{ broker: TestBroker; client: ServiceBusClient }> {
  const broker = await startBroker(topicsYaml(topics, queues), opts);
  const client = new ServiceBusClient(broker.connectionString, RETRY);
  return { broker, client };
}
