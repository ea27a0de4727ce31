// The lines of `eventjobs up`'s activity feed (`--quiet` turns it off): one per report of
// triggering/activity.ts, e.g. `12:01:03 queue-messages ← message (1 active) → job-python`.
import type { Activity } from "../triggering/activity.js";
import type { ExecutionRecord } from "../jobs/store.js";
import { clockTime, span } from "./time-format.js";

export function activityLine(a: Activity): string {
  const t = clockTime(a.time);
  if (a.type === "messages")
    return `${t} ${a.entity} ← ${a.count === 1 ? "message" : `${a.count} messages`} (${a.active} active) → ${a.jobs.join(", ")}`;
  const e = a.execution;
  if (a.type === "started") return `${t} ${e.name} started (${startedBy(e)})`;
  const took = e.endTime ? ` in ${span(Date.parse(e.endTime) - Date.parse(e.startTime))}` : "";
  return `${t} ${e.name} ${e.status}${took}${e.status === "Failed" ? failure(e) : ""}`;
}

function startedBy(e: ExecutionRecord): string {
  const t = e.trigger;
  if (t?.type === "Event")
    return t.rules?.length ? `scale rule${t.rules.length > 1 ? "s" : ""} ${t.rules.join(", ")}` : "scale rule";
  return t?.type === "Schedule" ? "schedule" : "job start";
}

/** The last failed replica's end: its reason and exit code, nothing it printed. */
function failure(e: ExecutionRecord): string {
  const r = [...e.replicas].reverse().find((x) => x.status === "Failed");
  return r ? ` (${r.reason ?? "Error"}, exit code ${r.exitCode ?? "?"})` : "";
}
