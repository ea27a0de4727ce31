import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, parseDuration, TIMESPAN_MAX_ISO, TIMESPAN_MAX_MS } from "../../src/model/duration.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test("ISO-8601 durations as Service Bus writes them", () => {
  const cases: [string, number][] = [
    ["PT5M", 5 * M],
    ["PT30S", 30 * S],
    ["P14D", 14 * D],
    ["PT1H30M", H + 30 * M],
    ["P1DT2H3M4S", D + 2 * H + 3 * M + 4 * S],
    ["PT0.5S", 500],
    ["PT1.25S", 1250],
    ["PT0.0001S", 0.1],
    ["PT0S", 0],
    ["P2W", 14 * D],
    ["P1Y", 365 * D],
    ["P1M", 30 * D],
    ["PT90M", 90 * M],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("TimeSpan.MaxValue parses and formats back to the same text", () => {
  const ms = parseDuration(TIMESPAN_MAX_ISO);
  assert.ok(ms >= TIMESPAN_MAX_MS && ms < TIMESPAN_MAX_MS + 1);
  assert.equal(formatDuration(ms), "P10675199DT2H48M5.4775807S");
  assert.equal(formatDuration(TIMESPAN_MAX_MS), TIMESPAN_MAX_ISO);
});

test("the .NET TimeSpan text form", () => {
  assert.equal(parseDuration("00:05:00"), 5 * M);
  assert.equal(parseDuration("1.00:00:00"), D);
  assert.equal(parseDuration("10675199.02:48:05.4775807"), parseDuration(TIMESPAN_MAX_ISO));
  assert.equal(parseDuration("00:00:00.5"), 500);
  assert.equal(parseDuration("23:59:59"), D - S);
});

test("anything else is NaN", () => {
  const bad = [
    "",
    "P",
    "PT",
    "P1DT",
    "PT5",
    "5M",
    "pt5m",
    "-PT5M",
    "PT1.5M",
    "PT5M ",
    " PT5M",
    "P1.5D",
    "PT5S5M",
    "24:00:00",
    "00:60:00",
    "00:00:60",
    "1:2",
    "00:05:00.12345678",
    "P10675199DT2H48M5.4775808S",
    "P99999999D",
    "abc",
  ];
  for (const text of bad) assert.ok(Number.isNaN(parseDuration(text)), JSON.stringify(text));
});

test("formatDuration prints the shortest Service Bus form", () => {
  assert.equal(formatDuration(5 * M), "PT5M");
  assert.equal(formatDuration(D + 2 * H), "P1DT2H");
  assert.equal(formatDuration(500), "PT0.5S");
  assert.equal(formatDuration(0), "PT0S");
  assert.equal(formatDuration(14 * D), "P14D");
  assert.equal(formatDuration(H + 30 * M + 1.5 * S), "PT1H30M1.5S");
  assert.equal(formatDuration(0.1), "PT0.0001S");
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(NaN), RangeError);
});

test("formatDuration and parseDuration round-trip", () => {
  for (const ms of [1, 999, 5 * S, 61 * S, 5 * M, 25 * H, 14 * D, 7 * D + 1, 1234.5678]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
  }
});
