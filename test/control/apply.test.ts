// apply in-process: a failure while changing undoes what was done; secrets never reach a plan; a job follows
// a key it references; the emulator's Config.json applies like eventjobs.yaml.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { formatPlan } from "../../src/control/diff.js";
import { ApplyError } from "../../src/control/project-service.js";
import { startBroker, type TestBroker } from "../helpers/broker.js";

const NS = "servicebus-ns-job";
const SECRET = "literal-s3cret-value-42";

function yaml(o: { key: string; queues: string[]; echo?: string }): string {
  return `namespaces:
  - name: ${NS}
    authorizationRules:
      - { name: root, rights: [Manage, Send, Listen], primaryKey: ${o.key} }
    queues:
${o.queues.map((q) => `      - name: ${q}\n`).join("")}jobs:
  - name: worker
    properties:
      configuration:
        triggerType: Manual
        replicaTimeout: 60
        secrets:
          - { name: cs, value: "\${servicebus.${NS}.connectionString}" }
          - { name: api-key, value: ${SECRET} }
      template:
        containers:
          - name: main
            image: busybox
            command: [node, -e, "1"]
            env: [{ name: ECHO, value: ${o.echo ?? "one"} }, { name: CS, secretRef: cs }]
`;
}

describe("apply", () => {
  let b: TestBroker;
  const parse = (text: string, file = "eventjobs.yaml") =>
    b.platform.project.keepKeys(parseConfigText(text, join(b.dataDir, file)));
  before(async () => {
    b = await startBroker(yaml({ key: "key-one", queues: ["a"] }));
  });
  after(() => b?.close());

  it("plans never show a secret: keys, secret values, connection strings", async () => {
    const plan = await b.platform.project.plan(
      parse(yaml({ key: "key-two", queues: ["a", "b"] }).replace(SECRET, `${SECRET}-2`)),
    );
    const text = formatPlan(plan).join("\n") + JSON.stringify(plan);
    for (const s of ["key-one", "key-two", SECRET, "SharedAccessKey="]) assert.ok(!text.includes(s), `${s} in ${text}`);
    assert.match(text, /~ authorizationRules\[root\]\.primaryKey: \(sensitive\) → \(sensitive\)/);
    assert.match(text, /~ properties\.configuration\.secrets\[api-key\]\.value: \(sensitive\) → \(sensitive\)/);
  });

  it("a job whose entry is unchanged follows a namespace key it references", async () => {
    const plan = await b.platform.project.plan(parse(yaml({ key: "key-two", queues: ["a"] })));
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.kind, c.id, c.note]),
      [
        ["update", "namespace", NS, undefined],
        ["update", "job", "worker", `it references namespace ${NS}, which changes`],
      ],
    );
    await b.platform.project.apply(parse(yaml({ key: "key-two", queues: ["a"] })));
    assert.match(b.platform.jobs.engine.job("worker")!.secrets[0].value, /SharedAccessKey=key-two;/);
  });

  it("a failure while changing undoes every change made so far and records nothing", async () => {
    const before = { state: b.platform.project.state(), job: b.platform.jobs.engine.job("worker") };
    const jobs = b.platform.jobs;
    const real = jobs.apply;
    jobs.apply = () => {
      throw new Error("disk full");
    };
    try {
      await assert.rejects(
        b.platform.project.apply(parse(yaml({ key: "key-three", queues: ["a", "new-queue"], echo: "two" }))),
        (e: Error) => {
          assert.ok(e instanceof ApplyError);
          assert.equal(e.message, "Updating job worker: disk full; every change made so far was undone");
          return true;
        },
      );
    } finally {
      jobs.apply = real;
    }
    const ns = b.platform.broker.namespace(NS)!;
    assert.equal(ns.queue("new-queue"), undefined, "the queue created before the failure is gone");
    assert.equal(ns.policies[0].primaryKey, "key-two", "the key is back");
    assert.equal(b.platform.jobs.engine.job("worker"), before.job);
    assert.deepEqual(b.platform.project.state(), before.state);
    assert.deepEqual((await b.platform.project.plan(parse(yaml({ key: "key-two", queues: ["a"] })))).changes, []);
  });

  it("the emulator's Config.json plans and applies like eventjobs.yaml, its topics too", async () => {
    const text = JSON.stringify({
      UserConfig: {
        Namespaces: [
          {
            Name: "sbemulatorns",
            Queues: [{ Name: "queue.1", Properties: { MaxDeliveryCount: 3 } }],
            Topics: [{ Name: "topic.1", Subscriptions: [{ Name: "sub.1" }] }],
          },
        ],
      },
    });
    const config = parse(text, "Config.json");
    const plan = await b.platform.project.plan(config);
    assert.deepEqual(
      plan.changes.map((c) => `${c.action} ${c.title}${c.note ? ` (${c.note})` : ""}`),
      [
        "create namespace sbemulatorns",
        "create queue sbemulatorns/queue.1",
        "create topic sbemulatorns/topic.1",
        "create subscription sbemulatorns/topic.1/sub.1",
        "delete job worker",
        "delete queue servicebus-ns-job/a",
        `delete namespace ${NS}`,
      ],
    );
    await b.platform.project.apply(config);
    assert.equal(b.platform.broker.namespace("sbemulatorns")!.queue("queue.1")!.props.maxDeliveryCount, 3);
    assert.deepEqual(b.platform.broker.namespace("sbemulatorns")!.topics.subscriptionNames("topic.1"), ["sub.1"]);
    assert.deepEqual((await b.platform.project.plan(parse(text, "Config.json"))).changes, []);
  });
});
