// The admin API's operations on a namespace's queues: what GET / PUT / DELETE of `/<queue>`, the
// `$Resources/Queues` feed and `$namespaceinfo` do, independent of routing. Changes go through the same
// Namespace the AMQP side uses (a created queue takes links at once) and are recorded in the store, so a
// queue created here survives a restart (Broker restores it).
import type { Broker } from "../broker.js";
import { parseRuntimeDefinition } from "../broker.js";
import type { Namespace } from "../entities/namespace.js";
import type { QueueEntity } from "../entities/queue.js";
import {
  feed,
  namespaceInfoEntry,
  queueEntry,
  type EntityTimes,
  type Origin,
  type QueueExtras,
  type QueueView,
} from "./atom.js";
import { AdminError, checkQueueName, parseQueueDefinition, type QueueDefinition } from "./description.js";

/** Per-queue facts the broker does not keep: times and the properties it only echoes. */
interface QueueInfo {
  times: EntityTimes;
  extras: QueueExtras;
}

/** Service Bus returns at most 100 entries per page. */
export const MAX_PAGE = 100;

export class AdminOperations {
  // keyed by entity object: cheap on the hot "change" path, and forgotten with the queue
  private readonly info = new WeakMap<QueueEntity, QueueInfo>();
  private readonly startedAt = Date.now();

  constructor(private readonly broker: Broker) {
    for (const rec of broker.store.listEntities()) {
      const def = parseRuntimeDefinition(rec.definition);
      const slash = rec.path.indexOf("/");
      const q = def && broker.namespace(rec.path.slice(0, slash))?.queue(rec.path.slice(slash + 1));
      if (def && q) {
        this.info.set(q, {
          times: { createdAt: def.createdAt, updatedAt: def.updatedAt, accessedAt: 0 },
          extras: (def.extras ?? {}) as QueueExtras,
        });
      }
    }
    // AccessedAt: the last send, receive or settlement (every one of them is a queue change)
    broker.on("change", (_ns: Namespace, q: QueueEntity) => {
      this.infoOf(q).times.accessedAt = Date.now();
    });
  }

  /** Queues from the config file count as created when the platform started. */
  private infoOf(q: QueueEntity): QueueInfo {
    let i = this.info.get(q);
    if (!i) {
      i = { times: { createdAt: this.startedAt, updatedAt: this.startedAt, accessedAt: 0 }, extras: {} };
      this.info.set(q, i);
    }
    return i;
  }

  private view(ns: Namespace, q: QueueEntity): QueueView {
    const c = q.counts();
    const dlqSize = q.deadLetter?.counts().sizeInBytes ?? 0;
    const i = this.infoOf(q);
    return {
      name: q.path.slice(ns.name.length + 1),
      props: q.props,
      extras: i.extras,
      times: i.times,
      // Service Bus: locked and deferred messages are active; scheduled and dead-lettered ones are not
      counts: {
        active: c.active + c.deferred,
        deadLetter: c.deadLetter,
        scheduled: c.scheduled,
        total: c.total,
        sizeInBytes: c.sizeInBytes + dlqSize,
      },
    };
  }

  exists(ns: Namespace, name: string): boolean {
    return ns.queue(name) !== undefined;
  }

  getQueue(origin: Origin, ns: Namespace, name: string): string {
    const q = ns.queue(name);
    if (!q) throw notFound(origin, name);
    return queueEntry(origin, this.view(ns, q));
  }

  /** Creates (201) or, with `If-Match: *`, updates (200) a queue; returns the status and the new entry. */
  async putQueue(
    origin: Origin,
    ns: Namespace,
    name: string,
    body: string,
    update: boolean,
  ): Promise<{ status: number; body: string }> {
    checkQueueName(name);
    const existing = ns.queue(name);
    const topic = ns.topics.topic(name);
    if (topic) {
      throw new AdminError(
        "EntityAlreadyExists",
        `The messaging entity '${ns.name}:Topic:${topic.name}' already exists.`,
      );
    }
    if (update && !existing) throw notFound(origin, name);
    if (!update && existing) {
      throw new AdminError(
        "EntityAlreadyExists",
        `The messaging entity '${ns.name}:Queue:${existing.path.slice(ns.name.length + 1)}' already exists.`,
      );
    }
    const current: QueueDefinition | undefined = existing
      ? { props: existing.props, extras: this.infoOf(existing).extras }
      : undefined;
    // a queue forwards to another queue or to a topic, kept in the spelling it was declared with
    const lookup = (n: string) => {
      const q = ns.queue(n);
      return q ? q.path.slice(ns.name.length + 1) : ns.topics.topic(n)?.name;
    };
    const def = parseQueueDefinition(body, name, current, lookup);
    const now = Date.now();
    const info = existing
      ? this.infoOf(existing)
      : { times: { createdAt: now, updatedAt: now, accessedAt: 0 }, extras: {} };
    info.extras = def.extras;
    info.times.updatedAt = now;
    const q = await this.broker.defineQueue(ns, name, {
      properties: def.props,
      extras: def.extras as Record<string, unknown>,
      createdAt: info.times.createdAt,
      updatedAt: now,
    });
    this.info.set(q, info);
    return { status: existing ? 200 : 201, body: queueEntry(origin, this.view(ns, q)) };
  }

  async deleteQueue(origin: Origin, ns: Namespace, name: string): Promise<void> {
    const q = ns.queue(name);
    if (!q) throw notFound(origin, name);
    this.info.delete(q);
    await ns.deleteQueue(name);
  }

  /** One page of the `$Resources/Queues` feed, ordered by name. */
  listQueues(origin: Origin, ns: Namespace, query: URLSearchParams): string {
    const skip = pageParam(query, "$skip", 0);
    const top = Math.min(pageParam(query, "$top", MAX_PAGE), MAX_PAGE);
    const names = ns.queueNames().sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    const page = names.slice(skip, skip + top);
    const entries = page.map((n) => queueEntry(origin, this.view(ns, ns.queue(n)!)));
    const next = skip + page.length < names.length && page.length > 0 ? skip + page.length : undefined;
    return feed(origin, "$Resources/Queues", "Queues", entries, { skip, top, next });
  }

  namespaceInfo(origin: Origin): string {
    return namespaceInfoEntry(origin, this.startedAt);
  }
}

function notFound(origin: Origin, name: string): AdminError {
  return new AdminError("EntityNotFound", `The messaging entity '${origin.namespace}:Queue:${name}' was not found.`);
}

export function pageParam(query: URLSearchParams, key: string, fallback: number): number {
  const raw = query.get(key);
  if (raw === null || raw === "") return fallback;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || (key === "$top" && n < 1)) {
    throw new AdminError(
      "ArgumentError",
      `The value '${raw}' of query parameter '${key}' is invalid: expected a ${key === "$top" ? "positive" : "non-negative"} integer.`,
    );
  }
  return n;
}

/** One page of names (sorted case-insensitively) and the `$skip` of the next page, if any. */
export function pageOf(
  names: string[],
  query: URLSearchParams,
  sort = true,
): { skip: number; top: number; page: string[]; next?: number } {
  const skip = pageParam(query, "$skip", 0);
  const top = Math.min(pageParam(query, "$top", MAX_PAGE), MAX_PAGE);
  const sorted = sort ? [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())) : names;
  const page = sorted.slice(skip, skip + top);
  const next = skip + page.length < sorted.length && page.length > 0 ? skip + page.length : undefined;
  return { skip, top, page, next };
}
