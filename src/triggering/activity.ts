// What `eventjobs up` reports as it happens (its activity feed, docs/getting-started.md): messages arriving on an
// entity an Event job's scale rule watches, and executions starting and finishing. Read from the broker's and
// the jobs engine's events; it carries names, counts and statuses only, never a connection string or a value.
import type { ExecutionRecord } from "../jobs/store.js";
import type { JobsEngine } from "../jobs/executions.js";
import type { JobSpec } from "../jobs/job-definition.js";
import { isExternal, parseConnectionString } from "../scaling/triggers/embedded.js";
import type { Broker } from "../servicebus/broker.js";
import { QueueEntity } from "../servicebus/entities/queue.js";
import type { Namespace } from "../servicebus/entities/namespace.js";
import { SubscriptionEntity } from "../servicebus/topics/subscription.js";
import { scaleRuleMetadata } from "./event-trigger.js";

export type Activity =
  | {
      type: "messages";
      time: number;
      /** the queue's name, or `<topic>/<subscription>` */
      entity: string;
      /** messages that became active since the last report of this entity */
      count: number;
      /** the entity's active messages now */
      active: number;
      /** the Event jobs whose scale rules watch the entity */
      jobs: string[];
    }
  | { type: "started"; time: number; execution: ExecutionRecord }
  | { type: "finished"; time: number; execution: ExecutionRecord };

/** What one scale rule watches: an entity test, against the namespace the rule's connection string reaches. */
type Watch = (ns: Namespace, entity: QueueEntity) => boolean;

interface EntityState {
  active: number;
  /** arrivals held back while the entity's report window is open */
  pending: number;
  timer?: NodeJS.Timeout;
}

/**
 * Calls `on` for each activity until the returned function is called. Arrivals on one entity are reported at
 * once, then at most once per `windowMs` (summed), so a burst of thousands makes a few lines, not thousands.
 */
export function watchActivity(
  broker: Broker,
  engine: JobsEngine,
  on: (a: Activity) => void,
  windowMs = 1000,
): () => void {
  const watchesOf = new WeakMap<JobSpec, Watch[]>();
  const states = new WeakMap<QueueEntity, EntityState>();
  const open = new Set<EntityState>();

  const watches = (job: JobSpec): Watch[] => {
    let w = watchesOf.get(job);
    if (!w) watchesOf.set(job, (w = jobWatches(broker, job)));
    return w;
  };
  const watchers = (ns: Namespace, entity: QueueEntity) =>
    engine
      .listJobs()
      .filter((j) => watches(j).some((w) => w(ns, entity)))
      .map((j) => j.name);

  // what each entity holds now, so only what arrives from here on is reported
  for (const ns of broker.namespaces.values())
    for (const e of entities(ns)) states.set(e, { active: active(e), pending: 0 });

  const report = (ns: Namespace, entity: QueueEntity, s: EntityState, count: number) => {
    const jobs = watchers(ns, entity);
    if (jobs.length)
      on({ type: "messages", time: Date.now(), entity: entityName(ns, entity), count, active: active(entity), jobs });
    s.timer = setTimeout(() => {
      s.timer = undefined;
      open.delete(s);
      if (s.pending === 0) return;
      const n = s.pending;
      s.pending = 0;
      report(ns, entity, s, n);
    }, windowMs);
    s.timer.unref();
    open.add(s);
  };

  const onChange = (ns: Namespace, entity: unknown) => {
    if (!(entity instanceof QueueEntity)) return; // a topic's own change; its subscriptions report theirs
    let s = states.get(entity);
    if (!s) states.set(entity, (s = { active: 0, pending: 0 }));
    const now = active(entity);
    const arrived = now - s.active;
    s.active = now;
    if (arrived <= 0) return;
    // an entity no job watches opens the same window: its arrivals are summed, and who watches it is asked
    // again at most once a window instead of on every send
    if (s.timer) s.pending += arrived;
    else report(ns, entity, s, arrived);
  };
  const onStarted = (e: ExecutionRecord) => on({ type: "started", time: Date.now(), execution: e });
  const onFinished = (e: ExecutionRecord) => on({ type: "finished", time: Date.now(), execution: e });

  broker.on("change", onChange);
  engine.on("executionStarted", onStarted);
  engine.on("executionFinished", onFinished);
  return () => {
    broker.off("change", onChange);
    engine.off("executionStarted", onStarted);
    engine.off("executionFinished", onFinished);
    for (const s of open) clearTimeout(s.timer);
    open.clear();
  };
}

/** Active messages as the scaler counts them (deferred ones included: embedded.ts). */
const active = (e: QueueEntity) => {
  const c = e.counts();
  return c.active + c.deferred;
};

function entities(ns: Namespace): QueueEntity[] {
  const out: QueueEntity[] = [];
  for (const name of ns.queueNames()) {
    const q = ns.queue(name);
    if (q) out.push(q);
  }
  for (const t of ns.topics.topicNames()) out.push(...(ns.topics.topic(t)?.subscriptions.values() ?? []));
  return out;
}

function entityName(ns: Namespace, e: QueueEntity): string {
  return e instanceof SubscriptionEntity ? `${e.topicName}/${e.name}` : e.path.slice(ns.name.length + 1);
}

/**
 * The entities an Event job's scale rules watch on this server, matched as the embedded trigger reads them
 * (scaling/triggers/embedded.ts): the namespace the connection string's host names, else the rule's `namespace`.
 */
function jobWatches(broker: Broker, job: JobSpec): Watch[] {
  if (job.triggerType !== "Event" || job.paused || !job.scale) return [];
  let rules;
  try {
    rules = scaleRuleMetadata(job);
  } catch {
    return []; // a job that does not check out has no running trigger either
  }
  return rules.flatMap(({ meta }): Watch[] => {
    const cs = parseConnectionString(meta.connection);
    if (meta.connection && isExternal(cs)) return [];
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const named = (name: string, wanted: string) =>
      meta.useRegex && meta.entityNameRegex ? meta.entityNameRegex.test(name) : same(name, wanted);
    return [
      (ns, entity) => {
        if (ns !== (broker.namespaceForHost(cs.host) ?? broker.namespace(meta.namespace))) return false;
        if (meta.entityType === "queue")
          return !(entity instanceof SubscriptionEntity) && named(entityName(ns, entity), meta.queueName);
        return (
          entity instanceof SubscriptionEntity &&
          same(entity.topicName, meta.topicName) &&
          named(entity.name, meta.subscriptionName)
        );
      },
    ];
  });
}
