// `eventjobs containerapp job logs show`: an execution's lines, or with --follow a stream. Followed without
// --execution, the stream is the job's: every execution's lines as they come, each line naming its replica
// (`<execution>-<suffix>`) and, in text, a `---` line as each execution is created and ends. With --execution it
// is that execution's, and the command exits 0 once the execution has ended.
import { ApiClient, readNdjson } from "./client.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

export interface LogsOptions {
  name: string;
  dataDir: string;
  execution?: string;
  replica?: string;
  container?: string;
  type: string;
  follow?: boolean;
  tail: string;
  format: string;
}

/** system log reasons that begin and end an execution (jobs/executions.ts) */
const CREATED = "ExecutionCreated";
const ENDED = new Set(["ExecutionSucceeded", "ExecutionFailed", "ExecutionStopped"]);

export async function showLogs(o: LogsOptions): Promise<void> {
  const tail = Number(o.tail);
  if (!Number.isInteger(tail) || tail < 0 || tail > 300)
    fail(`Invalid value "${o.tail}" for --tail: expected an integer from 0 to 300`);
  if (o.format !== "json" && o.format !== "text")
    fail(`Invalid value "${o.format}" for --format: expected json or text`);
  if (o.type !== "console" && o.type !== "system")
    fail(`Invalid value "${o.type}" for --type: expected console or system`);
  const api = new ApiClient(o.dataDir);
  const query = (extra: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ kind: o.type, tail: String(tail), replica: o.replica, ...extra }))
      if (v !== undefined) params.set(k, v);
    return `/jobs/${o.name}/logs?${params}`;
  };
  const show = (e: Obj) => {
    if (o.container && e.container !== o.container) return;
    console.log(o.format === "text" ? textLine(e) : jsonLine(e));
  };

  if (!o.follow) {
    let execution = o.execution;
    if (!execution && o.type === "console") {
      const list = (await api.request("GET", `/jobs/${o.name}/executions`)).value as Obj[];
      if (!list.length) fail(`job ${o.name} has no executions yet`);
      execution = list[0].name;
    }
    for (const e of (await api.request("GET", query({ execution }))).value) show(e);
    return;
  }

  const stopped = () => fail(`the eventjobs server on ${o.dataDir} stopped; no more logs to follow`);
  if (o.execution) {
    await readNdjson(await open(api, query({ execution: o.execution, follow: "true" })), show);
    // the stream ends when the execution has ended, or when the server went away
    const e = await api
      .request("GET", `/jobs/${o.name}/executions/${o.execution}`)
      .catch(() => undefined as Obj | undefined);
    if (!e || ["Running", "Processing"].includes(e.properties?.status)) stopped();
    return;
  }

  // the job's stream; in text, the system stream's execution events too, as headings. That stream is opened
  // first, so an execution whose lines the console stream shows was announced, unless it began before the follow.
  const follows: Promise<unknown>[] = [];
  if (o.type === "console" && o.format === "text") {
    const events = await open(api, query({ kind: "system", tail: "0", replica: undefined, follow: "true" }));
    follows.push(
      readNdjson(events, (e: Obj) => {
        if (e.reason === CREATED || ENDED.has(e.reason)) console.log(`${iso(e.time)} --- ${e.text}`);
      }),
    );
  }
  follows.push(readNdjson(await open(api, query({ follow: "true" })), show));
  // either stream ends only when the server goes away: say so and exit 1, as kubectl logs -f does when it loses
  // the server
  await Promise.race(follows);
  stopped();
}

async function open(api: ApiClient, path: string): Promise<Response> {
  const res = await api.fetch("GET", path);
  if (!res.ok || !res.body) fail(((await res.json().catch(() => ({}))) as Obj).error?.message ?? `HTTP ${res.status}`);
  return res;
}

const iso = (ms: number) => new Date(ms).toISOString();

function textLine(e: Obj): string {
  return `${iso(e.time)} ${e.stream ?? ""} ${e.replica ?? e.reason ?? ""}: ${e.text}`;
}

/** One line of az's JSON log stream. */
function jsonLine(e: Obj): string {
  return JSON.stringify({
    TimeStamp: iso(e.time),
    Log: e.text,
    Stream: e.stream,
    ...(e.reason ? { Reason: e.reason } : {}),
    ContainerGroupName: e.replica,
    ContainerName: e.container,
    ContainerJobName: e.job,
    ExecutionName: e.execution,
  });
}
