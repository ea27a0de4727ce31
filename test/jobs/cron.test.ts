// 5-field cron in UTC: parsing, next runs and error messages.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nextRun, parseCron } from "../../src/jobs/cron.js";

/** the next `n` runs of `expr` after `from` as ISO strings */
function runs(expr: string, from: string, n = 3): string[] {
  const cron = parseCron(expr);
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    t = nextRun(cron, t);
    out.push(t.toISOString().replace(":00.000Z", "Z"));
  }
  return out;
}

describe("next runs", () => {
  test("every minute: strictly after, seconds dropped", () => {
    assert.deepEqual(runs("* * * * *", "2024-05-01T10:00:00Z", 2), ["2024-05-01T10:01Z", "2024-05-01T10:02Z"]);
    assert.deepEqual(runs("* * * * *", "2024-05-01T10:00:59.999Z", 1), ["2024-05-01T10:01Z"]);
  });

  test("across hour, day, month and year boundaries", () => {
    assert.deepEqual(runs("*/15 * * * *", "2024-12-31T23:50:00Z"), [
      "2025-01-01T00:00Z",
      "2025-01-01T00:15Z",
      "2025-01-01T00:30Z",
    ]);
    assert.deepEqual(runs("0 0 1 * *", "2024-11-15T12:00:00Z"), [
      "2024-12-01T00:00Z",
      "2025-01-01T00:00Z",
      "2025-02-01T00:00Z",
    ]);
    assert.deepEqual(runs("30 23 31 * *", "2024-01-31T23:30:00Z"), [
      "2024-03-31T23:30Z",
      "2024-05-31T23:30Z",
      "2024-07-31T23:30Z",
    ]);
    assert.deepEqual(runs("0 0 29 2 *", "2024-03-01T00:00:00Z", 2), ["2028-02-29T00:00Z", "2032-02-29T00:00Z"]);
    assert.deepEqual(runs("0 12 * DEC *", "2024-12-31T12:00:00Z", 1), ["2025-12-01T12:00Z"]);
  });

  test("is evaluated in UTC", () => {
    assert.deepEqual(runs("0 9 * * *", "2024-06-01T09:00:00+02:00", 1), ["2024-06-01T09:00Z"]);
  });

  test("steps and ranges", () => {
    assert.deepEqual(runs("1-10/4 * * * *", "2024-01-01T00:00:00Z", 4), [
      "2024-01-01T00:01Z",
      "2024-01-01T00:05Z",
      "2024-01-01T00:09Z",
      "2024-01-01T01:01Z",
    ]);
    assert.deepEqual(runs("50/5 * * * *", "2024-01-01T00:00:00Z", 3), [
      "2024-01-01T00:50Z",
      "2024-01-01T00:55Z",
      "2024-01-01T01:50Z",
    ]);
    assert.deepEqual(runs("0 8-10,14 * * *", "2024-01-01T00:00:00Z", 5), [
      "2024-01-01T08:00Z",
      "2024-01-01T09:00Z",
      "2024-01-01T10:00Z",
      "2024-01-01T14:00Z",
      "2024-01-02T08:00Z",
    ]);
    assert.deepEqual(runs("0 0 */10 * *", "2024-01-01T00:00:00Z", 4), [
      "2024-01-11T00:00Z",
      "2024-01-21T00:00Z",
      "2024-01-31T00:00Z",
      "2024-02-01T00:00Z",
    ]);
  });

  test("month and day names; 0 and 7 are Sunday", () => {
    // 2024-01-01 is a Monday
    assert.deepEqual(runs("0 0 * * SUN", "2024-01-01T00:00:00Z", 2), ["2024-01-07T00:00Z", "2024-01-14T00:00Z"]);
    assert.deepEqual(runs("0 0 * * 7", "2024-01-01T00:00:00Z", 1), ["2024-01-07T00:00Z"]);
    assert.deepEqual(runs("0 0 * * 0", "2024-01-01T00:00:00Z", 1), ["2024-01-07T00:00Z"]);
    assert.deepEqual(runs("0 0 * * 5-7", "2024-01-01T00:00:00Z", 3), [
      "2024-01-05T00:00Z",
      "2024-01-06T00:00Z",
      "2024-01-07T00:00Z",
    ]);
    assert.deepEqual(runs("30 9 * jan-mar mon-fri", "2024-03-29T10:00:00Z", 2), [
      "2025-01-01T09:30Z",
      "2025-01-02T09:30Z",
    ]);
    assert.deepEqual(runs("0 0 1 FEB,Aug *", "2024-01-01T00:00:00Z", 3), [
      "2024-02-01T00:00Z",
      "2024-08-01T00:00Z",
      "2025-02-01T00:00Z",
    ]);
  });

  test("day-of-month OR day-of-week when both are restricted", () => {
    // the 13th, and every Friday
    assert.deepEqual(runs("0 12 13 * FRI", "2024-01-01T00:00:00Z", 5), [
      "2024-01-05T12:00Z",
      "2024-01-12T12:00Z",
      "2024-01-13T12:00Z",
      "2024-01-19T12:00Z",
      "2024-01-26T12:00Z",
    ]);
    // with one of them `*`, the other one alone decides
    assert.deepEqual(runs("0 0 13 * *", "2024-01-01T00:00:00Z", 2), ["2024-01-13T00:00Z", "2024-02-13T00:00Z"]);
    assert.deepEqual(runs("0 0 * * FRI", "2024-01-01T00:00:00Z", 2), ["2024-01-05T00:00Z", "2024-01-12T00:00Z"]);
    // a stepped field is restricted
    assert.deepEqual(runs("0 0 1 * */3", "2024-01-01T00:00:00Z", 3), [
      "2024-01-03T00:00Z",
      "2024-01-06T00:00Z",
      "2024-01-07T00:00Z",
    ]);
  });
});

describe("errors name the field and value", () => {
  const cases: Array<[string, string]> = [
    ["61 * * * *", "minute 61 is out of range 0-59"],
    ["* 24 * * *", "hour 24 is out of range 0-23"],
    ["* * 0 * *", "day-of-month 0 is out of range 1-31"],
    ["* * * 13 *", "month 13 is out of range 1-12"],
    ["* * * * 8", "day-of-week 8 is out of range 0-7"],
    ["* * * FOO *", 'month "FOO" is not a number or a name (JAN-DEC)'],
    ["* * * * MONDAY", 'day-of-week "MONDAY" is not a number or a name (SUN-SAT)'],
    ["*/0 * * * *", 'minute step "0" must be a positive number'],
    ["5-1 * * * *", "minute range 5-1 goes backwards"],
    ["1,,2 * * * *", 'minute "1,,2" has an empty list item'],
    ["1-2-3 * * * *", 'minute "1-2-3" is not a value or a range'],
    ["* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"],
    ["0 0 * * * 2024", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"],
    ["0 0 30 2 *", "day-of-month 30 never occurs in month 2"],
    ["0 0 31 APR,JUN *", "day-of-month 31 never occurs in month APR,JUN"],
  ];
  for (const [expr, msg] of cases) {
    test(expr, () => assert.throws(() => parseCron(expr), { message: `cronExpression "${expr}": ${msg}` }));
  }

  test("an impossible day-of-month is fine when day-of-week may match instead", () => {
    assert.deepEqual(runs("0 0 30 2 MON", "2024-01-01T00:00:00Z", 1), ["2024-02-05T00:00Z"]);
  });
});
