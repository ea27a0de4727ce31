// Send a message: body, content type, message id, session id, subject, application properties and a
// scheduled enqueue time, posted to the queue's or topic's /messages as `servicebus message send` does.
import { useId, useState } from "preact/hooks";
import { api } from "./api";
import { ErrorNote } from "./components";

interface Prop {
  key: string;
  value: string;
}

/** "42" is sent as a number and "true"/"false" as booleans, as a typed value in the SDKs would be. */
function typed(v: string): string | number | boolean {
  if (v === "true" || v === "false") return v === "true";
  return /^-?\d+(\.\d+)?$/.test(v) && Number.isFinite(Number(v)) ? Number(v) : v;
}

export function SendForm({ base, requiresSession }: { base: string; requiresSession?: boolean }) {
  const id = useId();
  const [body, setBody] = useState("");
  const [contentType, setContentType] = useState("text/plain");
  const [messageId, setMessageId] = useState("");
  const [sessionId, setSessionId] = useState("");
  const [subject, setSubject] = useState("");
  const [scheduled, setScheduled] = useState("");
  const [props, setProps] = useState<Prop[]>([]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<string>();

  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const applicationProperties = Object.fromEntries(
        props.filter((p) => p.key.trim()).map((p) => [p.key.trim(), typed(p.value)]),
      );
      const r = await api(`${base}/messages`, {
        body: {
          body,
          ...(contentType ? { contentType } : {}),
          ...(messageId ? { messageId } : {}),
          ...(sessionId ? { sessionId } : {}),
          ...(subject ? { subject } : {}),
          ...(Object.keys(applicationProperties).length ? { applicationProperties } : {}),
          // datetime-local is the browser's local time; the API takes UTC
          ...(scheduled ? { scheduledEnqueueTimeUtc: new Date(scheduled).toISOString() } : {}),
        },
      });
      setResult(`Sent: sequence number ${r.sequenceNumber}, message id ${r.messageId}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const setProp = (i: number, p: Partial<Prop>) => setProps((old) => old.map((x, j) => (j === i ? { ...x, ...p } : x)));

  return (
    <form class="send-form" onSubmit={send} aria-label="Send a message">
      <label for={`${id}-body`}>Message body</label>
      <textarea
        id={`${id}-body`}
        rows={4}
        value={body}
        onInput={(e) => setBody(e.currentTarget.value)}
        placeholder="Hello from the dashboard"
      />
      <div class="fields">
        <div>
          <label for={`${id}-ct`}>Content type</label>
          <input id={`${id}-ct`} value={contentType} onInput={(e) => setContentType(e.currentTarget.value)} />
        </div>
        <div>
          <label for={`${id}-mid`}>Message id</label>
          <input
            id={`${id}-mid`}
            value={messageId}
            placeholder="generated"
            onInput={(e) => setMessageId(e.currentTarget.value)}
          />
        </div>
        <div>
          <label for={`${id}-sid`}>Session id{requiresSession ? " (required)" : ""}</label>
          <input
            id={`${id}-sid`}
            value={sessionId}
            required={requiresSession}
            onInput={(e) => setSessionId(e.currentTarget.value)}
          />
        </div>
        <div>
          <label for={`${id}-subj`}>Subject (label)</label>
          <input id={`${id}-subj`} value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
        </div>
        <div>
          <label for={`${id}-at`}>Scheduled enqueue time (local)</label>
          <input
            id={`${id}-at`}
            type="datetime-local"
            step={1}
            value={scheduled}
            onInput={(e) => setScheduled(e.currentTarget.value)}
          />
        </div>
      </div>
      <fieldset>
        <legend>Application properties</legend>
        {props.map((p, i) => (
          <div class="prop-row" key={i}>
            <input
              aria-label={`Property ${i + 1} name`}
              placeholder="name"
              value={p.key}
              onInput={(e) => setProp(i, { key: e.currentTarget.value })}
            />
            <input
              aria-label={`Property ${i + 1} value`}
              placeholder="value"
              value={p.value}
              onInput={(e) => setProp(i, { value: e.currentTarget.value })}
            />
            <button type="button" class="secondary" onClick={() => setProps((old) => old.filter((_, j) => j !== i))}>
              Remove<span class="sr-only"> property {i + 1}</span>
            </button>
          </div>
        ))}
        <button type="button" class="secondary" onClick={() => setProps((old) => [...old, { key: "", value: "" }])}>
          Add property
        </button>
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Sending…" : "Send message"}
        </button>
        {result && (
          <span class="ok-text" role="status">
            {result}
          </span>
        )}
      </div>
      <ErrorNote message={error} />
    </form>
  );
}
