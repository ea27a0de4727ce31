// Container Apps YAML → job entries: what `export --format aca-yaml` writes (the round trip restores the
// job as written) and what az and the Portal write.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { exportProject } from "../../src/config/export/index.js";
import { importAcaJob, importAcaYaml, ImportError } from "../../src/config/import-aca.js";
import { JobDefinitionError, normalizeJob } from "../../src/jobs/job-definition.js";
import { rich } from "../helpers/lab-project.js";

describe("import-aca", () => {
  test("export → import gives the same job (references and local-only fields restored)", () => {
    const c = rich();
    for (const raw of c.extra!.jobs as Record<string, any>[]) {
      const text = exportProject(c, { format: "aca-yaml", job: raw.name });
      const [imported] = importAcaYaml(text, { file: `${raw.name}.yaml` });
      const expected = normalizeJob(raw);
      const got = normalizeJob(imported.job);
      if (raw.name === "job-ts") {
        // a literal secret never leaves: it comes back as its placeholder, with a warning
        const i = expected.secrets.findIndex((s) => s.name === "api-key");
        assert.equal(got.secrets[i].value, "${JOB_TS_API_KEY}");
        assert.deepEqual(imported.warnings, [
          `job-ts.yaml: properties.configuration.secrets[${i}].value: still the placeholder \${JOB_TS_API_KEY}: set the secret's value`,
        ]);
        expected.secrets[i].value = got.secrets[i].value;
      } else assert.deepEqual(imported.warnings, []);
      assert.deepEqual(got, expected, raw.name);
    }
  });

  test("import reads what az and the Portal write: top-level name/type/location/tags, nulls, no secret values", () => {
    const text = `
id: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.App/jobs/job-python
name: job-python
type: Microsoft.App/jobs
location: West Europe
tags: { env: lab }
identity:
  type: UserAssigned
  userAssignedIdentities:
    /subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identity-aca:
      clientId: 11111111-1111-1111-1111-111111111111
      principalId: 22222222-2222-2222-2222-222222222222
properties:
  environmentId: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env
  provisioningState: Succeeded
  workloadProfileName: Consumption
  eventStreamEndpoint: https://example
  configuration:
    triggerType: Event
    replicaTimeout: 300
    replicaRetryLimit: 1
    manualTriggerConfig: null
    scheduleTriggerConfig: null
    registries: null
    eventTriggerConfig:
      parallelism: 1
      replicaCompletionCount: 1
      scale:
        pollingInterval: 30
        minExecutions: 0
        maxExecutions: 1
        rules:
          - name: azure-servicebus-queue-rule
            type: azure-servicebus
            metadata: { queueName: queue-messages, namespace: servicebus-ns-job, messageCount: 1 }
            auth: [{ triggerParameter: connection, secretRef: service-bus-connection-string }]
    secrets:
      - name: service-bus-connection-string
  template:
    initContainers: null
    volumes: null
    containers:
      - name: job-python
        image: myreg.azurecr.io/job-python:1.0.0
        command: null
        args: null
        probes: []
        env:
          - { name: SERVICEBUS_QUEUE_NAME, value: queue-messages }
          - { name: SB, secretRef: service-bus-connection-string }
        resources: { cpu: 0.25, memory: 0.5Gi, ephemeralStorage: 1Gi }
`;
    const [{ job, warnings }] = importAcaYaml(text, { file: "show.yaml" });
    const spec = normalizeJob(job);
    assert.equal(spec.name, "job-python");
    assert.equal(spec.replicaTimeout, 300);
    assert.deepEqual(spec.scale!.rules[0].metadata, {
      queueName: "queue-messages",
      namespace: "servicebus-ns-job",
      messageCount: "1",
    });
    assert.deepEqual(spec.template.containers[0].resources, { cpu: 0.25, memory: "0.5Gi" });
    assert.equal(spec.template.containers[0].command, undefined);
    assert.deepEqual(spec.identity, {
      type: "UserAssigned",
      userAssignedIdentities: {
        "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identity-aca":
          {},
      },
    });
    assert.deepEqual(warnings, [
      "show.yaml: properties.configuration.secrets[0]: no value (Azure does not return secret values): set it",
    ]);
    // --name wins over the body's name
    assert.equal(importAcaYaml(text, { name: "other" })[0].job.name, "other");
  });

  test("import errors name the problem", () => {
    assert.throws(
      () =>
        importAcaYaml(
          "location: x\nproperties: {configuration: {triggerType: Manual, replicaTimeout: 5}, template: {containers: [{name: a, image: b}]}}\n",
          { file: "j.yaml" },
        ),
      (e: Error) => e instanceof ImportError && /j\.yaml: the job has no name/.test(e.message),
    );
    assert.throws(
      () => importAcaJob({ name: "a", type: "Microsoft.App/containerApps", properties: {} }),
      /type: "Microsoft.App\/containerApps" — expected Microsoft.App\/jobs/,
    );
    assert.throws(
      () => importAcaYaml("a: [1,\n", { file: "bad.yaml" }),
      (e: Error) => e instanceof ImportError && e.message.startsWith("bad.yaml: document 1: "),
    );
    assert.throws(
      () =>
        importAcaJob({
          name: "a",
          properties: {
            configuration: { triggerType: "Manual" },
            template: { containers: [{ name: "a", image: "b" }] },
          },
        }),
      (e: Error) => e instanceof JobDefinitionError && /replicaTimeout/.test(e.message),
    );
  });
});
