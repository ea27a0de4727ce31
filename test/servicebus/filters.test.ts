// The Service Bus rule language (src/servicebus/filters): table-driven rows for SQL filters, correlation
// filters, SQL actions and syntax errors. The rows live in test/servicebus/filters/*.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compileAction,
  compileFilter,
  FilterError,
  FilterEvaluationError,
  type FilterMessage,
} from "../../src/servicebus/filters/index.js";
import { BAD, FAILS, baseMessage, type Expected, type SqlRow } from "./filters/fixtures.js";
import { comparisonRows, inLikeRows, logicRows, nullExistsRows } from "./filters/sql-rows.js";
import { arithmeticRows, functionRows, nameRows, parameterRows } from "./filters/sql-rows-2.js";
import { actionRows, correlationRows, errorRows } from "./filters/other-rows.js";

function message(
  properties: Record<string, unknown> = {},
  system: Partial<FilterMessage["system"]> = {},
): FilterMessage {
  const m = baseMessage();
  return { system: { ...m.system, ...system }, properties: { ...m.properties, ...properties } };
}

function check(run: () => boolean, expected: Expected): void {
  if (expected === BAD) {
    assert.throws(run, FilterError);
  } else if (expected === FAILS) {
    assert.throws(run, FilterEvaluationError);
  } else {
    assert.equal(run(), expected);
  }
}

function sqlTable(title: string, rows: SqlRow[]): void {
  describe(title, () => {
    for (const [expression, expected, parameters, properties] of rows) {
      it(`${expression.replace(/\s+/g, " ")} → ${String(expected)}`, () => {
        check(() => compileFilter({ type: "sql", expression, parameters })(message(properties)), expected);
      });
    }
  });
}

sqlTable("SQL filter: comparisons", comparisonRows);
sqlTable("SQL filter: AND, OR, NOT and unknown values", logicRows);
sqlTable("SQL filter: IN and LIKE", inLikeRows);
sqlTable("SQL filter: IS NULL and EXISTS", nullExistsRows);
sqlTable("SQL filter: arithmetic and constants", arithmeticRows);
sqlTable("SQL filter: property names, scopes and system properties", nameRows);
sqlTable("SQL filter: parameters", parameterRows);
sqlTable("SQL filter: functions", functionRows);

describe("correlation filter", () => {
  for (const [fields, expected, properties, system] of correlationRows) {
    it(`${JSON.stringify(fields, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))} → ${String(expected)}`, () => {
      check(() => compileFilter({ type: "correlation", ...fields })(message(properties, system)), expected);
    });
  }
});

describe("true and false filters", () => {
  it("the true filter selects every message, the false filter none", () => {
    assert.equal(compileFilter({ type: "true" })(message()), true);
    assert.equal(compileFilter({ type: "false" })(message()), false);
  });
  it("1=1 is the true filter's SQL form", () => {
    assert.equal(compileFilter({ type: "sql", expression: "1=1" })({ system: {}, properties: {} }), true);
  });
  it("compatibility level 20 is the only one", () => {
    assert.equal(compileFilter({ type: "sql", expression: "1=1", compatibilityLevel: 20 })(message()), true);
    assert.throws(() => compileFilter({ type: "sql", expression: "1=1", compatibilityLevel: 21 }), FilterError);
  });
});

describe("SQL action", () => {
  for (const [expression, parameters, expected] of actionRows) {
    const title = expression.length > 60 ? `${expression.slice(0, 60)}…` : expression;
    it(`${title} → ${typeof expected === "object" ? "applies" : String(expected)}`, () => {
      const original = message();
      const snapshot = message();
      if (typeof expected !== "object") {
        check(() => {
          compileAction({ type: "sql", expression, parameters })(original);
          return true;
        }, expected);
        return;
      }
      const out = compileAction({ type: "sql", expression, parameters })(original);
      assert.deepEqual(original, snapshot, "the action leaves its input alone");
      for (const [k, v] of Object.entries(expected.properties ?? {})) assert.deepEqual(out.properties[k], v, k);
      for (const k of expected.removed ?? []) assert.equal(k in out.properties, false, `${k} removed`);
      for (const [k, v] of Object.entries(expected.system ?? {})) {
        assert.deepEqual(out.system[k as keyof FilterMessage["system"]], v, `sys.${k}`);
      }
    });
  }
});

describe("syntax errors name the token and its position", () => {
  for (const [expression, line, column, token, details] of errorRows) {
    it(JSON.stringify(expression.length > 40 ? `${expression.slice(0, 40)}…` : expression), () => {
      const error = (() => {
        try {
          compileFilter({ type: "sql", expression });
        } catch (e) {
          return e;
        }
        assert.fail("no error");
      })();
      assert.ok(error instanceof FilterError, String(error));
      assert.deepEqual([error.line, error.column, error.token], [line, column, token], error.message);
      assert.match(error.details, details);
      assert.match(error.message, /^There was an error parsing the SQL expression\. \[Token line=\d+, column=\d+, /);
    });
  }

  it("an action's error has the service's form", () => {
    assert.throws(
      () => compileAction({ type: "sql", expression: "EventType = OriginalEventType" }),
      (e: Error) =>
        e.message ===
        "There was an error parsing the SQL expression. [Token line=1, column=0, Token in error= EventType, " +
          "Additional details= syntax error, unexpected IDENTIFIER, expecting SET, or REMOVE]",
    );
  });
});
