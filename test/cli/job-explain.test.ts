// `eventjobs containerapp job explain` on jobs the scaler does not start: a Schedule job says when it runs next
// (checked against croner's own next run for the expression), a Manual job that only `job start` starts it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cron } from "croner";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";

/** croner's next run of a 5-field UTC expression, as an ISO time to the second. */
const cronerNext = (expression: string) =>
  new Cron(expression, { timezone: "UTC", paused: true })
    .nextRun()!
    .toISOString()
    .replace(/\.000Z$/, "Z");

describe("job explain on Schedule and Manual jobs", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n");
  });
  after(() => broker.close());

  const create = async (name: string, args: string[]) => {
    const r = await cli(broker.dataDir, [
      "containerapp",
      "job",
      "create",
      "-n",
      name,
      "--image",
      "busybox",
      "--command",
      "true",
      "-o",
      "none",
      ...args,
    ]);
    assert.equal(r.code, 0, r.stderr);
  };

  it("a Schedule job: its cron expression and the next run in UTC, with how long until then", async () => {
    const name = uniqueName("nightly");
    const cron = "30 3 * * 1-5";
    await create(name, ["--trigger-type", "Schedule", "--cron-expression", cron]);
    // either side of the command, in case a minute boundary passes while it runs
    const before = cronerNext(cron);
    const table = await cli(broker.dataDir, ["containerapp", "job", "explain", "-n", name]);
    const json = await cli(broker.dataDir, ["containerapp", "job", "explain", "-n", name, "-o", "json"]);
    const queried = await cli(broker.dataDir, [
      "containerapp",
      "job",
      "explain",
      "-n",
      name,
      "--query",
      "nextRun",
      "-o",
      "tsv",
    ]);
    const expected = [before, cronerNext(cron)];
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      new RegExp(`^${name} is a Schedule job: .*"30 3 \\* \\* 1-5" comes due \\(UTC\\)$`, "m"),
    );
    const next = table.stdout.match(/^next run: (\S+) \(in (\d+ (d|h|min|s)( \d+ (h|min|s))?|\d+\.\d s)\)$/m);
    assert.ok(next, table.stdout);
    assert.ok(expected.includes(next[1]), `${next[1]} is croner's next run (${expected.join(" or ")})`);

    assert.equal(json.code, 0, json.stderr);
    const v = JSON.parse(json.stdout);
    assert.deepEqual(
      { name: v.name, triggerType: v.triggerType, cronExpression: v.cronExpression, timeZone: v.timeZone },
      { name, triggerType: "Schedule", cronExpression: cron, timeZone: "UTC" },
    );
    assert.ok(expected.includes(v.nextRun), `${v.nextRun} is croner's next run`);
    assert.ok(Date.parse(v.nextRun) > Date.now() - 60_000);
    assert.equal(queried.code, 0, queried.stderr);
    assert.ok(expected.includes(queried.stdout.trim()), `--query nextRun: ${queried.stdout}`);
  });

  it("a Manual job: only `job start` starts it", async () => {
    const name = uniqueName("by-hand");
    await create(name, ["--trigger-type", "Manual"]);
    const r = await cli(broker.dataDir, ["containerapp", "job", "explain", "-n", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      `${name} is a Manual job: it starts only on \`eventjobs containerapp job start -n ${name}\`; no scaler or schedule starts it`,
    );
  });

  it("an unknown job: one line naming it, exit 1", async () => {
    const r = await cli(broker.dataDir, ["containerapp", "job", "explain", "-n", "no-such-job"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^eventjobs: The Resource 'Microsoft.App\/jobs\/no-such-job' was not found.\n$/);
  });
});
