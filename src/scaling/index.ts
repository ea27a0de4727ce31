// Public API of eventjobs/scaling: KEDA's ScaledJob math and the azure-servicebus trigger, as pure
// functions (no I/O). docs/compatibility.md ("KEDA semantics") lists the behaviour reproduced.

export {
  SCALED_JOB_DEFAULTS,
  PAUSED_ANNOTATION,
  getMinReplicaCount,
  getMaxReplicaCount,
  getEffectiveBounds,
  getHistoryLimits,
  isPaused,
  type ScaledJobScalingSpec,
  type ScalingStrategySpec,
} from "./bounds.js";
export {
  isActive,
  getTargetAverageValue,
  calculateQueueLengthAndMaxValue,
  getTriggerMetrics,
  combineMetrics,
  getScaledJobState,
  type MetricValue,
  type TriggerReading,
  type TriggerFailure,
  type TriggerOutcome,
  type TriggerMetrics,
  type MultipleScalersCalculation,
  type CombinedMetrics,
  type ScaledJobState,
} from "./metrics.js";
export {
  resolveScalingStrategy,
  getEffectiveMaxScale,
  getScalingDecision,
  jobsToCreate,
  type ScalingStrategy,
  type ScalingStrategyType,
  type EffectiveMaxScaleInput,
  type ScalingDecisionInput,
  type ScalingDecision,
} from "./strategy.js";
export {
  getFinishedJobConditionType,
  isJobFinished,
  isJobPending,
  countJobs,
  getPendingJobCount,
  getJobsToDelete,
  generateJobs,
  EXCLUDED_LABELS_ANNOTATION,
  type Condition,
  type PodLike,
  type JobLike,
  type ScaledJobIdentity,
  type JobTargetRef,
  type GeneratedJob,
} from "./jobs.js";
export {
  decideScaledJob,
  getScaledJobConditions,
  NO_NEED_TO_CREATE_JOBS,
  type ScaledJobTick,
  type ScaledJobConditions,
} from "./decide.js";
export {
  AZURE_ENVIRONMENTS,
  PUBLIC_CLOUD,
  PRIVATE_CLOUD,
  DEFAULT_ENDPOINT_SUFFIX_KEY,
  environmentFromName,
  parseEnvironmentProperty,
  type AzureEnvironment,
  type CloudOptions,
} from "./cloud.js";
export {
  parseServiceBusMetadata,
  tryParseServiceBusMetadata,
  ServiceBusMetadataError,
  SERVICE_BUS_ERROR_PREFIX,
  type ServiceBusMetadata,
  type ServiceBusParseContext,
  type ServiceBusEntityType,
} from "./servicebus.js";
export {
  normalizeMetricName,
  getServiceBusMetricName,
  aggregateEntityCounts,
  selectEntityCount,
  isServiceBusActive,
  serviceBusTriggerReading,
  type EntityCount,
} from "./servicebus-count.js";
export { compileRe2FullMatch, type Re2Result } from "./re2.js";
export { parseGoBool, parseGoFloat, parseGoInt64, goQuote, type GoInt64Result } from "./goparse.js";
