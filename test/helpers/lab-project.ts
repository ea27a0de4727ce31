// The lab project (test/fixtures/lab-project.yaml) for the export and import tests, plus a
// richer variant with the job shapes the lab does not use.
import { readFileSync } from "node:fs";
import { parseConfigText } from "../../src/config/load.js";
import type { ProjectConfig } from "../../src/model/config.js";

const LAB_TEXT = readFileSync(new URL("../fixtures/lab-project.yaml", import.meta.url), "utf8");

export const LOCAL_KEY = "LOCAL-ONLY-KEY-Zm9vYmFyYmF6cXV4";
export const LITERAL_SECRET = "literal-s3cret-value-9f8e7d";

export const lab = (): ProjectConfig => parseConfigText(LAB_TEXT, "eventjobs.yaml");
export const labJob = (c: ProjectConfig = lab()) => (c.extra!.jobs as Record<string, any>[])[0];
export const clone = <T>(v: T): T => structuredClone(v);

/** The lab plus jobs that exercise the other shapes: identity, literal secret, Schedule, Manual, paused. */
export function rich(): ProjectConfig {
  const c = lab();
  const jobs = c.extra!.jobs as Record<string, any>[];
  const withIdentity = clone(jobs[0]);
  withIdentity.name = "job-ts";
  withIdentity.identity = {
    type: "UserAssigned",
    userAssignedIdentities: { "${identity.identity-aca.resourceId}": {} },
  };
  withIdentity.paused = true;
  withIdentity.pollingMode = "poll";
  withIdentity.properties.configuration.secrets.push({ name: "api-key", value: LITERAL_SECRET });
  withIdentity.properties.template.containers[0].env.push(
    { name: "API_KEY", secretRef: "api-key" },
    { name: "PRICE", value: "$5 ${HOME} %{x}" },
  );
  withIdentity.properties.template.containers[0].command = ["node", "dist/processor.js"];
  const nightly = {
    name: "nightly",
    properties: {
      configuration: {
        triggerType: "Schedule",
        replicaTimeout: 300,
        scheduleTriggerConfig: { cronExpression: "0 3 * * *" },
      },
      template: {
        containers: [
          {
            name: "main",
            image: "mcr.microsoft.com/k8se/quickstart-jobs:latest",
            resources: { cpu: 0.5, memory: "1Gi" },
          },
        ],
      },
    },
  };
  const manual = {
    name: "by-hand",
    properties: {
      configuration: { triggerType: "Manual", replicaTimeout: 60 },
      template: { containers: [{ name: "main", image: "busybox" }] },
    },
  };
  jobs.push(withIdentity, nightly, manual);
  return c;
}
