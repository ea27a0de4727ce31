// The lab's Terraform folder (examples/seed/terraform) with its Python processor (examples/seed/app/processor.py:
// the async azure.servicebus.aio client and azure.identity.aio's DefaultAzureCredential), as the lab runs it:
// eventjobs login, terraform init / plan -out tfplan / apply tfplan, a message sent with the SDK starts an
// execution whose processor receives it with the job's managed identity and Succeeds, plan shows no changes, and
// destroy leaves nothing. Debian's Python SDK only speaks AMQPS on 5671 (docs/tls.md), so this file's server
// listens there, after waiting for servicebus.test.ts (the other file that does) to let it go.
// Without /usr/bin/python3 + python3-azure the test skips, saying why; with CI=true it fails instead.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";
import { consoleText, waitFor, waitForExecution } from "../helpers/jobs.js";
import { peekAll, RETRY } from "../helpers/sdk.js";
import { holdAmqpsPort } from "../helpers/amqps-port.js";

// the Python SDK only reaches 5671: one test file serves it at a time
after(await holdAmqpsPort());
const PYTHON = "/usr/bin/python3";
const AMQPS_PORT = 5671;
const PORT_WAIT_MS = 180_000;
const CI = process.env.CI === "true" || process.env.CI === "1";
const NS = "servicebus-ns-job";
const JOB = "job-python";
// inside the checkout, as the demo's data dir is
const DATA = join(ROOT, `.eventjobs-tf-py-test-${process.pid}`);

function pythonProblem(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  try {
    execFileSync(PYTHON, ["-c", "import azure.servicebus.aio, azure.identity.aio, uamqp"], {
      stdio: "ignore",
      timeout: 30_000,
    });
  } catch {
    return "Debian's python3-azure is not installed (apt-get install python3-azure)";
  }
  return undefined;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", () => done(false));
    s.listen(port, "127.0.0.1", () => s.close(() => done(true)));
  });
}

/** The server on AMQPS 5671 once nothing else holds it (servicebus.test.ts may, for a while). */
async function startOn5671(): Promise<TestBroker> {
  const deadline = Date.now() + PORT_WAIT_MS;
  for (;;) {
    if (await portFree(AMQPS_PORT)) {
      try {
        return await startBroker("namespaces:\n  - name: sbemulatorns\n", {
          amqpsPort: AMQPS_PORT,
          dataDir: join(DATA, "server"),
        });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      }
    }
    if (Date.now() > deadline)
      throw new Error(`port ${AMQPS_PORT} stayed in use for ${PORT_WAIT_MS / 1000} s; the Python processor needs it`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const problem = pythonProblem();

describe("the lab's Terraform folder with the Python processor", () => {
  let broker: TestBroker | undefined;
  let dir: string;
  const tf = (args: string[]) => cli(broker!.dataDir, ["terraform", ...args], { cwd: dir });

  before(async () => {
    if (problem) return;
    mkdirSync(DATA, { recursive: true });
    for (const f of ["terraform", "app"])
      cpSync(join(ROOT, "examples/seed", f), join(DATA, "lab", f), { recursive: true });
    dir = join(DATA, "lab", "terraform");
    broker = await startOn5671();
  });
  after(async () => {
    await broker?.close();
    rmSync(DATA, { recursive: true, force: true });
  });

  test("login, init, plan -out tfplan, apply tfplan; a message runs app/processor.py to Succeeded; no changes; destroy", async (t) => {
    if (problem) {
      if (CI) assert.fail(problem);
      return t.skip(problem);
    }
    const p = broker!.platform;
    assert.equal((await cli(broker!.dataDir, ["login"])).code, 0);
    assert.equal((await tf(["init"])).code, 0);
    const plan = await tf(["plan", "-out", "tfplan"]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /-f \.\/app\/Dockerfile \.\/app\/ -t job-python:1\.0\.0/);
    const apply = await tf(["apply", "tfplan"]);
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.match(apply.stdout, /Apply complete! Resources: 14 added/);
    assert.equal(p.jobs.engine.job(JOB)!.template.containers[0].image, "eventjobsdemo.azurecr.io/job-python:1.0.0");

    const cs = (await tf(["output", "-raw", "servicebus_connection_string"])).stdout.trim();
    const client = new ServiceBusClient(cs, RETRY);
    try {
      await client.createSender("queue-messages").sendMessages({ body: "hello from the python lab" });
      const started = await waitFor("an execution", () => p.jobs.engine.executions(JOB)[0], 60_000);
      const done = await waitForExecution(p, started.name, 150_000);
      const log = consoleText(p, started.name);
      assert.equal(done.status, "Succeeded", log);
      assert.match(log, /Received: "?hello from the python lab"?/);
      assert.match(log, /Message completed/);
      assert.match(log, /SERVICEBUS_QUEUE_NAME: queue-messages/, "it prints the variables the job gave it");
      assert.deepEqual(await peekAll(client, "queue-messages"), []);
    } finally {
      await client.close();
    }

    const again = await tf(["plan", "-detailed-exitcode"]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const gone = await tf(["destroy", "-auto-approve"]);
    assert.equal(gone.code, 0, gone.stderr + gone.stdout);
    assert.equal(p.broker.namespace(NS), undefined);
    assert.equal(p.jobs.engine.job(JOB), undefined);
    assert.equal(p.identity.registry.user("identity-aca"), undefined);
  });
});
