// `eventjobs acr build` as a user runs it: the real CLI in a child process.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { tempFiles } from "../helpers/files.js";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "src/cli/main.ts");
const TSX = import.meta.resolve("tsx");
const { tempDir } = tempFiles("eventjobs-acr-");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** runs `eventjobs <args>` in `cwd` (default: a fresh directory) and resolves when it exits */
function eventjobs(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<Result> {
  const child = spawn(process.execPath, ["--import", TSX, MAIN, ...args], {
    cwd: opts.cwd ?? tempDir(),
    env: { ...process.env, EVENTJOBS_DATA_DIR: undefined, NO_COLOR: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`eventjobs ${args.join(" ")} did not exit within 20 s\n${stdout}\n${stderr}`));
    }, 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** a project dir with app/ (the lab's processor) */
function project(
  dockerfile = `FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "processor.py"]\n`,
): string {
  const dir = tempDir();
  mkdirSync(join(dir, "app"));
  writeFileSync(join(dir, "app", "Dockerfile"), dockerfile);
  writeFileSync(join(dir, "app", "processor.py"), "print('hi')\n");
  writeFileSync(join(dir, "app", "requirements.txt"), "azure-servicebus\n");
  return dir;
}

describe("eventjobs acr build", () => {
  test("prints the steps, the RUN steps not executed and the image; stores it under ./.eventjobs/images", async () => {
    const cwd = project();
    const r = await eventjobs(["acr", "build", "--registry", "myregistry", "--image", "job-python:1.0.0", "app"], {
      cwd,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split("\n");
    assert.ok(out.includes("Step 1/6 : FROM python:3.11-slim"), r.stdout);
    assert.ok(out.includes("Step 4/6 : RUN pip install -r requirements.txt"), r.stdout);
    assert.match(r.stdout, /1 RUN step was not executed.*\n {2}line 4: RUN pip install -r requirements.txt\n/);
    assert.match(r.stdout, /runs: \["python","processor.py"\]/);
    assert.equal(out[out.length - 1], "Image: myregistry.azurecr.io/job-python:1.0.0");
    const stored = JSON.parse(
      readFileSync(join(cwd, ".eventjobs/images/myregistry/job-python/1.0.0/image.json"), "utf8"),
    );
    assert.equal(stored.ref, "myregistry.azurecr.io/job-python:1.0.0");
    assert.ok(existsSync(join(cwd, ".eventjobs/images/myregistry/job-python/1.0.0/context/processor.py")));
  });

  test("-o json prints the image record (the build log goes to stderr); EVENTJOBS_DATA_DIR is honoured", async () => {
    const cwd = project();
    const dataDir = tempDir();
    const r = await eventjobs(
      ["acr", "build", "-r", "myregistry.azurecr.io", "-t", "job-python:1.0.0", "app", "-o", "json"],
      { cwd, env: { EVENTJOBS_DATA_DIR: dataDir } },
    );
    assert.equal(r.code, 0, r.stderr);
    const image = JSON.parse(r.stdout);
    assert.equal(image.ref, "myregistry.azurecr.io/job-python:1.0.0");
    assert.deepEqual(
      [image.workdir, image.cmd, image.skipped],
      ["", ["python", "processor.py"], ["line 4: RUN pip install -r requirements.txt"]],
    );
    assert.equal(image.dir, join(dataDir, "images/myregistry/job-python/1.0.0/context"));
    assert.match(r.stderr, /Step 1\/6 : FROM python:3.11-slim/);
  });

  test("--file, --build-arg, --data-dir and --no-logs", async () => {
    const cwd = project();
    writeFileSync(
      join(cwd, "app", "worker.Dockerfile"),
      'FROM node:20\nARG GREETING=hi\nENV GREETING=$GREETING\nENTRYPOINT ["node"]\n',
    );
    const r = await eventjobs(
      [
        "acr",
        "build",
        "-r",
        "reg",
        "-t",
        "tools/worker",
        "-f",
        "worker.Dockerfile",
        "--build-arg",
        "GREETING=hello",
        "--data-dir",
        "dd",
        "--no-logs",
        "app",
        "-o",
        "yaml",
      ],
      { cwd },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ref: reg\.azurecr\.io\/tools\/worker:latest$/m);
    assert.match(r.stdout, /GREETING: hello/);
    assert.equal(r.stderr, "");
    assert.ok(existsSync(join(cwd, "dd/images/reg/tools/worker/latest/image.json")));
  });

  test("bad input: one clear line and a non-zero exit", async () => {
    const cwd = project("FROM python:3.11\nWORKDIR /app\nCOPY missing.txt .\n");
    const cases: Array<[string[], RegExp]> = [
      [
        ["acr", "build", "-r", "reg", "-t", "a:1", "app"],
        /^eventjobs: .*app\/Dockerfile:3: COPY: "missing.txt" is not in the build context/,
      ],
      [
        ["acr", "build", "-r", "reg", "-t", "a:1", "nowhere"],
        /^eventjobs: build context "nowhere" is not a directory$/,
      ],
      [
        ["acr", "build", "-r", "bad_registry", "-t", "a:1", "app"],
        /^eventjobs: --registry "bad_registry": a registry name is 1-50 letters and digits/,
      ],
      [
        ["acr", "build", "-r", "reg", "-t", "a:1", "app", "-o", "xml"],
        /^eventjobs: --output "xml": expected one of json, yaml, table, none$/,
      ],
      [
        ["acr", "build", "-r", "reg", "-t", "a:1", "--build-arg", "=x", "app"],
        /^eventjobs: --build-arg "=x": expected NAME=VALUE$/,
      ],
      [["acr", "build", "-t", "a:1", "app"], /^error: required option '-r, --registry <name>' not specified$/],
    ];
    const results = await Promise.all(cases.map(([args]) => eventjobs(args, { cwd })));
    results.forEach((r, i) => {
      assert.equal(r.code, 1, `${cases[i][0].join(" ")}: ${r.stderr}`);
      assert.match(r.stderr.split("\n")[0], cases[i][1]);
      assert.equal(r.stdout, "");
    });
    assert.ok(!existsSync(join(cwd, ".eventjobs/images/reg/a")), "nothing stored on failure");
  });
});
