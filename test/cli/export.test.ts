// `eventjobs export` as a user runs it: the real CLI in a child process, reading a project file.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { importAcaYaml } from "../../src/config/import-aca.js";
import { normalizeJob } from "../../src/jobs/job-definition.js";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "src/cli/main.ts");
const LAB = join(ROOT, "test/fixtures/lab-project.yaml");
const dir = mkdtempSync(join(tmpdir(), "eventjobs-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd` (the temp dir by default), like `npx eventjobs export ...`. */
async function eventjobs(args: string[], cwd = dir): Promise<Run> {
  try {
    // tsx is resolved from the repo, so the CLI can run in any directory
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), MAIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: "1" } },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test("export reads ./eventjobs.yaml by default and prints to stdout; -o writes a file", async () => {
  const cwd = mkdtempSync(join(dir, "project-"));
  copyFileSync(LAB, join(cwd, "eventjobs.yaml"));
  const r = await eventjobs(["export", "--format", "az"], cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#!\/usr\/bin\/env bash\n/);
  assert.match(r.stdout, /az containerapp job create \\\n {2}--name job-python \\\n/);

  const w = await eventjobs(["export", "--format", "terraform", "-o", "main.tf"], cwd);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout, "");
  assert.match(readFileSync(join(cwd, "main.tf"), "utf8"), /resource "azurerm_container_app_job" "job_python" \{/);
});

test("aca-yaml for one job with --config round-trips through import", async () => {
  const r = await eventjobs(["export", "--format", "aca-yaml", "--job", "job-python", "--config", LAB]);
  assert.equal(r.code, 0, r.stderr);
  const [{ job }] = importAcaYaml(r.stdout);
  const original = (parseAllDocuments(readFileSync(LAB, "utf8"))[0].toJS() as { jobs: unknown[] }).jobs[0];
  assert.deepEqual(normalizeJob(job), normalizeJob(original));
});

test("keda manifests: Secret, TriggerAuthentication, ScaledJob", async () => {
  const r = await eventjobs(["export", "--format", "keda", "--config", LAB]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    parseAllDocuments(r.stdout).map((d) => d.toJS().kind),
    ["Secret", "TriggerAuthentication", "ScaledJob"],
  );
  assert.ok(!r.stdout.includes("LOCAL-ONLY-KEY"));
});

test("errors are one line with exit code 1: bad format, unknown job, missing config", async () => {
  const bad = await eventjobs(["export", "--format", "bicep", "--config", LAB]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'eventjobs: --format "bicep": expected one of aca-yaml, az, terraform, keda\n');
  assert.equal(bad.stdout, "");

  const job = await eventjobs(["export", "--format", "az", "--config", LAB, "--job", "nope"]);
  assert.equal(job.code, 1);
  assert.equal(job.stderr, `eventjobs: --job "nope": no such job in ${LAB} (jobs: job-python)\n`);

  const missing = await eventjobs(["export", "--format", "az"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "eventjobs: eventjobs.yaml: (cannot read: ENOENT) — expected a readable config file\n");
});
