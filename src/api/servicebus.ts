// The control API's Service Bus part: queues (ARM shapes, the eventjobs.yaml property names), and messages:
// send, peek, receive (peek-lock or receive-and-delete) and complete, on the same entities the AMQP side
// serves. Namespaces are in servicebus-namespaces.ts.
import type { QueueProperties } from "../model/config.js";
import { QUEUE_DEFAULTS } from "../model/config.js";
import { QUEUE_SPECS } from "../model/properties.js";
import { Checker, ENTITY_NAME, readProps, resolveRefs, type EntityRef, type SrcNode } from "../model/validate.js";
import { parseRuntimeDefinition, type Broker } from "../servicebus/broker.js";
import type { Namespace } from "../servicebus/entities/namespace.js";
import type { QueueEntity } from "../servicebus/entities/queue.js";
import { composeMessage } from "../servicebus/message/compose.js";
import { decodeStored, receiveBatch } from "./messages.js";
import { LOCAL_LOCATION, LOCAL_RESOURCE_GROUP, queueResource } from "./arm.js";
import type { ConnectionStringOptions } from "./authorization-rules.js";
import { ApiError, jsonBody, type ApiRoute } from "./control.js";

export interface ServiceBusApiOptions {
  broker: Broker;
  connectionString(namespace: string, o: ConnectionStringOptions): string;
}

/** A JSON value as the config checker's tree (no positions: errors name the field and value). */
export function tree(v: unknown): SrcNode {
  if (Array.isArray(v)) return { kind: "seq", pos: {}, items: v.map(tree) };
  if (v && typeof v === "object")
    return {
      kind: "map",
      pos: {},
      entries: Object.entries(v).map(([key, x]) => ({ key, keyPos: {}, value: tree(x) })),
    };
  return { kind: "scalar", pos: {}, value: (v ?? null) as string | number | boolean | null };
}

/** Queue properties in eventjobs.yaml's names, checked by the same rules; unspecified ones take the defaults. */
export function queueProperties(
  ns: Namespace,
  name: string,
  input: unknown,
  base: QueueProperties = QUEUE_DEFAULTS,
): QueueProperties {
  const c = new Checker();
  const refs: EntityRef[] = [];
  const props = readProps(c, tree(input ?? {}), "", QUEUE_SPECS, base, refs);
  const targets = new Map(ns.queueNames().map((q) => [q.toLowerCase(), q] as const));
  resolveRefs(c, name, props as unknown as Record<string, unknown>, refs, targets, "a queue");
  rejectIssues(c);
  return props;
}

/** A 400 listing the checker's issues, if it found any. */
export function rejectIssues(c: Checker): void {
  if (c.issues.length)
    throw new ApiError(
      400,
      "InvalidParameter",
      c.issues.map((i) => `${i.path}: ${i.value} — expected ${i.expected}`).join("\n"),
      c.issues,
    );
}

/** A 400 unless `rule` accepts the entity name. */
export function checkName(name: string, rule: { test: (s: string) => boolean; expected: string }): void {
  if (!rule.test(name))
    throw new ApiError(400, "InvalidParameter", `The entity name '${name}' is invalid: expected ${rule.expected}.`);
}

/** The resource group a namespace's ids carry: the one it was created (or recorded) with, else the local one. */
export const namespaceGroup = (broker: Broker, ns: string): string =>
  broker.namespaceRecord(ns)?.resourceGroup ?? LOCAL_RESOURCE_GROUP;

const groupNotFound = (ns: string, group: string) =>
  new ApiError(
    404,
    "ResourceNotFound",
    `The Resource 'Microsoft.ServiceBus/namespaces/${ns}' under resource group '${group}' was not found.`,
  );

/** A 404, as ARM answers, when a -g names another group than the one the namespace was recorded in. */
export function checkGroup(broker: Broker, ns: Namespace, group: unknown): void {
  const rec = broker.namespaceRecord(ns.name);
  if (typeof group === "string" && group && rec && rec.resourceGroup.toLowerCase() !== group.toLowerCase())
    throw groupNotFound(ns.name, group);
}

/**
 * The -g of a command that makes something in a namespace: it must be the namespace's group (checkGroup); a
 * namespace recorded in none (declared in eventjobs.yaml) is recorded in this one, so every id shows it.
 */
export async function useGroup(broker: Broker, ns: Namespace, group: unknown): Promise<void> {
  checkGroup(broker, ns, group);
  if (typeof group !== "string" || !group || broker.namespaceRecord(ns.name)) return;
  const now = Date.now();
  const def = {
    kind: "namespace" as const,
    name: ns.name,
    made: false,
    resourceGroup: group,
    location: LOCAL_LOCATION,
  };
  await broker.defineNamespace({ ...def, sku: "Standard", createdAt: now, updatedAt: now }, ns.policies);
}

/** The broker's namespace of that name, or a 404 as ARM words it. */
export function namespaceOf(broker: Broker, name: string): Namespace {
  const ns = broker.namespace(name);
  if (!ns)
    throw new ApiError(
      404,
      "ResourceNotFound",
      `The Resource 'Microsoft.ServiceBus/namespaces/${name}' under resource group '${LOCAL_RESOURCE_GROUP}' was not found.`,
    );
  return ns;
}

export function registerServiceBusApi(route: ApiRoute, o: ServiceBusApiOptions): void {
  const { broker } = o;
  const nsOf = (name: string) => namespaceOf(broker, name);
  const queueOf = (nsName: string, name: string) => {
    const ns = nsOf(nsName);
    const q = ns.queue(name);
    if (!q)
      throw new ApiError(404, "ResourceNotFound", `The messaging entity '${ns.name}:Queue:${name}' was not found.`);
    return { ns, q };
  };
  const resource = (ns: Namespace, name: string) => queueResourceOf(broker, ns, ns.queue(name)!);
  route("GET", "/servicebus/namespaces/:ns/queues", (req) => {
    const ns = nsOf(req.params.ns);
    return {
      value: ns
        .queueNames()
        .sort((a, b) => a.localeCompare(b))
        .map((n) => resource(ns, n)),
    };
  });
  route("GET", "/servicebus/namespaces/:ns/queues/:queue", (req) => {
    const { ns, q } = queueOf(req.params.ns, req.params.queue);
    return resource(ns, q.path.slice(ns.name.length + 1));
  });
  // create or replace (ARM's PUT; `az servicebus queue create` on an existing queue sets what it is given)
  route("PUT", "/servicebus/namespaces/:ns/queues/:queue", async (req) => {
    const ns = nsOf(req.params.ns);
    const name = req.params.queue;
    checkName(name, ENTITY_NAME);
    const body = await jsonBody(req, true);
    const props = queueProperties(ns, name, body.properties);
    await useGroup(broker, ns, body.resourceGroup);
    const created = !ns.queue(name);
    const now = Date.now();
    // survives a restart
    const q = await broker.defineQueue(ns, name, { properties: props, createdAt: now, updatedAt: now });
    return { ...resource(ns, q.path.slice(ns.name.length + 1)), created };
  });
  // az servicebus queue update: only the properties given change ("" clears a forwarding)
  route("PATCH", "/servicebus/namespaces/:ns/queues/:queue", async (req) => {
    const { ns, q } = queueOf(req.params.ns, req.params.queue);
    const name = q.path.slice(ns.name.length + 1);
    const body = await jsonBody(req, true);
    const given = { ...(body.properties ?? {}) } as Record<string, unknown>;
    const base = { ...q.props };
    for (const k of ["forwardTo", "forwardDeadLetteredMessagesTo"] as const)
      if (given[k] === "" || given[k] === null) {
        delete given[k];
        delete base[k];
      }
    const props = queueProperties(ns, name, given, base);
    await useGroup(broker, ns, body.resourceGroup);
    const kept = broker.store.listEntities().find((r) => r.path.toLowerCase() === q.path.toLowerCase());
    const createdAt = (kept && parseRuntimeDefinition(kept.definition)?.createdAt) ?? Date.now();
    await broker.defineQueue(ns, name, { properties: props, createdAt, updatedAt: Date.now() });
    return resource(ns, name);
  });
  route("DELETE", "/servicebus/namespaces/:ns/queues/:queue", async (req) => {
    const { ns, q } = queueOf(req.params.ns, req.params.queue);
    await ns.deleteQueue(q.path.slice(ns.name.length + 1));
    return undefined;
  });

  route("POST", "/servicebus/namespaces/:ns/queues/:queue/messages", async (req) => {
    const { q } = queueOf(req.params.ns, req.params.queue);
    const msg = messageFromBody(await jsonBody(req), q.props.requiresSession ? `queue '${req.params.queue}'` : "");
    const [seq] = await q.send([msg]);
    return { sequenceNumber: seq, messageId: msg.messageId };
  });
  route("GET", "/servicebus/namespaces/:ns/queues/:queue/messages", (req) =>
    peekMessages(queueOf(req.params.ns, req.params.queue).q, req.query),
  );
  route("POST", "/servicebus/namespaces/:ns/queues/:queue/messages/receive", async (req) =>
    receiveMessages(
      queueOf(req.params.ns, req.params.queue).q,
      await jsonBody(req, true),
      `queue '${req.params.queue}'`,
    ),
  );
  route("POST", "/servicebus/namespaces/:ns/queues/:queue/messages/complete", async (req) =>
    completeMessages(queueOf(req.params.ns, req.params.queue).q, await jsonBody(req)),
  );
}

/** A queue as ARM shows it, with its live counts (Service Bus counts deferred messages as active). */
export function queueResourceOf(broker: Broker, ns: Namespace, q: QueueEntity) {
  const c = q.counts();
  return queueResource(
    ns.name,
    q.path.slice(ns.name.length + 1),
    q.props,
    {
      active: c.active + c.deferred,
      deadLetter: c.deadLetter,
      scheduled: c.scheduled,
      total: c.total,
      sizeInBytes: c.sizeInBytes,
    },
    broker.namespaceRecord(ns.name)?.resourceGroup,
  );
}

/** The message a send request describes; `sessionEntity` names an entity that requires sessions (else ""). */
export function messageFromBody(b: Record<string, unknown>, sessionEntity: string) {
  if (typeof b.body !== "string")
    throw new ApiError(400, "InvalidParameter", "body: expected the message body as a string");
  if (sessionEntity && typeof b.sessionId !== "string")
    throw new ApiError(
      400,
      "InvalidParameter",
      `The ${sessionEntity} requires sessions: give the message a session id`,
    );
  const str = (k: string) => (typeof b[k] === "string" ? (b[k] as string) : undefined);
  const at = b.scheduledEnqueueTimeUtc;
  const scheduled = typeof at === "string" && /^\d{4}-\d\d-\d\dT/.test(at) ? Date.parse(at) : NaN;
  if (at !== undefined && !Number.isFinite(scheduled))
    throw new ApiError(
      400,
      "InvalidParameter",
      `scheduledEnqueueTimeUtc: ${JSON.stringify(at)} — expected an ISO 8601 date-time (2026-01-31T12:00:00Z)`,
    );
  return composeMessage({
    body: b.body,
    messageId: str("messageId"),
    contentType: str("contentType"),
    subject: str("subject"),
    correlationId: str("correlationId"),
    sessionId: str("sessionId"),
    applicationProperties: b.applicationProperties as Record<string, string | number | boolean> | undefined,
    scheduledEnqueueTime: at === undefined ? undefined : new Date(scheduled),
  });
}

export function peekMessages(q: QueueEntity, query: URLSearchParams) {
  const count = intParam(query.get("count"), 1, "count", 1, 1000);
  const from = intParam(query.get("from"), 0, "from", 0, Number.MAX_SAFE_INTEGER);
  const entity = query.get("deadLetter") === "true" ? q.deadLetter! : q;
  return { value: entity.peek(from, count).map((m) => decodeStored(m)) };
}

export async function receiveMessages(q: QueueEntity, b: Record<string, unknown>, what: string) {
  const mode = b.mode === "receiveAndDelete" ? "receiveAndDelete" : "peekLock";
  if (b.mode !== undefined && b.mode !== "peekLock" && b.mode !== "receiveAndDelete")
    throw new ApiError(
      400,
      "InvalidParameter",
      `mode: ${JSON.stringify(b.mode)} — expected peekLock or receiveAndDelete`,
    );
  // deadLetter: from the entity's dead-letter queue, which never requires sessions
  const entity = b.deadLetter === true ? q.deadLetter! : q;
  if (entity.props.requiresSession && !entity.isDeadLetter)
    throw new ApiError(
      400,
      "InvalidParameter",
      `The ${what} requires sessions: receive with a session receiver (an SDK)`,
    );
  const count = intParam(b.count === undefined ? null : String(b.count), 1, "count", 1, 1000);
  const waitMs = intParam(b.waitSeconds === undefined ? null : String(b.waitSeconds), 5, "waitSeconds", 0, 300) * 1000;
  const messages = await receiveBatch(entity, count, mode, waitMs);
  return { value: messages.map((m) => decodeStored(m, mode === "peekLock")) };
}

export async function completeMessages(q: QueueEntity, b: Record<string, unknown>) {
  const tokens = Array.isArray(b.lockTokens) ? b.lockTokens.map(String) : undefined;
  if (!tokens) throw new ApiError(400, "InvalidParameter", "lockTokens: expected a list of lock tokens");
  const entity = b.deadLetter === true ? q.deadLetter! : q;
  const failed: string[] = [];
  for (const t of tokens) await entity.complete(t).catch(() => failed.push(t));
  if (failed.length)
    throw new ApiError(
      410,
      "MessageLockLost",
      `The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue (lock tokens: ${failed.join(", ")})`,
    );
  return { completed: tokens.length };
}

export function intParam(raw: string | null, def: number, name: string, min: number, max: number): number {
  if (raw === null || raw === "") return def;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max))
    throw new ApiError(400, "InvalidParameter", `${name}: "${raw}" — expected an integer from ${min} to ${max}`);
  return n;
}
