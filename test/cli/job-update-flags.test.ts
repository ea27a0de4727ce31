// `containerapp job update` checks its numeric and cron flags as `job create` does: a bad value is refused
// with a message naming the flag and the value (not a field path with `null`), and nothing is stored.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";

const JOBS = { event: "upd-event", manual: "upd-manual", schedule: "upd-schedule" };

describe("containerapp job update flags", () => {
  let broker: TestBroker;
  const run = (args: string[]) => cli(broker.dataDir, args);
  const show = async (name: string) => {
    const r = await run(["containerapp", "job", "show", "-n", name]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    broker = await startBroker("namespaces:\n  - name: sbemulatorns\n");
    const base = ["--image", "busybox", "--command", "node", "--cpu", "0.5", "--memory", "1Gi"];
    const created = await Promise.all([
      run(["containerapp", "job", "create", "-n", JOBS.event, "--trigger-type", "Event", ...base]),
      run(["containerapp", "job", "create", "-n", JOBS.manual, "--trigger-type", "Manual", ...base]),
      run([
        "containerapp",
        "job",
        "create",
        "-n",
        JOBS.schedule,
        "--trigger-type",
        "Schedule",
        "--cron-expression",
        "*/5 * * * *",
        ...base,
      ]),
    ]);
    for (const r of created) assert.equal(r.code, 0, r.stderr);
  });
  after(() => broker?.close());

  it("a bad value names the flag and the value, exits 1, and leaves the job as it was", async () => {
    const cases: Array<[string, string, string, RegExp]> = [
      [
        JOBS.event,
        "--cpu",
        "abc",
        /^eventjobs: Invalid value "abc" for --cpu: expected a number of cores such as 0\.25$/,
      ],
      [JOBS.event, "--cpu", "0", /^eventjobs: Invalid value "0" for --cpu: expected a number of cores such as 0\.25$/],
      [
        JOBS.manual,
        "--cpu",
        "-1",
        /^eventjobs: Invalid value "-1" for --cpu: expected a number of cores such as 0\.25$/,
      ],
      [
        JOBS.event,
        "--memory",
        "abc",
        /^eventjobs: Invalid value "abc" for --memory: expected a size such as 0\.5Gi or 512Mi/,
      ],
      [
        JOBS.event,
        "--replica-timeout",
        "abc",
        /^eventjobs: Invalid value "abc" for --replica-timeout: expected an integer$/,
      ],
      [
        JOBS.manual,
        "--replica-timeout",
        "1.5",
        /^eventjobs: Invalid value "1\.5" for --replica-timeout: expected an integer$/,
      ],
      [
        JOBS.event,
        "--replica-timeout",
        "0",
        /^eventjobs: Usage error: --replica-timeout must be at least 1 \(got 0\)$/,
      ],
      [
        JOBS.event,
        "--replica-retry-limit",
        "x",
        /^eventjobs: Invalid value "x" for --replica-retry-limit: expected an integer$/,
      ],
      [JOBS.manual, "--parallelism", "0", /^eventjobs: Usage error: --parallelism must be at least 1 \(got 0\)$/],
      [
        JOBS.schedule,
        "--replica-completion-count",
        "two",
        /^eventjobs: Invalid value "two" for --replica-completion-count: expected an integer$/,
      ],
      [
        JOBS.event,
        "--min-executions",
        "-1",
        /^eventjobs: Usage error: --min-executions must be at least 0 \(got -1\)$/,
      ],
      [
        JOBS.event,
        "--max-executions",
        "many",
        /^eventjobs: Invalid value "many" for --max-executions: expected an integer$/,
      ],
      [
        JOBS.event,
        "--polling-interval",
        "0",
        /^eventjobs: Usage error: --polling-interval must be at least 1 \(got 0\)$/,
      ],
      [
        JOBS.schedule,
        "--cron-expression",
        "abc",
        /^eventjobs: Invalid value for --cron-expression: cronExpression "abc": expected 5 fields \(minute hour day-of-month month day-of-week\), got 1$/,
      ],
      [
        JOBS.schedule,
        "--cron-expression",
        "61 * * * *",
        /^eventjobs: Invalid value for --cron-expression: cronExpression "61 \* \* \* \*": minute 61 is out of range 0-59$/,
      ],
      // scale settings exist on Event jobs only, a cron on Schedule jobs only: not silently dropped elsewhere
      [
        JOBS.manual,
        "--max-executions",
        "5",
        /^eventjobs: Usage error: --max-executions applies to Event jobs only \(the trigger type of upd-manual is Manual\)$/,
      ],
      [
        JOBS.schedule,
        "--polling-interval",
        "10",
        /^eventjobs: Usage error: --polling-interval applies to Event jobs only \(the trigger type of upd-schedule is Schedule\)$/,
      ],
      [
        JOBS.event,
        "--cron-expression",
        "*/5 * * * *",
        /^eventjobs: Usage error: --cron-expression applies to Schedule jobs only \(the trigger type of upd-event is Event\)$/,
      ],
    ];
    const before = Object.fromEntries(await Promise.all(Object.values(JOBS).map(async (j) => [j, await show(j)])));
    for (let i = 0; i < cases.length; i += 4) {
      const results = await Promise.all(
        cases
          .slice(i, i + 4)
          .map(([job, flag, value]) => run(["containerapp", "job", "update", "-n", job, flag, value])),
      );
      results.forEach((r, j) => {
        const [job, flag, value, message] = cases[i + j];
        assert.equal(r.code, 1, `update ${job} ${flag} ${value}: ${r.stdout}`);
        assert.match(r.stderr.trim(), message, `update ${job} ${flag} ${value}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
        assert.doesNotMatch(r.stderr, /null|NaN/);
      });
    }
    for (const j of Object.values(JOBS)) assert.deepEqual(await show(j), before[j], `${j} is unchanged`);
  });

  it("good values are stored as create would store them", async () => {
    const r = await run([
      "containerapp",
      "job",
      "update",
      "-n",
      JOBS.event,
      "--cpu",
      "0.75",
      "--memory",
      "1.5",
      "--replica-timeout",
      "90",
      "--replica-retry-limit",
      "2",
      "--parallelism",
      "3",
      "--replica-completion-count",
      "2",
      "--min-executions",
      "1",
      "--max-executions",
      "4",
      "--polling-interval",
      "15",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const conf = (await show(JOBS.event)).properties;
    assert.deepEqual(conf.template.containers[0].resources, { cpu: 0.75, memory: "1.5Gi" });
    assert.deepEqual([conf.configuration.replicaTimeout, conf.configuration.replicaRetryLimit], [90, 2]);
    const trig = conf.configuration.eventTriggerConfig;
    assert.deepEqual(
      [
        trig.parallelism,
        trig.replicaCompletionCount,
        trig.scale.minExecutions,
        trig.scale.maxExecutions,
        trig.scale.pollingInterval,
      ],
      [3, 2, 1, 4, 15],
    );
    const cron = await run(["containerapp", "job", "update", "-n", JOBS.schedule, "--cron-expression", "0 3 * * 1"]);
    assert.equal(cron.code, 0, cron.stderr);
    assert.equal(
      (await show(JOBS.schedule)).properties.configuration.scheduleTriggerConfig.cronExpression,
      "0 3 * * 1",
    );
  });
});
