// The table of Log Analytics queries log-analytics.test.ts runs over the logs of its executions: each operator and
// function of docs/logs.md, with what the rows must be. The executions' names come in through `QueryContext`.
import assert from "node:assert/strict";

type Obj = Record<string, any>;

/** What the executions of log-analytics.test.ts wrote, and a way to run another query. */
export interface QueryContext {
  steps: string;
  failing: string;
  body: string;
  failedExecution: string;
  stepExecutions: string[];
  rows(q: string): Promise<Obj[]>;
}

/** The lines each execution of the steps job prints (its script is STEPS_SCRIPT). */
export const STEP_LINES = [
  "step 1 of 2: loading",
  '{"level":"info","msg":"done","count":3}',
  "warning: slow disk",
  "step 2 of 2: done",
];

export const STEPS_SCRIPT = [
  "console.log('step 1 of 2: loading');",
  "console.log(JSON.stringify({ level: 'info', msg: 'done', count: 3 }));",
  "console.error('warning: slow disk');",
  "console.log('step 2 of 2: done');",
].join(" ");

const CL = "ContainerAppConsoleLogs_CL";
const SYS = "ContainerAppSystemLogs_CL";
const sorted = (xs: unknown[]) => [...xs].map(String).sort();

/** [what, query, check of its rows] */
export function queryTable(c: QueryContext): Array<[string, () => string, (r: Obj[]) => void | Promise<void>]> {
  // execution names are read when a check runs: they exist only once the test file's executions ran
  const { steps, failing, body, rows } = c;
  return [
    [
      "where ==, project",
      () => `${CL} | where ContainerJobName_s == '${steps}' | project Log_s`,
      (r) => assert.deepEqual(sorted(r.map((x) => x.Log_s)), sorted([...STEP_LINES, ...STEP_LINES])),
    ],
    [
      "!=, distinct",
      () => `${CL} | where ContainerJobName_s != 'job-python' | distinct ContainerJobName_s`,
      (r) => assert.deepEqual(sorted(r.map((x) => x.ContainerJobName_s)), sorted([steps, failing])),
    ],
    [
      "=~",
      () => `${CL} | where ContainerJobName_s =~ '${steps.toUpperCase()}' | count`,
      (r) => assert.equal(r[0].Count, 8),
    ],
    [
      "has, Stream_s",
      () => `${CL} | where Log_s has 'slow' | project Stream_s`,
      (r) =>
        assert.deepEqual(
          r.map((x) => x.Stream_s),
          ["stderr", "stderr"],
        ),
    ],
    [
      "contains (case-insensitive)",
      () => `${CL} | where Log_s contains 'CANNOT conn' | project ContainerJobName_s`,
      (r) =>
        assert.deepEqual(
          r.map((x) => x.ContainerJobName_s),
          [failing, failing],
        ),
    ],
    [
      "startswith, endswith",
      () => `${CL} | where Log_s startswith 'step' and Log_s endswith 'done' | count`,
      (r) => assert.equal(r[0].Count, 2),
    ],
    [
      "in, system table",
      () =>
        `${SYS} | where ContainerJobName_s == '${failing}' and Reason_s in ('ExecutionFailed', 'ReplicaRetried') | project Reason_s, Type_s, ExecutionName_s`,
      (r) => {
        assert.deepEqual(sorted(r.map((x) => x.Reason_s)), ["ExecutionFailed", "ReplicaRetried"]);
        assert.deepEqual(
          r.map((x) => x.Type_s),
          ["Warning", "Warning"],
        );
        assert.deepEqual(
          r.map((x) => x.ExecutionName_s),
          [c.failedExecution, c.failedExecution],
        );
      },
    ],
    [
      "between ago() .. now()",
      () => `${CL} | where TimeGenerated between (ago(1h) .. now()) | count`,
      (r) => assert.equal(r[0].Count, 13),
    ],
    [
      "datetime() comparisons",
      () => `${CL} | where TimeGenerated < datetime(2000-01-01) or TimeGenerated > now() | count`,
      (r) => assert.equal(r[0].Count, 0),
    ],
    [
      "or, not(), isnotempty",
      () =>
        `${SYS} | where (Reason_s == 'ExecutionCreated' or Reason_s == 'ScalerDecision') and not(isnotempty(ExecutionName_s)) | distinct Reason_s`,
      (r) =>
        assert.deepEqual(
          r.map((x) => x.Reason_s),
          ["ScalerDecision"],
        ),
    ],
    [
      "project-away",
      () => `${CL} | project-away Log_s, Type | take 1`,
      (r) =>
        assert.deepEqual(Object.keys(r[0]), [
          "TimeGenerated",
          "ContainerAppName_s",
          "ContainerJobName_s",
          "ContainerGroupName_s",
          "ContainerName_s",
          "EnvironmentName_s",
          "RevisionName_s",
          "Stream_s",
        ]),
    ],
    [
      "extend, strcat, tostring",
      () =>
        `${CL} | where ContainerJobName_s == '${failing}' | extend Line = strcat(Stream_s, ': ', tostring(Log_s)) | distinct Line`,
      (r) =>
        assert.deepEqual(
          r.map((x) => x.Line),
          ["stderr: ERROR: cannot connect to the database"],
        ),
    ],
    [
      "summarize count() by",
      () => `${CL} | summarize count() by ContainerJobName_s`,
      (r) =>
        assert.deepEqual(Object.fromEntries(r.map((x) => [x.ContainerJobName_s, x.count_])), {
          "job-python": 3,
          [steps]: 8,
          [failing]: 2,
        }),
    ],
    [
      "dcount",
      () =>
        `${SYS} | where ContainerJobName_s == '${steps}' | summarize dcount(ExecutionName_s), dcount(ReplicaName_s)`,
      (r) => assert.deepEqual(r, [{ dcount_ExecutionName_s: 2, dcount_ReplicaName_s: 2 }]),
    ],
    [
      "min, max, avg",
      () =>
        `${CL} | where ContainerJobName_s == '${steps}' | extend n = strlen(Log_s) | summarize min(n), max(n), avg(n), first = min(TimeGenerated), last = max(TimeGenerated)`,
      (r) => {
        const lens = STEP_LINES.map((l) => l.length);
        assert.equal(r[0].min_n, Math.min(...lens));
        assert.equal(r[0].max_n, Math.max(...lens));
        assert.equal(r[0].avg_n, lens.reduce((a, x) => a + x, 0) / lens.length);
        assert.ok(Date.parse(r[0].first) <= Date.parse(r[0].last));
      },
    ],
    [
      "arg_max(*) by",
      () =>
        `${SYS} | where ContainerJobName_s == '${failing}' | summarize arg_max(TimeGenerated, *) by ContainerJobName_s | project ContainerJobName_s, Reason_s`,
      (r) => assert.deepEqual(r, [{ ContainerJobName_s: failing, Reason_s: "ExecutionFailed" }]),
    ],
    [
      "bin() per hour",
      () => `${CL} | summarize Lines = count() by bin(TimeGenerated, 1h)`,
      (r) => {
        assert.equal(
          r.reduce((a, x) => a + x.Lines, 0),
          13,
        );
        for (const x of r) assert.match(x.TimeGenerated, /T\d\d:00:00\.000Z$/);
      },
    ],
    [
      "order by asc, take",
      () => `${CL} | order by TimeGenerated asc | take 3 | project TimeGenerated`,
      (r) => {
        assert.equal(r.length, 3);
        assert.ok(Date.parse(r[0].TimeGenerated) <= Date.parse(r[2].TimeGenerated));
      },
    ],
    [
      "sort by, limit",
      () => `${CL} | sort by TimeGenerated | limit 1 | project TimeGenerated`,
      async (r) => {
        const all = (await rows(`${CL} | project TimeGenerated`)).map((x) => Date.parse(x.TimeGenerated));
        assert.equal(Date.parse(r[0].TimeGenerated), Math.max(...all));
      },
    ],
    [
      "top",
      () =>
        `${SYS} | where ContainerJobName_s == '${steps}' and Reason_s == 'ExecutionCreated' | top 1 by TimeGenerated desc | project ExecutionName_s`,
      (r) => assert.ok(c.stepExecutions.includes(r[0].ExecutionName_s)),
    ],
    [
      "todatetime",
      () => `${CL} | extend t = todatetime('2026-01-02T03:04:05Z') | project t | take 1`,
      (r) => assert.deepEqual(r, [{ t: "2026-01-02T03:04:05.000Z" }]),
    ],
    [
      "parse_json",
      () =>
        `${CL} | where ContainerJobName_s == '${steps}' and Log_s startswith '{' | extend j = parse_json(Log_s) | project Level = tostring(j.level), Count = toint(j['count'])`,
      (r) =>
        assert.deepEqual(r, [
          { Level: "info", Count: 3 },
          { Level: "info", Count: 3 },
        ]),
    ],
    [
      "ContainerAppConsoleLogs (JobName, Log)",
      () =>
        `ContainerAppConsoleLogs | where JobName == 'job-python' and Log startswith 'Received' | project Log, Stream`,
      (r) => assert.deepEqual(r, [{ Log: `Received: ${body}`, Stream: "stdout" }]),
    ],
    [
      "ContainerAppSystemLogs (Reason, Type)",
      () =>
        `ContainerAppSystemLogs | where JobName == '${failing}' and Reason == 'ExecutionFailed' | project Type, ReplicaName`,
      (r) => assert.deepEqual(r, [{ Type: "Warning", ReplicaName: "" }]),
    ],
  ];
}
