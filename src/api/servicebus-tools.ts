// The Service Bus explorer's bulk operations (the dashboard's Purge and Resubmit buttons), for queues and
// subscriptions: purge removes what a receive-and-delete receiver could take, plus deferred and scheduled
// messages; resubmit sends dead-lettered messages again, as the portal's Service Bus Explorer re-sends them
// (a copy of the message, to the queue, or for a subscription to its topic), then removes them from the DLQ.
import type { Broker } from "../servicebus/broker.js";
import type { QueueEntity } from "../servicebus/entities/queue.js";
import { parseMessage } from "../servicebus/message/codec.js";
import { MessageState } from "../servicebus/store/types.js";
import { ApiError, jsonBody, type ApiRoute } from "./control.js";
import { namespaceOf } from "./servicebus.js";

const PAGE = 500;
const MAX_RESUBMIT = 1000;

/** Removes every message no receiver holds a lock on; resolves with how many went. */
export async function purge(q: QueueEntity): Promise<number> {
  let removed = 0;
  let from = 0;
  for (;;) {
    const page = q.peek(from, PAGE);
    if (page.length === 0) return removed;
    from = page[page.length - 1].seq + 1;
    const scheduled: number[] = [];
    for (const m of page) {
      if (m.state === MessageState.Scheduled) scheduled.push(m.seq);
      else if (m.state === MessageState.Active) removed += q.takeReady(m.seq, "receiveAndDelete") ? 1 : 0;
      else
        try {
          removed += q.receiveDeferred([m.seq], "receiveAndDelete").length;
        } catch {
          // locked by a receiver: it stays, as it would for any other receiver
        }
    }
    await q.cancelScheduled(scheduled);
    removed += scheduled.length;
  }
}

/** Sends the dead-lettered messages `seqs` through `send`, then removes them from `q`'s dead-letter queue. */
export async function resubmit(
  q: QueueEntity,
  seqs: number[],
  send: (m: ReturnType<typeof parseMessage>) => Promise<unknown>,
): Promise<number[]> {
  const dlq = q.deadLetter!;
  const found = seqs.map((seq) => {
    const [m] = dlq.peek(seq, 1);
    if (!m || m.seq !== seq)
      throw new ApiError(404, "MessageNotFound", `No message with sequence number ${seq} in the dead-letter queue.`);
    return m;
  });
  const done: number[] = [];
  for (const m of found) {
    // the bare message as the sender sent it: properties, application properties and body
    await send(parseMessage(m.bare));
    try {
      const taken =
        m.state === MessageState.Deferred
          ? dlq.receiveDeferred([m.seq], "receiveAndDelete")[0]
          : dlq.takeReady(m.seq, "receiveAndDelete");
      if (taken) done.push(m.seq);
    } catch {
      // a receiver locked it meanwhile: it was sent again and stays in the DLQ (not listed as done)
    }
  }
  return done;
}

function sequenceNumbers(b: Record<string, unknown>): number[] {
  const list = b.sequenceNumbers;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.length > MAX_RESUBMIT ||
    !list.every((n) => Number.isSafeInteger(n) && n > 0)
  )
    throw new ApiError(
      400,
      "InvalidParameter",
      `sequenceNumbers: expected a list of 1 to ${MAX_RESUBMIT} sequence numbers of dead-lettered messages`,
    );
  return list as number[];
}

export function registerServiceBusTools(route: ApiRoute, broker: Broker): void {
  const queueOf = (nsName: string, name: string) => {
    const ns = namespaceOf(broker, nsName);
    const q = ns.queue(name);
    if (!q)
      throw new ApiError(404, "ResourceNotFound", `The messaging entity '${ns.name}:Queue:${name}' was not found.`);
    return q;
  };
  const subOf = (nsName: string, topic: string, name: string) => {
    const ns = namespaceOf(broker, nsName);
    const t = ns.topics.topic(topic);
    const s = t && ns.topics.subscription(t.name, name);
    if (!t || !s)
      throw new ApiError(
        404,
        "ResourceNotFound",
        `The messaging entity '${ns.name}:Topic:${topic}|${name}' was not found.`,
      );
    return { t, s };
  };
  const purged = async (q: QueueEntity, b: Record<string, unknown>) => ({
    purged: await purge(b.deadLetter === true ? q.deadLetter! : q),
  });

  const Q = "/servicebus/namespaces/:ns/queues/:queue/messages";
  route("POST", `${Q}/purge`, async (req) =>
    purged(queueOf(req.params.ns, req.params.queue), await jsonBody(req, true)),
  );
  route("POST", `${Q}/resubmit`, async (req) => {
    const q = queueOf(req.params.ns, req.params.queue);
    const seqs = sequenceNumbers(await jsonBody(req));
    return { resubmitted: await resubmit(q, seqs, (m) => q.send([m])) };
  });

  const S = "/servicebus/namespaces/:ns/topics/:topic/subscriptions/:sub/messages";
  route("POST", `${S}/purge`, async (req) => {
    const { s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    return purged(s, await jsonBody(req, true));
  });
  route("POST", `${S}/resubmit`, async (req) => {
    const { t, s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    const seqs = sequenceNumbers(await jsonBody(req));
    return { resubmitted: await resubmit(s, seqs, (m) => t.send([m])) };
  });
}
