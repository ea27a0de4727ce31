// History and retention rules, with an in-process launcher whose replicas end at once (the process side
// is covered by executions.test.ts): 100 succeeded and 100 failed executions kept per job, oldest
// finished first out; log entries older than the retention are pruned.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HISTORY_LIMIT, JobsEngine, type Launcher } from "../../src/jobs/executions.js";
import { LogBook } from "../../src/jobs/logs.js";
import { normalizeJob } from "../../src/jobs/job-definition.js";
import { JobStore } from "../../src/jobs/store.js";
import type { ReplicaOutcome } from "../../src/jobs/types.js";
import { jobEntry } from "../helpers/jobs.js";

/** Replicas that exit with the next code from the list, right away. */
function instantLauncher(codes: () => number): Launcher {
  return {
    launch() {
      const exitCode = codes();
      const outcome: ReplicaOutcome =
        exitCode === 0 ? { reason: "Completed", exitCode } : { reason: "Error", exitCode };
      return { stop() {}, done: Promise.resolve(outcome) };
    },
  };
}

describe("history", () => {
  it(`keeps the newest ${HISTORY_LIMIT} succeeded and ${HISTORY_LIMIT} failed executions of a job`, async () => {
    const store = new JobStore(":memory:");
    const logs = new LogBook(store);
    let n = 0;
    // 130 executions: every third fails
    const engine = new JobsEngine(
      store,
      logs,
      instantLauncher(() => (n++ % 3 === 2 ? 1 : 0)),
    );
    engine.setJob(normalizeJob(jobEntry({ name: "hist-job", trigger: "Manual" })));
    const names: string[] = [];
    for (let i = 0; i < 330; i++) {
      const e = engine.start("hist-job", { type: "Manual" });
      names.push(e.name);
      await new Promise<void>((r) => engine.once("executionFinished", () => r()));
    }
    const kept = engine.executions("hist-job");
    const ok = kept.filter((e) => e.status === "Succeeded");
    const failed = kept.filter((e) => e.status === "Failed");
    assert.equal(ok.length, HISTORY_LIMIT);
    assert.equal(failed.length, HISTORY_LIMIT);
    // the survivors are the newest of each kind
    const okNames = names.filter((_, i) => i % 3 !== 2);
    const failedNames = names.filter((_, i) => i % 3 === 2);
    assert.deepEqual(new Set(ok.map((e) => e.name)), new Set(okNames.slice(-HISTORY_LIMIT)));
    assert.deepEqual(new Set(failed.map((e) => e.name)), new Set(failedNames.slice(-HISTORY_LIMIT)));
    assert.equal(engine.execution(okNames[0]), undefined, "the oldest is gone");
    logs.close();
    store.close();
  });

  it("log entries older than the retention are pruned; queries by job, execution and time", () => {
    const store = new JobStore(":memory:");
    const logs = new LogBook(store, { retentionMs: 60_000 });
    const t0 = Date.parse("2026-11-24T12:00:00Z");
    logs.write({ kind: "console", job: "a", execution: "a-1", stream: "stdout", text: "old", time: t0 });
    logs.write({ kind: "console", job: "a", execution: "a-2", stream: "stdout", text: "new", time: t0 + 90_000 });
    logs.write({ kind: "system", job: "b", reason: "ExecutionCreated", text: "other job", time: t0 + 90_000 });
    assert.deepEqual(
      logs.query({ job: "a" }).map((l) => l.text),
      ["old", "new"],
    );
    assert.deepEqual(
      logs.query({ execution: "a-2" }).map((l) => l.text),
      ["new"],
    );
    assert.deepEqual(
      logs.query({ since: t0 + 1 }).map((l) => l.text),
      ["new", "other job"],
    );
    assert.deepEqual(
      logs.query({ job: "a", tail: 1 }).map((l) => l.text),
      ["new"],
    );
    assert.equal(logs.prune(t0 + 100_000), 1);
    assert.deepEqual(
      logs.query({}).map((l) => l.text),
      ["new", "other job"],
    );
    logs.close();
    store.close();
  });
});
