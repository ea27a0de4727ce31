// Small pieces every page uses: status badges, times and durations, counts, sections, messages.
import { toChildArray, type ComponentChildren } from "preact";

const STATUS_CLASS: Record<string, string> = {
  Succeeded: "ok",
  Completed: "ok",
  Running: "run",
  Processing: "run",
  Pending: "wait",
  Failed: "bad",
  Degraded: "bad",
  Stopped: "off",
};

export function Status({ value }: { value?: string }) {
  if (!value) return <span class="muted">—</span>;
  return <span class={`badge ${STATUS_CLASS[value] ?? "off"}`}>{value}</span>;
}

export function time(iso?: string | number): string {
  if (iso === undefined || iso === "") return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function duration(start?: string, end?: string): string {
  if (!start) return "—";
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function Section(props: {
  title: string;
  id?: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  const id = props.id ?? `s-${props.title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section class="card" aria-labelledby={id}>
      <div class="card-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions && <div class="actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

/** A table that scrolls sideways inside a narrow window instead of widening the page. */
export function Table(props: {
  label: string;
  head: ComponentChildren[];
  children: ComponentChildren;
  empty?: string;
}) {
  const rows = toChildArray(props.children);
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>
        <thead>
          <tr>
            {props.head.map((h, i) => (
              <th key={i} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length ? (
            rows
          ) : (
            <tr>
              <td colSpan={props.head.length} class="muted">
                {props.empty ?? "None"}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

export function ErrorNote({ message }: { message?: string }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}

export function Loading({ what }: { what: string }) {
  return <p class="muted">Loading {what}…</p>;
}

export interface CountDetails {
  activeMessageCount: number;
  deadLetterMessageCount: number;
  scheduledMessageCount: number;
  transferMessageCount: number;
  transferDeadLetterMessageCount?: number;
}

/** The four counts the portal shows for an entity, as table cells. */
export function CountCells({ c }: { c?: CountDetails }) {
  if (!c)
    return (
      <>
        <td colSpan={4} class="muted">
          —
        </td>
      </>
    );
  return (
    <>
      <td class="num" data-count="active">
        {c.activeMessageCount}
      </td>
      <td class={`num${c.deadLetterMessageCount ? " warn" : ""}`} data-count="dead-letter">
        {c.deadLetterMessageCount}
      </td>
      <td class="num" data-count="scheduled">
        {c.scheduledMessageCount}
      </td>
      <td class="num" data-count="transfer">
        {c.transferMessageCount}
      </td>
    </>
  );
}

export const COUNT_HEADS = ["Active", "Dead-letter", "Scheduled", "Transfer"];

/** Definition list of label → value pairs (a resource's settings). */
export function Facts({ items, label }: { items: Array<[string, ComponentChildren]>; label: string }) {
  return (
    <dl class="facts" aria-label={label}>
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v === undefined || v === null || v === "" ? <span class="muted">—</span> : v}</dd>
        </div>
      ))}
    </dl>
  );
}
