// The control API (/api/v1, JSON; described in docs/openapi.yaml) that the CLI and the dashboard use.
// Jobs in the Container Apps resource shape; errors as Azure's { error: { code, message } }.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import { writeFileAtomic } from "../files.js";
import { ConfigError } from "../model/config.js";
import { RefError } from "../model/refs.js";
import { JobDefinitionError } from "../jobs/job-definition.js";
import { RuleError } from "../servicebus/authorization-rules.js";
import type { Jobs } from "../triggering/jobs-service.js";
import { UNFINISHED, type ExecutionRecord, type LogQuery } from "../jobs/store.js";
import { masked, SENSITIVE, unmasked } from "../control/secrets.js";
import { executionResource as armExecution, jobGroup, jobResource } from "./arm.js";
import { readBody, sendJson, type Request, type Router } from "../http/router.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** e.g. a config's problems, one object each (file, line, col, path, value, expected) */
    readonly details?: unknown[],
  ) {
    super(message);
  }
}

export interface ControlApiOptions {
  jobs: Jobs;
  /** where the API token lives (`<data-dir>/api-token`); required from clients not on loopback */
  dataDir: string;
  /** the listener's bind address: the token is only enforced when it is not loopback */
  host: string;
  /** aborted when the server shuts down: open streams (logs --follow) end then, so shutdown does not wait for them */
  stopping?: AbortSignal;
}

export const API_PREFIX = "/api/v1";

const isLoopback = (host: string) =>
  host === "127.0.0.1" || host === "::1" || host === "localhost" || host.startsWith("127.");

/** Reads or creates the API token (0600 in the data dir). */
export function apiToken(dataDir: string): string {
  const file = join(dataDir, "api-token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = randomBytes(24).toString("base64url");
  writeFileAtomic(file, token + "\n");
  return token;
}

export type ApiHandler = (req: Request, res: ServerResponse) => Promise<unknown> | unknown;
export type ApiRoute = (method: string, path: string, fn: ApiHandler) => void;

/** Every /api/v1 route registered on a router, as `METHOD /path/:param` (the OpenAPI test reads it). */
export const apiRoutes = new WeakMap<Router, Array<{ method: string; path: string }>>();

/**
 * How every control API module registers a route under /api/v1: `:name` parameters, the token check
 * when the server is not on loopback, JSON out (201 for a PUT that created), errors as Azure's body.
 */
export function apiRoute(router: Router, o: { dataDir: string; host: string }): ApiRoute {
  const token = isLoopback(o.host) ? undefined : apiToken(o.dataDir);
  const list = apiRoutes.get(router) ?? [];
  apiRoutes.set(router, list);
  return (method, path, fn) => {
    list.push({ method, path });
    const pattern = new RegExp(`^${API_PREFIX}${path.replace(/:(\w+)/g, "(?<$1>[^/]+)")}$`);
    router.on(method, pattern, async (req, res) => {
      try {
        if (token && !sameToken(req.headers.authorization, `Bearer ${token}`))
          throw new ApiError(
            401,
            "Unauthorized",
            "the control API needs `Authorization: Bearer <token>` (the token is in <data-dir>/api-token)",
          );
        const out = await fn(req, res);
        if (!res.headersSent)
          sendJson(
            res,
            out === undefined ? 204 : method === "PUT" && (out as { created?: boolean }).created ? 201 : 200,
            stripCreated(out),
          );
      } catch (e) {
        const err = toApiError(e);
        if (!res.headersSent)
          sendJson(res, err.status, {
            error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
          });
        else res.end();
      }
    });
  };
}

function sameToken(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? "");
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerControlApi(router: Router, o: ControlApiOptions): void {
  const { jobs } = o;
  const route = apiRoute(router, o);
  const jobEntry = (name: string) => {
    const stored = jobs.store.listJobs().find((j) => j.name === name);
    if (!stored)
      throw new ApiError(404, "ResourceNotFound", `The Resource 'Microsoft.App/jobs/${name}' was not found.`);
    return stored.definition as Record<string, unknown>;
  };
  // an execution's id carries its job's resource group
  const executionResource = (e: Parameters<typeof armExecution>[0]) =>
    armExecution(
      e,
      jobGroup(jobs.store.listJobs().find((j) => j.name === e.job)?.definition as Record<string, unknown>),
    );
  const execution = (job: string, name: string) => {
    const e = jobs.engine.execution(name);
    if (!e || e.job !== job)
      throw new ApiError(404, "ResourceNotFound", `Job execution '${name}' of job '${job}' was not found.`);
    return e;
  };

  // an execution's log follower ends with it (`job logs show --follow --execution` exits then); one engine listener,
  // added with the first such follower, serves them all
  const endWith = new Map<string, Set<() => void>>();
  let watchingEnds = false;
  const endsWith = (execution: string): Set<() => void> => {
    if (!watchingEnds) {
      watchingEnds = true;
      jobs.engine.on("executionFinished", (e: ExecutionRecord) => {
        for (const end of endWith.get(e.name) ?? []) end();
      });
    }
    let enders = endWith.get(execution);
    if (!enders) endWith.set(execution, (enders = new Set()));
    return enders;
  };

  // secrets never leave as they are (control/secrets.ts): every job and execution is masked on the way out
  route("GET", "/jobs", () => ({
    value: jobs.store.listJobs().map((j) => jobResource(masked(j.definition as Record<string, unknown>))),
  }));
  route("GET", "/jobs/:name", (req) => jobResource(masked(jobEntry(req.params.name))));
  // the entry as written (references unresolved, secrets masked), for read-modify-write updates
  route("GET", "/jobs/:name/definition", (req) => masked(jobEntry(req.params.name)));
  route("PUT", "/jobs/:name", async (req) => {
    const body = await jsonBody(req);
    const stored = jobs.store.listJobs().find((j) => j.name === req.params.name)?.definition as
      Record<string, unknown> | undefined;
    // what came back masked keeps the stored value (job update sends back what it read)
    const { entry, missing } = unmasked({ ...body, name: req.params.name }, stored);
    if (missing.length)
      throw new ApiError(
        400,
        "InvalidParameter",
        `${missing.join(", ")}: "${SENSITIVE}" stands for a value this job does not have; give the value itself`,
      );
    jobs.apply(entry);
    return { ...jobResource(masked(entry)), created: !stored };
  });
  route("DELETE", "/jobs/:name", (req) => {
    jobEntry(req.params.name);
    jobs.remove(req.params.name);
    return undefined;
  });
  route("POST", "/jobs/:name/start", async (req) => {
    jobEntry(req.params.name);
    const body = await jsonBody(req, true);
    const e = jobs.runtime.start(req.params.name, body && Object.keys(body).length ? body : undefined);
    return { id: executionResource(e).id, name: e.name };
  });
  route("POST", "/jobs/:name/stop", async (req) => {
    jobEntry(req.params.name);
    const body = (await jsonBody(req, true)) as { jobExecutionName?: string; executionNameList?: string[] } | undefined;
    const names = body?.executionNameList ?? (body?.jobExecutionName ? [body.jobExecutionName] : undefined);
    if (names) for (const n of names) execution(req.params.name, n);
    const stopped = names
      ? names.flatMap((n) => jobs.engine.stop(req.params.name, n))
      : jobs.engine.stop(req.params.name);
    return { value: stopped.map((e) => ({ name: e.name, id: executionResource(e).id })) };
  });
  route("GET", "/jobs/:name/executions", (req) => {
    jobEntry(req.params.name);
    // newest first, as the portal and `az containerapp job execution list` show them
    return {
      value: jobs.engine
        .executions(req.params.name)
        .reverse()
        .map((e) => masked(executionResource(e))),
    };
  });
  route("GET", "/jobs/:name/executions/:execution", (req) =>
    masked(executionResource(execution(req.params.name, req.params.execution))),
  );
  route("POST", "/jobs/:name/executions/:execution/stop", (req) => {
    const e = execution(req.params.name, req.params.execution);
    jobs.engine.stop(req.params.name, e.name);
    return { name: e.name, id: executionResource(e).id };
  });
  route("GET", "/jobs/:name/decisions", (req) => {
    jobEntry(req.params.name);
    return { value: jobs.runtime.decisions(req.params.name) };
  });
  route("GET", "/jobs/:name/logs", (req, res) => {
    jobEntry(req.params.name);
    const q = logQuery(req);
    if (req.query.get("follow") !== "true") return { value: jobs.logs.query(q) };
    if (o.stopping?.aborted) throw new ApiError(503, "ServiceUnavailable", "the server is shutting down");
    const followed = q.execution === undefined ? undefined : execution(req.params.name, q.execution);
    // follow: newline-delimited JSON, one entry per line, until the client goes away or the server stops, or
    // the followed execution has finished (its last lines are written before the engine says so)
    res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-cache" });
    res.flushHeaders(); // a client knows it is following before the first line comes
    const unfollow = jobs.logs.follow(q, (e) => res.write(JSON.stringify(e) + "\n"));
    const keepAlive = setInterval(() => res.write("\n"), 15_000);
    const end = () => res.end();
    o.stopping?.addEventListener("abort", end, { once: true });
    const enders = followed && endsWith(followed.name);
    enders?.add(end);
    res.on("close", () => {
      unfollow();
      clearInterval(keepAlive);
      o.stopping?.removeEventListener("abort", end);
      enders?.delete(end);
      if (followed && enders?.size === 0) endWith.delete(followed.name);
    });
    if (followed && !UNFINISHED.has(followed.status)) end();
    return undefined;
  });
}

function logQuery(req: Request): LogQuery {
  const q: LogQuery = { job: req.params.name };
  const str = (k: string) => req.query.get(k) ?? undefined;
  const num = (k: string) => {
    const v = req.query.get(k);
    if (v === null) return undefined;
    const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(n)) throw new ApiError(400, "InvalidParameter", `${k}: "${v}" is not a number or a date`);
    return n;
  };
  q.execution = str("execution");
  q.replica = str("replica");
  const kind = str("kind");
  if (kind && kind !== "console" && kind !== "system")
    throw new ApiError(400, "InvalidParameter", `kind: "${kind}" — expected console or system`);
  q.kind = kind as LogQuery["kind"];
  q.since = num("since");
  q.until = num("until");
  q.tail = num("tail");
  return q;
}

export async function jsonBody(req: Request, optional = false): Promise<Record<string, unknown>> {
  const raw = (await readBody(req)).toString("utf8").trim();
  if (!raw) {
    if (optional) return {};
    throw new ApiError(400, "InvalidRequestContent", "the request body is empty; expected a JSON object");
  }
  try {
    const v = JSON.parse(raw);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new ApiError(400, "InvalidRequestContent", `the request body is not a JSON object: ${(e as Error).message}`);
  }
}

/** The one place an error becomes the control API's HTTP status and Azure error code. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof RuleError) return new ApiError(e.status, e.code, e.message);
  if (e instanceof ConfigError) return new ApiError(400, "InvalidConfig", e.message, e.issues);
  if (e instanceof JobDefinitionError || e instanceof RefError) return new ApiError(400, "InvalidParameter", e.message);
  const status = (e as { status?: number }).status;
  if (status === 413) return new ApiError(413, "RequestTooLarge", String((e as Error).message));
  if (status === 503) return new ApiError(503, "ServiceUnavailable", String((e as Error).message));
  const message = String((e as Error)?.message ?? e);
  if (/ not found$/.test(message)) return new ApiError(404, "ResourceNotFound", message);
  return new ApiError(500, "InternalError", message);
}

function stripCreated(out: unknown): unknown {
  if (out && typeof out === "object" && "created" in out) {
    const { created: _c, ...rest } = out as Record<string, unknown>;
    return rest;
  }
  return out;
}
