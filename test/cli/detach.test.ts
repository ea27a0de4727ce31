// The background lifecycle as a CI script runs it, every command a real process: `up --detach` returns once ready
// with the server left running, `status` (exit 0 ready, 3 not running), `wait-ready`, and `down`, also while an
// execution runs (its replica ends with the server) and against a process that does not answer or ignores SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pidAlive } from "../../src/cli/server-state.js";
import { TEST_CA_DIR, uniqueName } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { tempFiles } from "../helpers/files.js";
import { FREE_PORTS } from "../helpers/server-process.js";
import { waitFor } from "../helpers/jobs.js";

// servers this file left running are killed first, then their directories removed
const pids: number[] = [];
after(() => {
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, "SIGKILL");
});
const { tempDir } = tempFiles("eventjobs-detach-");
const env = { EVENTJOBS_CA_DIR: TEST_CA_DIR };

const run = (dataDir: string, args: string[]) => cli(dataDir, args, { env });

/** `up --detach` on free ports; the server's pid from server.json. */
async function upDetached(dataDir: string, extra: string[] = []): Promise<{ pid: number; stdout: string }> {
  const r = await run(dataDir, ["up", "--detach", "--in-memory", ...FREE_PORTS, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const pid = JSON.parse(readFileSync(join(dataDir, "server.json"), "utf8")).pid as number;
  pids.push(pid);
  return { pid, stdout: r.stdout };
}

describe("up --detach, status, wait-ready, down", () => {
  it("status with no server exits 3 (text and json); wait-ready times out naming what it found", async () => {
    const d = tempDir();
    // independent commands, run side by side (each is a Node process start)
    const [text, json, wait, down] = await Promise.all([
      run(d, ["status"]),
      run(d, ["status", "-o", "json"]),
      run(d, ["wait-ready", "--timeout", "300ms"]),
      run(d, ["down"]),
    ]);
    assert.equal(text.code, 3, text.stderr);
    assert.match(text.stdout, /eventjobs not running on /);
    assert.equal(json.code, 3);
    assert.deepEqual(JSON.parse(json.stdout), { status: "not running" });
    assert.equal(wait.code, 1);
    assert.match(wait.stderr, /no ready eventjobs server on .* within 300ms \(there is no .*server\.json\)/);
    assert.equal(down.code, 0, "down with nothing to stop is not an error");
    assert.match(down.stderr, /no server running on .*nothing to stop/);
  });

  it("up --detach returns ready with the server running; status and wait-ready see it; down stops it", async () => {
    const d = tempDir();
    const queue = uniqueName("ci");
    const config = join(d, "eventjobs.yaml");
    writeFileSync(config, `namespaces:\n  - name: sbemulatorns\n    queues:\n      - name: ${queue}\n`);
    const { pid, stdout } = await upDetached(d, ["--config", config]);
    assert.match(
      stdout,
      new RegExp(
        `^eventjobs ready \\(pid ${pid}, in the background\\)\\n  connection string: Endpoint=sb://localhost:\\d+;`,
      ),
    );
    assert.match(stdout, /log: .*server\.log\n {2}stop with: eventjobs down/);
    assert.ok(pidAlive(pid), "the server outlives `up --detach`");
    const info = JSON.parse(readFileSync(join(d, "server.json"), "utf8"));
    assert.deepEqual(Object.keys(info).sort(), ["amqp", "amqps", "caFile", "http", "https", "pid"]);
    assert.doesNotMatch(readFileSync(join(d, "server.json"), "utf8"), /SharedAccessKey|SAS_KEY_VALUE/);

    const [status, text, wait, again] = await Promise.all([
      run(d, ["status", "-o", "json"]),
      run(d, ["status"]),
      run(d, ["wait-ready", "--timeout", "5s"]),
      run(d, ["up", "--detach", ...FREE_PORTS]),
    ]);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.status, "ready");
    assert.equal(s.pid, pid);
    assert.equal(s.endpoints.amqp, info.amqp);
    assert.equal(s.versions.node, process.versions.node);
    assert.match(s.versions.eventjobs, /^\d+\.\d+\.\d+/);
    assert.equal(s.counts.queues, 1);
    assert.match(
      text.stdout,
      /^eventjobs ready \(pid \d+, started .*\)\n {2}versions: eventjobs .*\n[\s\S]*counts: 1 namespaces, 1 queues/,
    );

    assert.equal(wait.code, 0, wait.stderr);

    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`a server is already running on .* \\(pid ${pid}\\)`));

    const down = await run(d, ["down"]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`eventjobs stopped \\(pid ${pid}\\)`));
    assert.equal(pidAlive(pid), false, "down returns once the server exited");
    assert.equal(existsSync(join(d, "server.json")), false);
    assert.equal((await run(d, ["status"])).code, 3);
  });

  it("down while an execution runs stops the replica too, gracefully, and waits for the server to exit", async () => {
    const d = tempDir();
    const { pid } = await upDetached(d);
    const job = uniqueName("long");
    const pidFile = join(d, "replica.pid");
    const script = join(d, "long.mjs");
    writeFileSync(
      script,
      `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\n` +
        "setInterval(() => console.log('working'), 200);\n",
    );
    const created = await run(d, [
      "containerapp",
      "job",
      "create",
      "-n",
      job,
      "--trigger-type",
      "Manual",
      "--replica-timeout",
      "300",
      "--image",
      "busybox",
      "--command",
      "node",
      script,
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await run(d, ["containerapp", "job", "start", "-n", job])).code, 0);
    const replica = await waitFor(
      "the replica's pid",
      () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8")),
    );
    const status = JSON.parse((await run(d, ["status", "-o", "json"])).stdout);
    assert.equal(status.counts.runningExecutions, 1);

    const down = await run(d, ["down", "--timeout", "30s"]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(pidAlive(pid), false);
    assert.equal(pidAlive(replica), false, "the replica was stopped with the server");
    assert.match(readFileSync(join(d, "server.log"), "utf8"), /eventjobs ready/);
  });

  it("up --detach that cannot start exits 1 with the log's tail; a bad duration names the flag", async () => {
    const d = tempDir();
    const bad = join(d, "bad.yaml");
    writeFileSync(
      bad,
      "namespaces:\n  - name: sbemulatorns\n    queues:\n      - name: q\n        properties:\n          maxDeliveryCount: lots\n",
    );
    const r = await run(d, ["up", "--detach", ...FREE_PORTS, "--config", bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the server did not start: it exited \(code 1\) before ready/);
    assert.match(r.stderr, /server\.log \(last 30 lines\):\n[\s\S]*maxDeliveryCount: "lots"/);
    assert.equal(existsSync(join(d, "server.json")), false);
    const t = await run(d, ["wait-ready", "--timeout", "soon"]);
    assert.equal(t.code, 1);
    assert.match(t.stderr, /--timeout: "soon" is not a duration/);
  });

  it("down refuses a pid that does not answer unless --force, and --force kills one that ignores SIGTERM", async () => {
    const d = tempDir();
    // a process in server.json's place that is no eventjobs server: it ignores SIGTERM and answers nothing
    const stubborn = spawn(
      process.execPath,
      ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    pids.push(stubborn.pid!);
    await new Promise((r) => stubborn.stdout!.once("data", r));
    writeFileSync(join(d, "server.json"), JSON.stringify({ pid: stubborn.pid, http: "http://127.0.0.1:1" }));
    assert.equal((await run(d, ["status"])).code, 4, "running but not answering");
    const refused = await run(d, ["down"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not answer on http:\/\/127\.0\.0\.1:1; stop it with: eventjobs down --force/);
    assert.ok(pidAlive(stubborn.pid!));
    const exited = new Promise((r) => stubborn.once("exit", (_c, signal) => r(signal)));
    const forced = await run(d, ["down", "--force", "--timeout", "300ms"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /eventjobs killed \(pid \d+, SIGKILL after 300ms\)/);
    assert.equal(await exited, "SIGKILL");
    assert.equal(existsSync(join(d, "server.json")), false);
  });
});
