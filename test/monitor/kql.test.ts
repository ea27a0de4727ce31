// The KQL parser and engine of src/monitor/kql/ on their own: which queries parse into which operators, which
// are refused with what message and position, and the semantics of expressions over a small fixed table. The
// same operators over logs written by real executions are in log-analytics.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseQuery } from "../../src/monitor/kql/parser.js";
import { runQuery, type FetchHints, type TableSource } from "../../src/monitor/kql/run.js";
import { DateTime, KqlError, type Row } from "../../src/monitor/kql/values.js";

const NOW = Date.parse("2026-12-06T12:00:00Z");
const at = (iso: string) => new DateTime(Date.parse(iso));

/** Four rows of a console-like table: enough to tell the operators apart. */
const ROWS: Row[] = [
  { TimeGenerated: at("2026-12-06T09:15:00Z"), Job: "alpha", Stream: "stdout", Log: "starting worker", N: 3 },
  {
    TimeGenerated: at("2026-12-06T09:45:00Z"),
    Job: "alpha",
    Stream: "stderr",
    Log: "Error: disk-full on /data",
    N: 10,
  },
  { TimeGenerated: at("2026-12-06T11:05:00Z"), Job: "beta", Stream: "stdout", Log: '{"level":"warn","n":7}', N: 7 },
  { TimeGenerated: at("2026-12-06T11:30:00Z"), Job: "beta", Stream: "stdout", Log: "", N: 1 },
];
const SOURCE: TableSource = {
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "Job", type: "string" },
    { name: "Stream", type: "string" },
    { name: "Log", type: "string" },
    { name: "N", type: "long" },
  ],
  rows: () => ROWS.map((r) => ({ ...r })),
};

function run(query: string) {
  const t = runQuery(query, { now: NOW, table: (n) => (n === "T" ? SOURCE : undefined) });
  return {
    columns: t.columns.map((c) => c.name),
    types: t.columns.map((c) => c.type),
    rows: t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c.name, r[i]]))),
  };
}
const col = (query: string, name: string) => run(query).rows.map((r) => r[name]);

describe("KQL parser", () => {
  const parses: Array<[string, string[]]> = [
    ["T", []],
    ["T | where Job == 'alpha' | project Log", ["where", "project"]],
    [
      "T\n| filter N > 1\n| project-away Stream\n| project-rename Text = Log",
      ["where", "project-away", "project-rename"],
    ],
    [
      "T | extend x = 1 | summarize count() by Job | order by Job asc | take 1",
      ["extend", "summarize", "sort", "take"],
    ],
    [
      "T | sort by N desc nulls last | limit 2 | top 1 by N | distinct Job | count",
      ["sort", "take", "top", "distinct", "count"],
    ],
    ["T | where Log has 'x' and not(Log contains 'y') or N in (1, 2) or N between (1 .. 3);", ["where"]],
  ];
  for (const [q, ops] of parses)
    it(`parses ${JSON.stringify(q)}`, () =>
      assert.deepEqual(
        parseQuery(q).operators.map((o) => o.op),
        ops,
      ));

  const refused: Array<[string, RegExp, number, number]> = [
    ["T | join (U) on Job", /^The operator 'join' is not supported here \(supported: where, .*\)/, 1, 5],
    ["T\n| where N > 1\n  | mv-expand Log", /^The operator 'mv-expand' is not supported here/, 3, 5],
    ["T | render timechart", /^The operator 'render' is not supported here/, 1, 5],
    ["T | where Log matches regex 'x'", /^The operator 'matches' is not supported here/, 1, 15],
    ["T | where Log has_any ('x')", /^The operator 'has_any' is not supported here/, 1, 15],
    ["let x = 1; T", /^The 'let' statement is not supported here/, 1, 1],
    ["T | where", /^Syntax error: expected an expression, found the end of the query/, 1, 10],
    ["T | where Log == 'open", /^Syntax error: the string literal is not closed/, 1, 18],
    ["T | take 1 2", /^Syntax error: expected '\|' or the end of the query, found '2'/, 1, 12],
    ["T | order Job", /^Syntax error: expected 'by', found 'Job'/, 1, 11],
    ["T | where t > datetime(yesterday)", /^Syntax error: datetime\(yesterday\) is not a date and time/, 1, 15],
    ["T | where N > 3x", /^Syntax error: '3x' is not a number or a timespan/, 1, 16],
    ["T | where Nope == 1", /^Failed to resolve scalar expression named 'Nope'/, 1, 11],
    ["U | take 1", /^Failed to resolve table or column expression named 'U'/, 1, 1],
    ["T | extend x = frobnicate(Log)", /^Unknown function: 'frobnicate'/, 1, 16],
    ["T | where count() > 1", /^The aggregation 'count\(\)' may only be used in summarize/, 1, 11],
    ["T | summarize strlen(Log)", /^summarize: 'strlen\(\)' is not an aggregation/, 1, 15],
    ["T | extend x = ago()", /^'ago' takes 1 argument, got 0/, 1, 16],
    ["T | take -1", /^take: expected a whole number of rows/, 1, 10],
    ["T | project-away Nope", /^Failed to resolve column named 'Nope'/, 1, 18],
    ["T | project x = Log | where Log == ''", /^Failed to resolve scalar expression named 'Log'/, 1, 29],
  ];
  for (const [q, message, line, column] of refused)
    it(`refuses ${JSON.stringify(q)} at ${line}:${column}`, () => {
      assert.throws(
        () => run(q),
        (e: unknown) => {
          assert.ok(e instanceof KqlError, String(e));
          assert.match(e.message, message);
          assert.deepEqual([e.line, e.column], [line, column], e.message);
          assert.match(e.message, new RegExp(`\\(line ${line}, column ${column}\\)$`));
          return true;
        },
      );
    });
});

describe("KQL semantics", () => {
  const cases: Array<[string, string, unknown[]]> = [
    // string operators: case-insensitive unless _cs; has matches whole terms
    ["T | where Log has 'dis' | project N", "N", []],
    ["T | where Log has 'disk' | project N", "N", [10]],
    ["T | where Log has 'disk-full' | project N", "N", [10]],
    ["T | where Log has 'ERROR' | project N", "N", [10]],
    ["T | where Log has_cs 'ERROR' | project N", "N", []],
    ["T | where Log contains 'ISK' | project N", "N", [10]],
    ["T | where Log !contains 'i' | project N", "N", [7, 1]],
    ["T | where Log startswith 'START' | project N", "N", [3]],
    ["T | where Log endswith '/DATA' | project N", "N", [10]],
    ["T | where Job =~ 'ALPHA' | project N", "N", [3, 10]],
    ["T | where Job !~ 'ALPHA' | project N", "N", [7, 1]],
    ["T | where Job in ('beta', 'gamma') | project N", "N", [7, 1]],
    ["T | where Job !in ('beta') | project N", "N", [3, 10]],
    ["T | where Job in~ ('BETA') | project N", "N", [7, 1]],
    ["T | where N between (3 .. 7) | project N", "N", [3, 7]],
    ["T | where N !between (3 .. 7) | project N", "N", [10, 1]],
    // times: ago/now are the query's one instant; a timespan may close a between
    ["T | where TimeGenerated > ago(1h) | project N", "N", [7, 1]],
    ["T | where TimeGenerated between (datetime(2026-12-06T09:00:00Z) .. 1h) | project N", "N", [3, 10]],
    ["T | where TimeGenerated < datetime(2026-12-06 10:00) | project N", "N", [3, 10]],
    ["T | extend age = now() - TimeGenerated | where age < 2h | project N", "N", [7, 1]],
    ["T | where isnotempty(Log) and not(Stream == 'stderr') | project N", "N", [3, 7]],
    ["T | where isempty(Log) or N == 10 | project N", "N", [10, 1]],
    // projections and names
    ["T | project Text = strcat(Job, ':', tostring(N)) | take 1", "Text", ["alpha:3"]],
    [
      "T | extend J = parse_json(Log) | where isnotempty(J.level) | project L = tostring(J.level), M = toint(J['n'])",
      "M",
      [7],
    ],
    ["T | project todatetime('2026-01-02') | take 1", "Column1", ["2026-01-02T00:00:00.000Z"]],
    ["T | project-rename Text = Log | where Text == '' | project N", "N", [1]],
    // sorting and slicing
    ["T | order by N asc | project N", "N", [1, 3, 7, 10]],
    ["T | sort by Job, N asc | project N", "N", [1, 7, 3, 10]],
    ["T | top 2 by TimeGenerated | project N", "N", [1, 7]],
    ["T | take 2 | project N", "N", [3, 10]],
    ["T | distinct Job | order by Job asc", "Job", ["alpha", "beta"]],
    ["T | count", "Count", [4]],
    // aggregations
    ["T | summarize count() by Job | order by Job asc", "count_", [2, 2]],
    ["T | summarize c = countif(Stream == 'stdout')", "c", [3]],
    ["T | summarize dcount(Job)", "dcount_Job", [2]],
    ["T | summarize max(N), min(N), avg(N), sum(N)", "avg_N", [5.25]],
    [
      "T | summarize count() by bin(TimeGenerated, 1h) | order by TimeGenerated asc",
      "TimeGenerated",
      ["2026-12-06T09:00:00.000Z", "2026-12-06T11:00:00.000Z"],
    ],
    ["T | summarize arg_max(TimeGenerated, *) by Job | order by Job asc", "Log", ["Error: disk-full on /data", ""]],
    ["T | summarize arg_min(N, Log) by Job | order by Job asc", "Log", ["starting worker", ""]],
    ["T | summarize make_list(N) by Job | order by Job asc", "list_N", ["[3,10]", "[7,1]"]],
    ["T | where N > 100 | summarize count()", "count_", [0]],
    // arithmetic: whole numbers divide as longs
    ["T | extend x = N / 2 + N % 3 * 1.5 | project x", "x", [1, 6.5, 4.5, 1.5]],
  ];
  for (const [q, column, expected] of cases)
    it(`${q} → ${column} ${JSON.stringify(expected)}`, () => assert.deepEqual(col(q, column), expected));

  it("hands the leading where's time bounds and equalities, and a first take, to the source", () => {
    const seen: FetchHints[] = [];
    const source: TableSource = { columns: SOURCE.columns, rows: (h) => (seen.push(h), SOURCE.rows(h)) };
    const hints = (q: string) => {
      runQuery(q, { now: NOW, table: () => source });
      return seen.pop();
    };
    assert.deepEqual(hints("T | take 2"), { equals: {}, limit: 2 });
    assert.deepEqual(hints("T | where Job == 'alpha' and TimeGenerated > ago(1h) | where TimeGenerated <= now()"), {
      equals: { Job: "alpha" },
      since: NOW - 3_600_000,
      until: NOW,
    });
    assert.deepEqual(hints("T | where TimeGenerated between (datetime(2026-12-06) .. 1d) or Job == 'x'"), {
      equals: {},
    });
    assert.deepEqual(hints("T | extend a = 1 | where Job == 'alpha' | take 1"), { equals: {} });
  });

  it("column types come from the values, else from the table", () => {
    const r = run("T | summarize c = count(), a = avg(N), t = max(TimeGenerated) by Job | take 1");
    assert.deepEqual(r.columns, ["Job", "c", "a", "t"]);
    assert.deepEqual(r.types, ["string", "long", "real", "datetime"]);
    assert.deepEqual(run("T | where N > 100").types, ["datetime", "string", "string", "string", "long"]);
  });
});
