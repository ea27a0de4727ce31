// `eventjobs/testing`: a Service Bus (and, with a project, the whole platform) inside a test process.
// Usage and the admin client's HTTPS: docs/testing.md.
export {
  startServiceBus,
  type OutgoingMessage,
  type PeekedMessage,
  type QueueSpec,
  type ServiceBus,
  type StartServiceBusOptions,
  type SubscriptionSpec,
  type TopicSpec,
} from "./service-bus.js";
export type { AdminClientOptions } from "./admin-agent.js";
export type { Execution, ExecutionStatus, LogEntry, WaitOptions } from "./executions.js";
