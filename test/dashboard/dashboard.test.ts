// The dashboard in a real browser (Debian's chromium through playwright-core) against `eventjobs up` running
// the lab (examples/seed/eventjobs.yaml, with the TypeScript processor so no fixed port is needed): the
// overview, a message sent from the explorer, the execution it starts appearing and succeeding live, its
// logs, the job's environment variables with secrets masked, and no secret in anything the browser received.
// Screenshots and the measurements (bundle size, first paint) go to .artifacts/dashboard/.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it, type TestContext } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildDashboard, type BuildResult } from "../../scripts/build-dashboard.js";
import { browserHere, browserProblem, launchChromium, Recorder } from "../helpers/browser.js";
import { labProject, overflows, paints, unlabelled } from "../helpers/dashboard-lab.js";
import { httpRequest, rawRequest } from "../helpers/raw-http.js";
import { ROOT, startServer, type ServerProcess } from "../helpers/server-process.js";

const ARTIFACTS = join(ROOT, ".artifacts/dashboard");
const API_KEY = `api-key-${randomBytes(12).toString("hex")}`;
const DB_PASSWORD = `db-pw-${randomBytes(12).toString("hex")}`;
const MESSAGE = `hello from the dashboard ${randomBytes(4).toString("hex")}`;
/** A replica starts Node, tsx and the SDK: seconds alone, over a minute on a loaded 2-core machine. */
const LIVE_MS = 240_000;

describe("the dashboard in chromium", () => {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let recorder: Recorder;
  let base: string;
  let built: BuildResult;
  let dataDir: string | undefined;
  let execution: string;

  before(async () => {
    if (browserProblem) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    built = await buildDashboard();
    // inside the checkout, so the processor resolves @azure/* from its node_modules (as in the demo)
    dataDir = mkdtempSync(join(ROOT, ".eventjobs-dashboard-"));
    server = await startServer({
      dataDir,
      args: ["--config", labProject(dataDir, { apiKey: API_KEY, dbPassword: DB_PASSWORD })],
      readyTimeoutMs: 60_000,
    });
    base = `http://127.0.0.1:${server.httpPort}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    recorder = new Recorder(context);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  it("runs the lab: overview, send from the explorer, the execution live, its logs, the env vars", async (t) => {
    if (!browserHere(t)) return;
    // the job page is open before the message is sent: what it shows next can only come from the event stream
    const jobPage = await context.newPage();
    await recorder.watch(jobPage);
    const page = await context.newPage();
    await recorder.watch(page);

    await page.goto(`${base}/`);
    const resources = page.getByRole("table", { name: "Queues of servicebus-ns-job" });
    await resources.getByRole("link", { name: "queue-messages" }).waitFor();
    await page
      .getByRole("table", { name: "Jobs", exact: true })
      .getByRole("link", { name: "job-python", exact: true })
      .waitFor();
    await page.getByRole("table", { name: "Managed identities" }).getByText("identity-aca").waitFor();
    await page.getByRole("table", { name: "Role assignments" }).getByText("Azure Service Bus Data Receiver").waitFor();
    // first paint is the page's own markup; "resources shown" is when the overview had its data on screen
    const paint = {
      ...(await paints(page)),
      "resources shown": Math.round(await page.evaluate(() => performance.now())),
    };
    await shot(page, "overview");
    // the same page again in the running browser (its start-up no longer counted)
    const again = await context.newPage();
    await recorder.watch(again);
    await again.goto(`${base}/`);
    await again.getByRole("table", { name: "Queues of servicebus-ns-job" }).getByText("queue-messages").waitFor();
    const warm = {
      ...(await paints(again)),
      "resources shown": Math.round(await again.evaluate(() => performance.now())),
    };
    await again.close();

    await jobPage.goto(`${base}/#/jobs/job-python`);
    await jobPage.getByRole("table", { name: "Executions" }).getByText("No executions yet").waitFor();
    await jobPage.getByRole("status").getByText("live", { exact: true }).waitFor();
    await jobPage.evaluate(() => ((window as any).notReloaded = true));

    // the explorer, used from the keyboard: the send button is reached and pressed without the mouse
    await resources.getByRole("link", { name: "queue-messages" }).click();
    await page.getByRole("heading", { name: "Queue queue-messages" }).waitFor();
    await page.getByLabel("Message body").fill(MESSAGE);
    await page.getByRole("button", { name: "Send message" }).focus();
    await page.keyboard.press("Enter");
    await page
      .getByRole("status")
      .getByText(/Sent: sequence number \d+/)
      .waitFor();
    assert.deepEqual(await unlabelled(page), [], "every control of the explorer has a label");
    await shot(page, "explorer");

    // live: the execution appears on the job page opened before, and reaches Succeeded
    const row = jobPage.locator("tr[data-execution]").first();
    await row.waitFor({ timeout: LIVE_MS });
    await row.getByText("Succeeded").waitFor({ timeout: LIVE_MS });
    execution = (await row.getAttribute("data-execution"))!;
    assert.match(execution, /^job-python-[a-z0-9]+$/);
    assert.equal(await jobPage.evaluate(() => (window as any).notReloaded), true, "the job page was not reloaded");
    assert.match((await row.textContent())!, /Event/, "started by the event trigger");

    // the environment variables: plain values shown, secrets masked, no value in the page
    const env = jobPage.getByRole("table", { name: "Environment variables" });
    assert.match((await env.locator('tr[data-env="SERVICEBUS_QUEUE_NAME"]').textContent())!, /queue-messages/);
    const apiKey = (await env.locator('tr[data-env="API_KEY"]').textContent())!;
    assert.match(apiKey, /••••••/);
    assert.match(apiKey, /secretref:api-key/);
    assert.match((await env.locator('tr[data-env="DB_PASSWORD"]').textContent())!, /••••••/);
    const html = await jobPage.content();
    for (const secret of [API_KEY, DB_PASSWORD]) assert.ok(!html.includes(secret), "no secret value in the page");
    await shot(jobPage, "job");

    // the execution: replicas, the message in its console logs, system events
    await row.getByRole("link", { name: execution }).click();
    await jobPage.getByRole("heading", { name: `Execution ${execution}` }).waitFor();
    await jobPage.getByRole("log", { name: "Console logs" }).getByText(`Received: ${MESSAGE}`).waitFor();
    await jobPage.getByRole("table", { name: "System events" }).getByText("ExecutionCreated").first().waitFor();
    await jobPage.getByRole("table", { name: "Replicas" }).getByText("Succeeded").waitFor();
    assert.deepEqual(await unlabelled(jobPage), [], "every control of the execution page has a label");
    await shot(jobPage, "execution");
    if (process.env.EVENTJOBS_UPDATE_SCREENSHOT === "1") {
      mkdirSync(join(ROOT, "docs/images"), { recursive: true });
      copyFileSync(join(ARTIFACTS, "execution.png"), join(ROOT, "docs/images/dashboard.png"));
    }

    // readable in a narrow window: nothing wider than the window
    await jobPage.setViewportSize({ width: 390, height: 800 });
    assert.equal(await overflows(jobPage), false, "the execution page fits a 390 px window");
    await shot(jobPage, "execution-narrow");
    await jobPage.goto(`${base}/#/jobs/job-python`);
    await jobPage.getByRole("table", { name: "Environment variables" }).waitFor();
    assert.equal(await overflows(jobPage), false, "the job page fits a 390 px window");
    await page.setViewportSize({ width: 390, height: 800 });
    assert.equal(await overflows(page), false, "the explorer fits a 390 px window");

    // nothing secret reached the browser, in any response or event
    const sasKey = /SharedAccessKey=([^;\s]+)/.exec(server!.connectionString)![1];
    for (const [what, value] of [
      ["the literal secret", API_KEY],
      ["the secret env value", DB_PASSWORD],
      ["the namespace's SAS key", sasKey],
      ["a connection string", "SharedAccessKey="],
    ])
      assert.deepEqual(await recorder.find(value), [], `${what} reached the browser`);
    assert.ok(
      recorder.responses.some((r) => r.url.includes("/api/v1/jobs/job-python")),
      "responses were recorded",
    );
    assert.ok(
      recorder.events.some((e) => e.event === "execution"),
      "execution events were recorded",
    );
    assert.deepEqual(recorder.errors, [], "no console errors");

    const js = readFileSync(join(built.dir, "assets/app.js"));
    const css = readFileSync(join(built.dir, "assets/app.css"));
    const metrics = {
      bundle: {
        "app.js": js.length,
        "app.js gzip": gzipSync(js).length,
        "app.css": css.length,
        "app.css gzip": gzipSync(css).length,
      },
      paint: { "first load": paint, "warm browser": warm },
      screenshot: statSync(join(ARTIFACTS, "execution.png")).size,
    };
    writeFileSync(join(ARTIFACTS, "metrics.json"), JSON.stringify(metrics, null, 2));
    t.diagnostic(`dashboard: ${JSON.stringify(metrics)}`);
    await Promise.all([page.close(), jobPage.close()]);
  });

  it("explores a topic: send with a property, peek a subscription, its dead-letter queue, resubmit, purge", async (t) => {
    if (!browserHere(t)) return;
    const page = await context.newPage();
    await recorder.watch(page);
    await page.goto(`${base}/#/servicebus/servicebus-ns-job/topics/orders`);
    await page.getByRole("heading", { name: "Topic orders" }).waitFor();
    await page.getByLabel("Message body").fill("order 1");
    await page.getByRole("button", { name: "Add property" }).click();
    await page.getByLabel("Property 1 name").fill("region");
    await page.getByLabel("Property 1 value").fill("west");
    await page.getByRole("button", { name: "Send message" }).click();
    await page
      .getByRole("status")
      .getByText(/Sent: sequence number \d+/)
      .waitFor();
    const audit = page.getByRole("table", { name: "Subscriptions" }).locator("tr", { hasText: "audit" });
    await audit.locator('[data-count="active"]').getByText("1", { exact: true }).waitFor();

    await audit.getByRole("link", { name: "audit" }).click();
    await page.getByRole("heading", { name: "Subscription orders/audit" }).waitFor();
    await page.getByRole("button", { name: "Peek from start" }).click();
    const messages = page.getByRole("table", { name: "Messages" });
    await messages.getByText("order 1").waitFor();
    await messages
      .getByRole("button", { name: /^Details/ })
      .first()
      .click();
    await page.locator(".message-details").getByText("west").waitFor();
    await page.getByRole("button", { name: "Receive and delete" }).click();
    await page.getByRole("status").getByText("Received and deleted 1 message.").waitFor();
    const count = (name: string) => page.locator(`dd [data-count="${name}"]`);
    await count("active").getByText("0", { exact: true }).waitFor();

    // a processor gives up on a message: the dead-letter count rises live
    const sb = new ServiceBusClient(server!.connectionString);
    try {
      await sb.createSender("orders").sendMessages({ body: "order 2" });
      const receiver = sb.createReceiver("orders", "audit");
      const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
      await receiver.deadLetterMessage(m, { deadLetterReason: "Rejected", deadLetterErrorDescription: "no stock" });
    } finally {
      await sb.close();
    }
    await count("dead-letter").getByText("1", { exact: true }).waitFor();

    // to the dead-letter tab with the arrow key, as the tabs pattern has it
    await page.getByRole("tab", { name: "Messages" }).focus();
    await page.keyboard.press("ArrowRight");
    await page.getByRole("tab", { name: "Dead-letter queue", selected: true }).waitFor();
    await page.getByRole("button", { name: "Peek from start" }).click();
    const dead = page.getByRole("table", { name: "Dead-lettered messages" });
    await dead.getByText("Rejected").waitFor();
    assert.deepEqual(await unlabelled(page), [], "every control of the dead-letter tab has a label");
    await dead.getByRole("checkbox").first().check();
    await page.getByRole("button", { name: "Resubmit selected (1)" }).click();
    await page.getByRole("status").getByText("Resubmitted 1 message.").waitFor();
    await count("active").getByText("1", { exact: true }).waitFor();
    await count("dead-letter").getByText("0", { exact: true }).waitFor();
    await shot(page, "subscription-dead-letter");

    await page.getByRole("tab", { name: "Messages" }).click();
    await page.getByRole("button", { name: "Purge…" }).click();
    await page.getByRole("button", { name: "Confirm purge" }).click();
    await page.getByRole("status").getByText("Purged 1 message.").waitFor();
    await count("active").getByText("0", { exact: true }).waitFor();
    assert.deepEqual(recorder.errors, [], "no console errors");
    await page.close();
  });

  it("starts a Manual job from its page and stops the execution", async (t) => {
    if (!browserHere(t)) return;
    const page = await context.newPage();
    await recorder.watch(page);
    await page.goto(`${base}/#/jobs/job-manual`);
    await page.getByRole("table", { name: "Executions" }).getByText("No executions yet").waitFor();
    await page.getByRole("button", { name: "Start execution" }).click();
    const started = (await page
      .getByRole("status")
      .getByText(/^Started job-manual-/)
      .textContent())!;
    const name = started.replace(/^Started /, "");
    const row = page.locator(`tr[data-execution="${name}"]`);
    await row.getByText("Running", { exact: true }).waitFor();
    await row.getByRole("button", { name: `Stop ${name}` }).click();
    await row.getByText("Stopped", { exact: true }).waitFor({ timeout: 30_000 });
    assert.deepEqual(recorder.errors, [], "no console errors");
    await page.close();
  });

  it("serves the page and its assets with their types and a strict CSP; refuses a foreign Host", async (t: TestContext) => {
    if (!browserHere(t)) return;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    const csp = page.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, "no inline script");
    assert.doesNotMatch(html, /https?:\/\//, "nothing from another origin");
    for (const [path, type] of [
      ["/assets/app.js", /^text\/javascript/],
      ["/assets/app.css", /^text\/css/],
      ["/assets/favicon.svg", /^image\/svg\+xml/],
    ] as const) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get("content-type")!, type, path);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff", path);
    }
    // only the bundle's own files: no other file, and no way out of its folder
    assert.equal((await fetch(`${base}/assets/missing.js`)).status, 404);
    for (const path of ["/assets/%2e%2e/index.html", "/assets/..%2f..%2fpackage.json", "/assets/..%2fstatic.js"]) {
      const r = await rawRequest({ port: server!.httpPort }, httpRequest("GET", path));
      assert.notEqual(r.status, 200, path);
      assert.doesNotMatch(r.body, /<!doctype|"name": "eventjobs"|registerDashboard/i, path);
    }
    // DNS rebinding: the page, its assets and the event stream answer only to this server's names
    for (const path of ["/", "/assets/app.js", "/api/v1/events"]) {
      const r = await rawRequest({ port: server!.httpPort }, httpRequest("GET", path, { Host: "evil.example" }));
      assert.equal(r.status, 403, `${path} with a foreign Host`);
    }
    const foreign = await rawRequest(
      { port: server!.httpPort },
      httpRequest("GET", "/api/v1/events", { Origin: "http://evil.example" }),
    );
    assert.equal(foreign.status, 403, "the event stream refuses another origin");
  });

  it("runs a Log Analytics query from the execution page when the server has the endpoint", async (t) => {
    if (!browserHere(t)) return;
    const probe = await fetch(`${base}/api/v1/monitor/log-analytics/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    if (probe.status === 404 && (await probe.json()).error?.code === "NotFound")
      return t.skip("POST /api/v1/monitor/log-analytics/query is not on this server yet");
    assert.ok(execution, "the lab test ran first");
    const page = await context.newPage();
    await recorder.watch(page);
    await page.goto(`${base}/#/jobs/job-python/executions/${execution}`);
    await page.getByRole("button", { name: "Run query" }).click();
    await page
      .getByRole("table", { name: "Query results" })
      .getByText(`Received: ${MESSAGE}`)
      .waitFor({ timeout: LIVE_MS }) // the server's first query loads the KQL engine
      .catch(async (e) => {
        await shot(page, "log-analytics-failed");
        throw new Error(`${e.message}\nthe page says: ${(await page.locator("main").innerText()).slice(-1500)}`);
      });
    await shot(page, "log-analytics");
  });
});
