// `eventjobs containerapp job ...` spawned as a user runs it, against a server on a data dir.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { PROCESSOR, waitFor } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";
import { CLI } from "../helpers/cli-entry.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** Runs the CLI as a child process (asynchronously: the server it talks to runs in this process). */
function cli(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...CLI, ...args, "--data-dir", dataDir], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

describe("containerapp job CLI", () => {
  let broker: TestBroker;
  let client: ServiceBusClient;
  const queue = uniqueName("cli");
  before(async () => {
    broker = await startBroker(queuesYaml({ [queue]: { lockDuration: "PT5M", maxDeliveryCount: 1 } }));
    client = new ServiceBusClient(broker.connectionString, RETRY);
  });
  after(async () => {
    await client.close();
    await broker.close();
  });

  it("the lab's az command creates the job; a message then runs an execution whose logs show it", async () => {
    const d = broker.dataDir;
    const cs = broker.connectionString;
    // prettier-ignore
    const r = await cli(d, ["containerapp", "job", "create", "--name", "job-python", "--resource-group", "rg-lab", "--environment", "env-lab",
      "--trigger-type", "Event", "--replica-timeout", "86400", "--replica-retry-limit", "1", "--replica-completion-count", "1",
      "--parallelism", "1", "--image", "mcr.microsoft.com/k8se/quickstart-jobs:latest", "--command", "node", PROCESSOR,
      "--cpu", "0.25", "--memory", "0.5", "--min-executions", "0", "--max-executions", "1",
      "--secrets", `service-bus-connection-string=${cs}`,
      "--scale-rule-name", "azure-servicebus-queue-rule", "--scale-rule-type", "azure-servicebus",
      "--scale-rule-auth", "connection=service-bus-connection-string",
      "--scale-rule-metadata", `queueName=${queue}`, "namespace=sbemulatorns", "messageCount=1",
      "--env-vars", "SERVICEBUS_FQDN=localhost", "MANAGED_IDENTITY_CLIENT_ID=00000000-0000-0000-0000-000000000001", `SERVICEBUS_QUEUE_NAME=${queue}`,
      `SB_QUEUE=${queue}`, "SB_CONNECTION=secretref:service-bus-connection-string"]);
    assert.equal(r.code, 0, r.stderr);
    const job = JSON.parse(r.stdout);
    assert.equal(job.name, "job-python");
    assert.equal(job.type, "Microsoft.App/jobs");
    assert.match(job.id, /\/resourceGroups\/rg-lab\/providers\/Microsoft.App\/jobs\/job-python$/);
    const conf = job.properties.configuration;
    assert.deepEqual([conf.triggerType, conf.replicaTimeout, conf.replicaRetryLimit], ["Event", 86400, 1]);
    assert.deepEqual(conf.eventTriggerConfig.scale, {
      minExecutions: 0,
      maxExecutions: 1,
      pollingInterval: 30,
      rules: [
        {
          name: "azure-servicebus-queue-rule",
          type: "azure-servicebus",
          metadata: { queueName: queue, namespace: "sbemulatorns", messageCount: "1" },
          auth: [{ triggerParameter: "connection", secretRef: "service-bus-connection-string" }],
        },
      ],
    });
    assert.deepEqual(conf.secrets, [{ name: "service-bus-connection-string" }], "secret names only");
    assert.deepEqual(job.properties.template.containers[0].resources, { cpu: 0.25, memory: "0.5Gi" });
    assert.ok(!r.stdout.includes("SharedAccessKey"), "no secret in the output");
    assert.match(job.properties.environmentId, /managedEnvironments\/env-lab$/);

    await client.createSender(queue).sendMessages({ body: "hello from the CLI test" });
    await waitFor("an execution to succeed", async () => {
      const out = await cli(d, ["containerapp", "job", "execution", "list", "-n", "job-python"]);
      const list = JSON.parse(out.stdout);
      return list.length === 1 && list[0].properties.status === "Succeeded";
    });
    const logs = await cli(d, ["containerapp", "job", "logs", "show", "-n", "job-python", "--format", "text"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /Received: hello from the CLI test/);
    const table = await cli(d, ["containerapp", "job", "list", "-o", "table"]);
    assert.match(table.stdout, /^Name\s+TriggerType\s+ReplicaTimeout/);
    assert.match(table.stdout, /job-python\s+Event\s+86400/);
    const explain = await cli(d, ["containerapp", "job", "explain", "-n", "job-python"]);
    assert.match(explain.stdout, /1 started: azure-servicebus-queue-rule: 1 message/);
  });

  it("manual start with an env override, stop, and logs --follow", async () => {
    const d = broker.dataDir;
    const create = await cli(d, [
      "containerapp",
      "job",
      "create",
      "-n",
      "manual-job",
      "--trigger-type",
      "Manual",
      "--replica-timeout",
      "60",
      "--image",
      "local/anything:1",
      "--command",
      "node",
      PROCESSOR,
      "--env-vars",
      "ECHO=plain",
      "HOLD_MS=60000",
      "-o",
      "none",
    ]);
    assert.equal(create.code, 0, create.stderr);
    assert.equal(create.stdout, "");
    const follower = spawn(
      process.execPath,
      [
        ...CLI,
        "containerapp",
        "job",
        "logs",
        "show",
        "-n",
        "manual-job",
        "--type",
        "system",
        "--follow",
        "--format",
        "text",
        "--data-dir",
        d,
      ],
      { cwd: ROOT },
    );
    let followed = "";
    follower.stdout.on("data", (c) => (followed += c));
    try {
      const started = await cli(d, ["containerapp", "job", "start", "-n", "manual-job", "--env-vars", "ECHO=override"]);
      assert.equal(started.code, 0, started.stderr);
      const { name } = JSON.parse(started.stdout);
      assert.match(name, /^manual-job-[a-z0-9]{7}$/);
      await waitFor("the override to be echoed", async () =>
        (
          await cli(d, [
            "containerapp",
            "job",
            "logs",
            "show",
            "-n",
            "manual-job",
            "--execution",
            name,
            "--format",
            "text",
          ])
        ).stdout.includes("echo: override"),
      );
      await waitFor("the follower to see the execution", () =>
        followed.includes(`Execution ${name} created by a manual start`),
      );
      const stop = await cli(d, ["containerapp", "job", "stop", "-n", "manual-job", "--job-execution-name", name]);
      assert.equal(stop.code, 0, stop.stderr);
      await waitFor(
        "the execution to be Stopped",
        async () =>
          JSON.parse(
            (
              await cli(d, [
                "containerapp",
                "job",
                "execution",
                "show",
                "-n",
                "manual-job",
                "--job-execution-name",
                name,
              ])
            ).stdout,
          ).properties.status === "Stopped",
      );
      await waitFor("the follower to see it stop", () => followed.includes(`Execution ${name} Stopped`));
    } finally {
      follower.kill();
    }
    assert.equal((await cli(d, ["containerapp", "job", "delete", "-n", "manual-job", "--yes"])).code, 0);
    const gone = await cli(d, ["containerapp", "job", "show", "-n", "manual-job"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /The Resource 'Microsoft.App\/jobs\/manual-job' was not found/);
  });

  it("--replica-completion-count (and az's --rcc) and --parallelism reach the job", async () => {
    const d = broker.dataDir;
    for (const [flag, name] of [
      ["--replica-completion-count", "rcc-long"],
      ["--rcc", "rcc-short"],
    ]) {
      const r = await cli(d, [
        "containerapp",
        "job",
        "create",
        "-n",
        name,
        "--trigger-type",
        "Manual",
        "--replica-timeout",
        "60",
        "--command",
        "node",
        PROCESSOR,
        flag,
        "3",
        "--parallelism",
        "2",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        JSON.parse(r.stdout).properties.configuration.manualTriggerConfig,
        { parallelism: 2, replicaCompletionCount: 3 },
        flag,
      );
      await cli(d, ["containerapp", "job", "delete", "-n", name, "--yes"]);
    }
  });

  it("bad input: one clear line, exit 1, nothing created", async () => {
    const d = broker.dataDir;
    const bad = async (args: string[], re: RegExp) => {
      const r = await cli(d, ["containerapp", "job", "create", ...args]);
      assert.equal(r.code, 1, `exit 1 for ${args.join(" ")}`);
      assert.match(r.stderr.trim(), re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    };
    await bad(
      ["-n", "Bad_Name", "--trigger-type", "Manual"],
      /^eventjobs: Invalid value "Bad_Name" for --name: must consist of lower case alphanumeric characters or '-', start with a letter/,
    );
    await bad(
      ["-n", "ok-name", "--trigger-type", "Manual", "--parallelism", "0"],
      /Usage error: --parallelism must be at least 1/,
    );
    await bad(
      ["-n", "ok-name", "--trigger-type", "Sometimes"],
      /Invalid value "Sometimes" for --trigger-type: allowed values are Event, Manual, Schedule/,
    );
    await bad(
      ["-n", "ok-name", "--trigger-type", "Schedule", "--cron-expression", "61 * * * *"],
      /cronExpression.*minute/,
    );
    await bad(
      [
        "-n",
        "ok-name",
        "--trigger-type",
        "Event",
        "--scale-rule-name",
        "r",
        "--scale-rule-type",
        "azure-servicebus",
        "--scale-rule-metadata",
        "messageCount=1",
      ],
      /rules\[0\]\.metadata: .* error parsing azure service bus metadata: no service bus entity type set$/,
    );
    assert.equal(
      JSON.parse((await cli(d, ["containerapp", "job", "list"])).stdout).some(
        (j: { name: string }) => j.name === "ok-name",
      ),
      false,
    );
  });

  it("with no server on the data dir, commands say so in one line", async () => {
    const empty = mkdtempSync(join(tmpdir(), "eventjobs-noserver-"));
    try {
      const r = await cli(empty, ["containerapp", "job", "list"]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.trim(),
        `eventjobs: no eventjobs server is running on ${empty} (start one with: eventjobs up --data-dir ${empty})`,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
