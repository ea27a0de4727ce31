// The "ceiling": a bare in-memory AMQP 1.0 broker on rhea. Queues are arrays, incoming
// messages are accepted as soon as they arrive, outgoing ones are sent while the link has
// credit. Run directly: prints "ceiling listening on <port>" (port 0 = any free port).
import rhea, { type EventContext, type Message, type Sender } from "rhea";

// rhea's typings omit a few runtime fields we use.
type Attach = { remote: { attach?: { source?: { address?: string }; target?: { address?: string } } } };
type Outgoing = Sender & Attach & { credit: number; __unsent?: number };
// messages[head..] are queued (a head index instead of shift(), which is O(n) on big arrays).
interface Queue {
  messages: Message[];
  head: number;
  consumers: Outgoing[];
  next: number;
}

const queues = new Map<string, Queue>();
const queue = (name: string): Queue => {
  let q = queues.get(name);
  if (!q) queues.set(name, (q = { messages: [], head: 0, consumers: [], next: 0 }));
  return q;
};

/** How many more sends this link can take (rhea only lowers credit when a frame is written). */
const room = (s: Outgoing) => s.credit - (s.__unsent ?? 0);

function dispatch(q: Queue): void {
  let idle = 0;
  while (q.head < q.messages.length && q.consumers.length > 0 && idle < q.consumers.length) {
    q.next = (q.next + 1) % q.consumers.length;
    const s = q.consumers[q.next];
    if (room(s) <= 0 || !s.sendable()) {
      idle++;
      continue;
    }
    idle = 0;
    const msg = q.messages[q.head++];
    const d = s.send(msg) as unknown as { __msg?: Message };
    d.__msg = msg;
    s.__unsent = (s.__unsent ?? 0) + 1;
    setImmediate(() => {
      s.__unsent = Math.max(0, (s.__unsent ?? 0) - 1);
    });
  }
  if (q.head > 4096 && q.head * 2 > q.messages.length) {
    q.messages = q.messages.slice(q.head);
    q.head = 0;
  }
}

const container = rhea.create_container({ id: "ceiling-broker" });

container.on("sender_open", (ctx: EventContext) => {
  const s = ctx.sender as Outgoing;
  const address = s.remote.attach?.source?.address ?? "";
  s.set_source({ address });
  const q = queue(address);
  q.consumers.push(s);
  s.on("sendable", () => dispatch(q));
});

container.on("receiver_open", (ctx: EventContext) => {
  const r = ctx.receiver! as typeof ctx.receiver & Attach;
  const address = r.remote.attach?.target?.address ?? "";
  r.set_target({ address });
});

container.on("message", (ctx: EventContext) => {
  // rhea auto-accepts (settled) on the server side: "accept on receive".
  const q = queue(ctx.receiver!.target.address ?? "");
  q.messages.push(ctx.message!);
  dispatch(q);
});

const requeue = (ctx: EventContext) => {
  const d = ctx.delivery as unknown as { __msg?: Message };
  if (!d?.__msg || !ctx.sender) return;
  const q = queue(ctx.sender.source.address ?? "");
  if (q.head > 0) q.messages[--q.head] = d.__msg;
  else q.messages.unshift(d.__msg);
  d.__msg = undefined;
  dispatch(q);
};
container.on("released", requeue);
container.on("modified", requeue);

const detach = (ctx: EventContext) => {
  const s = ctx.sender as Outgoing | undefined;
  if (!s) return;
  for (const q of queues.values()) {
    const i = q.consumers.indexOf(s);
    if (i >= 0) q.consumers.splice(i, 1);
  }
};
container.on("sender_close", detach);
container.on("disconnected", (ctx: EventContext) => {
  for (const q of queues.values()) q.consumers = q.consumers.filter((s) => s.connection !== ctx.connection);
});
container.on("error", () => {
  /* connection errors are per client */
});

const port = Number(process.argv[2] ?? 0);
// tcp_no_delay: without it Nagle + delayed ACK add ~40 ms stalls to small disposition frames.
const server = container.listen({ port, host: "127.0.0.1", tcp_no_delay: true } as Parameters<
  typeof container.listen
>[0]);
server.on("listening", () => {
  const addr = server.address();
  console.log(`ceiling listening on ${typeof addr === "object" && addr ? addr.port : port}`);
});
process.on("SIGTERM", () => {
  server.close();
  process.exit(0);
});
process.on("SIGINT", () => {
  server.close();
  process.exit(0);
});
