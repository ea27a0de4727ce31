// Execution semantics with real child processes: retries, timeout, OOMKilled, manual start with a
// template override, parallelism/completions, stop, the schedule (injected clock) and restart reconciliation.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import type { Clock } from "../../src/triggering/schedule-trigger.js";
import type { ExecutionRecord } from "../../src/jobs/store.js";
import { Platform } from "../../src/platform.js";
import { queuesYaml, startBroker, TEST_CA_DIR, type TestBroker } from "../helpers/broker.js";
import { consoleText, jobEntry, systemReasons, waitFor, waitForExecution, type TestJob } from "../helpers/jobs.js";

const manual = (j: Omit<TestJob, "trigger">) => jobEntry({ ...j, trigger: "Manual" });

describe("executions", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startBroker(queuesYaml({}));
  });
  after(() => broker.close());

  it("exit 1 is retried up to replicaRetryLimit, then the execution is Failed", async () => {
    const p = broker.platform;
    p.jobs.apply(manual({ name: "retry-job", replicaRetryLimit: 2, env: { EXIT_CODE: "1" } }));
    const started = p.jobs.runtime.start("retry-job");
    assert.equal(started.status, "Running");
    const e = await waitForExecution(p, started.name);
    assert.equal(e.status, "Failed");
    assert.equal(e.replicas.length, 3, "first run + 2 retries");
    assert.deepEqual(
      e.replicas.map((r) => [r.status, r.exitCode, r.attempt]),
      [
        ["Failed", 1, 0],
        ["Failed", 1, 1],
        ["Failed", 1, 2],
      ],
    );
    assert.match(e.reason!, /replicaRetryLimit 2 is used up/);
    assert.equal(systemReasons(p, { execution: e.name }).filter((r) => r === "ReplicaRetried").length, 2);
    assert.ok(e.endTime && e.endTime >= e.startTime);
  });

  it("a replica over replicaTimeout is killed (SIGTERM, then SIGKILL) and the execution Failed", async () => {
    const p = broker.platform;
    // 5 s: the replica must have installed its SIGTERM handler before the timeout, even on a loaded machine
    p.jobs.apply(
      manual({
        name: "slow-job",
        replicaTimeout: 5,
        replicaRetryLimit: 3,
        grace: 1,
        env: { HOLD_MS: "60000", IGNORE_SIGTERM: "1" },
      }),
    );
    const e = await waitForExecution(p, p.jobs.runtime.start("slow-job").name);
    assert.equal(e.status, "Failed");
    assert.equal(e.replicas.length, 1, "a timeout is not retried");
    assert.equal(e.replicas[0].reason, "DeadlineExceeded");
    assert.equal(e.replicas[0].exitCode, 137, "killed by SIGKILL after ignoring SIGTERM");
    assert.ok(systemReasons(p, { execution: e.name }).includes("ReplicaTimedOut"));
    assert.match(consoleText(p, e.name), /ignoring SIGTERM/);
  });

  it("a replica over its memory limit is OOMKilled", async () => {
    const p = broker.platform;
    p.jobs.apply(manual({ name: "hungry-job", memory: "96Mi", env: { ALLOCATE_MB: "400" } }));
    const e = await waitForExecution(p, p.jobs.runtime.start("hungry-job").name);
    assert.equal(e.status, "Failed");
    assert.equal(e.replicas[0].reason, "OOMKilled");
    assert.equal(e.replicas[0].exitCode, 137);
    assert.ok(systemReasons(p, { execution: e.name }).includes("OOMKilled"));
  });

  it("manual start with a template override changes that execution only", async () => {
    const p = broker.platform;
    p.jobs.apply(manual({ name: "echo-job", env: { ECHO: "from the job" } }));
    const overridden = await waitForExecution(
      p,
      p.jobs.runtime.start("echo-job", {
        containers: [{ name: "main", env: [{ name: "ECHO", value: "from the override" }] }],
      }).name,
    );
    const plain = await waitForExecution(p, p.jobs.runtime.start("echo-job").name);
    assert.equal(overridden.status, "Succeeded");
    assert.match(consoleText(p, overridden.name), /echo: from the override/);
    assert.match(consoleText(p, plain.name), /echo: from the job/);
    assert.equal(overridden.trigger.type, "Manual");
    assert.throws(
      () => p.jobs.runtime.start("echo-job", { containers: [{ name: "main", command: "not-a-list" }] }),
      /template\.containers\[0\]\.command: "not-a-list" — a list of strings/,
    );
    assert.throws(() => p.jobs.runtime.start("no-such-job"), /job no-such-job not found/);
  });

  it("parallelism 2 with replicaCompletionCount 3: three successful replicas, two at a time", async () => {
    const p = broker.platform;
    p.jobs.apply(manual({ name: "par-job", parallelism: 2, replicaCompletionCount: 3 }));
    let peak = 0;
    const onReplica = (exec: ExecutionRecord) => {
      if (exec.job === "par-job") peak = Math.max(peak, exec.replicas.filter((r) => r.status === "Running").length);
    };
    p.jobs.engine.on("replicaStarted", onReplica);
    const e = await waitForExecution(p, p.jobs.runtime.start("par-job").name);
    p.jobs.engine.off("replicaStarted", onReplica);
    assert.equal(e.status, "Succeeded");
    assert.equal(e.replicas.filter((r) => r.status === "Succeeded").length, 3);
    assert.equal(peak, 2);
  });

  it("stop ends a running execution as Stopped; the job's env shows secrets only by reference", async () => {
    const p = broker.platform;
    p.jobs.apply(manual({ name: "stop-job", grace: 1, env: { HOLD_MS: "60000" } }));
    const started = p.jobs.runtime.start("stop-job");
    await waitFor("the replica to run", () => consoleText(p, started.name).includes("starting"));
    assert.deepEqual(
      p.jobs.engine.stop("stop-job").map((e) => e.name),
      [started.name],
    );
    const e = await waitForExecution(p, started.name);
    assert.equal(e.status, "Stopped");
    assert.equal(e.replicas[0].status, "Stopped");
    const logs = p.jobs.logs
      .query({ job: "stop-job" })
      .map((l) => l.text)
      .join("\n");
    assert.doesNotMatch(logs, /SharedAccessKey=/, "no connection string in any log line");
  });
});

describe("schedule", () => {
  it("a Schedule job starts an execution when its cron time comes (injected clock)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "eventjobs-sched-"));
    let now = Date.parse("2026-11-24T12:03:30Z");
    const timers: { at: number; fn: () => void }[] = [];
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn };
        timers.push(t);
        return t;
      },
      clearTimeout: (h) => timers.splice(timers.indexOf(h as (typeof timers)[0]), 1),
    };
    const yaml =
      queuesYaml({}) +
      `jobs: ${JSON.stringify([jobEntry({ name: "cron-job", trigger: "Schedule", cron: "*/5 * * * *" })])}\n`;
    const p = await Platform.start({
      config: parseConfigText(yaml, "eventjobs.yaml"),
      dataDir,
      amqpPort: 0,
      httpPort: 0,
      amqpsPort: 0,
      httpsPort: 0,
      caDir: TEST_CA_DIR,
      clock,
    });
    try {
      assert.equal(timers.length, 1);
      assert.equal(new Date(timers[0].at).toISOString(), "2026-11-24T12:05:00.000Z");
      now = timers[0].at;
      timers.shift()!.fn();
      const [e] = p.jobs.engine.executions("cron-job");
      assert.equal(e.trigger.type, "Schedule");
      assert.equal(new Date(timers[0].at).toISOString(), "2026-11-24T12:10:00.000Z", "re-armed for the next slot");
      assert.equal((await waitForExecution(p, e.name)).status, "Succeeded");
    } finally {
      await p.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("restart", () => {
  it("an execution running when the server stopped is retried where replicaRetryLimit allows, else Failed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "eventjobs-restart-"));
    const yaml =
      queuesYaml({}) +
      `jobs: ${JSON.stringify([manual({ name: "again-job", replicaRetryLimit: 1, env: { HOLD_MS: "60000" } }), manual({ name: "once-job", env: { HOLD_MS: "60000" } })])}\n`;
    try {
      let b = await startBroker(yaml, { dataDir });
      const again = b.platform.jobs.runtime.start("again-job");
      const once = b.platform.jobs.runtime.start("once-job");
      await waitFor(
        "both replicas to run",
        () =>
          consoleText(b.platform, again.name).includes("starting") &&
          consoleText(b.platform, once.name).includes("starting"),
      );
      await b.close({ keepData: true });

      b = await startBroker(yaml, { dataDir });
      try {
        const a = b.platform.jobs.engine.execution(again.name)!;
        assert.equal(a.status, "Running", "retried: still running");
        assert.equal(a.replicas.length, 2);
        assert.equal(a.replicas[0].reason, "ServerRestarted");
        assert.equal(a.replicas[1].status, "Running");
        const o = await waitForExecution(b.platform, once.name);
        assert.equal(o.status, "Failed");
        assert.match(o.reason!, /server stopped/);
        assert.ok(systemReasons(b.platform, { execution: once.name }).includes("ExecutionReconciled"));
        b.platform.jobs.engine.stop("again-job");
      } finally {
        await b.close({ keepData: true });
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
