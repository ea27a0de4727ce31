// Overview: the lab's "deployed resources" page. Namespaces with their queues, topics and subscriptions and
// live counts; jobs with their trigger and last execution; identities and role assignments.
import { useMemo } from "preact/hooks";
import { api, enc, throttle, useLoad } from "./api";
import {
  COUNT_HEADS,
  CountCells,
  ErrorNote,
  Loading,
  Section,
  Status,
  Table,
  time,
  type CountDetails,
} from "./components";
import { useLive } from "./live";
import { href } from "./routes";

interface Entity {
  name: string;
  properties: { countDetails: CountDetails; [k: string]: unknown };
}
interface Topic extends Entity {
  subscriptions: Entity[];
}
interface Namespace {
  name: string;
  endpoint: string;
  queues: Entity[];
  topics: Topic[];
}
interface JobRow {
  name: string;
  triggerType: string;
  last?: { name: string; properties: { status: string; startTime: string } };
}
interface Overview {
  namespaces: Namespace[];
  jobs: JobRow[];
  identities: Array<{ name: string; clientId: string; principalId: string }>;
  assignments: Array<{ name: string; roleDefinitionName: string; assignee: string; scope: string }>;
}

async function loadOverview(): Promise<Overview> {
  const [ns, jobs, identities, assignments] = await Promise.all([
    api("/servicebus/namespaces"),
    api("/jobs"),
    api("/identities"),
    api("/roleAssignments"),
  ]);
  const namespaces = await Promise.all(
    (ns.value as any[]).map(async (n): Promise<Namespace> => {
      const base = `/servicebus/namespaces/${enc(n.name)}`;
      const [queues, topics] = await Promise.all([api(`${base}/queues`), api(`${base}/topics`)]);
      const withSubs = await Promise.all(
        (topics.value as Entity[]).map(async (t) => ({
          ...t,
          subscriptions: (await api(`${base}/topics/${enc(t.name)}/subscriptions`)).value,
        })),
      );
      return { name: n.name, endpoint: n.properties.serviceBusEndpoint, queues: queues.value, topics: withSubs };
    }),
  );
  const jobRows = await Promise.all(
    (jobs.value as any[]).map(async (j): Promise<JobRow> => {
      const executions = await api(`/jobs/${enc(j.name)}/executions`);
      return { name: j.name, triggerType: j.properties.configuration.triggerType, last: executions.value[0] };
    }),
  );
  return { namespaces, jobs: jobRows, identities: identities.value, assignments: assignments.value };
}

/** The overview with one entity replaced; undefined when the entity is not on it (a new one: load again). */
function withEntity(o: Overview, ev: any): Overview | undefined {
  if (ev.deleted) return undefined;
  let found = false;
  const swap = <T extends Entity>(list: T[], name: string): T[] =>
    list.map((x) => {
      if (x.name.toLowerCase() !== String(name).toLowerCase()) return x;
      found = true;
      return { ...x, properties: ev.resource.properties };
    });
  const namespaces = o.namespaces.map((n) => {
    if (n.name.toLowerCase() !== String(ev.namespace).toLowerCase()) return n;
    if (ev.kind === "queue") return { ...n, queues: swap(n.queues, ev.name) };
    if (ev.kind === "topic") return { ...n, topics: swap(n.topics, ev.name) };
    return {
      ...n,
      topics: n.topics.map((t) =>
        t.name.toLowerCase() === String(ev.topic).toLowerCase()
          ? { ...t, subscriptions: swap(t.subscriptions, ev.name) }
          : t,
      ),
    };
  });
  return found ? { ...o, namespaces } : undefined;
}

export function OverviewPage() {
  const o = useLoad(loadOverview, "overview");
  const reload = useMemo(() => throttle(() => o.reload(), 1000), [o.reload]);
  useLive("entity", (ev) => {
    if (!o.data) return;
    const next = withEntity(o.data, ev);
    if (next) o.set(() => next);
    else reload();
  });
  useLive("resync", () => o.reload());
  useLive("execution", (ev) => {
    const known = o.data?.jobs.some((j) => j.name === ev.job);
    if (!known) return reload();
    o.set(
      (old) =>
        old && {
          ...old,
          jobs: old.jobs.map((j) =>
            j.name === ev.job &&
            (!j.last ||
              j.last.name === ev.execution.name ||
              j.last.properties.startTime <= ev.execution.properties.startTime)
              ? { ...j, last: ev.execution }
              : j,
          ),
        },
    );
  });

  if (!o.data) return o.error ? <ErrorNote message={o.error} /> : <Loading what="the resources" />;
  const { namespaces, jobs, identities, assignments } = o.data;
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote message={o.error} />
      {namespaces.map((n) => (
        <Section key={n.name} title={`Service Bus namespace ${n.name}`}>
          <p class="muted small">{n.endpoint}</p>
          <Table label={`Queues of ${n.name}`} head={["Queue", ...COUNT_HEADS]} empty="No queues">
            {n.queues.map((q) => (
              <tr key={q.name} data-entity={q.name}>
                <th scope="row">
                  <a href={href.queue(n.name, q.name)}>{q.name}</a>
                </th>
                <CountCells c={q.properties.countDetails} />
              </tr>
            ))}
          </Table>
          {n.topics.length > 0 && (
            <Table label={`Topics of ${n.name}`} head={["Topic / subscription", ...COUNT_HEADS]}>
              {n.topics.flatMap((t) => [
                <tr key={t.name} data-entity={t.name}>
                  <th scope="row">
                    <a href={href.topic(n.name, t.name)}>{t.name}</a>
                  </th>
                  <CountCells c={t.properties.countDetails} />
                </tr>,
                ...t.subscriptions.map((s) => (
                  <tr key={`${t.name}/${s.name}`} data-entity={`${t.name}/${s.name}`}>
                    <th scope="row" class="indent">
                      <a href={href.subscription(n.name, t.name, s.name)}>{s.name}</a>
                    </th>
                    <CountCells c={s.properties.countDetails} />
                  </tr>
                )),
              ])}
            </Table>
          )}
        </Section>
      ))}
      <Section title="Container Apps jobs">
        <Table label="Jobs" head={["Job", "Trigger", "Last execution", "Status", "Started"]} empty="No jobs">
          {jobs.map((j) => (
            <tr key={j.name} data-job={j.name}>
              <th scope="row">
                <a href={href.job(j.name)}>{j.name}</a>
              </th>
              <td>{j.triggerType}</td>
              <td>
                {j.last ? (
                  <a href={href.execution(j.name, j.last.name)}>{j.last.name}</a>
                ) : (
                  <span class="muted">none yet</span>
                )}
              </td>
              <td>
                <Status value={j.last?.properties.status} />
              </td>
              <td class="nowrap">{time(j.last?.properties.startTime)}</td>
            </tr>
          ))}
        </Table>
      </Section>
      <div class="grid">
        <Section title="Managed identities">
          <Table label="Managed identities" head={["Identity", "Client id", "Principal id"]} empty="No identities">
            {identities.map((i) => (
              <tr key={i.name}>
                <th scope="row">{i.name}</th>
                <td class="mono">{i.clientId}</td>
                <td class="mono">{i.principalId}</td>
              </tr>
            ))}
          </Table>
        </Section>
        <Section title="Role assignments">
          <Table label="Role assignments" head={["Role", "Assignee", "Scope"]} empty="No role assignments">
            {assignments.map((a) => (
              <tr key={a.name}>
                <td>{a.roleDefinitionName}</td>
                <td>{a.assignee}</td>
                <td class="mono small">{a.scope.replace(/^.*\/providers\/Microsoft\.ServiceBus\//, "")}</td>
              </tr>
            ))}
          </Table>
        </Section>
      </div>
    </>
  );
}
