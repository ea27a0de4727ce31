// The dashboard's page and assets on every HTTP(S) port: `/` is the page, `/assets/*` its script, styles and
// icon, all from the bundle `npm ci` built (scripts/build-dashboard.ts, into dist/dashboard/public) and nothing
// from elsewhere: it works offline. The data comes from /api/v1 like the CLI's (docs/dashboard.md).
// Every answer carries a Content-Security-Policy that allows only this origin and no inline script or style,
// and may not be framed; the request guard (src/http/request-guard.ts) checks Host and Origin first.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ServerResponse } from "node:http";
import type { Request, Router } from "../http/router.js";

/** Where the build puts the bundle: dist/dashboard/public, beside this file's folder in src/ or dist/. */
export const DASHBOARD_DIR = resolve(import.meta.dirname, "../../dist/dashboard/public");

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The files the build writes; nothing else under the folder is ever served. */
const FILES: Record<string, string> = {
  "/": "index.html",
  "/assets/app.js": "assets/app.js",
  "/assets/app.css": "assets/app.css",
  "/assets/favicon.svg": "assets/favicon.svg",
  "/favicon.ico": "assets/favicon.svg",
};

const SECURITY_HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export function registerDashboard(router: Router, dir = DASHBOARD_DIR): void {
  for (const [path, file] of Object.entries(FILES)) {
    router.on("GET", path, (req, res) => serve(req, res, resolve(dir, file)));
    router.on("HEAD", path, (req, res) => serve(req, res, resolve(dir, file)));
  }
}

async function serve(req: Request, res: ServerResponse, file: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    const text =
      "The dashboard is not built. In the eventjobs checkout run `npm run build:dashboard` (npm ci does it).\n";
    res.writeHead(503, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" });
    res.end(req.method === "HEAD" ? undefined : text);
    return;
  }
  const ext = /\.[a-z]+$/.exec(file)?.[0] ?? "";
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": TYPES[ext] ?? "application/octet-stream",
    "content-length": body.length,
    // the page and its assets change with each build; revalidating them costs a local request
    "cache-control": "no-cache",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
