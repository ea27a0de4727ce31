// The AMQP header fields a sender sets that the broker passes on as sent: durable, priority, first-acquirer.
// (ttl is the broker's effective one, delivery-count the broker's count; both are written on delivery.)
// A message whose sender sent a header is stored with a canonical header section in front of its
// message-annotations section; deliveries read the fields back from there.

export interface SentHeader {
  durable: boolean | null;
  priority: number | null;
  firstAcquirer: boolean | null;
}

/** What a message whose sender sent no header is delivered with. */
export const DEFAULT_HEADER: Readonly<SentHeader> = { durable: true, priority: null, firstAcquirer: false };

const HEADER_CODE = 0x70;

/** The fields of a received header (rhea's unwrapped list values); values of a wrong type count as absent. */
export function sentHeader(durable: unknown, priority: unknown, firstAcquirer: unknown): SentHeader {
  return {
    durable: typeof durable === "boolean" ? durable : null,
    priority:
      typeof priority === "number" && Number.isInteger(priority) && priority >= 0 && priority <= 255 ? priority : null,
    firstAcquirer: typeof firstAcquirer === "boolean" ? firstAcquirer : null,
  };
}

const boolByte = (v: boolean | null) => (v === null ? 0x40 : v ? 0x41 : 0x42);

/** The canonical stored header section: list8 of durable, priority, ttl (null), first-acquirer. */
export function encodeSentHeader(h: SentHeader): Buffer {
  const priority = h.priority === null ? [0x40] : [0x50, h.priority];
  const fields = [boolByte(h.durable), ...priority, 0x40, boolByte(h.firstAcquirer)];
  return Buffer.from([0x00, 0x53, HEADER_CODE, 0xc0, fields.length + 1, 4, ...fields]);
}

/**
 * Splits stored annotations into the sender's header (DEFAULT_HEADER when none was stored) and the
 * message-annotations section that follows it.
 */
export function splitStoredHeader(stored: Buffer): { header: SentHeader; annotations: Buffer } {
  if (
    stored.length < 6 ||
    stored[0] !== 0x00 ||
    stored[1] !== 0x53 ||
    stored[2] !== HEADER_CODE ||
    stored[3] !== 0xc0
  ) {
    return { header: DEFAULT_HEADER, annotations: stored };
  }
  const end = 5 + stored[4];
  let at = 6;
  const readBool = (): boolean | null => {
    const c = stored[at++];
    return c === 0x41 ? true : c === 0x42 ? false : null;
  };
  const durable = readBool();
  let priority: number | null = null;
  if (stored[at] === 0x50) {
    priority = stored[at + 1];
    at += 2;
  } else at++;
  at++; // ttl
  const firstAcquirer = readBool();
  return { header: { durable, priority, firstAcquirer }, annotations: stored.subarray(end) };
}

/** Bytes of the header's fields before ttl (durable, priority) and after it (first-acquirer), as written. */
export function headerWidths(h: SentHeader): { before: number; after: number } {
  return { before: 1 + (h.priority === null ? 1 : 2), after: 1 };
}

/** Writes durable and priority at `at`; returns the offset after them. */
export function writeHeaderStart(b: Buffer, at: number, h: SentHeader): number {
  b[at++] = boolByte(h.durable);
  if (h.priority === null) b[at++] = 0x40;
  else {
    b[at++] = 0x50;
    b[at++] = h.priority;
  }
  return at;
}

/** Writes first-acquirer at `at`; returns the offset after it. */
export function writeHeaderFirstAcquirer(b: Buffer, at: number, h: SentHeader): number {
  b[at++] = boolByte(h.firstAcquirer);
  return at;
}
