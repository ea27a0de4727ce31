// One table of the errors the broker reports, with the AMQP condition and status code the SDKs map
// (JS ServiceBusError.code / Python exception types; docs/servicebus-wire.md §6). Every condition the AMQP
// layer sends and every status the admin API answers with comes from here.

export const ERROR_CODES = {
  MessageLockLost: { condition: "com.microsoft:message-lock-lost", status: 410 },
  SessionLockLost: { condition: "com.microsoft:session-lock-lost", status: 410 },
  SessionCannotBeLocked: { condition: "com.microsoft:session-cannot-be-locked", status: 410 },
  MessageNotFound: { condition: "com.microsoft:message-not-found", status: 404 },
  EntityNotFound: { condition: "amqp:not-found", status: 404 },
  EntityAlreadyExists: { condition: "com.microsoft:entity-already-exists", status: 409 },
  EntityDisabled: { condition: "com.microsoft:entity-disabled", status: 400 },
  Unauthorized: { condition: "amqp:unauthorized-access", status: 401 },
  MessageSizeExceeded: { condition: "amqp:link:message-size-exceeded", status: 403 },
  QuotaExceeded: { condition: "amqp:resource-limit-exceeded", status: 403 },
  Timeout: { condition: "com.microsoft:timeout", status: 408 },
  ServerBusy: { condition: "com.microsoft:server-busy", status: 503 },
  ArgumentError: { condition: "com.microsoft:argument-error", status: 400 },
  NotAllowed: { condition: "amqp:not-allowed", status: 400 },
  NotImplemented: { condition: "amqp:not-implemented", status: 501 },
  DecodeError: { condition: "amqp:decode-error", status: 400 },
  InternalError: { condition: "amqp:internal-error", status: 500 },
  /** $cbs answers an operation other than put-token with 400 and this condition (wire §2.3) */
  CbsOperationNotSupported: { condition: "amqp:not-implemented", status: 400 },
  /** connection-level (wire §1.4): a frame that breaks the framing rules closes the connection */
  FramingError: { condition: "amqp:connection:framing-error", status: 400 },
  /** admin API: an HTTP method the path does not take */
  MethodNotAllowed: { condition: "amqp:not-allowed", status: 405 },
  /** admin API: a request body over the limit */
  RequestTooLarge: { condition: "amqp:resource-limit-exceeded", status: 413 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BrokerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "BrokerError";
  }
  get condition(): string {
    return ERROR_CODES[this.code].condition;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
  /** The AMQP error (close, detach, rejected outcome) carrying this error. */
  toAmqp(): { condition: string; description: string } {
    return { condition: this.condition, description: this.message };
  }
}

/** The condition of a code, for the few places that send one without raising a BrokerError. */
export function conditionOf(code: ErrorCode): string {
  return ERROR_CODES[code].condition;
}

/** The service's texts, so users searching for an error message find the Service Bus docs. */
export const errors = {
  lockLost: () =>
    new BrokerError(
      "MessageLockLost",
      "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue, or was received by a different receiver instance.",
    ),
  entityNotFound: (address: string) =>
    new BrokerError("EntityNotFound", `The messaging entity '${address}' could not be found.`),
  unauthorized: (claim: string, resource: string) =>
    new BrokerError(
      "Unauthorized",
      `Unauthorized access. '${claim}' claim(s) are required to perform this operation. Resource: '${resource}'.`,
    ),
  messageNotFound: (seq: number) =>
    new BrokerError(
      "MessageNotFound",
      `Failed to lock one or more specified messages. The message with sequence number ${seq} is not deferred or could not be found.`,
    ),
  sessionCannotBeLocked: (sessionId: string) =>
    new BrokerError(
      "SessionCannotBeLocked",
      `The requested session '${sessionId}' cannot be accepted. It may be locked by another receiver.`,
    ),
  sessionLockLost: () =>
    new BrokerError(
      "SessionLockLost",
      "The session lock has expired on the MessageSession. Accept a new MessageSession.",
    ),
  timeout: (ms: number) =>
    new BrokerError(
      "Timeout",
      `The operation did not complete within the allotted timeout of ${timespan(ms)}. The time allotted to this operation may have been a portion of a longer timeout.`,
    ),
  sizeExceeded: (size: number, limit: number) =>
    new BrokerError(
      "MessageSizeExceeded",
      `The received message (size:${size} bytes) exceeds the limit (${limit} bytes) currently allowed on the link.`,
    ),
  entityFull: (kind: string, path: string, size: number, max: number) =>
    new BrokerError(
      "QuotaExceeded",
      `The maximum entity size has been reached or exceeded for ${kind}: '${path}'. Size of entity in bytes:${size}, Max entity size in bytes: ${max}.`,
    ),
};

/** .NET TimeSpan text (hh:mm:ss, with .fff when there are milliseconds), as the service's messages print it. */
function timespan(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const two = (n: number) => String(n).padStart(2, "0");
  const base = `${two(Math.floor(t / 3_600_000))}:${two(Math.floor(t / 60_000) % 60)}:${two(Math.floor(t / 1000) % 60)}`;
  return t % 1000 ? `${base}.${String(t % 1000).padStart(3, "0")}0000` : base;
}
