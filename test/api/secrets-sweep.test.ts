// One sweep for secrets: a project with a non-default SAS key on a namespace and on a queue's rule, a job
// with a literal secret, a secret env value and connection strings, and a replica that gets a managed-identity
// token; then every output surface is searched for each of those values: every GET route of the control API
// (from docs/openapi.yaml), the CLI's show/list commands in every -o format, logs, plan, export, and the
// server's own stdout/stderr. None may hold one.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { EXPORT_FORMATS } from "../../src/config/export/index.js";
import { cli, ROOT } from "../helpers/cli.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";
import { CLI } from "../helpers/cli-entry.js";

const NS = "sweep-ns";
const Q = "sweep-q";
const JOB = "sweep-job";
const IDENTITY = "sweep-id";
const GROUP = "sweep-rg";
const key = () => randomBytes(32).toString("base64");
const NS_KEY = key();
const NS_KEY2 = key();
const Q_KEY = key();
const Q_KEY_NEXT = key(); // only in the changed file plan reads
const JOB_SECRET = `job-secret-${randomBytes(12).toString("hex")}`;
const ENV_SECRET = `env-password-${randomBytes(12).toString("hex")}`;
const OUTPUTS = ["json", "yaml", "table", "tsv"];

function project(dir: string, o: { queueKey: string; mark: string }): string {
  return `namespaces:
  - name: ${NS}
    authorizationRules:
      - { name: root, rights: [Manage, Send, Listen], primaryKey: "${NS_KEY}", secondaryKey: "${NS_KEY2}" }
    queues:
      - name: ${Q}
        authorizationRules:
          - { name: q-app, rights: [Send, Listen], primaryKey: "${o.queueKey}" }
    topics:
      - name: sweep-topic
        subscriptions:
          - name: sweep-sub
            rules:
              - { name: sweep-rule, filterType: SqlFilter, sqlFilter: { sqlExpression: "1=1" } }
roleAssignments:
  - { role: Azure Service Bus Data Receiver, assignee: ${JOB}, scope: ${NS}/queues/${Q} }
jobs:
  - name: ${JOB}
    identity: { type: SystemAssigned }
    properties:
      configuration:
        triggerType: Event
        replicaTimeout: 60
        secrets:
          - { name: api-key, value: "${JOB_SECRET}" }
          - { name: sb-connection, value: "\${servicebus.${NS}.connectionString}" }
        eventTriggerConfig:
          scale:
            pollingInterval: 1
            maxExecutions: 1
            rules:
              - name: queue-rule
                type: azure-servicebus
                metadata: { queueName: ${Q}, namespace: ${NS}, messageCount: "1" }
                auth: [{ triggerParameter: connection, secretRef: sb-connection }]
      template:
        containers:
          - name: main
            image: busybox
            command: [node, ${resolve(ROOT, "test/fixtures/token-replica.mjs")}]
            env:
              - { name: API_KEY, secretRef: api-key }
              - { name: DB_PASSWORD, value: "${ENV_SECRET}" }
              - { name: SB_CONNECTION_STRING, value: "\${servicebus.${NS}.connectionString}" }
              - { name: SERVICEBUS_FQDN, value: "\${servicebus.${NS}.fqdn}" }
              - { name: SERVICEBUS_QUEUE_NAME, value: ${Q} }
              - { name: REPORT_FILE, value: ${join(dir, "report.json")} }
              - { name: HASH_ENV, value: "API_KEY,DB_PASSWORD" }
              - { name: MARK, value: "${o.mark}" }
`;
}

/** `eventjobs export` reads only the file: it takes no --data-dir. */
function exportCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: ROOT,
    });
    let [stdout, stderr] = ["", ""];
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** Reads a server-sent event stream until it has sent `count` events named `event`, then closes it. */
async function readEvents(url: string, event: string, count: number): Promise<string> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  assert.equal(res.status, 200, `GET ${url}`);
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (text.split(`event: ${event}\n`).length - 1 >= count) break;
  }
  abort.abort();
  return text;
}

describe("secrets never leave the server", () => {
  let dir: string;
  let server: ServerProcess;
  let file: string;
  let execution: string;
  const secrets = new Map<string, string>([
    ["namespace primary key", NS_KEY],
    ["namespace secondary key", NS_KEY2],
    ["queue rule key", Q_KEY],
    ["queue rule key in the changed file", Q_KEY_NEXT],
    ["job secret", JOB_SECRET],
    ["secret env value", ENV_SECRET],
  ]);
  /** Where each secret shows up in `text` (a value may be URL-encoded in a link). */
  const leaks = (text: string) =>
    [...secrets].filter(([, v]) => text.includes(v) || text.includes(encodeURIComponent(v))).map(([what]) => what);
  const run = async (args: string[]) => {
    const r = args[0] === "export" ? await exportCli(args) : await cli(server.dataDir, args);
    assert.equal(r.code, 0, `eventjobs ${args.join(" ")}\n${r.stderr}`);
    return r.stdout + r.stderr;
  };
  /** Runs each command (side by side, a few at a time) and lists every leak as `<command>: <secret>`. */
  async function sweep(commands: string[][]): Promise<string[]> {
    const found: string[] = [];
    for (let i = 0; i < commands.length; i += 4) {
      const outs = await Promise.all(commands.slice(i, i + 4).map(run));
      outs.forEach((out, j) =>
        found.push(...leaks(out).map((what) => `eventjobs ${commands[i + j].join(" ")}: ${what}`)),
      );
    }
    return found;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "eventjobs-sweep-"));
    file = join(dir, "eventjobs.yaml");
    writeFileSync(file, project(dir, { queueKey: Q_KEY, mark: "0" }));
    server = await startServer({ args: ["--config", file] });
    // the connection strings built from the keys: printing them is what these two commands are for
    secrets.set(
      "namespace connection string",
      (await run(["servicebus", "namespace", "connection-string", "-n", NS])).trim(),
    );
    secrets.set(
      "namespace tls connection string",
      (await run(["servicebus", "namespace", "connection-string", "-n", NS, "--tls"])).trim(),
    );
    const keys = JSON.parse(
      await run([
        "servicebus",
        "queue",
        "authorization-rule",
        "keys",
        "list",
        "--namespace-name",
        NS,
        "--queue-name",
        Q,
        "-n",
        "q-app",
      ]),
    );
    assert.equal(keys.primaryKey, Q_KEY);
    secrets.set("queue rule connection string", keys.primaryConnectionString);
    assert.ok(secrets.get("namespace connection string")!.includes(NS_KEY));

    await run(["identity", "create", "-n", IDENTITY]);
    await run(["group", "create", "-n", GROUP, "-l", "westeurope"]);
    // update reads the job and writes it back: the secrets it cannot see must survive that
    await run(["containerapp", "job", "update", "-n", JOB, "--set-env-vars", "MARK=1"]);
    await run(["servicebus", "message", "send", "--namespace-name", NS, "--queue-name", Q, "--body", "wake up"]);
    const deadline = Date.now() + 60_000;
    let status = "";
    while (status !== "Succeeded" && status !== "Failed" && Date.now() < deadline) {
      const first = JSON.parse(await run(["containerapp", "job", "execution", "list", "-n", JOB])).at(-1);
      [execution, status] = [first?.name, first?.properties.status];
    }
    assert.equal(
      status,
      "Succeeded",
      await run(["containerapp", "job", "logs", "show", "-n", JOB, "--execution", execution, "--format", "text"]),
    );
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    secrets.set("managed-identity token", report.token);
    secrets.set("IDENTITY_HEADER", report.identityHeader);
    const sha = (v: string) => createHash("sha256").update(v).digest("hex");
    assert.deepEqual(
      report.hashes,
      { API_KEY: sha(JOB_SECRET), DB_PASSWORD: sha(ENV_SECRET) },
      "the replica got the secrets as configured, after the update",
    );
    assert.match(
      await run(["containerapp", "job", "logs", "show", "-n", JOB, "--format", "text"]),
      /received: wake up/,
    );
    // the developer principal exists, so GET /identity/me answers (and is swept) like every other route
    await run(["login"]);
    writeFileSync(join(dir, "changed.yaml"), project(dir, { queueKey: Q_KEY_NEXT, mark: "2" }));
  });
  after(async () => {
    await server?.dispose();
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  it("every GET route of the control API (docs/openapi.yaml)", async () => {
    const doc = parse(readFileSync(resolve(ROOT, "docs/openapi.yaml"), "utf8"));
    const params: Record<string, string> = { execution, ns: NS, queue: Q, topic: "sweep-topic", sub: "sweep-sub" };
    const urls: string[] = [];
    const streams: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      if (!ops.get) continue;
      // a server-sent event stream never ends: read it apart, up to a known point
      if (ops.get.responses?.["200"]?.content?.["text/event-stream"]) {
        streams.push(path);
        continue;
      }
      // printing the namespace's connection string is this route's purpose (`servicebus namespace connection-string`,
      // as az's `authorization-rule keys list`); listKeys, the other such route, is a POST
      if (path.endsWith("/servicebus/namespaces/{ns}/keys")) continue;
      const rule = path.includes("/queues/{queue}/")
        ? "q-app"
        : path.includes("/subscriptions/{sub}/")
          ? "sweep-rule"
          : "root";
      const name = path.startsWith("/api/v1/identities")
        ? IDENTITY
        : path.startsWith("/api/v1/resourceGroups")
          ? GROUP
          : JOB;
      const url = path.replace(/\{(\w+)\}/g, (_m, p: string) =>
        encodeURIComponent(p === "rule" ? rule : p === "name" ? name : params[p]),
      );
      urls.push(
        ...(url.endsWith("/logs")
          ? [`${url}?kind=console`, `${url}?kind=system`]
          : url.endsWith("/messages")
            ? [`${url}?count=10`]
            : [url]),
      );
    }
    assert.ok(urls.length >= 20, `${urls.length} GET routes`);
    const found: string[] = [];
    for (const url of urls) {
      const res = await fetch(`http://127.0.0.1:${server.httpPort}${url}`);
      const text = await res.text();
      assert.equal(res.status, 200, `GET ${url}: ${text}`);
      found.push(...leaks(text).map((what) => `GET ${url}: ${what}`));
    }
    // the events stream with an execution's log: its stored lines come first, as many as the logs route holds
    assert.deepEqual(streams, ["/api/v1/events"]);
    const stored = (await (
      await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/jobs/${JOB}/logs?execution=${execution}`)
    ).json()) as { value: unknown[] };
    const url = `/api/v1/events?job=${JOB}&execution=${encodeURIComponent(execution)}`;
    const text = await readEvents(`http://127.0.0.1:${server.httpPort}${url}`, "log", stored.value.length);
    found.push(...leaks(text).map((what) => `GET ${url}: ${what}`));
    assert.deepEqual(found, []);
  });

  it("the CLI's show and list commands in every output format, and job update", async () => {
    const sb = (scope: string[], ...rest: string[]) => ["servicebus", ...scope, ...rest];
    const shows = [
      ["containerapp", "job", "show", "-n", JOB],
      ["containerapp", "job", "list"],
      ["containerapp", "job", "execution", "list", "-n", JOB],
      ["containerapp", "job", "execution", "show", "-n", JOB, "--job-execution-name", execution],
      ["containerapp", "job", "explain", "-n", JOB],
      sb(["namespace", "list"]),
      sb(["namespace", "show"], "-n", NS),
      sb(["namespace", "authorization-rule", "list"], "--namespace-name", NS),
      sb(["namespace", "authorization-rule", "show"], "--namespace-name", NS, "-n", "root"),
      sb(["queue", "list"], "--namespace-name", NS),
      sb(["queue", "show"], "--namespace-name", NS, "-n", Q),
      sb(["queue", "authorization-rule", "list"], "--namespace-name", NS, "--queue-name", Q),
      sb(["queue", "authorization-rule", "show"], "--namespace-name", NS, "--queue-name", Q, "-n", "q-app"),
      sb(["message", "peek"], "--namespace-name", NS, "--queue-name", Q),
      ["identity", "list"],
      ["identity", "show", "-n", IDENTITY],
      ["role", "assignment", "list"],
    ];
    const commands = shows.flatMap((c) => OUTPUTS.map((o) => [...c, "-o", o]));
    commands.push(["containerapp", "job", "update", "-n", JOB, "--set-env-vars", "MARK=3"]);
    assert.deepEqual(await sweep(commands), []);
  });

  it("job logs (console and system), plan of a changed file, export in every format", async () => {
    const commands = [
      ...["console", "system"].flatMap((type) =>
        ["json", "text"].map((format) => [
          "containerapp",
          "job",
          "logs",
          "show",
          "-n",
          JOB,
          "--type",
          type,
          "--format",
          format,
          "--tail",
          "300",
        ]),
      ),
      ...["text", "json", "yaml"].map((o) => ["plan", "--config", join(dir, "changed.yaml"), "-o", o]),
      ...EXPORT_FORMATS.map((f) => ["export", "--format", f, "--config", file]),
    ];
    const plan = await run(["plan", "--config", join(dir, "changed.yaml")]);
    assert.match(
      plan,
      /authorizationRules\[q-app\]\.primaryKey: \(sensitive\) → \(sensitive\)/,
      "the plan shows that a key changes, not the key",
    );
    assert.deepEqual(await sweep(commands), []);
  });

  it("the server's stdout and stderr, through start, apply, the execution and shutdown", async () => {
    await run(["apply", "--config", join(dir, "changed.yaml")]);
    secrets.set(
      "queue rule connection string, changed",
      JSON.parse(
        await run([
          "servicebus",
          "queue",
          "authorization-rule",
          "keys",
          "list",
          "--namespace-name",
          NS,
          "--queue-name",
          Q,
          "-n",
          "q-app",
        ]),
      ).primaryConnectionString,
    );
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    const out = server.stdout() + server.stderr();
    assert.match(
      server.stdout(),
      /connection string: Endpoint=sb:\/\/localhost:\d+;SharedAccessKeyName=root;SharedAccessKey=\*\*\*;/,
    );
    assert.deepEqual(leaks(out), []);
  });
});
