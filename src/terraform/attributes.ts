// What Terraform resources export beyond their arguments (ids in azurerm's form, server-made values as
// `${kind.name.prop}` references the server resolves) and the azurerm argument names of the Service Bus
// resources with their eventjobs.yaml names. See docs/terraform.md.
import { LOCAL_SUBSCRIPTION } from "../identity/registry.js";
import { workspaceCustomerId } from "../monitor/workspace-id.js";

type Obj = Record<string, any>;

/** `data.azurerm_client_config.current`: the developer principal of `eventjobs login` on the server. */
export interface ClientConfig {
  client_id: string;
  object_id: string;
  tenant_id: string;
  subscription_id: string;
}

/** The stand-in for `terraform validate`, which reads no data source (and needs no server). */
export const OFFLINE_CLIENT: ClientConfig = {
  client_id: "(known after login)",
  object_id: "(known after login)",
  tenant_id: "(known after login)",
  subscription_id: LOCAL_SUBSCRIPTION,
};

const arm = (rg: string, provider: string, path: string) =>
  `/subscriptions/${LOCAL_SUBSCRIPTION}/resourceGroups/${rg}/providers/${provider}/${path}`;
export const nameIn = (id: unknown, seg: string) => new RegExp(`/${seg}/([^/]+)`, "i").exec(String(id))?.[1];

/** Attributes a resource exports beyond its arguments (server-made values as `${kind.name.prop}` references). */
export function computed(type: string, a: Obj, client: ClientConfig): Obj {
  const rg = String(a.resource_group_name ?? "rg");
  switch (type) {
    case "azurerm_resource_group":
      return { id: `/subscriptions/${LOCAL_SUBSCRIPTION}/resourceGroups/${a.name}` };
    case "azurerm_log_analytics_workspace":
      return {
        id: arm(rg, "Microsoft.OperationalInsights", `workspaces/${a.name}`),
        workspace_id: workspaceCustomerId(String(a.name)),
        primary_shared_key: "(local)",
      };
    case "azurerm_container_app_environment":
      return { id: arm(rg, "Microsoft.App", `managedEnvironments/${a.name}`), default_domain: "localhost" };
    case "azurerm_container_registry":
      return {
        id: arm(rg, "Microsoft.ContainerRegistry", `registries/${a.name}`),
        login_server: `${String(a.name).toLowerCase()}.azurecr.io`,
        admin_username: a.name,
      };
    case "azurerm_user_assigned_identity":
      return {
        id: arm(rg, "Microsoft.ManagedIdentity", `userAssignedIdentities/${a.name}`),
        client_id: `\${identity.${a.name}.clientId}`,
        principal_id: `\${identity.${a.name}.principalId}`,
        tenant_id: client.tenant_id,
      };
    case "azurerm_servicebus_namespace":
      return {
        id: arm(rg, "Microsoft.ServiceBus", `namespaces/${a.name}`),
        endpoint: `https://\${servicebus.${a.name}.host}:443/`,
        default_primary_connection_string: `\${servicebus.${a.name}.connectionString}`,
      };
    case "azurerm_servicebus_queue":
      return { id: `${a.namespace_id}/queues/${a.name}` };
    case "azurerm_servicebus_topic":
      return { id: `${a.namespace_id}/topics/${a.name}` };
    case "azurerm_servicebus_subscription":
      return { id: `${a.topic_id}/subscriptions/${a.name}` };
    case "azurerm_servicebus_subscription_rule":
      return { id: `${a.subscription_id}/rules/${a.name}` };
    case "azurerm_container_app_job":
      return { id: arm(rg, "Microsoft.App", `jobs/${a.name}`) };
    default:
      return { id: `local-${type}` };
  }
}

export const QUEUE_ARGS: Record<string, string> = {
  lock_duration: "lockDuration",
  max_delivery_count: "maxDeliveryCount",
  default_message_ttl: "defaultMessageTimeToLive",
  dead_lettering_on_message_expiration: "deadLetteringOnMessageExpiration",
  requires_session: "requiresSession",
  requires_duplicate_detection: "requiresDuplicateDetection",
  duplicate_detection_history_time_window: "duplicateDetectionHistoryTimeWindow",
  forward_to: "forwardTo",
  forward_dead_lettered_messages_to: "forwardDeadLetteredMessagesTo",
  max_size_in_megabytes: "maxSizeInMegabytes",
  max_message_size_in_kilobytes: "maxMessageSizeInKilobytes",
};
export const QUEUE_IGNORED = [
  "name",
  "namespace_id",
  "batched_operations_enabled",
  "partitioning_enabled",
  "express_enabled",
];

export const TOPIC_ARGS: Record<string, string> = {
  default_message_ttl: "defaultMessageTimeToLive",
  requires_duplicate_detection: "requiresDuplicateDetection",
  duplicate_detection_history_time_window: "duplicateDetectionHistoryTimeWindow",
  max_size_in_megabytes: "maxSizeInMegabytes",
};
export const TOPIC_IGNORED = [
  "name",
  "namespace_id",
  "max_message_size_in_kilobytes",
  "batched_operations_enabled",
  "partitioning_enabled",
  "express_enabled",
  "support_ordering",
  "status",
  "auto_delete_on_idle",
];
export const SUBSCRIPTION_ARGS: Record<string, string> = {
  lock_duration: "lockDuration",
  max_delivery_count: "maxDeliveryCount",
  default_message_ttl: "defaultMessageTimeToLive",
  dead_lettering_on_message_expiration: "deadLetteringOnMessageExpiration",
  dead_lettering_on_filter_evaluation_error: "deadLetteringOnFilterEvaluationExceptions",
  requires_session: "requiresSession",
  forward_to: "forwardTo",
  forward_dead_lettered_messages_to: "forwardDeadLetteredMessagesTo",
};
export const SUBSCRIPTION_IGNORED = [
  "name",
  "topic_id",
  "batched_operations_enabled",
  "status",
  "auto_delete_on_idle",
  "client_scoped_subscription_enabled",
];
export const RULE_ARGS = ["name", "subscription_id", "filter_type", "sql_filter", "correlation_filter", "action"];
/** correlation_filter arguments → eventjobs.yaml's correlationFilter keys */
export const CORRELATION_ARGS: Record<string, string> = {
  correlation_id: "correlationId",
  message_id: "messageId",
  to: "to",
  reply_to: "replyTo",
  label: "label",
  session_id: "sessionId",
  reply_to_session_id: "replyToSessionId",
  content_type: "contentType",
  properties: "properties",
};

export const renamed = (a: Obj, names: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(names)
      .filter(([k]) => a[k] !== undefined && a[k] !== null)
      .map(([k, v]) => [v, a[k]]),
  );
