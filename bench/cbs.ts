// CBS put-token over an open rhea connection (docs/admin-api.md and docs/compatibility.md describe $cbs), as the JS
// SDK does it.
import { randomUUID } from "node:crypto";
import type { Connection, EventContext } from "rhea";
import { createSasToken as sasToken } from "../src/identity/sas.js";

export interface CbsOptions {
  audience: string;
  keyName: string;
  key: string;
  timeoutMs?: number;
}

export function putToken(conn: Connection, opts: CbsOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const session = conn.create_session();
    session.begin();
    const receiverName = `cbs-${randomUUID()}`;
    const sender = session.attach_sender({ name: randomUUID(), target: { address: "$cbs" }, source: {} });
    const receiver = session.attach_receiver({
      name: receiverName,
      source: { address: "$cbs" },
      target: {},
      credit_window: 10,
    });
    const messageId = randomUUID();
    let sent = false;
    let receiverOpen = false;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Close the CBS links; don't wait for the broker.
      try {
        sender.close();
      } catch {
        /* ignore */
      }
      try {
        receiver.close();
      } catch {
        /* ignore */
      }
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`CBS put-token: no response within ${timeoutMs} ms`)), timeoutMs);
    const trySend = () => {
      if (sent || !receiverOpen || !sender.sendable()) return;
      sent = true;
      sender.send({
        message_id: messageId,
        reply_to: receiverName,
        to: "$cbs",
        application_properties: {
          operation: "put-token",
          type: "servicebus.windows.net:sastoken",
          name: opts.audience,
        },
        body: sasToken(opts.audience, opts.keyName, opts.key),
      });
    };
    receiver.on("receiver_open", () => {
      receiverOpen = true;
      trySend();
    });
    sender.on("sendable", trySend);
    sender.on("sender_open", trySend);
    const linkError = (what: string) => (ctx: EventContext) => {
      const e = (ctx.sender ?? ctx.receiver)?.error as { condition?: string; description?: string } | undefined;
      finish(new Error(`CBS ${what} closed: ${e?.condition ?? ""} ${e?.description ?? ""}`.trim()));
    };
    sender.on("sender_close", linkError("sender"));
    receiver.on("receiver_close", linkError("receiver"));
    sender.on("rejected", (ctx: EventContext) => {
      finish(new Error(`CBS request rejected: ${JSON.stringify(ctx.delivery?.remote_state)}`));
    });
    receiver.on("message", (ctx: EventContext) => {
      const msg = ctx.message;
      if (!msg || String(msg.correlation_id) !== messageId) return;
      const props = (msg.application_properties ?? {}) as Record<string, unknown>;
      const status = Number(props["status-code"] ?? props["statusCode"]);
      if (status >= 200 && status < 300) finish();
      else
        finish(
          new Error(
            `CBS put-token failed: status ${status} ${String(props["status-description"] ?? props["statusDescription"] ?? "")}`,
          ),
        );
    });
  });
}
