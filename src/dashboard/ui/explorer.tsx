// The Service Bus explorer: one queue, topic or subscription with its live counts. A queue: send, its
// messages, its dead-letter queue. A topic: send to it, and its subscriptions (each one peeks on its own
// page). A subscription: its messages and dead-letter queue.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, enc, useLoad } from "./api";
import { COUNT_HEADS, CountCells, ErrorNote, Facts, Loading, Section, Table, type CountDetails } from "./components";
import { useLive } from "./live";
import { MessageBrowser } from "./messages";
import { href } from "./routes";
import { SendForm } from "./send-form";

type Kind = "queue" | "topic" | "subscription";
interface Props {
  kind: Kind;
  ns: string;
  name: string;
  topic?: string;
}
interface Resource {
  name: string;
  properties: { countDetails: CountDetails; requiresSession?: boolean; [k: string]: unknown };
}

function apiBase({ kind, ns, name, topic }: Props): string {
  const n = `/servicebus/namespaces/${enc(ns)}`;
  if (kind === "queue") return `${n}/queues/${enc(name)}`;
  if (kind === "topic") return `${n}/topics/${enc(name)}`;
  return `${n}/topics/${enc(topic!)}/subscriptions/${enc(name)}`;
}

const same = (a?: string, b?: string) => String(a).toLowerCase() === String(b).toLowerCase();

/** ARIA tabs: the selected tab is in the Tab order, the arrow keys move between tabs (WAI-ARIA tabs pattern). */
function Tabs<T extends string>(props: { tabs: Array<[T, string]>; value: T; onChange(v: T): void; label: string }) {
  const keys = (e: KeyboardEvent) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const i = props.tabs.findIndex(([v]) => v === props.value);
    const next = props.tabs[(i + step + props.tabs.length) % props.tabs.length][0];
    props.onChange(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  return (
    <div class="tabs" role="tablist" aria-label={props.label} onKeyDown={keys}>
      {props.tabs.map(([v, text]) => (
        <button
          type="button"
          role="tab"
          key={v}
          id={`tab-${v}`}
          aria-selected={props.value === v}
          aria-controls={`panel-${v}`}
          tabIndex={props.value === v ? 0 : -1}
          onClick={() => props.onChange(v)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}

export function ExplorerPage(props: Props) {
  const base = apiBase(props);
  const key = `${base}`;
  const entity = useLoad<Resource>(() => api(base), key);
  const subs = useLoad<Resource[]>(
    async () => (props.kind === "topic" ? (await api(`${base}/subscriptions`)).value : []),
    `${key}/subs`,
  );
  useLive("resync", () => {
    entity.reload();
    subs.reload();
  });
  useLive("entity", (ev) => {
    if (!same(ev.namespace, props.ns) || ev.deleted) return;
    if (ev.kind === props.kind && same(ev.name, props.name) && same(ev.topic, props.topic))
      entity.set(() => ev.resource);
    if (props.kind === "topic" && ev.kind === "subscription" && same(ev.topic, props.name))
      subs.set((old) => old?.map((s) => (same(s.name, ev.name) ? ev.resource : s)));
  });
  type Tab = "send" | "messages" | "deadletter";
  const tabs: Array<[Tab, string]> =
    props.kind === "queue"
      ? [
          ["send", "Send"],
          ["messages", "Messages"],
          ["deadletter", "Dead-letter queue"],
        ]
      : props.kind === "subscription"
        ? [
            ["messages", "Messages"],
            ["deadletter", "Dead-letter queue"],
          ]
        : [["send", "Send"]];
  const [tab, setTab] = useState<Tab>(tabs[0][0]);
  const current = tabs.some(([t]) => t === tab) ? tab : tabs[0][0];

  const title =
    props.kind === "subscription"
      ? `Subscription ${props.topic}/${props.name}`
      : `${props.kind === "queue" ? "Queue" : "Topic"} ${props.name}`;
  const c = entity.data?.properties.countDetails;
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.overview()}>Overview</a> › {props.ns}
        {props.topic && (
          <>
            {" › "}
            <a href={href.topic(props.ns, props.topic)}>{props.topic}</a>
          </>
        )}
      </nav>
      <h1>{title}</h1>
      <ErrorNote message={entity.error} />
      {!entity.data ? (
        !entity.error && <Loading what={props.kind} />
      ) : (
        <>
          <Section title="Counts">
            <Facts
              label="Message counts"
              items={(
                [
                  ["Active", c?.activeMessageCount],
                  ["Dead-letter", c?.deadLetterMessageCount],
                  ["Scheduled", c?.scheduledMessageCount],
                  ["Transfer", c?.transferMessageCount],
                ] as const
              ).map(([k, v]): [string, ComponentChildren] => [
                k,
                <span data-count={k.toLowerCase()}>{String(v ?? 0)}</span>,
              ])}
            />
          </Section>
          <Tabs<Tab> label="Explorer" tabs={tabs} value={current} onChange={(v) => setTab(v)} />
          <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`} class="card">
            {current === "send" && (
              <SendForm
                base={base}
                requiresSession={props.kind === "queue" && Boolean(entity.data.properties.requiresSession)}
              />
            )}
            {current === "messages" && <MessageBrowser base={base} label="Messages" />}
            {current === "deadletter" && <MessageBrowser base={base} deadLetter label="Dead-lettered messages" />}
          </div>
          {props.kind === "topic" && (
            <Section title="Subscriptions">
              <Table label="Subscriptions" head={["Subscription", ...COUNT_HEADS]} empty="No subscriptions">
                {(subs.data ?? []).map((s) => (
                  <tr key={s.name}>
                    <th scope="row">
                      <a href={href.subscription(props.ns, props.name, s.name)}>{s.name}</a>
                    </th>
                    <CountCells c={s.properties.countDetails} />
                  </tr>
                ))}
              </Table>
            </Section>
          )}
        </>
      )}
    </>
  );
}
