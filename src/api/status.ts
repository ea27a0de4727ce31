// GET /api/v1/status: the server is up and has finished starting (this route is registered last, after the
// project was applied), with its versions, addresses and counts. `eventjobs status` and `wait-ready` read it.
import { readFileSync } from "node:fs";
import type { Endpoints } from "../addresses.js";
import type { Broker } from "../servicebus/broker.js";
import type { Jobs } from "../triggering/jobs-service.js";
import type { ApiRoute } from "./control.js";

/** package.json's version: two levels up from src/api/ and from dist/api/ alike */
function ownVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export interface StatusParts {
  broker: Broker;
  jobs: Jobs;
  endpoints: Endpoints;
}

export function registerStatusApi(route: ApiRoute, p: StatusParts): void {
  const startedAt = new Date();
  const version = ownVersion();
  const e = p.endpoints;
  route("GET", "/status", () => {
    let queues = 0,
      topics = 0,
      subscriptions = 0,
      messages = 0;
    for (const ns of p.broker.namespaces.values()) {
      for (const name of ns.queueNames()) {
        queues++;
        messages += ns.queue(name)?.counts().total ?? 0;
      }
      for (const topic of ns.topics.topicNames()) {
        topics++;
        for (const s of ns.topics.listSubscriptions(topic)) {
          subscriptions++;
          messages += s.counts.messageCount;
        }
      }
    }
    const jobs = p.jobs.store.listJobs().map((j) => j.name);
    const running = jobs.reduce((n, j) => n + p.jobs.engine.counts(j).running, 0);
    return {
      status: "ready",
      pid: process.pid,
      startedAt: startedAt.toISOString(),
      versions: { eventjobs: version, node: process.versions.node },
      endpoints: {
        amqp: `amqp://${e.host}:${e.amqpPort}`,
        amqps: `amqps://${e.host}:${e.amqpsPort}`,
        http: `http://${e.host}:${e.httpPort}`,
        https: `https://${e.host}:${e.httpsPort}`,
      },
      counts: {
        namespaces: p.broker.namespaces.size,
        queues,
        topics,
        subscriptions,
        messages,
        jobs: jobs.length,
        runningExecutions: running,
      },
    };
  });
}
