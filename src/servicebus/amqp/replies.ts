// Request/response nodes ($cbs, <entity>/$management): replies go out on a sender link of the same
// connection whose source is the node, typed the way both SDKs require (int status, correlation-id of the
// request id's type), and only after the request's own disposition (uamqp needs that order).
import rhea from "rhea";
import { BrokerError, type ErrorCode } from "../errors.js";

const { types } = rhea;
type Link = any; // rhea links have no usable TypeScript types

export interface Reply {
  status: number;
  description: string;
  condition?: string;
  body?: unknown;
}

/** The reply for a failed request: the table's status and condition (errors.ts), with the error's text. */
export function errorReply(e: BrokerError): Reply;
export function errorReply(code: ErrorCode, description: string): Reply;
export function errorReply(e: BrokerError | ErrorCode, description?: string): Reply {
  const err = e instanceof BrokerError ? e : new BrokerError(e, description ?? "");
  return { status: err.status, description: err.message, condition: err.condition };
}

/** The reply links of one connection, by node address. */
export class ReplyLinks {
  private readonly links = new Map<string, Link[]>();
  private readonly backlog = new Map<Link, object[]>();

  add(node: string, sender: Link): void {
    const key = node.toLowerCase();
    const list = this.links.get(key) ?? [];
    list.push(sender);
    this.links.set(key, list);
  }

  remove(sender: Link): void {
    for (const list of this.links.values()) {
      const i = list.indexOf(sender);
      if (i >= 0) list.splice(i, 1);
    }
    this.backlog.delete(sender);
  }

  private find(node: string, replyTo: string | undefined): Link | undefined {
    const list = (this.links.get(node.toLowerCase()) ?? []).filter((l) => l.is_open());
    return (
      list.find((l) => replyTo !== undefined && l.remote.attach?.target?.address === replyTo) ??
      list.find((l) => replyTo !== undefined && l.name === replyTo) ??
      list[0]
    );
  }

  /** Sends a reply; holds it while the link has no credit so no other link's transfers are blocked. */
  send(node: string, request: any, reply: Reply): void {
    const link = this.find(node, request.reply_to);
    if (!link) return;
    const props: Record<string, unknown> = {
      statusCode: types.wrap_int(reply.status),
      statusDescription: reply.description,
    };
    // $cbs clients (uamqp's cbs.c) read the dashed keys, management clients the camelCase ones
    if (node.toLowerCase() === "$cbs") {
      props["status-code"] = types.wrap_int(reply.status);
      props["status-description"] = reply.description;
    }
    if (reply.condition) props.errorCondition = types.wrap_symbol(reply.condition);
    const id = request.message_id;
    const msg: Record<string, unknown> = {
      correlation_id: typeof id === "number" ? types.wrap_ulong(id) : id,
      application_properties: props,
      body: reply.body === undefined ? null : reply.body,
    };
    if (request.reply_to !== undefined) msg.to = request.reply_to;
    const queue = this.backlog.get(link) ?? [];
    queue.push(msg);
    this.backlog.set(link, queue);
    this.flush(link);
  }

  /** Called on 'sendable'. */
  flush(link: Link): void {
    const queue = this.backlog.get(link);
    while (queue && queue.length && link.is_open() && link.credit - unsentOf(link) > 0) {
      link.send(queue.shift());
      link._eventjobsSent = (link._eventjobsSent ?? 0) + 1;
    }
  }
}

function unsentOf(link: Link): number {
  return (link._eventjobsSent ?? 0) - link.delivery_count;
}
