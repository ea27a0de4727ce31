// `eventjobs export` as a user runs it: the real CLI in a child process, reading a project file or (with
// --from-server) a running server.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { importAcaYaml } from "../../src/config/import-aca.js";
import { normalizeJob } from "../../src/jobs/job-definition.js";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "src/cli/main.ts");
const LAB = join(ROOT, "test/fixtures/lab-project.yaml");
const dir = mkdtempSync(join(tmpdir(), "eventjobs-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd` (the temp dir by default), like `npx eventjobs export ...`. */
async function eventjobs(args: string[], cwd = dir): Promise<Run> {
  try {
    // tsx is resolved from the repo, so the CLI can run in any directory
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), MAIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: "1" } },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test("export reads ./eventjobs.yaml by default and prints to stdout; -o writes a file", async () => {
  const cwd = mkdtempSync(join(dir, "project-"));
  copyFileSync(LAB, join(cwd, "eventjobs.yaml"));
  const r = await eventjobs(["export", "--format", "az"], cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#!\/usr\/bin\/env bash\n/);
  assert.match(r.stdout, /az containerapp job create \\\n {2}--name job-python \\\n/);

  const w = await eventjobs(["export", "--format", "terraform", "-o", "main.tf"], cwd);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout, "");
  assert.match(readFileSync(join(cwd, "main.tf"), "utf8"), /resource "azurerm_container_app_job" "job_python" \{/);
});

test("aca-yaml for one job with --config round-trips through import", async () => {
  const r = await eventjobs(["export", "--format", "aca-yaml", "--job", "job-python", "--config", LAB]);
  assert.equal(r.code, 0, r.stderr);
  const [{ job }] = importAcaYaml(r.stdout);
  const original = (parseAllDocuments(readFileSync(LAB, "utf8"))[0].toJS() as { jobs: unknown[] }).jobs[0];
  assert.deepEqual(normalizeJob(job), normalizeJob(original));
});

test("keda manifests: Secret, TriggerAuthentications, the workload identity's ServiceAccount, ScaledJob", async () => {
  const r = await eventjobs(["export", "--format", "keda", "--config", LAB]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    parseAllDocuments(r.stdout).map((d) => d.toJS().kind),
    ["Secret", "TriggerAuthentication", "ServiceAccount", "TriggerAuthentication", "ScaledJob"],
  );
  assert.ok(!r.stdout.includes("LOCAL-ONLY-KEY"));
});

test("errors are one line with exit code 1: bad format, unknown job, missing config", async () => {
  const bad = await eventjobs(["export", "--format", "bicep", "--config", LAB]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'eventjobs: --format "bicep": expected one of aca-yaml, az, terraform, keda\n');
  assert.equal(bad.stdout, "");

  const job = await eventjobs(["export", "--format", "az", "--config", LAB, "--job", "nope"]);
  assert.equal(job.code, 1);
  assert.equal(job.stderr, `eventjobs: --job "nope": no such job in ${LAB} (jobs: job-python)\n`);

  const missing = await eventjobs(["export", "--format", "az"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "eventjobs: eventjobs.yaml: (cannot read: ENOENT) — expected a readable config file\n");
});

// --from-server: what a running server holds, made by az-style commands (no project file), read through the
// control API and exported; this server's addresses and ids go back to Azure's names, secrets to placeholders.
describe("export --from-server", () => {
  const NS = "exp-ns";
  let broker: TestBroker;
  const run = (args: string[]) => cli(broker.dataDir, args);
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    broker = await startBroker(`namespaces:\n  - name: ${NS}\n`);
    const sb = ["servicebus", "--namespace-name", NS];
    await ok(["servicebus", "queue", "create", "--namespace-name", NS, "-n", "work", "--lock-duration", "PT2M"]);
    await ok(["servicebus", "topic", "create", "--namespace-name", NS, "-n", "events"]);
    await ok([
      ...sb.slice(0, 1),
      "topic",
      "subscription",
      "create",
      ...sb.slice(1),
      "--topic-name",
      "events",
      "-n",
      "big",
    ]);
    await ok([
      ...sb.slice(0, 1),
      "topic",
      "subscription",
      "rule",
      "create",
      ...sb.slice(1),
      "--topic-name",
      "events",
      "--subscription-name",
      "big",
      "-n",
      "over-100",
      "--filter-sql-expression",
      "amount > 100",
    ]);
    await ok([
      "servicebus",
      "topic",
      "subscription",
      "rule",
      "delete",
      "--namespace-name",
      NS,
      "--topic-name",
      "events",
      "--subscription-name",
      "big",
      "-n",
      "$Default",
    ]);
    const id = JSON.parse(await ok(["identity", "create", "-n", "worker-id"]));
    await ok([
      "role",
      "assignment",
      "create",
      "--assignee",
      "worker-id",
      "--role",
      "Azure Service Bus Data Receiver",
      "--scope",
      `${NS}/queues/work`,
    ]);
    const cs = broker.platform.connectionString(NS);
    const fqdn = /sb:\/\/([^/;]+)/.exec(broker.platform.connectionString(NS, { tls: true }))![1];
    await ok([
      "containerapp",
      "job",
      "create",
      "-n",
      "worker",
      "--trigger-type",
      "Event",
      "--replica-timeout",
      "60",
      "--image",
      "myreg.azurecr.io/worker:1.0",
      "--registry-server",
      "myreg.azurecr.io",
      "--registry-identity",
      id.id,
      "--secrets",
      `sb-connection=${cs}`,
      "--scale-rule-name",
      "work-rule",
      "--scale-rule-type",
      "azure-servicebus",
      "--scale-rule-metadata",
      "queueName=work",
      `namespace=${NS}`,
      "messageCount=1",
      "--scale-rule-auth",
      "connection=sb-connection",
      "--env-vars",
      `SERVICEBUS_FQDN=${fqdn}`,
      `MANAGED_IDENTITY_CLIENT_ID=${id.clientId}`,
    ]);
  });
  after(() => broker?.close());

  test("az: the queue, topic, subscription and rule, identity, role, registry and job, with Azure's names", async () => {
    const text = await ok(["export", "--format", "az", "--from-server"]);
    assert.match(text, /az servicebus queue create \\\n(?: {2}.*\\\n)* {2}--name work \\\n {2}--lock-duration PT2M\n/);
    assert.match(text, /az servicebus topic create \\\n(?: {2}.*\\\n)* {2}--name events/);
    assert.match(text, /az servicebus topic subscription rule delete [^]*--name '\$Default'/);
    assert.match(
      text,
      /az servicebus topic subscription rule create \\\n(?: {2}.*\\\n)* {2}--filter-sql-expression 'amount > 100'/,
    );
    assert.match(text, /az identity create \\\n(?: {2}.*\\\n)* {2}--name worker-id/);
    assert.match(
      text,
      /--role 'Azure Service Bus Data Receiver' \\\n {2}--assignee-object-id "\$WORKER_ID_PRINCIPAL_ID"/,
    );
    assert.match(text, /--role AcrPull \\\n {2}--assignee-object-id "\$WORKER_ID_PRINCIPAL_ID"/);
    assert.match(text, /--registry-server myreg\.azurecr\.io \\\n {2}--registry-identity "\$WORKER_ID_ID"/);
    assert.match(text, /SERVICEBUS_FQDN=exp-ns\.servicebus\.windows\.net/);
    assert.match(text, /MANAGED_IDENTITY_CLIENT_ID="\$WORKER_ID_CLIENT_ID"/);
    assert.match(text, /sb-connection="\$WORKER_SB_CONNECTION"/, "the secret is a variable the script asks for");
    assert.doesNotMatch(text, /SharedAccessKey|localhost/);
  });

  test("terraform, keda and containerapps read the same server; no secret in any", async () => {
    const tf = await ok(["export", "--format", "terraform", "--from-server"]);
    assert.match(tf, /"version" = "~> 4\.0"/);
    assert.match(tf, /resource "azurerm_servicebus_subscription_rule" "exp_ns_events_sub_big_rule_over_100"/);
    assert.match(
      tf,
      /registry \{\n\s+server\s+= azurerm_container_registry\.myreg\.login_server\n\s+identity = azurerm_user_assigned_identity\.worker_id\.id/,
    );
    const keda = await ok(["export", "--format", "keda", "--from-server"]);
    assert.match(keda, /azure\.workload\.identity\/client-id: \$\{WORKER_ID_CLIENT_ID\}/);
    assert.match(keda, /provider: azure-workload/);
    const aca = await ok(["export", "--format", "containerapps", "--from-server", "--job", "worker"]);
    assert.match(aca, /registries:\n\s+- server: myreg\.azurecr\.io\n\s+identity: \$\{WORKER_ID_ID\}/);
    for (const t of [tf, keda, aca]) assert.doesNotMatch(t, /SharedAccessKey/);
  });

  test("without a server, --from-server says so", async () => {
    const r = await cli(join(dir, "nothing-here"), ["export", "--format", "az", "--from-server"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no eventjobs server is running on/);
  });
});
