// A bare AMQP client for auth tests: one rhea connection on which a test puts tokens on $cbs (any type,
// any audience) and then sends, to see exactly what the broker answers.
import { randomUUID } from "node:crypto";
import rhea, { type Connection, type EventContext, type Receiver, type Sender } from "rhea";

export interface CbsReply {
  status: number;
  description: string;
}

export interface SendOutcome {
  accepted: boolean;
  condition?: string;
  description?: string;
}

export class CbsConnection {
  private sender!: Sender;
  private receiver!: Receiver;
  private readonly pending = new Map<string, (r: CbsReply) => void>();

  private constructor(readonly connection: Connection) {}

  /** Opens a plain AMQP connection to 127.0.0.1:`port` whose open frame names `hostname`, with the CBS links. */
  static async open(port: number, hostname = "localhost"): Promise<CbsConnection> {
    const container = rhea.create_container({ id: `cbs-test-${randomUUID()}` });
    const connection = container.connect({ host: "127.0.0.1", port, hostname, reconnect: false });
    const c = new CbsConnection(connection);
    const replyTo = `cbs-${randomUUID()}`;
    c.sender = connection.open_sender({ target: { address: "$cbs" }, source: {} });
    c.receiver = connection.open_receiver({
      name: replyTo,
      source: { address: "$cbs" },
      target: {},
      credit_window: 10,
    });
    c.receiver.on("message", (ctx: EventContext) => {
      const m = ctx.message!;
      const props = (m.application_properties ?? {}) as Record<string, unknown>;
      c.pending.get(String(m.correlation_id))?.({
        status: Number(props["status-code"]),
        description: String(props["status-description"] ?? ""),
      });
    });
    await Promise.all([once(c.sender, "sendable"), once(c.receiver, "receiver_open")]);
    return c;
  }

  putToken(type: string, token: string, audience: string): Promise<CbsReply> {
    const id = randomUUID();
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.sender.send({
        message_id: id,
        reply_to: this.receiver.name,
        to: "$cbs",
        application_properties: { operation: "put-token", type, name: audience },
        body: token,
      });
    });
  }

  /** Attaches a sender to `address` and sends one message: accepted, or the link's / delivery's error. */
  send(address: string, body: string): Promise<SendOutcome> {
    return new Promise((resolve) => {
      const s = this.connection.open_sender({ target: { address } });
      const err = (e: { condition?: string; description?: string } | undefined): SendOutcome => ({
        accepted: false,
        condition: e?.condition,
        description: e?.description,
      });
      s.once("sendable", () => s.send({ body }));
      s.once("accepted", () => {
        s.close();
        resolve({ accepted: true });
      });
      s.once("rejected", (ctx: EventContext) =>
        resolve(err((ctx.delivery?.remote_state as { error?: SendOutcome })?.error)),
      );
      s.once("sender_close", () => resolve(err(s.error as SendOutcome)));
      s.once("sender_error", () => resolve(err(s.error as SendOutcome)));
    });
  }

  close(): void {
    this.connection.close();
  }
}

function once(link: Sender | Receiver, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    link.once(event, () => resolve());
    link.connection.once("disconnected", (ctx: EventContext) => reject(ctx.error ?? new Error("disconnected")));
  });
}
