// Builds a message the way an SDK would put it on the wire, for senders inside eventjobs (the CLI's
// `message send`, the demo): the entity then stores it exactly as if it had arrived over AMQP.
import { randomUUID } from "node:crypto";
import rhea from "rhea";
import { parseMessage, type ParsedMessage } from "./codec.js";

export interface ComposeOptions {
  /** a string body goes as an AMQP string value, as the SDKs send strings */
  body: string;
  messageId?: string;
  contentType?: string;
  subject?: string;
  correlationId?: string;
  sessionId?: string;
  applicationProperties?: Record<string, string | number | boolean>;
  /** the message is enqueued (becomes active) at this time, as the SDKs' scheduleMessages does */
  scheduledEnqueueTime?: Date;
}

export function composeMessage(o: ComposeOptions): ParsedMessage {
  const message: Record<string, unknown> = {
    message_id: o.messageId ?? randomUUID(),
    body: o.body,
  };
  if (o.contentType) message.content_type = o.contentType;
  if (o.subject) message.subject = o.subject;
  if (o.correlationId) message.correlation_id = o.correlationId;
  if (o.sessionId) message.group_id = o.sessionId;
  if (o.applicationProperties) message.application_properties = o.applicationProperties;
  if (o.scheduledEnqueueTime) message.message_annotations = { "x-opt-scheduled-enqueue-time": o.scheduledEnqueueTime };
  message.durable = true;
  return parseMessage((rhea.message as unknown as { encode(m: unknown): Buffer }).encode(message));
}
