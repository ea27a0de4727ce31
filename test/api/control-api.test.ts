// The control API: every route the platform registers is described in docs/openapi.yaml (and nothing
// else is), and a server not bound to loopback answers only requests carrying the token from the data dir.
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import { apiRoutes, registerControlApi } from "../../src/api/control.js";
import { Router } from "../../src/http/router.js";
import type { Jobs } from "../../src/triggering/jobs-service.js";
import { startBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { tempFiles } from "../helpers/files.js";

const { tempDir } = tempFiles("eventjobs-api-");
const DOC = parse(readFileSync(new URL("../../docs/openapi.yaml", import.meta.url), "utf8"));
const METHODS = ["get", "put", "post", "delete", "patch"];

describe("docs/openapi.yaml", () => {
  it("describes every /api/v1 route the platform registers, and only those", async () => {
    const b = await startBroker("");
    try {
      const registered = apiRoutes
        .get(b.platform.router)!
        .map((r) => `${r.method} /api/v1${r.path.replace(/:(\w+)/g, "{$1}")}`);
      assert.ok(registered.length >= 25, `${registered.length} routes`);
      const documented = Object.entries(DOC.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      );
      assert.deepEqual(
        registered.filter((r) => !documented.includes(r)),
        [],
        "registered but not documented",
      );
      assert.deepEqual(
        documented.filter((d) => !registered.includes(d)),
        [],
        "documented but not registered",
      );
    } finally {
      await b.close();
    }
  });

  it("is OpenAPI 3 whose every $ref resolves and whose path parameters are declared", () => {
    assert.match(DOC.openapi, /^3\./);
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object")
        for (const [k, x] of Object.entries(v)) {
          if (k === "$ref") refs.push(String(x));
          else walk(x);
        }
    };
    walk(DOC);
    for (const ref of refs)
      assert.ok(
        ref
          .slice(2)
          .split("/")
          .reduce((o: any, k) => o?.[k], DOC),
        `unresolved ${ref}`,
      );
    const param = (p: any) =>
      p.$ref
        ? p.$ref
            .slice(2)
            .split("/")
            .reduce((o: any, k: string) => o?.[k], DOC)
        : p;
    for (const [path, ops] of Object.entries(DOC.paths as Record<string, any>)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const m of METHODS.filter((x) => ops[x])) {
        const declared = [...(ops.parameters ?? []), ...(ops[m].parameters ?? [])]
          .map(param)
          .filter((p) => p.in === "path")
          .map((p) => p.name);
        assert.deepEqual(declared.sort(), [...names].sort(), `${m} ${path}: path parameters`);
      }
    }
  });
});

describe("the control API token", () => {
  const servers: Array<{ close(): void }> = [];
  after(() => servers.forEach((s) => s.close()));

  /** A control API registered as for `--host <host>`, served on loopback (binding all interfaces is not for tests). */
  async function serve(host: string) {
    const dataDir = tempDir();
    const router = new Router();
    const jobs = { store: { listJobs: () => [] } } as unknown as Jobs;
    registerControlApi(router, { jobs, dataDir, host });
    const server = createServer(router.handle);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { dataDir, url, get: (headers: Record<string, string> = {}) => fetch(`${url}/api/v1/jobs`, { headers }) };
  }

  it("off loopback: 401 without the token or with a wrong one, 200 with it; the token file is 0600", async () => {
    const s = await serve("0.0.0.0");
    const token = readFileSync(join(s.dataDir, "api-token"), "utf8").trim();
    assert.equal(statSync(join(s.dataDir, "api-token")).mode & 0o777, 0o600);
    assert.ok(token.length >= 32);
    const none = await s.get();
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), {
      error: {
        code: "Unauthorized",
        message: "the control API needs `Authorization: Bearer <token>` (the token is in <data-dir>/api-token)",
      },
    });
    assert.equal((await s.get({ authorization: `Bearer ${token}x` })).status, 401);
    assert.equal((await s.get({ authorization: token })).status, 401);
    const ok = await s.get({ authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { value: [] });

    // the CLI reads the token from the data dir on its own
    writeFileSync(join(s.dataDir, "server.json"), JSON.stringify({ pid: process.pid, http: s.url }));
    const r = await cli(s.dataDir, ["containerapp", "job", "list"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "[]\n");
  });

  it("on loopback no token is needed and none is written", async () => {
    for (const host of ["127.0.0.1", "::1", "localhost"]) {
      const s = await serve(host);
      assert.equal((await s.get()).status, 200, host);
      assert.throws(() => statSync(join(s.dataDir, "api-token")), /ENOENT/);
    }
  });
});
