// `eventjobs up --config Config.json` (the emulator's file) serves its Topics, Subscriptions and Rules; the CLI and
// the SDK see them, a restart keeps them, and an eventjobs.yaml applied later changes them like queues.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { cli } from "../helpers/cli.js";
import { receiveOne, RETRY } from "../helpers/sdk.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const CONFIG = {
  UserConfig: {
    Namespaces: [
      {
        Name: "sbemulatorns",
        Queues: [],
        Topics: [
          {
            Name: "emu-topic",
            Properties: { DefaultMessageTimeToLive: "PT1H", RequiresDuplicateDetection: false },
            Subscriptions: [
              { Name: "emu-all", Properties: { MaxDeliveryCount: 3, LockDuration: "PT1M" } },
              {
                Name: "emu-red",
                Properties: { MaxDeliveryCount: 3 },
                Rules: [
                  {
                    Name: "red-only",
                    Properties: { FilterType: "Correlation", CorrelationFilter: { Properties: { color: "red" } } },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
    Logging: { Type: "File" },
  },
};

describe("up with the emulator's Config.json topics", () => {
  let dir: string;
  let server: ServerProcess | undefined;
  const json = async (args: string[]) => {
    const r = await cli(dir, [...args, "-o", "json"]);
    assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "eventjobs-up-topics-"));
    writeFileSync(join(dir, "Config.json"), JSON.stringify(CONFIG));
    server = await startServer({ dataDir: dir, args: ["--config", join(dir, "Config.json")] });
  });
  after(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves them: the CLI lists them, the SDK routes through the rule, a restart keeps them", async () => {
    assert.doesNotMatch(server!.stdout() + server!.stderr(), /not serve|recorded/);
    const subs = await json([
      "servicebus",
      "topic",
      "subscription",
      "list",
      "--namespace-name",
      "sbemulatorns",
      "--topic-name",
      "emu-topic",
    ]);
    assert.deepEqual(
      subs.map((s: { name: string; properties: { maxDeliveryCount: number } }) => [
        s.name,
        s.properties.maxDeliveryCount,
      ]),
      [
        ["emu-all", 3],
        ["emu-red", 3],
      ],
    );
    const rules = await json([
      "servicebus",
      "topic",
      "subscription",
      "rule",
      "list",
      "--namespace-name",
      "sbemulatorns",
      "--topic-name",
      "emu-topic",
      "--subscription-name",
      "emu-red",
    ]);
    assert.deepEqual(
      rules.map((r: { name: string; properties: object }) => [r.name, r.properties]),
      [["red-only", { filterType: "CorrelationFilter", correlationFilter: { properties: { color: "red" } } }]],
    );
    const client = new ServiceBusClient(server!.connectionString, RETRY);
    try {
      await client.createSender("emu-topic").sendMessages([
        { body: "blue", applicationProperties: { color: "blue" } },
        { body: "red", applicationProperties: { color: "red" } },
      ]);
      const red = client.createReceiver("emu-topic", "emu-red", { receiveMode: "receiveAndDelete" });
      assert.equal((await receiveOne(red)).body, "red");
    } finally {
      await client.close();
    }
    assert.deepEqual(await server!.stop(), { code: 0, signal: null });
    server = await startServer({ dataDir: dir, args: ["--config", join(dir, "Config.json")] });
    const all = await json([
      "servicebus",
      "message",
      "peek",
      "--namespace-name",
      "sbemulatorns",
      "--topic-name",
      "emu-topic",
      "--subscription-name",
      "emu-all",
      "--count",
      "10",
    ]);
    assert.deepEqual(
      all.map((m: { body: unknown }) => m.body),
      ["blue", "red"],
      "messages survive the restart",
    );
    const plan = await cli(dir, ["plan", "--config", join(dir, "Config.json")]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /No changes\./);
  });
});
