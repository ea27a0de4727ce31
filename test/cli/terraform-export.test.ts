// What `eventjobs export --format terraform` writes is a folder `eventjobs terraform` runs: a project file with a
// registry, an image, an identity the job pulls with and a role, exported next to itself, then init / plan / apply
// against a server; the azurerm_container_app_job (with its registry block) becomes the job, the image is built by
// the terraform_data's `az acr build`, a second plan shows no changes, and destroy removes what apply made.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";

const DATA = join(ROOT, `.eventjobs-tf-export-test-${process.pid}`);
const NS = "tfx-ns";
const PROJECT = `namespaces:
  - name: ${NS}
    queues:
      - name: work
        properties: { lockDuration: PT2M, maxDeliveryCount: 3 }
identities:
  - name: tfx-id
roleAssignments:
  - role: Azure Service Bus Data Receiver
    assignee: tfx-id
    scope: ${NS}/queues/work
images:
  - registry: tfxreg
    image: worker:1.0.0
    context: ./app
jobs:
  - name: tfx-job
    identity:
      type: UserAssigned
      userAssignedIdentities:
        \${identity.tfx-id.resourceId}: {}
    properties:
      configuration:
        triggerType: Manual
        replicaTimeout: 60
        secrets:
          - name: sb
            value: \${servicebus.${NS}.connectionString}
      template:
        containers:
          - name: worker
            image: tfxreg.azurecr.io/worker:1.0.0
            env:
              - name: SERVICEBUS_FQDN
                value: \${servicebus.${NS}.fqdn}
              - name: CLIENT_ID
                value: \${identity.tfx-id.clientId}
`;
const VARS = ["-var", "resource_group_name=rg-tfx", "-var", "location=westeurope"];

describe("export --format terraform, run by eventjobs terraform", () => {
  let broker: TestBroker;
  const dir = join(DATA, "project");
  const tf = (args: string[]) => cli(broker.dataDir, ["terraform", ...args], { cwd: dir });

  before(async () => {
    mkdirSync(dir, { recursive: true });
    cpSync(join(ROOT, "examples/seed/app-ts"), join(dir, "app"), { recursive: true });
    writeFileSync(join(dir, "eventjobs.yaml"), PROJECT);
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n", { dataDir: join(DATA, "server") });
  });
  after(async () => {
    await broker?.close();
    rmSync(DATA, { recursive: true, force: true });
  });

  it("exports, plans and applies: registry, image build, AcrPull, the job with its registry; no changes; destroy", async () => {
    const exported = await cli(broker.dataDir, ["export", "--format", "terraform", "-o", "main.tf"], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    const text = readFileSync(join(dir, "main.tf"), "utf8");
    assert.match(text, /registry \{/);

    const init = await tf(["init"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /terraform_data\.build_tfxreg_worker_1_0_0/);
    const env = [
      "-var",
      "container_app_environment_id=/subscriptions/x/resourceGroups/rg-tfx/providers/Microsoft.App/managedEnvironments/env",
    ];
    const apply = await tf(["apply", "-auto-approve", ...VARS, ...env]);
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.match(apply.stdout, /Apply complete! Resources: 8 added/);

    const p = broker.platform;
    assert.equal(p.broker.namespace(NS)!.queue("work")!.props.lockDurationMs, 120_000);
    const job = p.jobs.engine.job("tfx-job")!;
    assert.equal(job.template.containers[0].image, "tfxreg.azurecr.io/worker:1.0.0");
    const def = await cli(broker.dataDir, ["containerapp", "job", "show", "-n", "tfx-job", "-o", "json"]);
    const registries = JSON.parse(def.stdout).properties.configuration.registries;
    assert.equal(registries[0].server, "tfxreg.azurecr.io");
    assert.equal(
      registries[0].identity,
      "${identity.tfx-id.resourceId}",
      "the identity, as a reference the server keeps",
    );

    const again = await tf(["plan", "-detailed-exitcode", ...VARS, ...env]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const gone = await tf(["destroy", "-auto-approve"]);
    assert.equal(gone.code, 0, gone.stderr + gone.stdout);
    assert.equal(p.jobs.engine.job("tfx-job"), undefined);
    assert.equal(p.broker.namespace(NS), undefined);
  });
});
