// `npm start -- --once`: the lab end to end on a fresh data dir, as a newcomer runs it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TEST_CA_DIR } from "../helpers/broker.js";
import { FREE_PORTS, ROOT } from "../helpers/server-process.js";

function npmStart(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn("npm", ["start", "--silent", "--", ...args], {
      cwd: ROOT,
      env: { ...process.env, EVENTJOBS_CA_DIR: TEST_CA_DIR, ...env },
    });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

describe("npm start (the demo)", () => {
  it("with the TypeScript processor: the message starts an execution that prints and completes it", async () => {
    // inside the checkout, so the processor resolves @azure/* from its node_modules (as in the demo)
    const dataDir = join(ROOT, `.eventjobs-e2e-${process.pid}`);
    try {
      const r = await npmStart([
        "--once",
        "--processor",
        "ts",
        "--data-dir",
        dataDir,
        "--message",
        "e2e hello",
        ...FREE_PORTS,
      ]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /processor: examples\/seed\/app-ts\/processor.ts/);
      assert.match(r.out, /image: eventjobsdemo.azurecr.io\/job-python:1.0.0 built from examples\/seed\/app/);
      assert.match(r.out, /execution job-python-[a-z0-9]{7} started \d+ ms after the message was sent/);
      assert.match(r.out, /\[stdout\] Received: e2e hello/);
      assert.match(r.out, /execution job-python-[a-z0-9]{7} Succeeded/);
      assert.match(r.out, /MANAGED_IDENTITY_CLIENT_ID=[0-9a-f-]{36}/);
      assert.match(r.out, /IDENTITY_HEADER=\(sensitive\)/);
      assert.doesNotMatch(r.out, /SharedAccessKey=/, "no connection string printed");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
