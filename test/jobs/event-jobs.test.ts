// Event-triggered jobs end to end: messages sent with the real SDK make the scale loop start executions
// whose replicas (real child processes) receive and complete them.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { consoleText, jobEntry, systemReasons, waitFor, finished, type TestJob } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";

async function setup(
  queues: string[],
  jobs: TestJob[],
  props: Record<string, unknown> = { lockDuration: "PT5M", maxDeliveryCount: 1 },
) {
  const yaml =
    queuesYaml(Object.fromEntries(queues.map((q) => [q, props]))) +
    `jobs: ${JSON.stringify(jobs.map((j) => jobEntry(j)))}\n`;
  const broker = await startBroker(yaml);
  const client = new ServiceBusClient(broker.connectionString, RETRY);
  return { broker, client, p: broker.platform };
}

describe("event jobs", () => {
  let broker: TestBroker | undefined;
  let client: ServiceBusClient | undefined;
  after(async () => {
    await client?.close();
    await broker?.close();
  });

  it("the lab's job (maxExecutions 1, messageCount 1) processes 5 messages one execution at a time", async () => {
    const q = uniqueName("lab");
    const job = "lab-job";
    ({ broker, client } = await setup(
      [q],
      [
        {
          name: job,
          maxExecutions: 1,
          rules: [{ name: "azure-servicebus-queue-rule", metadata: { queueName: q } }],
          env: { SB_QUEUE: q },
        },
      ],
    ));
    const p = broker.platform;
    let peak = 0;
    p.jobs.engine.on("executionStarted", () => (peak = Math.max(peak, p.jobs.engine.counts(job).running)));
    const sender = client.createSender(q);
    const bodies = [1, 2, 3, 4, 5].map((i) => `lab message ${i} ${q}`);
    for (const body of bodies) await sender.sendMessages({ body });
    const execs = await waitFor(
      "5 executions to succeed",
      () => {
        const list = p.jobs.engine.executions(job);
        return list.length >= 5 && list.every(finished) ? list : undefined;
      },
      60_000,
    );
    assert.equal(execs.length, 5, "one execution per message, no extra");
    assert.deepEqual(
      execs.map((e) => e.status),
      ["Succeeded", "Succeeded", "Succeeded", "Succeeded", "Succeeded"],
    );
    assert.equal(peak, 1, "never more than one unfinished execution");
    for (const e of execs) assert.match(e.name, new RegExp(`^${job}-[a-z0-9]{7}$`));
    const received = execs.map((e) => /Received: (.*)/.exec(consoleText(p, e.name))?.[1]).sort();
    assert.deepEqual(received, [...bodies].sort(), "each execution's log shows the message it processed");
    assert.equal(p.broker.namespace("sbemulatorns")!.queue(q)!.counts().active, 0);
    // the explainer said why nothing started while an execution ran
    const summaries = p.jobs.runtime.decisions(job).map((d) => d.summary);
    assert.ok(
      summaries.includes("0 started: 1 execution is still running and maxExecutions is 1"),
      summaries.join("\n"),
    );
    const reasons = systemReasons(p, { job });
    for (const r of ["ExecutionCreated", "ReplicaStarted", "ReplicaExited", "ExecutionSucceeded", "ScalerDecision"])
      assert.ok(reasons.includes(r), `system log has ${r}`);
    await sender.close();
  });
});

describe("event jobs: concurrency and activation", () => {
  it("maxExecutions 10 runs up to 10 at once and never more", async () => {
    const q = uniqueName("wide");
    const job = "wide-job";
    const { broker, client, p } = await setup(
      [q],
      [
        {
          name: job,
          maxExecutions: 10,
          rules: [{ name: "rule", metadata: { queueName: q } }],
          env: { SB_QUEUE: q, HOLD_MS: "1500" },
        },
      ],
    );
    try {
      let peak = 0;
      p.jobs.engine.on("executionStarted", () => (peak = Math.max(peak, p.jobs.engine.counts(job).running)));
      const sender = client.createSender(q);
      await sender.sendMessages(Array.from({ length: 12 }, (_, i) => ({ body: `m${i}` })));
      const execs = await waitFor(
        "12 messages processed",
        () => {
          const list = p.jobs.engine.executions(job);
          const done = list.filter((e) => e.status === "Succeeded");
          return done.length >= 12 && list.every(finished) ? list : undefined;
        },
        90_000,
      );
      assert.equal(peak, 10, "10 ran at once, never more");
      const received = execs.map((e) => /Received: (.*)/.exec(consoleText(p, e.name))?.[1]).filter(Boolean);
      assert.equal(new Set(received).size, 12, "each message processed once");
      await sender.close();
    } finally {
      await client.close();
      await broker.close();
    }
  });

  it("activationMessageCount: nothing starts until the backlog is above it", async () => {
    const q = uniqueName("act");
    const job = "act-job";
    const { broker, client, p } = await setup(
      [q],
      [
        {
          name: job,
          maxExecutions: 5,
          rules: [{ name: "rule", metadata: { queueName: q, activationMessageCount: "2" } }],
          env: { SB_QUEUE: q },
        },
      ],
    );
    try {
      const sender = client.createSender(q);
      await sender.sendMessages([{ body: "a" }, { body: "b" }]);
      const quiet = await waitFor("a decision seeing 2 messages", () =>
        p.jobs.runtime.decisions(job).find((d) => d.rules[0].queueLength === 2),
      );
      assert.equal(quiet.rules[0].active, false);
      assert.equal(quiet.started, 0);
      assert.match(quiet.summary, /^0 started: no scale rule is active/);
      assert.equal(p.jobs.engine.executions(job).length, 0);
      await sender.sendMessages({ body: "c" });
      // 3 > 2: active; one execution per message wanted, but once one message is consumed 2 remain and it goes quiet
      const first = await waitFor("an execution to finish", () => p.jobs.engine.executions(job).find(finished));
      assert.equal(first.status, "Succeeded");
      await waitFor("all executions to finish", () => p.jobs.engine.executions(job).every(finished));
      await p.jobs.runtime.settled(job);
      const left = p.broker.namespace("sbemulatorns")!.queue(q)!.counts().active;
      assert.ok(left >= 0 && left <= 2, `the backlog stopped at or below the activation threshold (left ${left})`);
      await sender.close();
    } finally {
      await client.close();
      await broker.close();
    }
  });

  it("a job with two rules: the larger backlog decides (max), and both rules are named", async () => {
    const [qa, qb] = [uniqueName("two-a"), uniqueName("two-b")];
    const job = "two-rules";
    // the job is applied after the messages are in, so its first evaluation sees both backlogs at once
    const { broker, client, p } = await setup([qa, qb], []);
    try {
      await client.createSender(qa).sendMessages([{ body: "a1" }, { body: "a2" }]);
      await client.createSender(qb).sendMessages([{ body: "b1" }, { body: "b2" }, { body: "b3" }]);
      const entry = jobEntry({
        name: job,
        maxExecutions: 10,
        grace: 1,
        rules: [
          { name: "rule-a", metadata: { queueName: qa } },
          { name: "rule-b", metadata: { queueName: qb } },
        ],
        env: { HOLD_MS: "60000" },
      });
      p.jobs.apply(entry);
      const d = await waitFor("the first decision", () => p.jobs.runtime.decisions(job)[0]);
      assert.deepEqual(
        d.rules.map((r) => [r.name, r.queueLength, r.active]),
        [
          ["rule-a", 2, true],
          ["rule-b", 3, true],
        ],
      );
      assert.equal(d.started, 3);
      assert.match(d.summary, /^3 started: rule-a: 2 messages .*rule-b: 3 messages/);
      // the scaler starts them one per event-loop turn
      const execs = await waitFor("3 executions", () => {
        const list = p.jobs.engine.executions(job);
        return list.length >= 3 ? list : undefined;
      });
      assert.equal(execs.length, 3);
      for (const e of execs) assert.deepEqual(e.trigger, { type: "Event", rules: ["rule-a", "rule-b"] });
      // pause first: these processors never consume, so a running loop would start new executions at once
      p.jobs.apply({ ...entry, paused: true });
      const stopped = p.jobs.engine.stop(job);
      assert.equal(stopped.length, 3);
      await waitFor("stopped executions to end", () =>
        p.jobs.engine.executions(job).every((e) => e.status === "Stopped"),
      );
    } finally {
      await client.close();
      await broker.close();
    }
  });

  it("a paused job does nothing; pollingMode poll waits for the timer", async () => {
    const q = uniqueName("paused");
    const { broker, client, p } = await setup([q], []);
    try {
      await client.createSender(q).sendMessages({ body: "x" });
      p.jobs.apply({
        ...jobEntry({ name: "paused-job", maxExecutions: 1, rules: [{ name: "rule", metadata: { queueName: q } }] }),
        paused: true,
      });
      p.jobs.apply(
        jobEntry({
          name: "poll-job",
          maxExecutions: 1,
          pollingMode: "poll",
          pollingInterval: 3600,
          rules: [{ name: "rule", metadata: { queueName: q } }],
          env: { HOLD_MS: "60000" },
        }),
      );
      // the poll job evaluates once when applied (and then only hourly): one execution for the one message
      await waitFor("the poll job's first decision", () => p.jobs.runtime.decisions("poll-job")[0]);
      await client.createSender(q).sendMessages({ body: "y" });
      await p.jobs.runtime.settled("poll-job");
      assert.equal(p.jobs.runtime.decisions("poll-job").length, 1, "a new message does not wake a poll-mode job");
      assert.equal(p.jobs.engine.executions("poll-job").length, 1);
      assert.equal(p.jobs.runtime.decisions("paused-job").length, 0);
      assert.equal(p.jobs.engine.executions("paused-job").length, 0);
      p.jobs.engine.stop("poll-job");
    } finally {
      await client.close();
      await broker.close();
    }
  });

  it("an external namespace feeds a local job: counts read over its HTTPS admin API, as KEDA does", async () => {
    // "cloud" stands in for a real namespace on another host: the job's server reaches it only by its connection string
    const q = uniqueName("ext");
    const cloud = await startBroker(queuesYaml({ [q]: { lockDuration: "PT5M", maxDeliveryCount: 1 } }));
    const { broker, client, p } = await setup([], []);
    const cloudClient = new ServiceBusClient(cloud.connectionString, RETRY);
    try {
      await cloudClient.createSender(q).sendMessages([{ body: "far 1" }, { body: "far 2" }]);
      const entry = jobEntry({
        name: "ext-job",
        maxExecutions: 1,
        pollingInterval: 1,
        rules: [{ name: "remote-rule", metadata: { queueName: q } }],
        env: { SB_QUEUE: q },
      }) as any;
      entry.properties.configuration.secrets[0].value = cloud.platform.connectionString(undefined, { tls: true });
      const env = entry.properties.template.containers[0].env;
      env[0] = { name: "SB_CONNECTION", value: cloud.connectionString };
      p.jobs.apply(entry);
      const execs = await waitFor(
        "both remote messages processed",
        () => {
          const list = p.jobs.engine.executions("ext-job").filter((e) => e.status === "Succeeded");
          return list.length >= 2 ? list : undefined;
        },
        30_000,
      );
      assert.deepEqual(execs.map((e) => /Received: (.*)/.exec(consoleText(p, e.name))?.[1]).sort(), ["far 1", "far 2"]);
      const decisions = p.jobs.runtime.decisions("ext-job");
      assert.ok(
        decisions.some((d) => d.started === 1 && d.rules[0].queueLength === 2),
        "a decision read 2 messages remotely",
      );
      assert.ok(
        decisions.every((d) => d.cause === "applied" || d.cause === "poll" || d.cause === "executionFinished"),
        "no push wake-ups from a remote namespace",
      );
      // a wrong key: the admin API refuses, and the explainer says so
      const bad = structuredClone(entry);
      bad.name = "ext-bad";
      bad.properties.configuration.secrets[0].value = cloud.platform
        .connectionString(undefined, { tls: true })
        .replace(/SharedAccessKey=[^;]*/, "SharedAccessKey=wrong");
      p.jobs.apply(bad);
      const failed = await waitFor("the bad rule's decision", () => p.jobs.runtime.decisions("ext-bad")[0]);
      assert.match(failed.rules[0].error!, /401/);
      assert.match(failed.summary, /^0 started: scale rule remote-rule failed: /);
    } finally {
      await cloudClient.close();
      await client.close();
      await broker.close();
      await cloud.close();
    }
  });
});
