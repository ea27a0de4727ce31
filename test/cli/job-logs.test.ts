// `eventjobs containerapp job logs show --follow`, spawned as a user runs it: without --execution it follows the
// job across executions (a new one is announced and its lines name it); with --execution it follows that one
// and exits 0 when it ends.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { cli, spawnCli, type RunningCli } from "../helpers/cli.js";
import { PROCESSOR } from "../helpers/jobs.js";

/** a CLI process and a replica each start slowly on a loaded 2-core machine */
const WAIT_MS = 60_000;

describe("job logs show --follow", () => {
  let broker: TestBroker;
  const followers: RunningCli[] = [];
  before(async () => {
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n");
  });
  after(async () => {
    for (const f of followers) f.child.kill("SIGKILL");
    await broker.close();
  });

  /** A Manual job running the test processor; each `start` sets what it echoes (and how long it holds). */
  async function manualJob(prefix: string): Promise<{ name: string; start(env: string[]): Promise<string> }> {
    const name = uniqueName(prefix);
    const d = broker.dataDir;

    const created = await cli(d, [
      "containerapp",
      "job",
      "create",
      "-n",
      name,
      "--trigger-type",
      "Manual",
      "--replica-timeout",
      "120",
      "--image",
      "busybox",
      "--command",
      "node",
      PROCESSOR,
      "-o",
      "none",
    ]);
    assert.equal(created.code, 0, created.stderr);
    return {
      name,
      async start(env) {
        const r = await cli(d, ["containerapp", "job", "start", "-n", name, "--env-vars", ...env]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout).name as string;
      },
    };
  }

  const follow = (args: string[]) => {
    const f = spawnCli(broker.dataDir, ["containerapp", "job", "logs", "show", ...args]);
    followers.push(f);
    return f;
  };

  it("without --execution it follows the job: an execution started after the follow began shows up, announced", async () => {
    const job = await manualJob("follow");
    const first = await job.start(["ECHO=first"]);
    const follower = follow(["-n", job.name, "--follow", "--format", "text"]);
    // the first execution's lines: from the tail, or live, each naming its replica (<execution>-<suffix>)
    await follower.waitFor(new RegExp(`^\\S+ stdout ${first}-[a-z0-9]{5}: echo: first$`, "m"), WAIT_MS);

    const second = await job.start(["ECHO=second"]);
    await follower.waitFor(new RegExp(`^\\S+ --- Execution ${second} Succeeded$`, "m"), WAIT_MS);
    const out = follower.stdout();
    const created = out.indexOf(`--- Execution ${second} created by a manual start`);
    const line = out.search(new RegExp(`^\\S+ stdout ${second}-[a-z0-9]{5}: echo: second$`, "m"));
    assert.ok(created >= 0, `the new execution is announced:\n${out}`);
    assert.ok(line > created, `its lines follow its announcement:\n${out}`);
    assert.equal(follower.child.exitCode, null, "a job's follower keeps following after an execution ends");
  });

  it("--execution follows that execution only and exits 0 when it ends; an ended one at once", async () => {
    const job = await manualJob("pinned");
    const other = await job.start(["ECHO=other", "HOLD_MS=60000"]);
    const pinned = await job.start(["ECHO=pinned", "HOLD_MS=60000"]);
    const follower = follow(["-n", job.name, "--follow", "--execution", pinned, "--format", "text"]);
    await follower.waitFor(/echo: pinned$/m, WAIT_MS);
    assert.equal(follower.child.exitCode, null, "still following while the execution runs");

    const stop = await cli(broker.dataDir, [
      "containerapp",
      "job",
      "stop",
      "-n",
      job.name,
      "--job-execution-name",
      pinned,
    ]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await follower.exited, 0, follower.stderr());
    assert.equal(follower.stderr(), "");
    assert.doesNotMatch(follower.stdout(), /echo: other/, "the other execution's lines are not shown");
    const shown = await cli(broker.dataDir, [
      "containerapp",
      "job",
      "execution",
      "show",
      "-n",
      job.name,
      "--job-execution-name",
      pinned,
    ]);
    assert.equal(JSON.parse(shown.stdout).properties.status, "Stopped");

    // an execution that has already ended: its lines, then exit 0
    const again = await cli(broker.dataDir, [
      "containerapp",
      "job",
      "logs",
      "show",
      "-n",
      job.name,
      "--follow",
      "--execution",
      pinned,
      "--format",
      "text",
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /echo: pinned$/m);
    await cli(broker.dataDir, ["containerapp", "job", "stop", "-n", job.name, "--job-execution-name", other]);
  });

  it("--execution naming no execution of the job: one line naming it, exit 1", async () => {
    const job = await manualJob("nosuch");
    const r = await cli(broker.dataDir, [
      "containerapp",
      "job",
      "logs",
      "show",
      "-n",
      job.name,
      "--follow",
      "--execution",
      `${job.name}-nosuch1`,
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `eventjobs: Job execution '${job.name}-nosuch1' of job '${job.name}' was not found.`);
  });
});
