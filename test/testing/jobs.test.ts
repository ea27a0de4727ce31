// eventjobs/testing with a project: the whole platform in the test process, an Event job whose replica (a real
// child process) takes the message, and waitForExecution's three outcomes: the execution, the execution that
// ended otherwise (with its log), and none at all (with the scaler's reasons).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startServiceBus, type ServiceBus } from "../../src/testing/index.js";
import { TEST_CA_DIR, uniqueName } from "../helpers/broker.js";
import { jobEntry } from "../helpers/jobs.js";

const started: ServiceBus[] = [];
after(async () => {
  for (const sb of started) await sb.stop();
});

/** A project with one queue and an Event job on it running test/fixtures/processor.mjs with `env`. */
async function withJob(env: Record<string, string>) {
  const queue = uniqueName("work");
  const job = uniqueName("worker");
  const project = {
    namespaces: [{ name: "sbemulatorns", queues: [{ name: queue }] }],
    jobs: [
      jobEntry({ name: job, rules: [{ name: "q", metadata: { queueName: queue } }], env: { SB_QUEUE: queue, ...env } }),
    ],
  };
  const sb = await startServiceBus({ caDir: TEST_CA_DIR, project });
  started.push(sb);
  return { sb, queue, job };
}

describe("startServiceBus with a project", () => {
  it("waitForExecution returns the execution a message started, once it succeeded; logs shows what it printed", async () => {
    const { sb, queue, job } = await withJob({});
    await sb.send(queue, "hello job");
    const e = await sb.waitForExecution(job, { timeoutMs: 60_000 });
    assert.equal(e.properties.status, "Succeeded");
    assert.match(e.id, new RegExp(`/jobs/${job}/executions/${e.name}$`));
    const lines = (await sb.logs(e)).map((l) => l.text);
    assert.ok(lines.includes("Received: hello job"), lines.join("\n"));
    const system = (await sb.logs(e, { kind: "system" })).map((l) => l.reason);
    assert.ok(system.includes("ExecutionCreated"), system.join(","));
    assert.deepEqual(
      (await sb.executions(job)).map((x) => x.name),
      [e.name],
    );
    assert.deepEqual(await sb.peek(queue), [], "the replica completed the message");
  });

  it("waitForExecution fails at once when the execution failed, with its console log", async () => {
    const { sb, queue, job } = await withJob({ EXIT_CODE: "3" });
    await sb.send(queue, "will fail");
    await assert.rejects(sb.waitForExecution(job, { timeoutMs: 60_000 }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`waitForExecution\\("${job}", \\{ status: "Succeeded" \\}\\): execution ${job}-\\S+ ended Failed`),
      );
      assert.match(err.message, /failing with exit code 3/);
      return true;
    });
    // the failed one was returned by that wait: asking for Failed now waits for a new one
    await assert.rejects(sb.waitForExecution(job, { status: "Failed", timeoutMs: 0 }), /none within 0 ms/);
  });

  it("waitForExecution says why when no execution came: none started, and the scaler's decisions", async () => {
    const { sb, job } = await withJob({});
    await assert.rejects(sb.waitForExecution(job, { timeoutMs: 200 }), (err: Error) => {
      assert.match(err.message, /none within 200 ms\nno execution started/);
      return true;
    });
    await assert.rejects(
      sb.waitForExecution("no-such-job", { timeoutMs: 0 }),
      /executions\("no-such-job"\): .*no-such-job.*not found/,
    );
  });
});
