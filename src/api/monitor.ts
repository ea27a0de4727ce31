// POST /api/v1/monitor/log-analytics/query: KQL over the job logs, for `eventjobs monitor log-analytics query` and
// the dashboard. The body is { workspace, query, timespan? }; the answer is the Log Analytics query API's
// { tables: [{ name, columns, rows }] }. A query Log Analytics would refuse is a 400 BadArgumentError naming
// what and where; an unknown workspace a 404. The workspaces and tables are listed for pickers and schema views.
// See docs/logs.md.
import type { LogBook } from "../jobs/logs.js";
import { KqlError } from "../monitor/kql/values.js";
import { queryLogAnalytics, RequestError } from "../monitor/query.js";
import { tableSchemas } from "../monitor/tables.js";
import { listWorkspaces, WorkspaceNotFound } from "../monitor/workspaces.js";
import { ApiError, jsonBody, type ApiRoute } from "./control.js";

export function registerMonitorApi(route: ApiRoute, o: { logs: () => LogBook; dataDir?: string }): void {
  route("GET", "/monitor/log-analytics/workspaces", () => ({ value: listWorkspaces(o.dataDir) }));
  route("GET", "/monitor/log-analytics/tables", () => ({ value: tableSchemas() }));
  route("POST", "/monitor/log-analytics/query", async (req) => {
    const body = await jsonBody(req);
    for (const k of ["workspace", "query"] as const)
      if (typeof body[k] !== "string" || !(body[k] as string).trim())
        throw new ApiError(
          400,
          "InvalidParameter",
          `${k}: ${JSON.stringify(body[k]) ?? "(missing)"} — expected a non-empty string`,
        );
    if (body.timespan !== undefined && typeof body.timespan !== "string")
      throw new ApiError(
        400,
        "InvalidParameter",
        `timespan: ${JSON.stringify(body.timespan)} — expected an ISO-8601 duration or interval`,
      );
    try {
      return queryLogAnalytics(o.logs(), o.dataDir, {
        workspace: body.workspace as string,
        query: body.query as string,
        timespan: body.timespan as string | undefined,
      });
    } catch (e) {
      if (e instanceof KqlError) throw new ApiError(400, "BadArgumentError", e.message);
      if (e instanceof RequestError) throw new ApiError(400, "InvalidParameter", e.message);
      if (e instanceof WorkspaceNotFound) throw new ApiError(404, "ResourceNotFound", e.message);
      throw e;
    }
  });
}
