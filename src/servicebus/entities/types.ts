// What the broker's entities and their users (the wire layer, the namespace, the admin API) exchange.
import { MessageState, type StoredMessage } from "../store/types.js";

export type ReceiveMode = "peekLock" | "receiveAndDelete";

/** A consumer of messages: a receiver link, implemented by the wire layer. */
export interface Receiver {
  readonly mode: ReceiveMode;
  /** How many more messages it can take right now. */
  capacity(): number;
  deliver(message: StoredMessage): void;
}

export interface SettleOptions {
  propertiesToModify?: Record<string, unknown>;
}

export interface DeadLetterOptions extends SettleOptions {
  reason?: string;
  description?: string;
}

export interface EntityCounts {
  active: number;
  deadLetter: number;
  scheduled: number;
  deferred: number;
  total: number;
  sizeInBytes: number;
}

/** Where dead-lettered and forwarded messages go; provided by the namespace. */
export interface Forwarder {
  /** `hops`: how many auto-forwardings the messages went through already (subscriptions forward on) */
  forward(target: string, messages: StoredMessage[], hops?: number): Promise<void>;
}

/** When the service says a message was enqueued: a scheduled message at its scheduled time. */
export function reportedEnqueuedAt(m: StoredMessage): number {
  return m.scheduledAt !== undefined ? Math.max(m.enqueuedAt, m.scheduledAt) : m.enqueuedAt;
}

/** x-opt-message-state: deferred, scheduled (also once a scheduled message is active), or none for active. */
export function reportedState(m: StoredMessage): MessageState | undefined {
  if (m.state === MessageState.Active) return m.scheduledAt !== undefined ? MessageState.Scheduled : undefined;
  return m.state;
}
