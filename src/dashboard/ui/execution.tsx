// One execution: status and times, its replicas, its console output as it is written and the platform's
// system events (the lab's "job logs" page), then a Log Analytics query box.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc, useLoad } from "./api";
import { ErrorNote, Facts, Loading, Section, Status, Table, clock, duration, time } from "./components";
import type { Execution } from "./job";
import { useExecutionLogs, useLive, type LogLine } from "./live";
import { LogAnalytics } from "./log-analytics";
import { href } from "./routes";

function ConsoleLog({ lines }: { lines: LogLine[] }) {
  const box = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  // follow the end while the reader is there; scrolling up stops following
  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [lines.length]);
  return (
    <div
      class="console"
      ref={box}
      tabIndex={0}
      role="log"
      aria-label="Console logs"
      aria-live="polite"
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
      }}
    >
      {lines.length === 0 ? (
        <p class="muted">No console output yet.</p>
      ) : (
        lines.map((l) => (
          <div key={l.id} class={`line ${l.stream === "stderr" ? "stderr" : ""}`}>
            <span class="t">{clock(l.time)}</span>
            <span class="src">{l.replica ? l.replica.slice(-5) : ""}</span>
            <span class="text">{l.text}</span>
          </div>
        ))
      )}
    </div>
  );
}

function SystemEvents({ lines }: { lines: LogLine[] }) {
  return (
    <Table label="System events" head={["Time", "Reason", "Replica", "Message"]} empty="No system events yet">
      {lines.map((l) => (
        <tr key={l.id} class={l.stream === "Warning" ? "warn-row" : ""}>
          <td class="mono small">{clock(l.time)}</td>
          <td>{l.reason}</td>
          <td class="mono small">{l.replica ?? ""}</td>
          <td>{l.text}</td>
        </tr>
      ))}
    </Table>
  );
}

export function ExecutionPage({ job, name }: { job: string; name: string }) {
  const base = `/jobs/${enc(job)}/executions/${enc(name)}`;
  const exec = useLoad<Execution>(() => api(base), base);
  useLive("execution", (ev) => ev.job === job && ev.execution.name === name && exec.set(() => ev.execution));
  useLive("resync", () => exec.reload());
  const lines = useExecutionLogs(job, name);
  const consoleLines = lines.filter((l) => l.kind === "console");
  const systemLines = lines.filter((l) => l.kind === "system");
  const p = exec.data?.properties;

  const [error, setError] = useState<string>();
  const stop = async () => {
    setError(undefined);
    try {
      await api(`${base}/stop`, { body: {} });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.overview()}>Overview</a> › <a href={href.job(job)}>{job}</a> › executions
      </nav>
      <h1>Execution {name}</h1>
      <ErrorNote message={exec.error ?? error} />
      {!p ? (
        !exec.error && <Loading what="the execution" />
      ) : (
        <>
          <Section
            title="Status"
            actions={
              p.status === "Running" && (
                <button type="button" class="secondary" onClick={stop}>
                  Stop execution
                </button>
              )
            }
          >
            <Facts
              label="Execution"
              items={[
                ["Status", <Status value={p.status} />],
                [
                  "Trigger",
                  p.trigger
                    ? `${p.trigger.type}${p.trigger.rules?.length ? ` (${p.trigger.rules.join(", ")})` : ""}`
                    : undefined,
                ],
                ["Started", time(p.startTime)],
                ["Ended", time(p.endTime)],
                ["Duration", p.endTime ? duration(p.startTime, p.endTime) : "running"],
                ["Reason", p.reason],
              ]}
            />
          </Section>
          <Section title="Replicas">
            <Table label="Replicas" head={["Replica", "Status", "Attempt", "Started", "Ended", "Exit code", "Reason"]}>
              {(p.replicas ?? []).map((r) => (
                <tr key={r.name}>
                  <th scope="row" class="mono small">
                    {r.name}
                  </th>
                  <td>
                    <Status value={r.status} />
                  </td>
                  <td class="num">{r.attempt}</td>
                  <td class="nowrap">{time(r.startTime)}</td>
                  <td class="nowrap">{time(r.endTime)}</td>
                  <td class="num">{r.exitCode ?? "—"}</td>
                  <td class="small">{[r.reason, r.message].filter(Boolean).join(": ") || "—"}</td>
                </tr>
              ))}
            </Table>
          </Section>
        </>
      )}
      <Section title="Console logs">
        <ConsoleLog lines={consoleLines} />
      </Section>
      <Section title="System events">
        <SystemEvents lines={systemLines} />
      </Section>
      <LogAnalytics job={job} execution={name} />
    </>
  );
}
