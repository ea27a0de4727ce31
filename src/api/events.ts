// GET /api/v1/events: what changes on the server, as server-sent events, for the dashboard's live pages:
//   entity    a queue, topic or subscription with its new counts (ARM shape; a burst of sends is one event)
//   execution an execution started, a replica started, an execution finished (masked, as the API returns it)
//   job       something about a job changed (an execution, a scale decision): read it again
//   log       with ?job=&execution=: that execution's console and system log lines, past then live
// The route sits under /api/v1, so the request guard's Host and Origin checks apply to it as to the rest.
import type { ServerResponse } from "node:http";
import { masked } from "../control/secrets.js";
import type { ExecutionRecord, LogEntry } from "../jobs/store.js";
import type { Broker } from "../servicebus/broker.js";
import type { Namespace } from "../servicebus/entities/namespace.js";
import type { QueueEntity } from "../servicebus/entities/queue.js";
import type { Jobs } from "../triggering/jobs-service.js";
import { executionResource } from "./arm.js";
import { ApiError, type ApiRoute } from "./control.js";
import { namespaceGroup, queueResourceOf } from "./servicebus.js";
import { subscriptionResource, topicResource } from "./topic-arm.js";

export interface EventsApiOptions {
  broker: Broker;
  jobs: Jobs;
  /** aborted when the server shuts down: streams end then */
  stopping?: AbortSignal;
}

type Send = (event: string, data: unknown) => void;

/** How long entity changes are gathered into one event per entity. */
const COALESCE_MS = 250;
const KEEPALIVE_MS = 15_000;
/** A client that stops reading is dropped (its EventSource reconnects) rather than buffered without bound. */
const MAX_BUFFERED = 1024 * 1024;

/** One set of listeners on the platform for any number of streams. */
class EventHub {
  private readonly clients = new Set<Send>();
  private readonly changed = new Map<string, { ns: Namespace; path: string }>();
  private readonly jobsChanged = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly broker: Broker,
    jobs: Jobs,
  ) {
    broker.on("change", (ns: Namespace, e: { path: string }) => {
      if (!this.clients.size) return;
      this.changed.set(e.path.toLowerCase(), { ns, path: e.path });
      this.soon();
    });
    const onExecution = (rec: ExecutionRecord) => {
      if (!this.clients.size) return;
      this.broadcast("execution", { job: rec.job, execution: masked(executionResource(rec)) });
      this.jobsChanged.add(rec.job);
      this.soon();
    };
    jobs.engine.on("executionStarted", onExecution);
    jobs.engine.on("executionFinished", onExecution);
    jobs.engine.on("replicaStarted", onExecution);
    jobs.logs.on("entry", (e: LogEntry) => {
      if (!this.clients.size || e.kind !== "system") return;
      this.jobsChanged.add(e.job);
      this.soon();
    });
  }

  add(send: Send): () => void {
    this.clients.add(send);
    return () => this.clients.delete(send);
  }

  private broadcast(event: string, data: unknown): void {
    for (const send of this.clients) send(event, data);
  }

  private soon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), COALESCE_MS);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    for (const { ns, path } of this.changed.values()) this.broadcast("entity", entityEvent(this.broker, ns, path));
    this.changed.clear();
    for (const name of this.jobsChanged) this.broadcast("job", { name });
    this.jobsChanged.clear();
  }
}

/** A changed entity as the API lists it, or `deleted` when it is gone. */
function entityEvent(broker: Broker, ns: Namespace, path: string): Record<string, unknown> {
  const rel = path.slice(ns.name.length + 1);
  const sub = /^(?<topic>.+?)\/Subscriptions\/(?<name>[^/]+)$/i.exec(rel)?.groups;
  if (sub) {
    const info = ns.topics.getSubscription(sub.topic, sub.name);
    const base = { namespace: ns.name, kind: "subscription", topic: sub.topic, name: sub.name };
    return info
      ? { ...base, resource: subscriptionResource(ns.name, info, namespaceGroup(broker, ns.name)) }
      : { ...base, deleted: true };
  }
  const topic = ns.topics.topic(rel) ? ns.topics.getTopic(rel) : undefined;
  if (topic)
    return {
      namespace: ns.name,
      kind: "topic",
      name: topic.name,
      resource: topicResource(ns.name, topic, namespaceGroup(broker, ns.name)),
    };
  const q = ns.queue(rel) as QueueEntity | undefined;
  if (q) return { namespace: ns.name, kind: "queue", name: rel, resource: queueResourceOf(broker, ns, q) };
  return { namespace: ns.name, name: rel, deleted: true };
}

export function registerEventsApi(route: ApiRoute, o: EventsApiOptions): void {
  let hub: EventHub | undefined;
  route("GET", "/events", (req, res: ServerResponse) => {
    if (o.stopping?.aborted) throw new ApiError(503, "ServiceUnavailable", "the server is shutting down");
    const job = req.query.get("job") ?? undefined;
    const execution = req.query.get("execution") ?? undefined;
    if ((job === undefined) !== (execution === undefined))
      throw new ApiError(400, "InvalidParameter", "job and execution: give both (that execution's logs) or neither");
    hub ??= new EventHub(o.broker, o.jobs);
    // read the (empty) request to its end: the listener's request-body deadline (listeners.ts) ends there, and a
    // stream that outlives it would otherwise be cut
    req.resume();
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    });
    res.write("retry: 2000\n\n");
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      res.end();
    };
    const send: Send = (event, data) => {
      if (!open) return;
      if (res.writableLength > MAX_BUFFERED) return end();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const stops = [hub.add(send)];
    if (job && execution) stops.push(o.jobs.logs.follow({ job, execution }, (e) => send("log", e)));
    const keepAlive = setInterval(() => open && res.write(": keep-alive\n\n"), KEEPALIVE_MS);
    o.stopping?.addEventListener("abort", end, { once: true });
    res.on("close", () => {
      open = false;
      stops.forEach((stop) => stop());
      clearInterval(keepAlive);
      o.stopping?.removeEventListener("abort", end);
    });
    return undefined;
  });
}
