// Look at an entity's messages: peek a page at a time (nothing is locked or removed), receive and delete,
// and for the dead-letter queue its reasons, resubmit and purge. Every system property is in a message's
// details.
import { useId, useState } from "preact/hooks";
import { api } from "./api";
import { ErrorNote, Table, time } from "./components";

export interface Message {
  sequenceNumber: number;
  messageId?: string;
  body: unknown;
  bodyEncoding?: string;
  contentType?: string;
  subject?: string;
  correlationId?: string;
  sessionId?: string;
  to?: string;
  replyTo?: string;
  applicationProperties: Record<string, unknown>;
  enqueuedTimeUtc: string;
  deliveryCount: number;
  state: string;
  expiresAtUtc?: string;
  scheduledEnqueueTimeUtc?: string;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
}

const PAGE = 20;
const bodyText = (m: Message) => (typeof m.body === "string" ? m.body : JSON.stringify(m.body));

function Details({ m }: { m: Message }) {
  const system: Array<[string, unknown]> = [
    ["Sequence number", m.sequenceNumber],
    ["Message id", m.messageId],
    ["Content type", m.contentType],
    ["Subject", m.subject],
    ["Correlation id", m.correlationId],
    ["Session id", m.sessionId],
    ["To", m.to],
    ["Reply to", m.replyTo],
    ["Enqueued time (UTC)", m.enqueuedTimeUtc],
    ["Scheduled enqueue time (UTC)", m.scheduledEnqueueTimeUtc],
    ["Expires at (UTC)", m.expiresAtUtc],
    ["Delivery count", m.deliveryCount],
    ["State", m.state],
    ["Dead-letter reason", m.deadLetterReason],
    ["Dead-letter error description", m.deadLetterErrorDescription],
    ["Body encoding", m.bodyEncoding],
  ];
  return (
    <div class="message-details">
      <h4>System properties</h4>
      <dl class="facts">
        {system
          .filter(([, v]) => v !== undefined && v !== null)
          .map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{String(v)}</dd>
            </div>
          ))}
      </dl>
      <h4>Application properties</h4>
      {Object.keys(m.applicationProperties ?? {}).length ? (
        <dl class="facts">
          {Object.entries(m.applicationProperties).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p class="muted">None</p>
      )}
      <h4>Body</h4>
      <pre class="body">{bodyText(m)}</pre>
    </div>
  );
}

/** `base`: the entity's API path (a queue or a subscription); `deadLetter`: its dead-letter queue instead. */
export function MessageBrowser({ base, deadLetter, label }: { base: string; deadLetter?: boolean; label: string }) {
  const id = useId();
  const [messages, setMessages] = useState<Message[]>();
  const [open, setOpen] = useState<number>();
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const [receiveCount, setReceiveCount] = useState(1);
  const [confirmPurge, setConfirmPurge] = useState(false);
  const [more, setMore] = useState(false);

  const run = async (what: () => Promise<void>) => {
    setError(undefined);
    setNote(undefined);
    try {
      await what();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const load = async (from: number, append: boolean) => {
    const q = new URLSearchParams({ from: String(from), count: String(PAGE) });
    if (deadLetter) q.set("deadLetter", "true");
    const page: Message[] = (await api(`${base}/messages?${q}`)).value;
    setMessages((old) => (append ? [...(old ?? []), ...page] : page));
    setMore(page.length === PAGE);
    if (!append) setSelected(new Set());
  };
  const peek = (from: number, append: boolean) => run(() => load(from, append));
  const receive = () =>
    run(async () => {
      const r = await api(`${base}/messages/receive`, {
        body: { mode: "receiveAndDelete", count: receiveCount, waitSeconds: 0, ...(deadLetter ? { deadLetter } : {}) },
      });
      setMessages(r.value);
      setMore(false);
      setNote(`Received and deleted ${r.value.length} message${r.value.length === 1 ? "" : "s"}.`);
    });
  const resubmit = () =>
    run(async () => {
      const r = await api(`${base}/messages/resubmit`, { body: { sequenceNumbers: [...selected] } });
      await load(0, false);
      setNote(`Resubmitted ${r.resubmitted.length} message${r.resubmitted.length === 1 ? "" : "s"}.`);
    });
  const purge = () =>
    run(async () => {
      setConfirmPurge(false);
      const r = await api(`${base}/messages/purge`, { body: deadLetter ? { deadLetter } : {} });
      setMessages([]);
      setMore(false);
      setNote(`Purged ${r.purged} message${r.purged === 1 ? "" : "s"}.`);
    });
  const toggle = (seq: number) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(seq)) next.delete(seq);
      else next.add(seq);
      return next;
    });

  const last = messages?.[messages.length - 1]?.sequenceNumber ?? 0;
  return (
    <div class="browser">
      <div class="toolbar">
        <button type="button" onClick={() => peek(0, false)}>
          Peek from start
        </button>
        {more && (
          <button type="button" class="secondary" onClick={() => peek(last + 1, true)}>
            Next {PAGE}
          </button>
        )}
        <span class="group">
          <label for={`${id}-count`}>Count</label>
          <input
            id={`${id}-count`}
            class="narrow"
            type="number"
            min={1}
            max={1000}
            value={receiveCount}
            onInput={(e) => setReceiveCount(Math.max(1, Number(e.currentTarget.value) || 1))}
          />
          <button type="button" class="secondary" onClick={receive}>
            Receive and delete
          </button>
        </span>
        {deadLetter && (
          <button type="button" class="secondary" disabled={!selected.size} onClick={resubmit}>
            Resubmit selected ({selected.size})
          </button>
        )}
        {confirmPurge ? (
          <span class="group">
            <button type="button" class="danger" onClick={purge}>
              Confirm purge
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmPurge(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" class="secondary" onClick={() => setConfirmPurge(true)}>
            Purge…
          </button>
        )}
      </div>
      {note && (
        <p class="ok-text" role="status">
          {note}
        </p>
      )}
      <ErrorNote message={error} />
      {messages && (
        <Table
          label={label}
          head={[
            ...(deadLetter ? [<span class="sr-only">Select</span>] : []),
            "Seq",
            "Message id",
            "Enqueued",
            "State",
            "Deliveries",
            ...(deadLetter ? ["Dead-letter reason"] : []),
            "Body",
            "",
          ]}
          empty="No messages"
        >
          {messages.flatMap((m) => [
            <tr key={m.sequenceNumber} data-seq={m.sequenceNumber}>
              {deadLetter && (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select message ${m.sequenceNumber}`}
                    checked={selected.has(m.sequenceNumber)}
                    onChange={() => toggle(m.sequenceNumber)}
                  />
                </td>
              )}
              <td class="num">{m.sequenceNumber}</td>
              <td class="mono small">{m.messageId}</td>
              <td class="nowrap">{time(m.enqueuedTimeUtc)}</td>
              <td>{m.state}</td>
              <td class="num">{m.deliveryCount}</td>
              {deadLetter && <td>{m.deadLetterReason ?? <span class="muted">—</span>}</td>}
              <td class="body-cell">{bodyText(m)}</td>
              <td>
                <button
                  type="button"
                  class="link"
                  aria-expanded={open === m.sequenceNumber}
                  onClick={() => setOpen(open === m.sequenceNumber ? undefined : m.sequenceNumber)}
                >
                  {open === m.sequenceNumber ? "Hide" : "Details"}
                  <span class="sr-only"> of message {m.sequenceNumber}</span>
                </button>
              </td>
            </tr>,
            open === m.sequenceNumber && (
              <tr key={`${m.sequenceNumber}-details`}>
                <td colSpan={deadLetter ? 9 : 7}>
                  <Details m={m} />
                </td>
              </tr>
            ),
          ])}
        </Table>
      )}
    </div>
  );
}
