// The control API for projects: POST /plan, /apply and /destroy with the project file's text and path
// (so references and relative image contexts resolve as they would for the file), GET /project.
// apply and destroy answer newline-delimited JSON: one event per step as it happens, then the result.
import { isAbsolute } from "node:path";
import type { ServerResponse } from "node:http";
import { parseConfigText } from "../config/load.js";
import type { ProjectService, ProgressEvent } from "../control/project-service.js";
import { ApiError, jsonBody, toApiError, type ApiRoute } from "./control.js";
import type { Request } from "../http/router.js";

async function projectBody(req: Request, service: ProjectService) {
  const body = await jsonBody(req);
  if (typeof body.text !== "string")
    throw new ApiError(400, "InvalidRequestContent", "text: expected the project file's content as a string");
  if (typeof body.file !== "string" || !isAbsolute(body.file))
    throw new ApiError(400, "InvalidRequestContent", "file: expected the project file's absolute path");
  return service.keepKeys(parseConfigText(body.text, body.file));
}

/** Streams progress events, then the result (or the error) as the last line. */
async function stream(
  res: ServerResponse,
  run: (progress: (e: ProgressEvent) => void) => Promise<unknown>,
): Promise<void> {
  res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-cache" });
  const send = (e: unknown) => res.write(JSON.stringify(e) + "\n");
  try {
    send({ event: "result", ...((await run(send)) as object) });
  } catch (e) {
    const err = toApiError(e);
    const code = err.code === "InternalError" ? "ApplyFailed" : err.code;
    send({ event: "error", error: { code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
  }
  res.end();
}

export function registerProjectApi(route: ApiRoute, service: ProjectService): void {
  route("GET", "/project", () => {
    const s = service.state();
    return { source: s.source ?? null, appliedAt: s.appliedAt ?? null, resources: s.owned };
  });
  route("POST", "/plan", async (req) => service.plan(await projectBody(req, service)));
  route("POST", "/apply", async (req, res) => {
    const config = await projectBody(req, service); // a file that does not parse is a plain 400
    await stream(res, (progress) => service.apply(config, progress));
  });
  route("POST", "/destroy", async (_req, res) => stream(res, (progress) => service.destroy(progress)));
}
