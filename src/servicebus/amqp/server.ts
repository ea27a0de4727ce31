// AMQP 1.0 listeners on rhea: translates connections, links, transfers and dispositions into calls on the
// broker's entities, and nothing else. What of Service Bus it covers: docs/compatibility.md.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import rhea from "rhea";
import type { Broker } from "../broker.js";
import type { QueueEntity } from "../entities/queue.js";
import { SubscriptionEntity } from "../topics/subscription.js";
import { TopicEntity } from "../topics/topic.js";
import { BrokerError, errors } from "../errors.js";
import { BATCH_FORMAT, MalformedMessageError, parseMessage, splitBatch, type ParsedMessage } from "../message/codec.js";
import { putToken, type TokenValidator } from "./cbs.js";
import { ClientConnection, entityPathOf } from "./connection.js";
import { DeliveryLink } from "./delivery.js";
import { asksForSession, openSessionLink } from "./session-link.js";
import { handleManagement } from "./management.js";
import { errorReply, ReplyLinks, type Reply } from "./replies.js";
import {
  closeConnection,
  decoded,
  installRheaHooks,
  rawOf,
  serveSocket,
  serveWebSocket,
  type ConnectionLimits,
  type ServeOptions,
} from "./rhea-internals.js";

type Any = any; // rhea's objects have no usable TypeScript types

export interface AmqpServerOptions {
  broker: Broker;
  /** validates $cbs tokens that are not SAS (JWT); absent = only SAS */
  validateToken?: TokenValidator;
  log?: (line: string) => void;
  /** ms a connection may take to put a token on $cbs; default EVENTJOBS_AMQP_AUTH_TIMEOUT_MS or 60000 */
  authTimeoutMs?: number;
  /** the idle-time-out advertised in our open; default EVENTJOBS_AMQP_IDLE_TIMEOUT_MS or 240000 */
  idleTimeoutMs?: number;
}

export interface ListenOptions {
  port: number;
  host: string;
  tls?: { key: string | Buffer; cert: string | Buffer };
}

interface ConnState {
  client?: ClientConnection;
  /** closes the connection unless it puts a token on $cbs in time */
  authTimer?: NodeJS.Timeout;
  replies: ReplyLinks;
  deliveries: Set<DeliveryLink>;
}

const MAX_MESSAGE_SIZE = 262144;
// What Azure's AMQP endpoints advertise in their open. A 256 KB message arrives in several frames: the SDKs
// split transfers by the peer's max-frame-size. Before the client's open nothing needs big frames (SASL, open).
const MAX_FRAME_SIZE = 65536;
const PRE_OPEN_FRAME_SIZE = 16384;
const CHANNEL_MAX = 4999;
const MAX_LINKS = 5000;
/** Largest WebSocket message accepted (listeners.ts): a few frames' worth. */
export const MAX_WEBSOCKET_MESSAGE = 4 * MAX_FRAME_SIZE;

function msFromEnv(name: string): number | undefined {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isFinite(v) && v > 0 ? v : undefined;
}

export class AmqpServer {
  private readonly container: Any;
  private readonly servers: Server[] = [];
  private readonly conns = new Map<Any, ConnState>();
  private readonly deliveryLinks = new WeakMap<Any, DeliveryLink>();
  private readonly entityOf = new WeakMap<Any, QueueEntity | TopicEntity>();
  private readonly serve: ServeOptions;
  private readonly authTimeoutMs: number;

  constructor(private readonly opts: AmqpServerOptions) {
    this.container = rhea.create_container({
      id: "eventjobs",
      receiver_options: { autoaccept: false, credit_window: 1000 },
      sender_options: { treat_modified_as_released: false },
    });
    const mechs = this.container.sasl_server_mechanisms;
    mechs.enable_anonymous();
    // Python's uamqp only offers MSSBCBS (tokens come later over $cbs)
    mechs.MSSBCBS = () => ({
      start() {
        (this as Any).outcome = true;
        (this as Any).username = "cbs";
      },
    });
    installRheaHooks(this.container, opts.log);
    this.authTimeoutMs = opts.authTimeoutMs ?? msFromEnv("EVENTJOBS_AMQP_AUTH_TIMEOUT_MS") ?? 60_000;
    const limits: ConnectionLimits = {
      maxFrameSize: MAX_FRAME_SIZE,
      preOpenFrameSize: PRE_OPEN_FRAME_SIZE,
      channelMax: CHANNEL_MAX,
      maxLinks: MAX_LINKS,
      idleTimeoutMs: opts.idleTimeoutMs ?? msFromEnv("EVENTJOBS_AMQP_IDLE_TIMEOUT_MS") ?? 240_000,
    };
    this.serve = { limits, log: opts.log, onGone: (connection) => this.onGone(connection) };
    this.wire();
  }

  async listen(o: ListenOptions): Promise<number> {
    // small dispositions must not wait for Nagle
    const server: Server = o.tls
      ? createTlsServer({ key: o.tls.key, cert: o.tls.cert, noDelay: true }).on("secureConnection", (s) =>
          this.accept(s),
        )
      : createServer({ noDelay: true }, (s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
      server.listen(o.port, o.host);
    });
    server.on("error", (e) => this.opts.log?.(`amqp listener error: ${e.message}`));
    this.servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  /** Serves AMQP on a socket accepted elsewhere (a TLS listener that also speaks HTTP). */
  accept(socket: Socket): void {
    this.track(serveSocket(this.container, socket, this.serve));
  }

  /** Serves AMQP over an accepted WebSocket (`ws` package), as the SDKs' AmqpOverWebsocket transport expects. */
  acceptWebSocket(ws: unknown): void {
    this.track(serveWebSocket(this.container, ws, this.serve));
  }

  /**
   * A connection must be authorized within the bound, as the service requires: no SASL mechanism we offer
   * authenticates (ANONYMOUS, MSSBCBS), so that is a successful $cbs put-token.
   */
  private track(connection: Any): void {
    if (!connection) return;
    const timer = setTimeout(() => {
      const s = this.conns.get(connection);
      if (s) s.authTimer = undefined;
      closeConnection(
        connection,
        new BrokerError(
          "Unauthorized",
          `The connection was not authorized within ${this.authTimeoutMs} ms: put a token on $cbs first.`,
        ),
      );
    }, this.authTimeoutMs);
    timer.unref();
    this.state(connection).authTimer = timer;
  }

  private authorized(connection: Any): void {
    const s = this.conns.get(connection);
    if (s?.authTimer) clearTimeout(s.authTimer);
    if (s) s.authTimer = undefined;
  }

  private onGone(connection: Any): void {
    this.authorized(connection);
    this.onDisconnected(connection);
  }

  private state(connection: Any): ConnState {
    let s = this.conns.get(connection);
    if (!s) this.conns.set(connection, (s = { replies: new ReplyLinks(), deliveries: new Set() }));
    return s;
  }

  private wire(): void {
    const c = this.container;
    c.on("connection_open", (ctx: Any) => this.onConnectionOpen(ctx.connection));
    c.on("receiver_open", (ctx: Any) =>
      this.guard(ctx.receiver, () => this.onReceiverOpen(ctx.connection, ctx.receiver)),
    );
    c.on("sender_open", (ctx: Any) => this.guard(ctx.sender, () => this.onSenderOpen(ctx.connection, ctx.sender)));
    c.on("message", (ctx: Any) => this.onMessage(ctx));
    c.on("sendable", (ctx: Any) => this.onSendable(ctx.connection, ctx.sender));
    c.on("sender_draining", (ctx: Any) => this.deliveryLinks.get(ctx.sender)?.drain());
    for (const outcome of ["accepted", "rejected", "released", "modified"]) {
      c.on(outcome, (ctx: Any) => this.onOutcome(ctx.sender, ctx.delivery, outcome));
    }
    const closed = (ctx: Any) => this.onLinkClosed(ctx.connection, ctx.sender ?? ctx.receiver);
    c.on("sender_close", closed);
    c.on("receiver_close", closed);
    c.on("sender_error", closed);
    c.on("receiver_error", closed);
    c.on("disconnected", (ctx: Any) => this.onDisconnected(ctx.connection));
    c.on("connection_close", (ctx: Any) => this.onDisconnected(ctx.connection));
    c.on("error", (ctx: Any) => this.opts.log?.(`amqp error: ${ctx?.error?.message ?? ctx}`));
    c.on("protocol_error", (ctx: Any) => this.opts.log?.(`amqp protocol error: ${ctx?.error?.message ?? ctx}`));
  }

  private onConnectionOpen(connection: Any): void {
    const host: string = connection.remote.open?.hostname ?? "";
    const ns = this.opts.broker.namespaceForHost(host);
    if (!ns) {
      connection.close(
        new BrokerError(
          "EntityNotFound",
          `The namespace for host '${host}' could not be found. Define it in the config or connect to localhost.`,
        ).toAmqp(),
      );
      return;
    }
    this.state(connection).client = new ClientConnection(ns, host.replace(/:\d+$/, "") || "localhost");
  }

  /** Runs a link-open handler; a broker error refuses the link with the service's condition. */
  private guard(link: Any, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const err = e instanceof BrokerError ? e : new BrokerError("InternalError", (e as Error).message);
      // refusing an attach: reply with null source/target, then detach with the error
      link.local.attach.source = null;
      link.local.attach.target = null;
      link.close(err.toAmqp());
    }
  }

  private client(connection: Any): ClientConnection {
    const client = this.state(connection).client;
    if (!client) throw new BrokerError("Unauthorized", "The connection has no namespace.");
    return client;
  }

  /** The client attached a sender: we receive. */
  private onReceiverOpen(connection: Any, receiver: Any): void {
    const remote = receiver.remote.attach;
    receiver.set_source(remote.source);
    receiver.set_target(remote.target);
    // settle every transfer ourselves in one step (uamqp senders ask for rcv-settle-mode second)
    receiver.local.attach.rcv_settle_mode = 0;
    receiver.local.attach.max_message_size = MAX_MESSAGE_SIZE;
    const address = entityPathOf(remote.target?.address);
    if (address.toLowerCase() === "$cbs" || address.toLowerCase().endsWith("/$management")) return;
    const client = this.client(connection);
    const entity = client.namespace.resolveEntity(address, client.host);
    if (entity instanceof SubscriptionEntity) {
      throw new BrokerError("NotAllowed", `Cannot send to the subscription '${address}'; send to its topic.`);
    }
    client.authorize(address, "Send");
    this.entityOf.set(receiver, entity);
  }

  /** The client attached a receiver: we send. */
  private onSenderOpen(connection: Any, sender: Any): void {
    const remote = sender.remote.attach;
    sender.set_source(remote.source);
    sender.set_target(remote.target);
    sender.local.attach.snd_settle_mode = remote.snd_settle_mode;
    sender.local.attach.rcv_settle_mode = remote.rcv_settle_mode;
    sender.local.attach.max_message_size = MAX_MESSAGE_SIZE;
    const address = entityPathOf(remote.source?.address);
    const lower = address.toLowerCase();
    if (lower === "$cbs" || lower.endsWith("/$management")) {
      this.state(connection).replies.add(lower === "$cbs" ? "$cbs" : address, sender);
      return;
    }
    const client = this.client(connection);
    const entity = client.namespace.resolve(address, client.host);
    client.authorize(address, "Listen");
    const session = entity.sessions !== undefined || asksForSession(remote.source);
    const link = session ? openSessionLink(sender, entity, client) : new DeliveryLink(sender, entity);
    this.deliveryLinks.set(sender, link);
    this.state(connection).deliveries.add(link);
    if (!session) entity.attach(link);
  }

  private onSendable(connection: Any, sender: Any): void {
    const link = this.deliveryLinks.get(sender);
    if (link) link.entity.pump();
    else this.state(connection).replies.flush(sender);
  }

  private onMessage(ctx: Any): void {
    const { receiver, delivery, connection } = ctx;
    const address = entityPathOf(receiver.remote.attach?.target?.address);
    const lower = address.toLowerCase();
    const state = this.state(connection);
    if (lower === "$cbs" || lower.endsWith("/$management")) {
      const request = decoded(ctx.message);
      delivery.accept();
      const node = lower === "$cbs" ? "$cbs" : address;
      const respond = (reply: Reply): void => void setImmediate(() => state.replies.send(node, request, reply));
      if (lower === "$cbs") {
        const client = state.client;
        if (!client) return respond(errorReply("Unauthorized", "No namespace"));
        // A JWT is verified asynchronously: the reply goes out later, through this connection's own reply links
        // (`state`, captured now), so a connection that closed meanwhile gets nothing and nothing else is touched.
        putToken(client, request, this.opts.validateToken).then(
          (reply) => {
            if (this.conns.get(connection) !== state) return; // closed while the token was being verified
            if (reply.status === 200) this.authorized(connection);
            respond(reply);
          },
          (e: unknown) => {
            if (this.conns.get(connection) !== state) return;
            const err =
              e instanceof BrokerError ? e : new BrokerError("InternalError", String((e as Error)?.message ?? e));
            respond(errorReply(err));
          },
        );
      } else {
        const client = state.client;
        if (!client) return respond(errorReply("Unauthorized", "No namespace"));
        void handleManagement(client, address.slice(0, -"/$management".length), request).then(respond);
      }
      return;
    }
    const entity = this.entityOf.get(receiver);
    if (!entity) return delivery.reject(new BrokerError("EntityNotFound", `No entity for '${address}'.`).toAmqp());
    let parsed: ParsedMessage[];
    try {
      state.client!.authorize(address, "Send");
      const raw = ctx.format === BATCH_FORMAT ? ctx.message : rawOf(ctx.message);
      if (!Buffer.isBuffer(raw)) throw new BrokerError("DecodeError", "The message could not be decoded.");
      const limitKb =
        entity instanceof TopicEntity ? entity.maxMessageSizeInKilobytes : entity.props.maxMessageSizeInKilobytes;
      if (raw.length > limitKb * 1024) throw errors.sizeExceeded(raw.length, limitKb * 1024);
      parsed = ctx.format === BATCH_FORMAT ? splitBatch(raw).map(parseMessage) : [parseMessage(raw)];
    } catch (e) {
      return rejectDelivery(delivery, e);
    }
    entity.send(parsed).then(
      () => delivery.accept(),
      (e) => rejectDelivery(delivery, e),
    );
  }

  /** A client settled (or updated) a message we delivered. */
  private onOutcome(sender: Any, delivery: Any, outcome: string): void {
    const link = this.deliveryLinks.get(sender);
    const token: string | undefined = delivery.lockToken;
    if (!link || !token || delivery.eventjobsHandled) return;
    delivery.eventjobsHandled = true;
    const state = delivery.remote_state ?? {};
    const entity = link.entity;
    if (outcome === "accepted" && delivery.remote_settled) {
      // settled by the client (rcv-settle-mode first): no disposition goes back, so nothing awaits the commit
      entity.completeSettled(token);
      return;
    }
    let settle: Promise<void>;
    if (outcome === "accepted") settle = entity.complete(token);
    else if (outcome === "rejected") {
      const info = state.error?.info ?? {};
      const { DeadLetterReason, DeadLetterErrorDescription, ...rest } = info;
      settle = entity.deadLetterLocked(token, {
        reason: DeadLetterReason,
        description: DeadLetterErrorDescription ?? state.error?.description,
        propertiesToModify: rest,
      });
    } else if (outcome === "modified" && state.undeliverable_here) {
      settle = entity.defer(token, { propertiesToModify: state.message_annotations });
    } else if (outcome === "released") {
      // uamqp releases messages that arrive between receive calls; the service counts no delivery for them
      settle = entity.release(token);
    } else {
      settle = entity.abandon(token, { propertiesToModify: state.message_annotations });
    }
    // JS peek-lock receivers (rcv-settle-mode second) wait for our settled disposition, with any error
    const answer = (outcomeState: Any) => {
      if (delivery.remote_settled) return;
      delivery.update(true, outcomeState);
      delivery.remote_settled = true;
    };
    settle.then(
      () => answer(delivery.remote_state ? remoteOutcome(outcome) : undefined),
      (e) => {
        const err = e instanceof BrokerError ? e : new BrokerError("InternalError", String(e?.message ?? e));
        answer((rhea.message as Any).rejected({ error: err.toAmqp() }).described());
      },
    );
  }

  private onLinkClosed(connection: Any, link: Any): void {
    if (!link) return;
    const d = this.deliveryLinks.get(link);
    if (d) {
      d.entity.detach(d);
      this.conns.get(connection)?.deliveries.delete(d);
    }
    this.conns.get(connection)?.replies.remove(link);
  }

  private onDisconnected(connection: Any): void {
    const state = this.conns.get(connection);
    for (const d of state?.deliveries ?? []) d.entity.detach(d);
    this.conns.delete(connection);
  }

  async close(): Promise<void> {
    for (const [conn, s] of this.conns) {
      if (s.authTimer) clearTimeout(s.authTimer);
      try {
        conn.close();
      } catch {
        /* already gone */
      }
    }
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
  }
}

function remoteOutcome(outcome: string): Any {
  const m = rhea.message as Any;
  if (outcome === "accepted") return m.accepted().described();
  if (outcome === "rejected") return m.rejected().described();
  if (outcome === "modified") return m.modified().described();
  return m.released().described();
}

function rejectDelivery(delivery: Any, e: unknown): void {
  const err =
    e instanceof BrokerError
      ? e
      : e instanceof MalformedMessageError
        ? new BrokerError("DecodeError", e.message)
        : new BrokerError("InternalError", String((e as Error)?.message ?? e));
  delivery.reject(err.toAmqp());
}
