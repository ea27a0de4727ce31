// eventjobs plan / apply / destroy spawned as a user runs them, against a server in this process: create,
// no changes, a changed queue property and env var (a running execution continues), a queue removed from
// the file, bad files that change nothing, destroy, and `up --config` / a restart going the same way.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { lastAppliedConfig } from "../../src/control/state.js";
import { startBroker, TEST_CA_DIR, type TestBroker } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";
import { tempFiles } from "../helpers/files.js";
import { waitFor } from "../helpers/jobs.js";
import { CLI } from "../helpers/cli-entry.js";

const { tempDir } = tempFiles("eventjobs-project-");
const NS = "servicebus-ns-job";

/** The project: a namespace with two queues, an identity with a role, an image built from ./holder, a job. */
function project(o: { maxDeliveryCount?: number; echo?: string; other?: boolean; extra?: string } = {}): string {
  return `# yaml-language-server: $schema=../schema/eventjobs.schema.json
namespaces:
  - name: ${NS}
    queues:
      - name: queue-messages
        properties:
          lockDuration: PT5M
          maxDeliveryCount: ${o.maxDeliveryCount ?? 1}
${o.other === false ? "" : "      - name: queue-other\n"}${o.extra ?? ""}identities:
  - name: identity-aca
roleAssignments:
  - role: Azure Service Bus Data Receiver
    assignee: identity-aca
    scope: ${NS}/queues/queue-messages
images:
  - registry: myreg
    image: holder:1.0.0
    context: ./holder
jobs:
  - name: holder-job
    properties:
      configuration:
        triggerType: Manual
        replicaTimeout: 120
        secrets:
          - name: sb-connection
            value: \${servicebus.${NS}.connectionString}
      template:
        containers:
          - name: main
            image: myreg.azurecr.io/holder:1.0.0
            env:
              - name: ECHO
                value: ${o.echo ?? "first"}
              - name: HOLD_MS
                value: "30000"
              - name: SB_CONNECTION_STRING
                secretRef: sb-connection
`;
}

describe("eventjobs plan / apply / destroy", () => {
  let broker: TestBroker;
  let dir: string;
  let file: string;
  const run = (args: string[]) => cli(broker.dataDir, [...args, "--config", file]);
  const write = (text: string) => writeFileSync(file, text);
  const ns = () => broker.platform.broker.namespace(NS);

  before(async () => {
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n");
    dir = tempDir();
    file = join(dir, "eventjobs.yaml");
    mkdirSync(join(dir, "holder"));
    writeFileSync(
      join(dir, "holder", "Dockerfile"),
      'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nCMD ["node", "hold.mjs"]\n',
    );
    writeFileSync(
      join(dir, "holder", "hold.mjs"),
      "console.log(`echo: ${process.env.ECHO}`);\nsetTimeout(() => {}, Number(process.env.HOLD_MS ?? 0));\n",
    );
  });
  after(() => broker?.close());

  it("plan shows what apply creates; apply says what it does, one line per resource; a second apply changes nothing", async () => {
    write(project());
    const plan = await run(["plan"]);
    assert.equal(plan.code, 0, plan.stderr);
    for (const line of [
      `  + namespace ${NS}`,
      `  + queue ${NS}/queue-messages`,
      "      maxDeliveryCount: 1",
      "  + identity identity-aca",
      "  + image myreg.azurecr.io/holder:1.0.0",
      "  + job holder-job",
    ]) {
      assert.ok(plan.stdout.includes(`${line}\n`), `plan shows ${JSON.stringify(line)}:\n${plan.stdout}`);
    }
    assert.match(plan.stdout, /properties\.configuration\.secrets\[sb-connection\]\.value: \(sensitive\)/);
    assert.match(plan.stdout, /authorizationRules\[RootManageSharedAccessKey\]\.primaryKey: \(sensitive\)/);
    assert.match(plan.stdout, /^Plan: 7 to create, 0 to update, 0 to delete\.$/m);
    assert.equal(ns(), undefined, "plan changes nothing");

    const apply = await run(["apply"]);
    assert.equal(apply.code, 0, apply.stderr);
    for (const line of [
      "Building image myreg/holder:1.0.0 from ", // the context, relative to where the server runs
      `Creating namespace ${NS}... done`,
      `Creating queue ${NS}/queue-messages... done`,
      `Creating queue ${NS}/queue-other... done`,
      "Creating identity identity-aca... done",
      `Creating role assignment "Azure Service Bus Data Receiver" for identity-aca on ${NS}/queue-messages... done`,
      "Creating image myreg.azurecr.io/holder:1.0.0... done",
      "Creating job holder-job... done",
      "Apply complete: 7 created, 0 updated, 0 deleted.",
    ]) {
      assert.ok(apply.stdout.includes(line), `apply says ${JSON.stringify(line)}:\n${apply.stdout}`);
    }
    assert.ok(!/SharedAccessKey=|LOCAL-KEY/.test(plan.stdout + apply.stdout), "no secret printed");
    assert.equal(ns()!.queue("queue-messages")!.props.maxDeliveryCount, 1);
    assert.ok(broker.platform.identity.registry.user("identity-aca"));
    assert.equal(
      broker.platform.jobs.engine.job("holder-job")?.template.containers[0].image,
      "myreg.azurecr.io/holder:1.0.0",
    );

    const again = await run(["apply"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /No changes\.\n$/);
    assert.doesNotMatch(again.stdout, /Creating|Updating|Deleting/);
    const plain = await run(["plan", "--detailed-exitcode"]);
    assert.equal(plain.code, 0);
    assert.match(plain.stdout, /^No changes\. The running server matches .*eventjobs\.yaml\.$/m);
  });

  it("a changed queue property and env var change only those; a running execution continues; the next one sees the new value", async () => {
    const running = broker.platform.jobs.runtime.start("holder-job");
    await waitFor(
      "the execution to run",
      () => broker.platform.jobs.engine.execution(running.name)?.status === "Running",
    );
    const jobBefore = broker.platform.jobs.engine.job("holder-job")!;
    const queueBefore = ns()!.queue("queue-messages")!;

    write(project({ maxDeliveryCount: 2, echo: "second" }));
    const plan = await run(["plan", "-o", "json", "--detailed-exitcode"]);
    assert.equal(plan.code, 2, plan.stderr);
    const changes = JSON.parse(plan.stdout).changes;
    assert.deepEqual(
      changes.map((c: any) => [c.action, c.kind, c.id, c.fields]),
      [
        ["update", "queue", `${NS}/queue-messages`, [{ path: "maxDeliveryCount", before: 1, after: 2 }]],
        [
          "update",
          "job",
          "holder-job",
          [{ path: "properties.template.containers[main].env[ECHO].value", before: "first", after: "second" }],
        ],
      ],
    );
    const apply = await run(["apply"]);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /~ queue servicebus-ns-job\/queue-messages\n\s+~ maxDeliveryCount: 1 → 2\n/);
    assert.match(
      apply.stdout,
      new RegExp(`Updating queue ${NS}/queue-messages\\.\\.\\. done\nUpdating job holder-job\\.\\.\\. done\n`),
    );
    assert.match(apply.stdout, /Apply complete: 0 created, 2 updated, 0 deleted\./);

    assert.equal(ns()!.queue("queue-messages"), queueBefore, "the same queue (its messages stay), changed in place");
    assert.equal(queueBefore.props.maxDeliveryCount, 2);
    assert.notEqual(broker.platform.jobs.engine.job("holder-job"), jobBefore);
    assert.equal(
      broker.platform.jobs.engine.execution(running.name)?.status,
      "Running",
      "the running execution continues",
    );
    const next = broker.platform.jobs.runtime.start("holder-job");
    await waitFor("the new execution to echo the new value", () =>
      broker.platform.jobs.logs.query({ execution: next.name, kind: "console" }).some((l) => l.text === "echo: second"),
    );
    assert.ok(
      broker.platform.jobs.logs
        .query({ execution: running.name, kind: "console" })
        .some((l) => l.text === "echo: first"),
    );
    broker.platform.jobs.engine.stop("holder-job");
  });

  it("a queue removed from the file is deleted on apply", async () => {
    write(project({ maxDeliveryCount: 2, echo: "second", other: false }));
    const apply = await run(["apply"]);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /- queue servicebus-ns-job\/queue-other\n/);
    assert.match(apply.stdout, /Deleting queue servicebus-ns-job\/queue-other\.\.\. done\n/);
    assert.match(apply.stdout, /Apply complete: 0 created, 0 updated, 1 deleted\./);
    assert.equal(ns()!.queue("queue-other"), undefined);
  });

  it("a bad file: every problem with file:line:col, exit 1, nothing applied", async () => {
    write(
      project({
        other: false,
        extra: "      - name: not-yet-created\n        properties: { lockDuration: banana }\n",
      }).replace("triggerType: Manual", "triggerType: Manually"),
    );
    for (const cmd of ["plan", "apply"]) {
      const r = await run([cmd]);
      assert.equal(r.code, 1, `${cmd}: ${r.stdout}`);
      assert.ok(
        r.stderr.includes(
          `${file}:10:37: namespaces[0].queues[1].properties.lockDuration: "banana" — expected an ISO-8601 duration from PT5S to PT5M`,
        ),
        r.stderr,
      );
      assert.ok(
        r.stderr.includes(
          `${file}:25:22: jobs[0].properties.configuration.triggerType: "Manually" — expected one of "Event", "Manual", "Schedule"`,
        ),
        r.stderr,
      );
    }
    assert.equal(ns()!.queue("not-yet-created"), undefined);

    // a file that parses but cannot be applied (the image does not build): nothing changes either
    write(
      project({ other: false, extra: "      - name: not-yet-created\n" }).replace(
        "context: ./holder",
        "context: ./missing",
      ),
    );
    const r = await run(["apply"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Building image myreg\/holder:1\.0\.0 from .*missing\.\.\. failed/);
    assert.ok(
      r.stderr.includes(
        `${file}:19:14: images[0].context: "${join(dir, "missing")}" — expected a build context that acr build accepts (build context`,
      ),
      r.stderr,
    );
    assert.match(r.stderr, /Nothing was changed\.\n$/);
    assert.equal(ns()!.queue("not-yet-created"), undefined, "a valid queue in the same file is not created");
  });

  it("destroy deletes what the project created, and only that", async () => {
    await broker.platform.broker
      .namespace("sbemulatorns")!
      .createQueue("made-by-hand", ns()!.queue("queue-messages")!.props);
    write(project({ other: false }));
    const no = await run(["destroy"]);
    assert.equal(no.code, 1);
    assert.match(no.stderr, /destroy deletes 6 resources of .*: pass --yes to confirm/);
    const r = await run(["destroy", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleting job holder-job\.\.\. done\n/);
    assert.match(r.stdout, new RegExp(`Deleting namespace ${NS}\\.\\.\\. done\n`));
    assert.match(r.stdout, /Destroy complete: 0 created, 0 updated, 6 deleted\./);
    assert.equal(ns(), undefined);
    assert.equal(broker.platform.jobs.engine.job("holder-job"), undefined);
    assert.equal(broker.platform.identity.registry.user("identity-aca"), undefined);
    assert.ok(
      broker.platform.broker.namespace("sbemulatorns")!.queue("made-by-hand"),
      "what the project did not create stays",
    );
    const plan = await run(["plan", "-o", "json"]);
    assert.equal(JSON.parse(plan.stdout).changes.filter((c: any) => c.action === "create").length, 6);
  });
});

describe("up --config and restarts go through apply", () => {
  it("starting with a changed file deletes what the old one declared; without a file, the last applied project comes back", async () => {
    const dataDir = tempDir();
    // no primaryKey: a generated one, which must survive restarts
    const rules = "    authorizationRules:\n      - { name: root, rights: [Manage, Send, Listen] }\n";
    const yaml = (queues: string[]) =>
      `namespaces:\n  - name: ${NS}\n${rules}    queues:\n${queues.map((q) => `      - name: ${q}\n`).join("")}`;
    let b = await startBroker(yaml(["a", "b"]), { dataDir });
    const key = () => /SharedAccessKey=([^;]+)/.exec(b.platform.connectionString(NS))![1];
    const cs = key();
    await b.close({ keepData: true });
    b = await startBroker(yaml(["a"]), { dataDir });
    try {
      assert.deepEqual(b.platform.broker.namespace(NS)!.queueNames(), ["a"]);
      assert.equal(key(), cs, "a generated key is kept");
    } finally {
      await b.close({ keepData: true });
    }
    const kept = lastAppliedConfig(dataDir)!;
    assert.deepEqual(
      kept.namespaces[0].queues.map((q) => q.name),
      ["a"],
    );
    assert.deepEqual(parseConfigText(yaml(["a"]), "x.yaml").namespaces[0].queues, kept.namespaces[0].queues);
    assert.equal(kept.namespaces[0].policies[0].primaryKey, cs);

    // `eventjobs up` without a file starts with it; with one, it applies it and says what it does
    const up = async (args: string[]) => {
      const child = spawn(
        process.execPath,
        [
          ...CLI,
          "up",
          "--data-dir",
          dataDir,
          ...["--amqp-port", "--amqps-port", "--http-port", "--https-port"].flatMap((f) => [f, "0"]),
          ...args,
        ],
        { cwd: ROOT, env: { ...process.env, EVENTJOBS_CA_DIR: TEST_CA_DIR } },
      ); // ROOT has no eventjobs.yaml
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      await waitFor("eventjobs ready", () => out.includes("namespaces:"), 15_000);
      child.kill("SIGTERM");
      await new Promise((r) => child.once("close", r));
      return out;
    };
    const plain = await up([]);
    assert.match(
      plain,
      new RegExp(
        `^using the project last applied to ${dataDir} \\(.*x\\.yaml|${dataDir}.*\\); pass --config to apply another$`,
        "m",
      ),
    );
    assert.match(plain, new RegExp(`namespaces: ${NS} \\(1 queues\\)`));
    const file = join(dataDir, "next.yaml");
    writeFileSync(file, yaml(["a", "c"]));
    const applied = await up(["--config", file]);
    assert.match(applied, new RegExp(`^Creating queue ${NS}/c\\.\\.\\. done$`, "m"));
    assert.match(applied, /namespaces: servicebus-ns-job \(2 queues\)/);
  });
});
