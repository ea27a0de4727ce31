// `eventjobs containerapp job explain`: why a job's executions did or did not start. An Event job: the scaler's
// recent decisions with every input. A Schedule job: its cron expression and when it runs next (jobs/cron.ts, as
// its trigger computes it). A Manual job: only `job start` starts it.
import { CronError, nextRun, parseCron } from "../jobs/cron.js";
import { ApiClient } from "./client.js";
import { checkFormat, print, type Column } from "./output.js";
import { span } from "./time-format.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

const DECISION_COLUMNS: Column[] = [
  { header: "Time", get: (d) => d.time },
  { header: "Cause", get: (d) => d.cause },
  {
    header: "Queue",
    get: (d) => d.rules.map((r: Obj) => `${r.name}=${r.error ? "error" : r.queueLength}`).join(" "),
  },
  { header: "Running", get: (d) => d.running },
  { header: "Max", get: (d) => d.maxExecutions },
  { header: "Started", get: (d) => d.started },
  { header: "Decision", get: (d) => d.summary },
];

export async function explain(
  dataDir: string,
  name: string,
  output: string,
  o: { all?: boolean; query?: string } = {},
): Promise<void> {
  checkFormat(output);
  // a sentence in a terminal; the object for -o json|yaml|tsv and for --query
  const sentences = output === "table" && o.query === undefined;
  const api = new ApiClient(dataDir);
  const job = await api.request("GET", `/jobs/${name}`);
  const triggerType = job.properties?.configuration?.triggerType;
  const paused = job.properties?.paused === true;
  if (triggerType === "Schedule")
    return schedule(
      name,
      job.properties.configuration.scheduleTriggerConfig?.cronExpression,
      paused,
      output,
      sentences,
    );
  if (triggerType === "Manual") {
    const explanation = `${name} is a Manual job: it starts only on \`eventjobs containerapp job start -n ${name}\`; no scaler or schedule starts it`;
    if (sentences) return void console.log(explanation);
    return print({ name, triggerType, explanation }, output, [
      { header: "Name", get: (v) => v.name },
      { header: "TriggerType", get: (v) => v.triggerType },
      { header: "Explanation", get: (v) => v.explanation },
    ]);
  }
  const decisions = (await api.request("GET", `/jobs/${name}/decisions`)).value as Obj[];
  print(o.all ? decisions : decisions.slice(-10), output, DECISION_COLUMNS);
}

/** ISO 8601 in UTC to the second (a schedule fires on whole minutes). */
const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

function schedule(name: string, cronExpression: string, paused: boolean, output: string, sentences: boolean): void {
  const now = new Date();
  let next: Date;
  try {
    next = nextRun(parseCron(cronExpression), now);
  } catch (e) {
    if (e instanceof CronError) fail(`job ${name}: ${e.message}`);
    throw e;
  }
  const value = {
    name,
    triggerType: "Schedule",
    cronExpression,
    timeZone: "UTC",
    nextRun: isoSeconds(next),
    nextRunIn: span(next.getTime() - now.getTime()),
    ...(paused ? { paused } : {}),
  };
  if (!sentences)
    return print(value, output, [
      { header: "Name", get: (v) => v.name },
      { header: "CronExpression", get: (v) => v.cronExpression },
      { header: "NextRun", get: (v) => v.nextRun },
      { header: "NextRunIn", get: (v) => v.nextRunIn },
    ]);
  console.log(`${name} is a Schedule job: it starts an execution each time "${cronExpression}" comes due (UTC)`);
  if (paused)
    console.log(`it is paused (paused: true): nothing starts until it is unpaused; the schedule's next time is:`);
  console.log(`next run: ${value.nextRun} (in ${value.nextRunIn})`);
}
