// One Log Analytics query, as the control API and the CLI run it: the workspace named, the request's time
// range (az's --timespan), then the KQL over the job logs. The answer has the Log Analytics query API's shape.
import type { LogBook } from "../jobs/logs.js";
import { parseDuration } from "../model/duration.js";
import { runQuery, type QueryTable } from "./kql/run.js";
import { toDateTime } from "./kql/values.js";
import { logTable } from "./tables.js";
import { findWorkspace } from "./workspaces.js";

export interface LogAnalyticsRequest {
  workspace: string;
  query: string;
  /** ISO-8601: a duration ending now (P1D, PT1H), start/end, start/duration or duration/end */
  timespan?: string;
}

/** A request the caller got wrong (not the query itself, which raises KqlError): names the field and value. */
export class RequestError extends Error {
  override name = "RequestError";
}

export function parseTimespan(text: string, now: number): { since: number; until: number } {
  const bad = () =>
    new RequestError(
      `timespan: "${text}" is not an ISO-8601 duration (P1D, PT1H) or interval (start/end, start/P1D, P1D/end)`,
    );
  const dur = (s: string) => {
    const ms = parseDuration(s);
    return /^P/.test(s) && Number.isFinite(ms) ? ms : undefined;
  };
  const date = (s: string) => toDateTime(s)?.ms;
  const parts = text.trim().split("/");
  if (parts.length === 1) {
    const d = dur(parts[0]);
    if (d === undefined) throw bad();
    return { since: now - d, until: now };
  }
  if (parts.length !== 2) throw bad();
  const [a, b] = parts;
  const [da, db, ta, tb] = [dur(a), dur(b), date(a), date(b)];
  if (ta !== undefined && tb !== undefined && ta <= tb) return { since: ta, until: tb };
  if (ta !== undefined && db !== undefined) return { since: ta, until: ta + db };
  if (da !== undefined && tb !== undefined) return { since: tb - da, until: tb };
  throw bad();
}

export function queryLogAnalytics(
  logs: LogBook,
  dataDir: string | undefined,
  req: LogAnalyticsRequest,
  now = Date.now(),
): { tables: QueryTable[] } {
  findWorkspace(dataDir, req.workspace);
  const range = req.timespan === undefined ? undefined : parseTimespan(req.timespan, now);
  return { tables: [runQuery(req.query, { now, range, table: (name) => logTable(logs, name) })] };
}
