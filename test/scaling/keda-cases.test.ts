// KEDA's upstream test rows (test/fixtures/keda/keda-cases.json, with their source and licence in the README
// beside it) replayed against src/scaling: one test per row of every group. A group without a handler fails.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  combineMetrics,
  countJobs,
  decideScaledJob,
  generateJobs,
  getEffectiveMaxScale,
  getJobsToDelete,
  getMaxReplicaCount,
  getMinReplicaCount,
  getPendingJobCount,
  getScaledJobState,
  getScalingDecision,
  getServiceBusMetricName,
  getTargetAverageValue,
  parseEnvironmentProperty,
  parseServiceBusMetadata,
  resolveScalingStrategy,
  serviceBusTriggerReading,
  ServiceBusMetadataError,
  SERVICE_BUS_ERROR_PREFIX,
  type JobLike,
  type ScaledJobScalingSpec,
  type TriggerReading,
} from "../../src/scaling/index.js";

const CASES_URL = new URL("../fixtures/keda/keda-cases.json", import.meta.url);
type Row = any;
const cases: Record<string, Row> = JSON.parse(readFileSync(CASES_URL, "utf8"));

const rowName = (group: string, row: Row, i: number) =>
  `${group}: ${row.test || row.name || row.comment || row.note || (row.idx !== undefined ? `idx ${row.idx}` : "row")} [${i}]`;

/** A single-metric trigger reading (what KEDA's mock scalers return). */
function reading(
  queueLength: number,
  targetAverageValue: number,
  isActive: boolean,
  metricName = "s0-queueLength",
): TriggerReading {
  return {
    metricName,
    values: [{ metricName, value: queueLength }],
    targetAverageValues: [targetAverageValue],
    isActive,
  };
}

/** The lab's trigger: one queue, messageCount 1, activation 0, connection string. */
function labReading(messageCount: string, queueLength: number): TriggerReading {
  const meta = parseServiceBusMetadata(
    { queueName: "orders", messageCount, connectionFromEnv: "SB" },
    { resolvedEnv: { SB: "Endpoint=sb://lab.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s" } },
  );
  return serviceBusTriggerReading(meta, queueLength);
}

/**
 * KEDA's exact message for each failing TestParseServiceBusMetadata row (not in the JSON; from KEDA's scaler source).
 */
const SB_ERROR_REASONS: Record<number, string> = {
  0: "no service bus entity type set",
  5: "both topic and queue name metadata provided",
  6: "subscription name provided with queue name",
  7: "no subscription name provided with topic name",
  8: "no service bus entity type set",
  // Rows 10 and 12 are labelled "invalid cloud" / "private cloud without endpoint suffix" upstream, but
  // they set no namespace, so KEDA rejects them on the namespace check before reading the cloud.
  10: "namespace are required when using pod identity",
  12: "namespace are required when using pod identity",
  14: "no connection setting given",
  16: "namespace are required when using pod identity",
  18: `unable to set param "activationMessageCount" value "AA": unable to unmarshal to field type int64: invalid character 'A' looking for beginning of value`,
  19: `unable to set param "useRegex" value "ababa": unable to parse boolean value "ababa": strconv.ParseBool: parsing "ababa": invalid syntax`,
  25: `parameter "operation" value "random" must be one of [sum max avg]`,
  26: "queueName is not a valid regular expression",
  27: `unable to set param "useRegex" value "ababa": unable to parse boolean value "ababa": strconv.ParseBool: parsing "ababa": invalid syntax`,
  32: `parameter "operation" value "random" must be one of [sum max avg]`,
  33: "subscriptionName is not a valid regular expression",
};

function parseSbRow(row: Row, resolvedEnv: Record<string, string>, triggerIndex = 0) {
  return parseServiceBusMetadata(row.metadata, {
    resolvedEnv,
    authParams: row.authParams,
    podIdentity: row.podIdentity,
    triggerIndex,
  });
}

/** Expands cleanUp's jobsGenerator text ("success1..success100 @15:40 Complete; …, all date D"). */
function generateCleanupJobs(spec: string): JobLike[] {
  const date = /all date (\d{4}-\d\d-\d\d)/.exec(spec)?.[1];
  assert.ok(date, "generator names its date");
  const jobs: JobLike[] = [];
  for (const part of spec.replace(/\s*\(.*\)\s*$/, "").split(/;\s*/)) {
    const m = /^([a-z]+)(\d+)(?:\.\.[a-z]+(\d+))? @(\d\d:\d\d) (Complete|Failed)$/.exec(part.trim());
    assert.ok(m, `unrecognised generator segment ${part}`);
    const [, prefix, from, to = from, time, type] = m;
    for (let n = Number(from); n <= Number(to); n++) {
      jobs.push({
        name: `${prefix}${n}`,
        completionTime: `${date}T${time}:00Z`,
        conditions: [{ type: type!, status: "True" }],
      });
    }
  }
  const total = /\((\d+) jobs total/.exec(spec)?.[1];
  if (total) assert.equal(jobs.length, Number(total), "generator total");
  return jobs;
}

const handlers: Record<string, (row: Row, i: number) => void> = {
  getEffectiveMaxScale(row) {
    const strategy = resolveScalingStrategy(row);
    const r = getEffectiveMaxScale(strategy, row.in);
    assert.equal(r.effectiveMaxScale, row.expectEffectiveMaxScale);
    // Only eager replaces scaleTo; elsewhere it passes through unchanged.
    assert.equal(r.scaleTo, row.expectScaleTo ?? row.in.scaleTo);
    if (row.expectStrategyType) assert.equal(strategy.type, row.expectStrategyType);
  },
  newScalingStrategy(row) {
    assert.equal(resolveScalingStrategy(row).type, row.expectStrategyType);
  },
  getScalingDecision(row) {
    const spec: ScaledJobScalingSpec = {
      minReplicaCount: row.minReplicaCount,
      maxReplicaCount: row.maxReplicaCount,
      scalingStrategy: { strategy: row.strategy },
    };
    const d = getScalingDecision(spec, row);
    assert.equal(d.effectiveMaxScale, row.expectEffectiveMaxScale);
    assert.equal(d.scaleTo, row.expectScaleTo);
  },
  cleanUp(row) {
    const jobs: JobLike[] = row.jobs
      ? row.jobs.map((j: Row) => ({
          name: j.name,
          completionTime: j.completionTime,
          conditions: [{ type: j.condition, status: "True" }],
        }))
      : generateCleanupJobs(row.jobsGenerator);
    const deleted = getJobsToDelete(jobs, row).map((j) => j.name);
    assert.deepEqual([...deleted].sort(), [...row.expectDeleted].sort());
    assert.equal(deleted.length, row.expectDeletedCount ?? row.expectDeleted.length);
  },
  getPendingJobCount(row) {
    const job: JobLike = {
      name: `job-${row.idx}`,
      pods: row.pods.map((p: Row) => ({
        phase: p.phase,
        conditions: (p.conditionsTrue ?? []).map((type: string) => ({ type, status: "True" })),
      })),
    };
    assert.equal(getPendingJobCount([job], row.pendingPodConditions), row.expectPendingJobCount);
    assert.equal(countJobs([job], row.pendingPodConditions).runningJobCount, 1, "an unfinished job is running");
  },
  scaledJobMinMaxReplicaCount(row) {
    assert.equal(getMaxReplicaCount(row), row.expectMax);
    assert.equal(getMinReplicaCount(row), row.expectMin);
  },
  getTargetAverageValue(row) {
    assert.equal(getTargetAverageValue(row.averageValues), row.expect);
  },
  getScaledJobState(row) {
    const spec: ScaledJobScalingSpec = {
      minReplicaCount: row.minReplicaCount,
      maxReplicaCount: row.maxReplicaCount,
      scalingStrategy: { multipleScalersCalculation: row.multipleScalersCalculation },
    };
    const outcomes = row.scalers.map((s: Row, i: number) =>
      reading(s.queueLength, s.targetAverageValue, s.isActive, `s${i}-m`),
    );
    const state = getScaledJobState(spec, outcomes);
    assert.deepEqual(
      { isActive: state.isActive, isError: state.isError, queueLength: state.queueLength, maxValue: state.maxValue },
      row.expect,
    );
  },
  azureServiceBusParseMetadata(row) {
    const env = cases.azureServiceBusParseMetadata.resolvedEnv;
    if (!row.isError) {
      const meta = parseSbRow(row, env);
      assert.equal(meta.entityType, row.expectEntityType);
      // Upstream checks the FQN only for pod-identity rows; connection-string rows leave it "" (as KEDA).
      if (row.podIdentity) assert.equal(meta.fullyQualifiedNamespace, row.expectFullyQualifiedNamespace);
      return;
    }
    assert.throws(
      () => parseSbRow(row, env),
      (err: unknown) => {
        assert.ok(err instanceof ServiceBusMetadataError);
        assert.equal(err.message, SERVICE_BUS_ERROR_PREFIX + SB_ERROR_REASONS[row.idx]);
        // Upstream checks the entity type whenever metadata comes back with the error.
        if (err.metadata) assert.equal(err.metadata.entityType, row.expectEntityType);
        return true;
      },
    );
  },
  azureServiceBusMetricName(row) {
    const sb = cases.azureServiceBusParseMetadata;
    const meta = parseSbRow(sb.cases[row.datasetIdx], sb.resolvedEnv, row.triggerIndex);
    assert.equal(getServiceBusMetricName(meta), row.expectMetricName);
  },
  azureParseEnvironmentProperty(row) {
    // KEDA's test provider: "<cloud name>.suffix", but it fails for the US Government cloud.
    const provider = (env: { name: string }) => {
      if (env.name === "AzureUSGovernmentCloud") throw new Error(`test endpoint is not available in ${env.name}`);
      return `${env.name}.suffix`;
    };
    const run = () => parseEnvironmentProperty(row.metadata, row.propertyKey, provider);
    if (row.isError) assert.throws(run);
    else assert.equal(run(), row.expect);
  },
  docsMaxReplicaTable(row) {
    const tick = decideScaledJob(
      { maxReplicaCount: row.maxReplicaCount },
      [reading(row.queueLength, row.targetAverageValue, row.queueLength > 0)],
      { runningJobCount: row.runningJobCount, pendingJobCount: 0 },
    );
    assert.equal(tick.jobsToCreate, row.expectJobsCreated);
  },
  docsEagerTable(row) {
    // The docs' example job: maxReplicaCount 10, target value "1" (the YAML in scaledjob-spec.md).
    const spec: ScaledJobScalingSpec = { maxReplicaCount: 10, scalingStrategy: { strategy: row.strategy } };
    let running = 0;
    for (const step of row.steps) {
      const q = step.reportedQueueLength;
      running += decideScaledJob(spec, [reading(q, 1, q > 0)], {
        runningJobCount: running,
        pendingJobCount: 0,
      }).jobsToCreate;
      assert.equal(running, step.runningJobsAfterPoll, `docs queue ${step.docsQueueLength}, reported ${q}`);
    }
  },
  derivedLabCases(row) {
    // ACA always sends minExecutions (0) and maxExecutions; messageCount 1 per the lab.
    const tick = decideScaledJob(
      { minReplicaCount: 0, maxReplicaCount: row.maxExecutions },
      [labReading("1", row.queueLength)],
      { runningJobCount: row.running, pendingJobCount: row.pending },
    );
    assert.equal(tick.jobsToCreate, row.expectCreate, row.why);
  },
  generateJobs(row) {
    const jobs = generateJobs(row.scaledJob, row.count);
    assert.equal(jobs.length, row.count);
    for (const job of jobs) {
      assert.equal(job.metadata.generateName, row.expectGenerateName);
      assert.equal(job.metadata.namespace, row.expectNamespace);
      assert.deepEqual(job.metadata.annotations, row.expectAnnotations);
      assert.deepEqual(job.metadata.labels, row.expectLabels);
      assert.equal(job.spec.template?.spec?.restartPolicy, row.expectRestartPolicy);
    }
  },
};

/** Rows of a group: arrays as-is, `{cases}` objects by their cases, a lone object as one row. */
function rowsOf(group: string): Row[] {
  const value = cases[group];
  if (Array.isArray(value)) return value;
  if (Array.isArray(value?.cases)) return value.cases;
  return [value];
}

const groups = Object.keys(cases).filter((k) => k !== "source" && k !== "files");

test("every group in keda-cases.json has a handler", () => {
  assert.deepEqual(
    groups.filter((g) => !handlers[g]),
    [],
  );
});

for (const group of groups) {
  const handler = handlers[group];
  if (!handler) continue;
  rowsOf(group).forEach((row, i) => test(rowName(group, row, i), () => handler(row, i)));
}

// The lab's settings: maxExecutions 1, messageCount 1, one queued message.
test("lab: maxExecutions 1, messageCount 1, one message, 0 running → 1 job", () => {
  const tick = decideScaledJob({ minReplicaCount: 0, maxReplicaCount: 1 }, [labReading("1", 1)], {
    runningJobCount: 0,
    pendingJobCount: 0,
  });
  assert.equal(tick.jobsToCreate, 1);
  assert.equal(tick.message, "Created 1 jobs");
  assert.deepEqual(tick.conditions.active, { status: "True", reason: "ScalerActive" });
});

test("lab: maxExecutions 1, messageCount 1, one message, 1 running → 0 jobs", () => {
  // The running execution's peek-locked message still counts in ActiveMessageCount; running offsets it.
  const tick = decideScaledJob({ minReplicaCount: 0, maxReplicaCount: 1 }, [labReading("1", 1)], {
    runningJobCount: 1,
    pendingJobCount: 0,
  });
  assert.equal(tick.jobsToCreate, 0);
  assert.equal(tick.message, "No need to create jobs - all requested jobs already exist");
});

test("lab: 1 running but still pending → 0 jobs under default (pending only matters for accurate/eager)", () => {
  const tick = decideScaledJob({ minReplicaCount: 0, maxReplicaCount: 1 }, [labReading("1", 1)], {
    runningJobCount: 1,
    pendingJobCount: 1,
  });
  assert.equal(tick.jobsToCreate, 0);
});

test("lab: empty queue → inactive, nothing created, no message", () => {
  const tick = decideScaledJob(
    { minReplicaCount: 0, maxReplicaCount: 1 },
    [labReading("1", 0)],
    { runningJobCount: 0, pendingJobCount: 0 },
    true,
  );
  assert.equal(tick.jobsToCreate, 0);
  assert.equal(tick.message, undefined);
  assert.equal(tick.transitionEvent, "ScaledJobInactive");
});

test("lab: messageCount omitted means 5 — 1 message still starts 1 job (scaleTo is the raw backlog)", () => {
  const tick = decideScaledJob({ minReplicaCount: 0, maxReplicaCount: 1 }, [labReading("", 1)], {
    runningJobCount: 0,
    pendingJobCount: 0,
  });
  assert.equal(tick.state.maxValue, 1); // ceil(1/5)
  assert.equal(tick.jobsToCreate, 1);
});

test("lab: combineMetrics for one active trigger is ceil(Q) / ceil(min(Q/T, M))", () => {
  assert.deepEqual(
    combineMetrics([{ queueLength: 3, maxValue: 3, targetAverageValue: 1, isActive: true }], "max", 0, 1),
    {
      isActive: true,
      queueLength: 3,
      maxValue: 1,
      maxFloatValue: 1,
    },
  );
});
