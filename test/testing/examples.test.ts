// The example suites in examples/testing/ run as a user runs them. node:test uses this repository's packages and,
// through the `eventjobs-source` export condition, src/ (no build). vitest and jest each run in a temporary copy
// of their folder: `npm ci` from the folder's own lockfile (this repository's node_modules is never touched), then
// node_modules/eventjobs linked to this repository, whose built dist/ they import as a user's project would.
// Without network the two are skipped, saying why; under CI=true that is a failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { TEST_CA_DIR } from "../helpers/broker.js";
import { tempFiles } from "../helpers/files.js";

const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLES = join(ROOT, "examples/testing");
const CI = process.env.CI === "true" || process.env.CI === "1";
const { tempDir } = tempFiles("eventjobs-examples-");
// NODE_TEST_CONTEXT (set by this runner) would make the example's `node --test` skip its files as nested
const env = {
  ...process.env,
  NODE_TEST_CONTEXT: undefined,
  EVENTJOBS_CA_DIR: TEST_CA_DIR,
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

interface Run {
  code: number | null;
  out: string;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n(killed after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

/** The newest modification time under a directory (files with one of the extensions). */
function newest(dir: string, ext: RegExp): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, ext));
    else if (ext.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Why dist/ cannot stand for src/ (missing or older), or undefined when it can. */
function distProblem(): string | undefined {
  const built = join(ROOT, "dist/testing/index.js");
  if (!existsSync(built)) return "dist/ has no testing/index.js: run `npm run build` (npm ci does)";
  if (statSync(built).mtimeMs < newest(join(ROOT, "src"), /\.ts$/))
    return "dist/ is older than src/: run `npm run build`";
  return undefined;
}

const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network/i;

/** Skips (outside CI) or fails (under CI) with the reason. */
function cannot(t: TestContext, reason: string): void {
  if (CI) assert.fail(reason);
  t.skip(reason);
}

async function runIsolated(t: TestContext, name: string, passed: RegExp): Promise<void> {
  const problem = distProblem();
  if (problem) return cannot(t, problem);
  const dir = join(tempDir(), name);
  cpSync(join(EXAMPLES, name), dir, { recursive: true, filter: (src) => !src.includes("node_modules") });
  const install = await run("npm", ["ci", "--no-audit", "--no-fund"], dir, 8 * 60_000);
  if (install.code !== 0) {
    if (NETWORK.test(install.out)) return cannot(t, `npm ci could not reach the registry:\n${install.out.slice(-800)}`);
    assert.fail(`npm ci in a copy of examples/testing/${name} failed:\n${install.out.slice(-3000)}`);
  }
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules", "eventjobs"), "dir");
  const tests = await run("npm", ["test"], dir, 5 * 60_000);
  assert.equal(tests.code, 0, `npm test in examples/testing/${name}:\n${tests.out.slice(-5000)}`);
  assert.match(tests.out, passed, tests.out.slice(-3000));
}

describe("examples/testing", { timeout: 20 * 60_000 }, () => {
  it("node:test: the example suite passes", async () => {
    const r = await run(
      process.execPath,
      ["--import", "tsx", "--conditions=eventjobs-source", "--test", "examples/testing/node-test/orders.test.ts"],
      ROOT,
      120_000,
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^# pass 3$/m, r.out);
    assert.match(r.out, /^# fail 0$/m);
  });

  it("node:test: the example type-checks against eventjobs/testing's types (the admin client's options included)", async () => {
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const r = await run(process.execPath, [tsc, "-p", "test/testing/examples.tsconfig.json"], ROOT, 180_000);
    assert.equal(r.code, 0, r.out);
  });

  it("vitest: the example suite passes in a fresh install of its folder", async (t) => {
    await runIsolated(t, "vitest", /Tests\s+3 passed \(3\)/);
  });

  it("jest: the example suite passes in a fresh install of its folder", async (t) => {
    await runIsolated(t, "jest", /Tests:\s+3 passed, 3 total/);
  });
});
