// A job as `az containerapp job show` has it: trigger, scale rules with their metadata, identity, containers
// and their environment variables (secrets masked by the server; the page never sees a value), then the
// scale explainer's recent decisions and the executions, live. Start and stop as `job start` / `job stop`.
import { useMemo, useState } from "preact/hooks";
import { api, enc, throttle, useLoad } from "./api";
import { ErrorNote, Facts, Loading, Section, Status, Table, duration, time } from "./components";
import { useLive } from "./live";
import { href } from "./routes";

export interface Execution {
  name: string;
  properties: {
    status: string;
    startTime: string;
    endTime?: string;
    trigger?: { type: string; rules?: string[] };
    reason?: string;
    replicas?: Array<{
      name: string;
      status: string;
      attempt: number;
      startTime: string;
      endTime?: string;
      exitCode?: number;
      reason?: string;
      message?: string;
    }>;
  };
}

const MASK = "(sensitive)";
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Puts an execution from an event into the newest-first list (replacing the same one). */
export function upsert(old: Execution[] | undefined, e: Execution): Execution[] {
  const rest = (old ?? []).filter((x) => x.name !== e.name);
  return [e, ...rest].sort((a, b) => b.properties.startTime.localeCompare(a.properties.startTime));
}

function EnvTable({ containers }: { containers: any[] }) {
  const rows = containers.flatMap((c) => list(c.env).map((v) => ({ container: c.name, ...v })));
  return (
    <Table
      label="Environment variables"
      head={["Container", "Name", "Source", "Value"]}
      empty="No environment variables"
    >
      {rows.map((v) => (
        <tr key={`${v.container}/${v.name}`} data-env={v.name}>
          <td>{v.container}</td>
          <th scope="row" class="mono">
            {v.name}
          </th>
          <td>{v.secretRef ? "Reference a secret" : "Manual entry"}</td>
          <td class="mono">
            {v.secretRef ? (
              <span class="masked" title="Secret values are never sent to the dashboard">
                •••••• <span class="muted">secretref:{v.secretRef}</span>
              </span>
            ) : v.value === MASK ? (
              <span class="masked" title="A secret by its name: the server does not send its value">
                •••••• <span class="muted">(sensitive)</span>
              </span>
            ) : (
              v.value
            )}
          </td>
        </tr>
      ))}
    </Table>
  );
}

function Definition({ job }: { job: any }) {
  const conf = job.properties.configuration ?? {};
  const trigger = conf.eventTriggerConfig ?? conf.manualTriggerConfig ?? conf.scheduleTriggerConfig ?? {};
  const scale = trigger.scale ?? {};
  const containers = list(job.properties.template?.containers);
  const identities = Object.keys(job.identity?.userAssignedIdentities ?? {});
  return (
    <>
      <div class="grid">
        <Section title="Configuration">
          <Facts
            label="Configuration"
            items={[
              ["Trigger type", conf.triggerType],
              ["Replica timeout", conf.replicaTimeout !== undefined ? `${conf.replicaTimeout} s` : undefined],
              ["Retry limit", conf.replicaRetryLimit],
              ["Parallelism", trigger.parallelism],
              ["Completion count", trigger.replicaCompletionCount],
              ["Cron expression", trigger.cronExpression],
              ["Polling interval", scale.pollingInterval !== undefined ? `${scale.pollingInterval} s` : undefined],
              [
                "Min / max executions",
                scale.maxExecutions !== undefined ? `${scale.minExecutions ?? 0} / ${scale.maxExecutions}` : undefined,
              ],
              ["Paused", job.properties.paused ? "yes" : undefined],
              [
                "Secrets",
                list(conf.secrets)
                  .map((s) => s.name)
                  .join(", ") || undefined,
              ],
            ]}
          />
        </Section>
        <Section title="Identity">
          <Facts
            label="Identity"
            items={[
              ["Type", job.identity?.type ?? "None"],
              ["User-assigned", identities.map((i) => i.replace(/^.*\//, "")).join(", ") || undefined],
            ]}
          />
        </Section>
      </div>
      {list(scale.rules).length > 0 && (
        <Section title="Scale rules">
          <Table label="Scale rules" head={["Rule", "Type", "Metadata", "Authentication"]}>
            {list(scale.rules).map((r) => (
              <tr key={r.name}>
                <th scope="row">{r.name}</th>
                <td>{r.type}</td>
                <td>
                  <dl class="facts compact">
                    {Object.entries(r.metadata ?? {}).map(([k, v]) => (
                      <div key={k}>
                        <dt>{k}</dt>
                        <dd>{String(v)}</dd>
                      </div>
                    ))}
                  </dl>
                </td>
                <td class="small">
                  {list(r.auth)
                    .map((a) => `${a.triggerParameter} ← secretref:${a.secretRef}`)
                    .join(", ")}
                </td>
              </tr>
            ))}
          </Table>
        </Section>
      )}
      <Section title="Containers">
        <Table label="Containers" head={["Container", "Image", "CPU", "Memory", "Command"]}>
          {containers.map((c) => (
            <tr key={c.name}>
              <th scope="row">{c.name}</th>
              <td class="mono small">{c.image}</td>
              <td>{c.resources?.cpu ?? "—"}</td>
              <td>{c.resources?.memory ?? "—"}</td>
              <td class="mono small">{[...list(c.command), ...list(c.args)].join(" ") || "(image default)"}</td>
            </tr>
          ))}
        </Table>
      </Section>
      <Section title="Environment variables">
        <EnvTable containers={containers} />
      </Section>
    </>
  );
}

function Decisions({ decisions }: { decisions: any[] }) {
  const recent = [...decisions].reverse().slice(0, 15);
  return (
    <Table
      label="Scale decisions"
      head={["Time", "Cause", "Queue length", "Running", "Pending", "Wanted", "Started", "Summary"]}
      empty="No decisions yet (the scaler decides when messages arrive and every polling interval)"
    >
      {recent.map((d, i) => (
        <tr key={`${d.time}-${i}`}>
          <td class="nowrap">{time(d.time)}</td>
          <td>{d.cause}</td>
          <td class="num">{d.queueLength}</td>
          <td class="num">{d.running}</td>
          <td class="num">{d.pending}</td>
          <td class="num">{d.wanted}</td>
          <td class="num">{d.started}</td>
          <td class="small">{d.summary}</td>
        </tr>
      ))}
    </Table>
  );
}

export function ExecutionRow({ job, e, onStop }: { job: string; e: Execution; onStop(name: string): void }) {
  const p = e.properties;
  const exits = (p.replicas ?? []).filter((r) => r.exitCode !== undefined).map((r) => r.exitCode);
  return (
    <tr data-execution={e.name}>
      <th scope="row">
        <a href={href.execution(job, e.name)}>{e.name}</a>
      </th>
      <td>
        <Status value={p.status} />
      </td>
      <td>{p.trigger?.type ?? "—"}</td>
      <td class="nowrap">{time(p.startTime)}</td>
      <td class="nowrap">{time(p.endTime)}</td>
      <td>{p.endTime ? duration(p.startTime, p.endTime) : p.status === "Running" ? "running" : "—"}</td>
      <td class="num">{exits.length ? exits.join(", ") : "—"}</td>
      <td>
        {p.status === "Running" && (
          <button type="button" class="secondary small" onClick={() => onStop(e.name)}>
            Stop<span class="sr-only"> {e.name}</span>
          </button>
        )}
      </td>
    </tr>
  );
}

export function JobPage({ name }: { name: string }) {
  const base = `/jobs/${enc(name)}`;
  const job = useLoad(() => api(base), base);
  const executions = useLoad<Execution[]>(async () => (await api(`${base}/executions`)).value, `${base}/executions`);
  const decisions = useLoad<any[]>(async () => (await api(`${base}/decisions`)).value, `${base}/decisions`);
  const [note, setNote] = useState<{ text: string; link?: string }>();
  const [error, setError] = useState<string>();
  const reloadDecisions = useMemo(() => throttle(() => decisions.reload(), 1000), [decisions.reload]);
  useLive("execution", (ev) => ev.job === name && executions.set((old) => upsert(old, ev.execution)));
  useLive("job", (ev) => ev.name === name && reloadDecisions());
  useLive("resync", () => {
    executions.reload();
    decisions.reload();
  });

  const act = async (what: () => Promise<void>) => {
    setError(undefined);
    setNote(undefined);
    try {
      await what();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const start = () =>
    act(async () => {
      const r = await api(`${base}/start`, { body: {} });
      setNote({ text: `Started ${r.name}`, link: href.execution(name, r.name) });
    });
  const stop = (execution?: string) =>
    act(async () => {
      if (execution) await api(`${base}/executions/${enc(execution)}/stop`, { body: {} });
      else await api(`${base}/stop`, { body: {} });
      setNote({ text: execution ? `Stopping ${execution}` : "Stopping every running execution" });
    });

  const running = (executions.data ?? []).some((e) => e.properties.status === "Running");
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.overview()}>Overview</a> › jobs
      </nav>
      <h1>Job {name}</h1>
      <ErrorNote message={job.error} />
      {job.data ? <Definition job={job.data} /> : !job.error && <Loading what="the job" />}
      <Section
        title="Executions"
        actions={
          <>
            <button type="button" onClick={start}>
              Start execution
            </button>
            <button type="button" class="secondary" disabled={!running} onClick={() => stop()}>
              Stop running
            </button>
          </>
        }
      >
        {note && (
          <p class="ok-text" role="status">
            {note.link ? <a href={note.link}>{note.text}</a> : note.text}
          </p>
        )}
        <ErrorNote message={error ?? executions.error} />
        <Table
          label="Executions"
          head={["Execution", "Status", "Trigger", "Started", "Ended", "Duration", "Exit codes", ""]}
          empty="No executions yet"
        >
          {(executions.data ?? []).map((e) => (
            <ExecutionRow key={e.name} job={name} e={e} onStop={stop} />
          ))}
        </Table>
      </Section>
      {job.data?.properties.configuration?.triggerType === "Event" && (
        <Section title="Scale decisions">
          <ErrorNote message={decisions.error} />
          <Decisions decisions={decisions.data ?? []} />
        </Section>
      )}
    </>
  );
}
