// Unit tests for behaviour keda-cases.json does not cover: Go parsing edges, RE2 translation, the
// workload-identity cloud errors, regex counting, pause, errors across triggers.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compileRe2FullMatch,
  decideScaledJob,
  getJobsToDelete,
  getServiceBusMetricName,
  isPaused,
  parseGoFloat,
  parseGoInt64,
  parseServiceBusMetadata,
  resolveScalingStrategy,
  selectEntityCount,
  getEffectiveMaxScale,
  type TriggerReading,
} from "../../src/scaling/index.js";

const CONN = {
  authParams: { connection: "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b" },
};
const sbError = (metadata: Record<string, string>, context = {}) => {
  try {
    parseServiceBusMetadata(metadata, context);
  } catch (err) {
    return (err as Error).message;
  }
  return "no error";
};

test("custom strategy applies only when the percentage is a Go float", () => {
  for (const pct of ["", "1x", " 0.5", "0.5 ", "+nan", "1e400", "1__0", "_1", "0x1"]) {
    assert.equal(
      resolveScalingStrategy({ strategy: "custom", customScalingRunningJobPercentage: pct }).type,
      "default",
      pct,
    );
  }
  for (const pct of ["0", "0.5", ".5", "5.", "+1", "1e-1", "1_0.5", "0x1p-1", "Inf", "-infinity", "NaN"]) {
    assert.equal(
      resolveScalingStrategy({ strategy: "custom", customScalingRunningJobPercentage: pct }).type,
      "custom",
      pct,
    );
  }
  assert.equal(parseGoFloat("0x1p-1"), 0.5);
  assert.equal(parseGoFloat("1_0.5"), 10.5);
});

test("custom strategy with a NaN percentage creates nothing (int64 conversion as on amd64)", () => {
  const s = resolveScalingStrategy({ strategy: "custom", customScalingRunningJobPercentage: "NaN" });
  const r = getEffectiveMaxScale(s, {
    maxScale: 5,
    runningJobCount: 1,
    pendingJobCount: 0,
    maxReplicaCount: 10,
    scaleTo: 5,
  });
  assert.ok(r.effectiveMaxScale < 0);
});

test("int64 metadata values parse like Go's json.Unmarshal", () => {
  assert.deepEqual(parseGoInt64("-3"), { ok: true, value: -3 });
  const cause = (s: string) => {
    const r = parseGoInt64(s);
    return r.ok ? "ok" : r.cause;
  };
  const prefix = "unable to unmarshal to field type int64: ";
  assert.equal(cause("1.5"), prefix + "json: cannot unmarshal number 1.5 into Go value of type int64");
  assert.equal(cause("1e3"), prefix + "json: cannot unmarshal number 1e3 into Go value of type int64");
  assert.equal(cause("12abc"), prefix + "invalid character 'a' after top-level value");
  assert.equal(cause("-"), prefix + "unexpected end of JSON input");
  assert.equal(cause("01"), prefix + "invalid character '1' after top-level value");
  assert.equal(cause('"5"'), prefix + "json: cannot unmarshal string into Go value of type int64");
  assert.equal(cause("true"), prefix + "json: cannot unmarshal bool into Go value of type int64");
  assert.equal(
    cause("9223372036854775808"),
    prefix + "json: cannot unmarshal number 9223372036854775808 into Go value of type int64",
  );
  assert.equal(
    sbError({ queueName: "q", messageCount: "1.5" }, CONN),
    `error parsing azure service bus metadata: unable to set param "messageCount" value "1.5": ${prefix}json: cannot unmarshal number 1.5 into Go value of type int64`,
  );
});

test("field errors and the validation error are reported together, newline-joined", () => {
  assert.equal(
    sbError({ messageCount: "AA", useRegex: "yes", operation: "median" }, CONN),
    "error parsing azure service bus metadata: " +
      [
        `unable to set param "messageCount" value "AA": unable to unmarshal to field type int64: invalid character 'A' looking for beginning of value`,
        `unable to set param "useRegex" value "yes": unable to parse boolean value "yes": strconv.ParseBool: parsing "yes": invalid syntax`,
        `parameter "operation" value "median" must be one of [sum max avg]`,
        "no service bus entity type set",
      ].join("\n"),
  );
});

test("workload identity: cloud errors and FQNs", () => {
  const wi = { podIdentity: "azure-workload" };
  const base = { queueName: "q", namespace: "ns" };
  assert.equal(
    sbError({ ...base, cloud: "InvalidCloud" }, wi),
    "error parsing azure service bus metadata: invalid cloud environment InvalidCloud",
  );
  assert.equal(
    sbError({ ...base, cloud: "Private" }, wi),
    "error parsing azure service bus metadata: endpointSuffix must be provided for Private cloud type",
  );
  assert.equal(
    sbError({ ...base, cloud: "AzureStackCloud" }, wi),
    "error parsing azure service bus metadata: invalid cloud environment AzureStackCloud",
  );
  const fqn = (m: Record<string, string>, extra = {}) =>
    parseServiceBusMetadata({ ...base, ...m }, { ...wi, ...extra }).fullyQualifiedNamespace;
  assert.equal(fqn({}), "ns.servicebus.windows.net");
  assert.equal(fqn({ cloud: "azurechinacloud" }), "ns.servicebus.chinacloudapi.cn");
  assert.equal(fqn({ cloud: "private", endpointSuffix: "sb.example" }), "ns.sb.example");
  assert.equal(fqn({ cloud: "AzureUSGovernmentCloud", endpointSuffix: "ignored" }), "ns.servicebus.usgovcloudapi.net");
  assert.equal(
    fqn({ cloud: "AzureStackCloud" }, { azureStackEnvironment: { name: "s", serviceBusEndpointSuffix: "sb.stack" } }),
    "ns.sb.stack",
  );
  assert.equal(
    sbError(base, { podIdentity: "azure" }),
    "error parsing azure service bus metadata: azure service bus doesn't support pod identity azure",
  );
  // Connection strings are not needed under workload identity; a metadata `connection` key never counts.
  assert.equal(
    sbError({ queueName: "q", connection: "Endpoint=sb://x/" }),
    "error parsing azure service bus metadata: no connection setting given",
  );
});

test("metric names are indexed and normalised", () => {
  const meta = (m: Record<string, string>, triggerIndex = 0) => parseServiceBusMetadata(m, { ...CONN, triggerIndex });
  assert.equal(getServiceBusMetricName(meta({ queueName: "a.b/c:d%e(f)" })), "s0-azure-servicebus-a-b-c-d-e-f-");
  assert.equal(
    getServiceBusMetricName(meta({ queueName: "orders-.*", useRegex: "true" }, 2)),
    "s2-azure-servicebus-queue-regex",
  );
  assert.equal(
    getServiceBusMetricName(meta({ topicName: "t", subscriptionName: "s.*", useRegex: "1" })),
    "s0-azure-servicebus-topic-regex",
  );
});

test("regex mode: full-name matches aggregated by sum / max / avg (integer division)", () => {
  const entities = [
    { name: "orders-eu", activeMessageCount: 3 },
    { name: "orders-us", activeMessageCount: 4 },
    { name: "orders-eu-dlq-copy", activeMessageCount: 100 },
    { name: "xorders-eu", activeMessageCount: 100 },
  ];
  const count = (operation: string) =>
    selectEntityCount(
      parseServiceBusMetadata({ queueName: "orders-(eu|us)", useRegex: "true", operation }, CONN),
      entities,
    );
  assert.equal(count("sum"), 7);
  assert.equal(count("max"), 4);
  assert.equal(count("avg"), 3);
  // KEDA's enum check looks at comma-separated parts, so this validates, then matches no operation.
  assert.equal(count("sum,max"), 0);
  const plain = parseServiceBusMetadata({ queueName: "Orders-EU" }, CONN);
  assert.equal(selectEntityCount(plain, entities), 3);
  assert.throws(
    () => selectEntityCount(parseServiceBusMetadata({ queueName: "nope" }, CONN), entities),
    /^Error: queue nope doesn't exist$/,
  );
});

test("RE2 patterns: accepted, rejected, and read the RE2 way", () => {
  const full = (p: string, name: string) => {
    const r = compileRe2FullMatch(p);
    assert.ok(r.ok, `${p} should compile`);
    return r.regex.test(name);
  };
  assert.equal(full("orders-.*", "orders-1"), true);
  assert.equal(full("orders", "orders-1"), false); // full match, not substring
  assert.equal(full("a|ab", "ab"), true); // leftmost-longest: the alternation as a whole must cover the name
  assert.equal(full("q\\z", "q"), true);
  assert.equal(full("\\Qa.b\\E", "a.b"), true);
  assert.equal(full("\\Qa.b\\E", "axb"), false);
  assert.equal(full("[[:digit:]]+", "123"), true);
  assert.equal(full("[]a]+", "]a"), true);
  assert.equal(full("a.b", "a\rb"), true); // RE2's `.` only excludes \n
  assert.equal(full("(?i)orders", "ORDERS"), true);
  assert.equal(full("(?m)a", "a\nb"), false);
  assert.equal(full("(?P<region>eu|us)-q", "eu-q"), true);
  assert.equal(full("x{2,3}", "xxx"), true);
  for (const bad of ["*", "(?=a)b", "(a)\\1", "\\cA", "\\u0041", "\\Z", "a{1001}", "[a", "(a", "a**", "(?P=n)"]) {
    const r = compileRe2FullMatch(bad);
    assert.ok(!r.ok && r.reason === "invalid", `${bad} should be invalid`);
  }
  for (const unsupported of ["\\pL", "a(?i)b", "[[:^alpha:]]"]) {
    const r = compileRe2FullMatch(unsupported);
    assert.ok(!r.ok && r.reason === "unsupported", `${unsupported} should be unsupported`);
  }
  assert.equal(
    sbError({ queueName: "(?=x)", useRegex: "true" }, CONN),
    "error parsing azure service bus metadata: queueName is not a valid regular expression",
  );
});

test("paused annotation: Go booleans, anything unparsable pauses", () => {
  const p = (v?: string) => isPaused(v === undefined ? {} : { "autoscaling.keda.sh/paused": v });
  assert.equal(p(), false);
  assert.equal(p("true"), true);
  assert.equal(p("T"), true);
  assert.equal(p("false"), false);
  assert.equal(p("0"), false);
  assert.equal(p("yes"), true);
  assert.equal(p(""), true);
});

test("history cleanup never touches unfinished jobs and honours limit 0", () => {
  const jobs = [
    { name: "run", conditions: [] },
    { name: "ok1", completionTime: "2020-01-01T00:00:01Z", conditions: [{ type: "Complete", status: "True" }] },
    { name: "ok0", completionTime: "2020-01-01T00:00:00Z", conditions: [{ type: "Complete", status: "True" }] },
    { name: "notyet", conditions: [{ type: "Complete", status: "False" }] },
  ];
  assert.deepEqual(
    getJobsToDelete(jobs, { successfulJobsHistoryLimit: 1 }).map((j) => j.name),
    ["ok0"],
  );
  assert.deepEqual(
    getJobsToDelete(jobs, { successfulJobsHistoryLimit: 0 }).map((j) => j.name),
    ["ok0", "ok1"],
  );
});

test("a failed trigger is left out; errors while active → PartialTriggerError, while inactive → TriggerError", () => {
  const ok: TriggerReading = {
    metricName: "m",
    values: [{ metricName: "m", value: 2 }],
    targetAverageValues: [1],
    isActive: true,
  };
  const active = decideScaledJob({ maxReplicaCount: 10 }, [{ error: new Error("boom") }, ok], {
    runningJobCount: 0,
    pendingJobCount: 0,
  });
  assert.equal(active.jobsToCreate, 2);
  assert.equal(active.state.isError, true);
  assert.deepEqual(active.state.activeTriggers, [1]);
  assert.deepEqual(active.conditions.ready, { status: "Unknown", reason: "PartialTriggerError" });
  const inactive = decideScaledJob({ maxReplicaCount: 10 }, [{ error: new Error("boom") }], {
    runningJobCount: 0,
    pendingJobCount: 0,
  });
  assert.equal(inactive.jobsToCreate, 0);
  assert.deepEqual(inactive.conditions.ready, { status: "False", reason: "TriggerError" });
});

test("minReplicaCount tops up regardless of metrics and reduces the max", () => {
  const idle: TriggerReading = {
    metricName: "m",
    values: [{ metricName: "m", value: 0 }],
    targetAverageValues: [1],
    isActive: false,
  };
  const t = decideScaledJob({ minReplicaCount: 2, maxReplicaCount: 10 }, [idle], {
    runningJobCount: 0,
    pendingJobCount: 0,
  });
  assert.equal(t.state.isActive, true);
  assert.equal(t.jobsToCreate, 2);
  assert.equal(t.decision.decidedBy, "minReplicaCount");
  const busy: TriggerReading = { ...idle, values: [{ metricName: "m", value: 50 }], isActive: true };
  // effMax = 10 − 2 = 8; r = 2 − 2 = 0 → 8 more jobs (10 in total).
  assert.equal(
    decideScaledJob({ minReplicaCount: 2, maxReplicaCount: 10 }, [busy], { runningJobCount: 2, pendingJobCount: 0 })
      .jobsToCreate,
    8,
  );
});
