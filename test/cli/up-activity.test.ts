// `eventjobs up`'s activity feed, as a user sees it in the terminal: a message on a queue a job's scale rule
// watches, the execution it starts and how that ended, one line each; nothing of it with --quiet.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { uniqueName } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { jobEntry, waitFor } from "../helpers/jobs.js";
import { RETRY } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const T = "\\d\\d:\\d\\d:\\d\\d";
/** a replica that loads the SDK and takes its message can take this long on a loaded 2-core machine */
const ENDED_MS = 90_000;

describe("up's activity feed", () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const s of servers) await s.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** `up` on a project (an eventjobs.yaml written as JSON, a YAML subset); the feed is what follows the ready block. */
  async function up(config: unknown, args: string[] = []) {
    const dir = mkdtempSync(join(tmpdir(), "eventjobs-up-activity-"));
    dirs.push(dir);
    writeFileSync(join(dir, "eventjobs.yaml"), JSON.stringify(config));
    const server = await startServer({
      dataDir: join(dir, "data"),
      args: ["--config", join(dir, "eventjobs.yaml"), ...args],
    });
    servers.push(server);
    return { server, feed: () => server.stdout().split(/^ {2}namespaces: .*\n/m)[1] ?? "" };
  }

  async function send(server: ServerProcess, entity: string, messages: Array<{ body: string; subject?: string }>) {
    const client = new ServiceBusClient(server.connectionString, RETRY);
    try {
      await client.createSender(entity).sendMessages(messages);
    } finally {
      await client.close();
    }
  }

  /** `up` with one queue and an Event job that takes one message from it (or `env`); sends one message once ready. */
  async function run(args: string[], env?: Record<string, string>) {
    const queue = uniqueName("orders");
    const job = uniqueName("worker");
    const { server, feed } = await up(
      {
        namespaces: [{ name: "sbemulatorns", queues: [{ name: queue }] }],
        jobs: [
          jobEntry({
            name: job,
            env: env ?? { SB_QUEUE: queue },
            rules: [{ name: "orders-rule", metadata: { queueName: queue } }],
          }),
        ],
      },
      args,
    );
    await send(server, queue, [{ body: "one order" }]);
    return { server, queue, job, feed };
  }

  it("prints the message, the execution it started and its result, one line each, with no secret", async () => {
    const { server, queue, job, feed } = await run([]);
    const started = await waitFor("the execution's start", () =>
      feed().match(new RegExp(`^${T} (${job}-[a-z0-9]{7}) started \\(scale rule orders-rule\\)$`, "m")),
    );
    const execution = started[1];
    await waitFor("the execution's end", () => new RegExp(`^${T} ${execution} \\w+ in `, "m").test(feed()), ENDED_MS);
    const lines = feed().trimEnd().split("\n");
    assert.match(lines[0], new RegExp(`^${T} ${queue} ← message \\(1 active\\) → ${job}$`), feed());
    assert.match(lines[1], new RegExp(`^${T} ${execution} started \\(scale rule orders-rule\\)$`), feed());
    assert.match(lines[2], new RegExp(`^${T} ${execution} Succeeded in \\d+\\.\\d s$`), feed());
    assert.equal(lines.length, 3, feed());
    assert.doesNotMatch(feed(), /SharedAccessKey|Endpoint=|sb:\/\//);
    assert.equal(server.child.exitCode, null);
  });

  it("--quiet: the ready block only", async () => {
    const { server, job, feed } = await run(["--quiet"]);
    await waitFor(
      "the execution to succeed",
      async () => {
        const r = await cli(server.dataDir, ["containerapp", "job", "execution", "list", "-n", job]);
        const list = r.code === 0 ? JSON.parse(r.stdout) : [];
        return list[0]?.properties.status === "Succeeded";
      },
      ENDED_MS,
    );
    assert.equal(feed(), "");
  });

  it("a burst on one queue makes a few summed lines, not one per message", async () => {
    // the execution the first message starts holds its slot (maxExecutions 1) and takes nothing
    const { server, queue, job, feed } = await run([], { HOLD_MS: "60000" });
    await waitFor("the execution's start", () => new RegExp(`^${T} ${job}-[a-z0-9]{7} started`, "m").test(feed()));
    const client = new ServiceBusClient(server.connectionString, RETRY);
    try {
      const sender = client.createSender(queue);
      await sender.sendMessages(Array.from({ length: 20 }, (_, i) => ({ body: `batch ${i}` })));
      for (let i = 0; i < 20; i++) await sender.sendMessages({ body: `single ${i}` });
    } finally {
      await client.close();
    }
    const arrivals = () => [
      ...feed().matchAll(
        new RegExp(`^${T} ${queue} ← (?:message|(\\d+) messages) \\((\\d+) active\\) → ${job}$`, "gm"),
      ),
    ];
    const total = () => arrivals().reduce((n, m) => n + Number(m[1] ?? 1), 0);
    await waitFor("all 41 arrivals to be reported", () => total() === 41);
    assert.ok(arrivals().length <= 10, `${arrivals().length} lines for 41 messages:\n${feed()}`);
    assert.equal(arrivals().at(-1)![2], "41", "the last line counts what the queue holds");
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("a subscription's job: the line names <topic>/<subscription>; entities no job watches make none", async () => {
    const topic = uniqueName("events");
    const idle = uniqueName("idle");
    const job = uniqueName("sub-worker");
    const { server, feed } = await up({
      namespaces: [
        {
          name: "sbemulatorns",
          queues: [{ name: idle }],
          topics: [
            {
              name: topic,
              subscriptions: [
                {
                  name: "work",
                  rules: [{ name: "only-work", filterType: "CorrelationFilter", correlationFilter: { label: "work" } }],
                },
                { name: "everything" },
              ],
            },
          ],
        },
      ],
      jobs: [
        jobEntry({
          name: job,
          env: { SB_TOPIC: topic, SB_SUBSCRIPTION: "work" },
          rules: [{ name: "sub-rule", metadata: { topicName: topic, subscriptionName: "work" } }],
        }),
      ],
    });
    await send(server, idle, [{ body: "nobody watches this queue" }]);
    await send(server, topic, [{ body: "only the everything subscription takes this", subject: "other" }]);
    await send(server, topic, [{ body: "work", subject: "work" }]);
    const started = await waitFor("the execution's start", () =>
      feed().match(new RegExp(`^${T} (${job}-[a-z0-9]{7}) started \\(scale rule sub-rule\\)$`, "m")),
    );
    await waitFor(
      "the execution's end",
      () => new RegExp(`^${T} ${started[1]} Succeeded in `, "m").test(feed()),
      ENDED_MS,
    );
    const arrivals = feed()
      .split("\n")
      .filter((l) => l.includes(" ← "));
    assert.equal(arrivals.length, 1, feed());
    assert.match(arrivals[0], new RegExp(`^${T} ${topic}/work ← message \\(1 active\\) → ${job}$`));
  });
});
