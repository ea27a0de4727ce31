// Exports that deploy (docs/projects.md): each format pulls the job's image with its registry identity and grants
// that identity AcrPull on a registry it creates (az, terraform), Terraform pins azurerm to 4.x with the
// subscription it needs, KEDA runs the job's pods with workload identity (a ServiceAccount with the identity's client
// id, the pod label, and a TriggerAuthentication for azure-workload, all valid for KEDA's CRDs), role assignments
// for the developer of `eventjobs login` become "you" in Azure, and topics go with the namespace.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { exportProject } from "../../src/config/export/index.js";
import type { ProjectConfig } from "../../src/model/config.js";
import { lab, LOCAL_KEY } from "../helpers/lab-project.js";
import { crdSchema, validate } from "../helpers/openapi.js";

const SCHEMAS = new URL("../fixtures/keda/", import.meta.url);
const SCALED_JOB = crdSchema(new URL("keda.sh_scaledjobs.yaml", SCHEMAS));
const TRIGGER_AUTH = crdSchema(new URL("keda.sh_triggerauthentications.yaml", SCHEMAS));

/** The lab with a topic and a role assignment for the developer principal. */
function labPlus(): ProjectConfig {
  const c = lab();
  c.namespaces[0].topics = [
    {
      name: "orders",
      properties: {
        defaultMessageTimeToLiveMs: 3600_000,
        requiresDuplicateDetection: false,
        duplicateDetectionHistoryTimeWindowMs: 600_000,
        maxSizeInMegabytes: 2048,
      },
      subscriptions: [],
    },
  ];
  (c.extra!.roleAssignments as unknown[]).push({
    role: "Azure Service Bus Data Sender",
    assignee: "developer@eventjobs.local",
    scope: "servicebus-ns-job/queues/queue-messages",
  });
  return c;
}

describe("exports that deploy", () => {
  test("az: the registry is created, its images built, AcrPull granted; the job pulls with its identity", () => {
    const text = exportProject(labPlus(), { format: "az" });
    assert.match(text, /^az acr create \\\n {2}--resource-group "\$RESOURCE_GROUP" \\\n {2}--name myreg \\/m);
    assert.match(text, /^az acr build --registry myreg --image job-python:1\.0\.0 \.\/app$/m);
    assert.match(
      text,
      /az role assignment create \\\n {2}--role AcrPull \\\n {2}--assignee-object-id "\$IDENTITY_ACA_PRINCIPAL_ID" \\\n {2}--assignee-principal-type ServicePrincipal \\\n {2}--scope "\$\(az acr show --name myreg --query id --output tsv\)"/,
    );
    assert.ok(text.indexOf("--role AcrPull") < text.indexOf("az containerapp job create"), "pull access first");
    assert.match(text, / {2}--registry-server myreg\.azurecr\.io \\\n {2}--registry-identity "\$IDENTITY_ACA_ID" \\/);
    // you, as az knows you
    assert.match(text, /^ME="\$\(az ad signed-in-user show --query id --output tsv\)"/m);
    assert.match(text, /--assignee-object-id "\$ME" \\\n {2}--assignee-principal-type User/);
    assert.match(
      text,
      /^az servicebus topic create \\\n(?: {2}.*\\\n)*? {2}--name orders \\\n(?: {2}.*\\\n)* {2}--max-size 2048$/m,
    );
  });

  test("terraform: azurerm ~> 4.0 with subscription_id; registry, AcrPull, image build; the job's registry block", () => {
    const text = exportProject(labPlus(), { format: "terraform" });
    assert.match(text, /azurerm = \{ "source" = "hashicorp\/azurerm", "version" = "~> 4\.0" \}/);
    assert.match(text, /provider "azurerm" \{\n {2}features \{\}\n {2}subscription_id = var\.subscription_id\n\}/);
    assert.match(
      text,
      /variable "subscription_id" \{\n\s+type\s+= string\n\s+default\s+= null\n\s+description = ".*ARM_SUBSCRIPTION_ID/,
    );
    assert.match(text, /resource "azurerm_container_registry" "myreg" \{\n\s+name\s+= "myreg"\n/);
    assert.match(
      text,
      /resource "azurerm_role_assignment" "identity_aca_acrpull_myreg" \{\n\s+scope\s+= azurerm_container_registry\.myreg\.id\n\s+role_definition_name = "AcrPull"\n\s+principal_id\s+= azurerm_user_assigned_identity\.identity_aca\.principal_id\n/,
    );
    assert.match(
      text,
      /resource "terraform_data" "build_myreg_job_python_1_0_0" \{\n\s+triggers_replace = \["job-python:1\.0\.0"\]\n\s+provisioner "local-exec" \{\n\s+command = "az acr build --registry \$\{azurerm_container_registry\.myreg\.name\} --image job-python:1\.0\.0 \.\/app"\n/,
    );
    const job = text.slice(text.indexOf('resource "azurerm_container_app_job"'));
    assert.match(
      job,
      /registry \{\n\s+server\s+= azurerm_container_registry\.myreg\.login_server\n\s+identity = azurerm_user_assigned_identity\.identity_aca\.id\n/,
    );
    assert.match(
      job,
      /depends_on = \[azurerm_role_assignment\.identity_aca_acrpull_myreg, terraform_data\.build_myreg_job_python_1_0_0\]/,
    );
    assert.match(text, /^data "azurerm_client_config" "current" \{\}$/m);
    assert.match(text, /principal_id\s+= data\.azurerm_client_config\.current\.object_id/);
    assert.match(
      text,
      /resource "azurerm_servicebus_topic" "servicebus_ns_job_topic_orders" \{[^}]*max_size_in_megabytes = 2048/,
    );
    assert.equal([...text.matchAll(/\{/g)].length, [...text.matchAll(/\}/g)].length, "balanced braces");
  });

  test("aca-yaml: configuration.registries with the identity's resource id as a placeholder", () => {
    const text = exportProject(labPlus(), { format: "aca-yaml" });
    const body = parse(text);
    assert.deepEqual(body.properties.configuration.registries, [
      { server: "myreg.azurecr.io", identity: "${IDENTITY_ACA_ID}" },
    ]);
    assert.match(
      text,
      /export IDENTITY_ACA_ID=\$\(az identity show --resource-group "\$RESOURCE_GROUP" --name identity-aca --query id/,
    );
  });

  test("keda: workload identity (ServiceAccount, pod label, serviceAccountName) and an azure-workload TriggerAuthentication", () => {
    const text = exportProject(labPlus(), { format: "keda" });
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    const sa = docs.find((d) => d.kind === "ServiceAccount");
    assert.deepEqual(sa, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "job-python-sa",
        annotations: { "azure.workload.identity/client-id": "${IDENTITY_ACA_CLIENT_ID}" },
      },
    });
    const wi = docs.find(
      (d) => d.kind === "TriggerAuthentication" && d.metadata.name === "job-python-workload-identity",
    );
    assert.deepEqual(wi.spec, { podIdentity: { provider: "azure-workload", identityId: "${IDENTITY_ACA_CLIENT_ID}" } });
    assert.deepEqual(validate(TRIGGER_AUTH, wi), []);
    const scaled = docs.find((d) => d.kind === "ScaledJob");
    assert.deepEqual(validate(SCALED_JOB, scaled), []);
    const tpl = scaled.spec.jobTargetRef.template;
    assert.deepEqual(tpl.metadata.labels, { "azure.workload.identity/use": "true" });
    assert.equal(tpl.spec.serviceAccountName, "job-python-sa");
    assert.match(text, /az identity federated-credential create --name job-python --identity-name identity-aca/);
    assert.match(text, /export IDENTITY_ACA_CLIENT_ID=\$\(az identity show/);
  });

  test("a rule without auth on a job with an identity scales with workload identity", () => {
    const c = lab();
    const job = (c.extra!.jobs as any[])[0];
    delete job.properties.configuration.eventTriggerConfig.scale.rules[0].auth;
    const scaled = parseAllDocuments(exportProject(c, { format: "keda" }))
      .map((d) => d.toJS())
      .find((d) => d.kind === "ScaledJob");
    assert.deepEqual(scaled.spec.triggers[0].authenticationRef, { name: "job-python-workload-identity" });
  });

  test("a registry with admin credentials: the user and the secret holding the password, never the password", () => {
    const c = lab();
    const job = (c.extra!.jobs as any[])[0];
    job.properties.configuration.registries = [
      { server: "myreg.azurecr.io", username: "myreg", passwordSecretRef: "myreg-password" },
    ];
    job.properties.configuration.secrets.push({ name: "myreg-password", value: "s3cret-registry-password" });
    const az = exportProject(c, { format: "az" });
    assert.match(
      az,
      / {2}--registry-server myreg\.azurecr\.io \\\n {2}--registry-username myreg \\\n {2}--registry-password "\$JOB_PYTHON_MYREG_PASSWORD"/,
    );
    const tf = exportProject(c, { format: "terraform" });
    assert.match(
      tf,
      /registry \{\n\s+server\s+= azurerm_container_registry\.myreg\.login_server\n\s+username\s+= "myreg"\n\s+password_secret_name = "myreg-password"\n/,
    );
    const aca = parse(exportProject(c, { format: "aca-yaml" }));
    assert.deepEqual(aca.properties.configuration.registries, [
      { server: "myreg.azurecr.io", username: "myreg", passwordSecretRef: "myreg-password" },
    ]);
    for (const text of [az, tf, exportProject(c, { format: "keda" })])
      assert.ok(!text.includes("s3cret-registry-password"));
  });

  test("no format writes a secret", () => {
    for (const format of ["az", "terraform", "aca-yaml", "keda"] as const) {
      const text = exportProject(labPlus(), { format });
      assert.ok(!text.includes(LOCAL_KEY) && !/SharedAccessKey=/.test(text), format);
    }
  });
});
