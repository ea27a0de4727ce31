// Exports of the lab project (docs/getting-started.md) to every format, checked against the shapes Azure and KEDA take
// (docs/configuration.md): the az command line of the lab, Terraform blocks, KEDA manifests validated against KEDA's
// own
// CRD schemas (test/fixtures/keda, copied from KEDA with its licence note). The import round trip: import-aca.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import { EXPORT_FORMATS, ExportError, exportProject } from "../../src/config/export/index.js";
import { clone, lab, labJob, LITERAL_SECRET, LOCAL_KEY, rich } from "../helpers/lab-project.js";
import { crdSchema, validate } from "../helpers/openapi.js";

const SCHEMAS = new URL("../fixtures/keda/", import.meta.url);
const SCALED_JOB = crdSchema(new URL("keda.sh_scaledjobs.yaml", SCHEMAS));
const TRIGGER_AUTH = crdSchema(new URL("keda.sh_triggerauthentications.yaml", SCHEMAS));

/** Shell words of one command: continuation lines joined, quotes removed (variables left as `$NAME`). */
function shellWords(text: string): string[] {
  const s = text.replace(/\\\n/g, " ");
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      const end = s.indexOf('"', i + 1);
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The commands of a script starting with `prefix` (each with its continuation lines). */
function commands(script: string, prefix: string): string[][] {
  const out: string[][] = [];
  const lines = script.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith(prefix)) continue;
    let cmd = lines[i];
    while (cmd.endsWith("\\")) cmd += "\n" + lines[++i];
    out.push(shellWords(cmd));
  }
  return out;
}

describe("export aca-yaml", () => {
  test("one ARM body per job: no name/id, environment and location as placeholders, the secret as a placeholder", () => {
    const text = exportProject(lab(), { format: "aca-yaml" });
    const docs = parseAllDocuments(text);
    assert.equal(docs.length, 1);
    const body = docs[0].toJS();
    assert.deepEqual(Object.keys(body).sort(), ["identity", "location", "properties"]);
    assert.deepEqual(body.identity, { type: "UserAssigned", userAssignedIdentities: { "${IDENTITY_ACA_ID}": {} } });
    assert.equal(body.location, "${LOCATION}");
    assert.equal(body.properties.environmentId, "${ENVIRONMENT_ID}");
    const conf = body.properties.configuration;
    assert.deepEqual(
      { triggerType: conf.triggerType, replicaTimeout: conf.replicaTimeout, replicaRetryLimit: conf.replicaRetryLimit },
      { triggerType: "Event", replicaTimeout: 86400, replicaRetryLimit: 1 },
    );
    assert.deepEqual(conf.eventTriggerConfig, {
      parallelism: 1,
      replicaCompletionCount: 1,
      scale: {
        pollingInterval: 30,
        minExecutions: 0,
        maxExecutions: 1,
        rules: [
          {
            name: "azure-servicebus-queue-rule",
            type: "azure-servicebus",
            metadata: { queueName: "queue-messages", namespace: "servicebus-ns-job", messageCount: "1" },
            auth: [{ triggerParameter: "connection", secretRef: "service-bus-connection-string" }],
          },
        ],
      },
    });
    assert.deepEqual(conf.secrets, [
      { name: "service-bus-connection-string", value: "${SERVICEBUS_NS_JOB_CONNECTION_STRING}" },
    ]);
    const c = body.properties.template.containers[0];
    assert.deepEqual(c.resources, { cpu: 0.25, memory: "0.5Gi" });
    assert.equal(c.image, "myreg.azurecr.io/job-python:1.0.0");
    assert.match(text, /messageCount: "1"/, "numeric metadata stays a quoted string");
    // the header tells how to fill each placeholder and create the job
    assert.match(
      text,
      /^# +export SERVICEBUS_NS_JOB_CONNECTION_STRING=\$\(az servicebus namespace authorization-rule keys list .*--namespace-name servicebus-ns-job --name RootManageSharedAccessKey --query primaryConnectionString/m,
    );
    assert.match(
      text,
      /^# +az containerapp job create --name job-python --resource-group "\$RESOURCE_GROUP" --yaml <\(envsubst '\$LOCATION \$ENVIRONMENT_ID [^']*' < job-python\.yaml\)/m,
    );
    assert.match(text, /keyVaultUrl/);
    assert.match(text, /az acr build --registry myreg --image job-python:1\.0\.0 \.\/app/);
  });
});

/** Whether a command is on PATH. */
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

describe("aca-yaml placeholders", () => {
  test(
    "envsubst fills them into a body az can take: the secret, the FQDN and the client id",
    { skip: !has("envsubst") && "envsubst is not installed" },
    () => {
      const text = exportProject(lab(), { format: "aca-yaml" });
      const list = /envsubst ('[^']+')/.exec(text)![1].slice(1, -1);
      const cs =
        "Endpoint=sb://servicebus-ns-job.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=ab+c/d=";
      const env = {
        ...process.env,
        LOCATION: "westeurope",
        ENVIRONMENT_ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env",
        SERVICEBUS_NS_JOB_CONNECTION_STRING: cs,
        SERVICEBUS_NS_JOB_FQDN: "servicebus-ns-job.servicebus.windows.net",
        IDENTITY_ACA_CLIENT_ID: "6f1c2f7e-0000-4c4c-9d9d-000000000009",
      };
      const r = spawnSync("envsubst", [list], { input: text, encoding: "utf8", env });
      assert.equal(r.status, 0, r.stderr);
      const body = parse(r.stdout);
      assert.equal(body.location, "westeurope");
      assert.equal(body.properties.configuration.secrets[0].value, cs);
      assert.deepEqual(
        body.properties.template.containers[0].env.map((e: { value: string }) => e.value),
        [env.SERVICEBUS_NS_JOB_FQDN, env.IDENTITY_ACA_CLIENT_ID, "queue-messages"],
      );
    },
  );
});

describe("export az", () => {
  const script = exportProject(lab(), { format: "az" });

  test("the lab's az containerapp job create, flag for flag", () => {
    const [create, ...more] = commands(script, "az containerapp job create");
    assert.equal(more.length, 0);
    // prettier-ignore
    const lab = [
      "az", "containerapp", "job", "create", "--name", "job-python", "--resource-group", "$RESOURCE_GROUP", "--environment", "$ENVIRONMENT",
      "--trigger-type", "Event", "--replica-timeout", "86400", "--replica-retry-limit", "1", "--replica-completion-count", "1",
      "--parallelism", "1", "--image", "myreg.azurecr.io/job-python:1.0.0",
      "--registry-server", "myreg.azurecr.io", "--registry-identity", "$IDENTITY_ACA_ID", "--cpu", "0.25", "--memory", "0.5Gi",
      "--min-executions", "0", "--max-executions", "1", "--polling-interval", "30",
      "--secrets", "service-bus-connection-string=$SERVICEBUS_NS_JOB_CONNECTION_STRING",
      "--scale-rule-name", "azure-servicebus-queue-rule", "--scale-rule-type", "azure-servicebus",
      "--scale-rule-auth", "connection=service-bus-connection-string",
      "--scale-rule-metadata", "queueName=queue-messages", "namespace=servicebus-ns-job", "messageCount=1",
      "--env-vars", "SERVICEBUS_FQDN=servicebus-ns-job.servicebus.windows.net", "MANAGED_IDENTITY_CLIENT_ID=$IDENTITY_ACA_CLIENT_ID", "SERVICEBUS_QUEUE_NAME=queue-messages",
    ];
    assert.deepEqual(create, lab);
    // the secret's variable is read from Azure before the command that uses it
    const cs = script.indexOf(
      'SERVICEBUS_NS_JOB_CONNECTION_STRING="$(az servicebus namespace authorization-rule keys list --resource-group "$RESOURCE_GROUP" --namespace-name servicebus-ns-job --name RootManageSharedAccessKey --query primaryConnectionString --output tsv)"',
    );
    assert.ok(cs > 0 && cs < script.indexOf("az containerapp job create"));
  });

  test("variables at the top; namespace, queue properties as flags, identity, role assignments on the queue's ARM id", () => {
    const head = script.split("\n").slice(0, 12).join("\n");
    for (const v of ["RESOURCE_GROUP", "LOCATION", "ENVIRONMENT"])
      assert.match(head, new RegExp(`^${v}="\\$\\{${v}:-[^}]+\\}"$`, "m"));
    assert.deepEqual(commands(script, "az servicebus namespace create")[0].slice(4), [
      "--resource-group",
      "$RESOURCE_GROUP",
      "--name",
      "servicebus-ns-job",
      "--location",
      "$LOCATION",
      "--sku",
      "Standard",
    ]);
    assert.deepEqual(commands(script, "az servicebus queue create")[0].slice(4), [
      "--resource-group",
      "$RESOURCE_GROUP",
      "--namespace-name",
      "servicebus-ns-job",
      "--name",
      "queue-messages",
      "--lock-duration",
      "PT5M",
      "--max-delivery-count",
      "1",
    ]);
    assert.deepEqual(commands(script, "az identity create")[0].slice(3), [
      "--resource-group",
      "$RESOURCE_GROUP",
      "--name",
      "identity-aca",
      "--location",
      "$LOCATION",
    ]);
    const roles = commands(script, "az role assignment create").filter((r) => r[5] !== "AcrPull");
    const scope =
      "/subscriptions/$SUBSCRIPTION_ID/resourceGroups/$RESOURCE_GROUP/providers/Microsoft.ServiceBus/namespaces/servicebus-ns-job/queues/queue-messages";
    assert.deepEqual(
      roles.map((r) => r.slice(4)),
      ["Azure Service Bus Data Receiver", "Azure Service Bus Data Sender"].map((role) => [
        "--role",
        role,
        "--assignee-object-id",
        "$IDENTITY_ACA_PRINCIPAL_ID",
        "--assignee-principal-type",
        "ServicePrincipal",
        "--scope",
        scope,
      ]),
    );
    assert.match(script, /^SUBSCRIPTION_ID="\$\(az account show --query id --output tsv\)"$/m);
  });

  test("the script is valid bash; identity, literal secret, schedule and manual jobs", () => {
    const text = exportProject(rich(), { format: "az" });
    for (const s of [script, text]) {
      const r = spawnSync("bash", ["-n"], { input: s, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
    const creates = new Map(commands(text, "az containerapp job create").map((c) => [c[c.indexOf("--name") + 1], c]));
    const ts = creates.get("job-ts")!;
    // the identity it pulls with, which az also gives the job (so no --mi-user-assigned repeats it)
    assert.deepEqual(ts.slice(ts.indexOf("--registry-identity"), ts.indexOf("--registry-identity") + 2), [
      "--registry-identity",
      "$IDENTITY_ACA_ID",
    ]);
    assert.ok(!ts.includes("--mi-user-assigned"));
    assert.ok(
      ts.includes("api-key=$JOB_TS_API_KEY") &&
        ts.includes("API_KEY=secretref:api-key") &&
        ts.includes("PRICE=$5 ${HOME} %{x}"),
    );
    assert.deepEqual(ts.slice(ts.indexOf("--command"), ts.indexOf("--command") + 3), [
      "--command",
      "node",
      "dist/processor.js",
    ]);
    assert.match(text, /^: "\$\{JOB_TS_API_KEY:\?set JOB_TS_API_KEY to the value of secret api-key of job job-ts\}"$/m);
    const nightly = creates.get("nightly")!;
    assert.deepEqual(nightly.slice(nightly.indexOf("--trigger-type"), nightly.indexOf("--trigger-type") + 4), [
      "--trigger-type",
      "Schedule",
      "--cron-expression",
      "0 3 * * *",
    ]);
    assert.ok(!nightly.includes("--min-executions") && nightly.includes("--container-name"));
    assert.equal(creates.get("by-hand")![creates.get("by-hand")!.indexOf("--trigger-type") + 1], "Manual");
  });
});

describe("export terraform", () => {
  const tf = exportProject(lab(), { format: "terraform" });
  const resource = (type: string, name: string): string => {
    const start = tf.indexOf(`resource "${type}" "${name}" {`);
    assert.ok(start >= 0, `resource ${type}.${name} missing:\n${tf}`);
    return tf.slice(start, tf.indexOf("\n}\n", start) + 2);
  };
  const attr = (block: string, key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(.+)$`, "m").exec(block)?.[1];

  test("namespace, queue with ISO-8601 lock duration, identity, role assignments", () => {
    for (const v of ["resource_group_name", "location", "container_app_environment_id"])
      assert.match(tf, new RegExp(`^variable "${v}" \\{`, "m"));
    assert.equal(attr(resource("azurerm_servicebus_namespace", "servicebus_ns_job"), "name"), '"servicebus-ns-job"');
    const q = resource("azurerm_servicebus_queue", "servicebus_ns_job_queue_messages");
    assert.equal(attr(q, "namespace_id"), "azurerm_servicebus_namespace.servicebus_ns_job.id");
    assert.equal(attr(q, "lock_duration"), '"PT5M"');
    assert.equal(attr(q, "max_delivery_count"), "1");
    assert.equal(attr(resource("azurerm_user_assigned_identity", "identity_aca"), "name"), '"identity-aca"');
    for (const [name, role] of [
      ["identity_aca_data_receiver_queue_messages", "Receiver"],
      ["identity_aca_data_sender_queue_messages", "Sender"],
    ]) {
      const ra = resource("azurerm_role_assignment", name);
      assert.equal(attr(ra, "scope"), "azurerm_servicebus_queue.servicebus_ns_job_queue_messages.id");
      assert.equal(attr(ra, "role_definition_name"), `"Azure Service Bus Data ${role}"`);
      assert.equal(attr(ra, "principal_id"), "azurerm_user_assigned_identity.identity_aca.principal_id");
    }
  });

  test("azurerm_container_app_job as azurerm documents it", () => {
    const job = resource("azurerm_container_app_job", "job_python");
    assert.equal(attr(job, "container_app_environment_id"), "var.container_app_environment_id");
    assert.equal(attr(job, "replica_timeout_in_seconds"), "86400");
    assert.equal(attr(job, "replica_retry_limit"), "1");
    assert.match(
      job,
      /secret \{\n\s+name\s+= "service-bus-connection-string"\n\s+value = azurerm_servicebus_namespace\.servicebus_ns_job\.default_primary_connection_string\n/,
    );
    assert.match(
      job,
      /event_trigger_config \{\n\s+parallelism\s+= 1\n\s+replica_completion_count = 1\n\s+scale \{\n\s+min_executions\s+= 0\n\s+max_executions\s+= 1\n\s+polling_interval_in_seconds = 30\n\s+rules \{/,
    );
    assert.equal(attr(job, "custom_rule_type"), '"azure-servicebus"');
    assert.equal(
      attr(job, "metadata"),
      '{ "queueName" = "queue-messages", "namespace" = "servicebus-ns-job", "messageCount" = "1" }',
    );
    assert.match(
      job,
      /authentication \{\n\s+secret_name\s+= "service-bus-connection-string"\n\s+trigger_parameter = "connection"\n/,
    );
    assert.match(
      job,
      /template \{\n\s+container \{\n\s+name\s+= "job-python"\n\s+image\s+= "myreg\.azurecr\.io\/job-python:1\.0\.0"\n\s+cpu\s+= 0\.25\n\s+memory = "0\.5Gi"\n/,
    );
    assert.match(
      job,
      /env \{\n\s+name\s+= "MANAGED_IDENTITY_CLIENT_ID"\n\s+value = azurerm_user_assigned_identity\.identity_aca\.client_id\n/,
    );
    assert.match(
      job,
      /value = "\$\{azurerm_servicebus_namespace\.servicebus_ns_job\.name\}\.servicebus\.windows\.net"/,
    );
    assert.equal([...tf.matchAll(/\{/g)].length, [...tf.matchAll(/\}/g)].length, "balanced braces");
  });

  test("literal secrets become sensitive variables; identity, schedule and manual blocks; ${ in text is escaped", () => {
    const text = exportProject(rich(), { format: "terraform" });
    assert.match(text, /variable "job_ts_api_key" \{\n\s+type\s+= string\n\s+sensitive\s+= true\n/);
    assert.match(text, /value = var\.job_ts_api_key\n/);
    assert.match(
      text,
      /identity \{\n\s+type\s+= "UserAssigned"\n\s+identity_ids = \[azurerm_user_assigned_identity\.identity_aca\.id\]\n/,
    );
    assert.match(text, /schedule_trigger_config \{\n\s+cron_expression\s+= "0 3 \* \* \*"\n\s+parallelism\s+= 1\n/);
    assert.match(text, /manual_trigger_config \{\n\s+parallelism\s+= 1\n/);
    assert.match(text, /value = "\$5 \$\$\{HOME\} %%\{x\}"/);
    assert.match(text, /command = \["node", "dist\/processor\.js"\]/);
  });

  test(
    "terraform fmt accepts the output as canonical HCL",
    { skip: !has("terraform") && "terraform is not installed" },
    () => {
      for (const text of [tf, exportProject(rich(), { format: "terraform" })]) {
        const r = spawnSync("terraform", ["fmt", "-check", "-diff", "-"], {
          input: text,
          encoding: "utf8",
          env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" },
        });
        assert.equal(r.status, 0, r.stdout + r.stderr);
      }
    },
  );
});

describe("export keda", () => {
  const docs = () => parseAllDocuments(exportProject(lab(), { format: "keda" })).map((d) => d.toJS());

  test("Secret, TriggerAuthentication and ScaledJob per §7.3; the KEDA manifests validate against KEDA's CRDs", () => {
    const all = docs();
    assert.deepEqual(
      all.map((d) => d.kind),
      ["Secret", "TriggerAuthentication", "ServiceAccount", "TriggerAuthentication", "ScaledJob"],
    );
    const [secret, auth, , , scaled] = all;
    assert.deepEqual(secret, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "job-python-secrets" },
      type: "Opaque",
      stringData: { "service-bus-connection-string": "${SERVICEBUS_NS_JOB_CONNECTION_STRING}" },
    });
    assert.deepEqual(validate(TRIGGER_AUTH, auth), []);
    assert.deepEqual(auth.spec.secretTargetRef, [
      { parameter: "connection", name: "job-python-secrets", key: "service-bus-connection-string" },
    ]);
    assert.deepEqual(validate(SCALED_JOB, scaled), []);
    const s = scaled.spec;
    assert.deepEqual(
      [
        s.pollingInterval,
        s.minReplicaCount,
        s.maxReplicaCount,
        s.successfulJobsHistoryLimit,
        s.failedJobsHistoryLimit,
        s.scalingStrategy.strategy,
      ],
      [30, 0, 1, 100, 100, "default"],
    );
    const j = s.jobTargetRef;
    assert.deepEqual(
      [j.parallelism, j.completions, j.backoffLimit, j.activeDeadlineSeconds, j.template.spec.restartPolicy],
      [1, 1, 1, 86400, "Never"],
    );
    const c = j.template.spec.containers[0];
    assert.deepEqual(c.resources, {
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { cpu: "250m", memory: "512Mi" },
    });
    assert.deepEqual(c.env[0], { name: "SERVICEBUS_FQDN", value: "servicebus-ns-job.servicebus.windows.net" });
    assert.deepEqual(s.triggers, [
      {
        type: "azure-servicebus",
        name: "azure-servicebus-queue-rule",
        metadata: { queueName: "queue-messages", namespace: "servicebus-ns-job", messageCount: "1" },
        authenticationRef: { name: "job-python-azure-servicebus-queue-rule-auth" },
      },
    ]);
  });

  test("secret env from secretKeyRef, paused annotation, CronJobs for Schedule and Manual; every ScaledJob validates", () => {
    const all = parseAllDocuments(exportProject(rich(), { format: "keda" })).map((d) => d.toJS());
    for (const d of all.filter((d) => d.kind === "ScaledJob"))
      assert.deepEqual(validate(SCALED_JOB, d), [], d.metadata.name);
    for (const d of all.filter((d) => d.kind === "TriggerAuthentication"))
      assert.deepEqual(validate(TRIGGER_AUTH, d), [], d.metadata.name);
    const ts = all.find((d) => d.kind === "ScaledJob" && d.metadata.name === "job-ts");
    assert.equal(ts.metadata.annotations["autoscaling.keda.sh/paused"], "true");
    const env = ts.spec.jobTargetRef.template.spec.containers[0].env;
    assert.deepEqual(
      env.find((e: any) => e.name === "API_KEY"),
      { name: "API_KEY", valueFrom: { secretKeyRef: { name: "job-ts-secrets", key: "api-key" } } },
    );
    const nightly = all.find((d) => d.metadata.name === "nightly");
    assert.deepEqual(
      [nightly.kind, nightly.spec.schedule, nightly.spec.timeZone, nightly.spec.suspend],
      ["CronJob", "0 3 * * *", "Etc/UTC", undefined],
    );
    assert.equal(all.find((d) => d.metadata.name === "by-hand").spec.suspend, true);
  });

  test("the validator is not vacuous: a wrong ScaledJob fails", () => {
    const scaled = docs().find((d) => d.kind === "ScaledJob");
    const bad = clone(scaled);
    bad.spec.pollingInterval = 0;
    bad.spec.jobTargetRef.template.spec.containers[0].resources.limits.cpu = "a lot";
    bad.spec.triggers[0].authenticationRef.kind = "Secret";
    bad.spec.scalingStrategy.stratgey = "eager";
    assert.equal(validate(SCALED_JOB, bad).length, 4, validate(SCALED_JOB, bad).join("\n"));
  });
});

describe("every format", () => {
  test("no secret value ever appears: not the local key, not a literal secret, not a connection string", () => {
    for (const format of EXPORT_FORMATS) {
      for (const c of [lab(), rich()]) {
        const text = exportProject(c, { format });
        assert.ok(!text.includes(LOCAL_KEY), `${format}: the namespace key leaked`);
        assert.ok(!text.includes(LITERAL_SECRET), `${format}: a literal secret leaked`);
        assert.ok(!/SharedAccessKey=/.test(text), `${format}: a connection string leaked`);
      }
    }
  });

  test("--job limits job output to that job; an unknown job is named", () => {
    for (const format of EXPORT_FORMATS) {
      const text = exportProject(rich(), { format, job: "nightly" });
      assert.ok(
        text.includes("nightly") && !/job-python|job-ts|by-hand/.test(text.replace(/az acr build[^\n]*/g, "")),
        format,
      );
      assert.throws(
        () => exportProject(rich(), { format, job: "nope" }),
        (e: Error) =>
          e instanceof ExportError &&
          e.message === '--job "nope": no such job in eventjobs.yaml (jobs: job-python, job-ts, nightly, by-hand)',
      );
    }
    // infrastructure stays with --job
    assert.match(exportProject(rich(), { format: "az", job: "nightly" }), /az servicebus queue create/);
  });

  test("an unknown reference or format is an error naming it", () => {
    const c = lab();
    labJob(c).properties.template.containers[0].env[1].value = "${identity.nobody.clientId}";
    assert.throws(() => exportProject(c, { format: "az" }), {
      message:
        'job job-python: properties.template.containers[0].env[1].value: ${identity.nobody.clientId} — no identity "nobody" in eventjobs.yaml (identities:)',
    });
    assert.throws(() => exportProject(lab(), { format: "bicep" as never }), {
      message: '--format "bicep": expected one of aca-yaml, az, terraform, keda',
    });
  });

  test("a project without jobs (the emulator's Config.json) exports its namespaces", () => {
    const c = parseConfigText(
      JSON.stringify({
        UserConfig: {
          Namespaces: [{ Name: "sbemulatorns", Queues: [{ Name: "q1", Properties: { MaxDeliveryCount: 3 } }] }],
        },
      }),
      "Config.json",
    );
    assert.match(exportProject(c, { format: "az" }), /--name q1 \\\n\s+--max-delivery-count 3/);
    assert.match(exportProject(c, { format: "terraform" }), /resource "azurerm_servicebus_queue" "sbemulatorns_q1"/);
    assert.match(exportProject(c, { format: "aca-yaml" }), /declares no jobs/);
    assert.match(exportProject(c, { format: "keda" }), /declares no jobs/);
    assert.equal(parse(exportProject(c, { format: "keda" })), null);
  });
});
