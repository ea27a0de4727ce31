// `export --format terraform`: azurerm resources for the project. The
// resource group, location and environment id are variables; a secret that is a namespace's connection
// string is taken from the namespace (or authorization rule) resource, any other secret from a sensitive
// variable without a default, so no value is ever written into the configuration.
import { formatDuration } from "../../model/duration.js";
import { QUEUE_DEFAULTS, type NamespaceConfig, type QueueProperties } from "../../model/config.js";
import type { Container } from "../../jobs/job-definition.js";
import {
  acaMemory,
  commentLines,
  connectionPolicy,
  findIdentity,
  jobNotes,
  parseScope,
  secretSources,
  splitRefs,
  type ExportJob,
  type ExportModel,
  type Ref,
} from "./common.js";
import { block, expr, hcl, label, type Body, type Value } from "./hcl.js";
import { builds, registryResources } from "./registries-terraform.js";
import { isDeveloper, jobRegistries } from "./registries.js";
import { topicBlocks } from "./topics-terraform.js";

export { hcl, label } from "./hcl.js";

const QUEUE_ATTRS: { field: keyof QueueProperties; attr: string; value: (v: never) => Value }[] = [
  { field: "lockDurationMs", attr: "lock_duration", value: (v: number) => formatDuration(v) },
  { field: "maxDeliveryCount", attr: "max_delivery_count", value: (v: number) => v },
  { field: "defaultMessageTimeToLiveMs", attr: "default_message_ttl", value: (v: number) => formatDuration(v) },
  { field: "deadLetteringOnMessageExpiration", attr: "dead_lettering_on_message_expiration", value: (v: boolean) => v },
  { field: "requiresSession", attr: "requires_session", value: (v: boolean) => v },
  { field: "requiresDuplicateDetection", attr: "requires_duplicate_detection", value: (v: boolean) => v },
  {
    field: "duplicateDetectionHistoryTimeWindowMs",
    attr: "duplicate_detection_history_time_window",
    value: (v: number) => formatDuration(v),
  },
  { field: "maxSizeInMegabytes", attr: "max_size_in_megabytes", value: (v: number) => v },
  { field: "maxMessageSizeInKilobytes", attr: "max_message_size_in_kilobytes", value: (v: number) => v },
];

export function exportTerraform(model: ExportModel): string {
  const nsLabel = (ns: string) => label(ns);
  const queueLabel = (ns: string, q: string) => label(ns, q);
  const idLabel = (name: string) => label(name);
  const secretVars: string[] = [];

  /** A value with references as Terraform expressions (string interpolation when mixed with text). */
  const value = (text: string): Value => {
    const parts = splitRefs(text);
    const refExpr = (r: Ref): string => {
      if (r.kind === "identity")
        return `azurerm_user_assigned_identity.${idLabel(r.name)}.${r.prop === "clientId" ? "client_id" : r.prop === "principalId" ? "principal_id" : "id"}`;
      if (r.prop === "connectionString") return connectionExpr(model, r.name);
      return `"\${azurerm_servicebus_namespace.${nsLabel(r.name)}.name}.servicebus.windows.net"`;
    };
    if (parts.length === 1 && typeof parts[0] !== "string") return expr(refExpr(parts[0]));
    if (parts.every((p) => typeof p === "string")) return text;
    const inner = parts
      .map((p) => {
        if (typeof p === "string") return hcl(p).slice(1, -1);
        const e = refExpr(p);
        return e.startsWith('"') ? e.slice(1, -1) : `\${${e}}`;
      })
      .join("");
    return expr(`"${inner}"`);
  };

  const out: string[] = [
    commentLines("# ", [
      `Terraform (azurerm) for ${model.source}, exported by eventjobs.`,
      "Secrets are never written here: connection strings come from the namespace resources, other secrets from sensitive variables.",
    ]),
    block("terraform", [["required_providers", [["azurerm", { source: "hashicorp/azurerm", version: "~> 4.0" }]]]]),
    // azurerm 4.x refuses to start without a subscription; null leaves it to ARM_SUBSCRIPTION_ID
    'provider "azurerm" {\n  features {}\n  subscription_id = var.subscription_id\n}',
    block('variable "subscription_id"', [
      ["type", expr("string")],
      ["default", expr("null")],
      [
        "description",
        "the Azure subscription (azurerm 4.x needs one): -var subscription_id=..., or leave it null and export ARM_SUBSCRIPTION_ID=$(az account show --query id -o tsv)",
      ],
    ]),
    block('variable "resource_group_name"', [["type", expr("string")]]),
    block('variable "location"', [["type", expr("string")]]),
    block('variable "container_app_environment_id"', [
      ["type", expr("string")],
      ["description", "id of an existing Container Apps environment (az containerapp env show --query id)"],
    ]),
  ];

  for (const ns of model.namespaces) out.push(...namespaceBlocks(ns, nsLabel, queueLabel));

  for (const id of model.identities) {
    out.push(
      block(`resource "azurerm_user_assigned_identity" "${idLabel(id.name)}"`, [
        ["name", id.name],
        ["location", expr("var.location")],
        ["resource_group_name", expr("var.resource_group_name")],
      ]),
    );
  }

  const { blocks: registryBlocks, pulls } = registryResources(model);
  out.push(...registryBlocks);

  const used = new Set<string>();
  if (model.roleAssignments.some((r) => isDeveloper(r.assignee)))
    out.push(
      '# you: the account Terraform runs as (az login), the developer of eventjobs login locally\ndata "azurerm_client_config" "current" {}',
    );
  for (const ra of model.roleAssignments) {
    const who = findIdentity(model, ra.assignee);
    const t = parseScope(ra.scope);
    const scope = !t
      ? ra.scope
      : t.entity?.kind === "queues" &&
          model.namespaces.find((n) => n.name === t.namespace)?.queues.some((q) => q.name === t.entity!.name)
        ? expr(`azurerm_servicebus_queue.${queueLabel(t.namespace, t.entity.name)}.id`)
        : t.entity?.kind === "topics" &&
            model.namespaces.find((n) => n.name === t.namespace)?.topics?.some((x) => x.name === t.entity!.name)
          ? expr(`azurerm_servicebus_topic.${label(t.namespace, "topic", t.entity.name)}.id`)
          : !t.entity && model.namespaces.some((n) => n.name === t.namespace)
            ? expr(`azurerm_servicebus_namespace.${nsLabel(t.namespace)}.id`)
            : `/subscriptions/<subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.ServiceBus/namespaces/${t.namespace}${t.entity ? `/${t.entity.kind}/${t.entity.name}` : ""}`;
    let name = label(
      who?.name ?? ra.assignee,
      ra.role.replace(/^Azure Service Bus /, ""),
      t?.entity?.name ?? t?.namespace ?? "scope",
    );
    for (let i = 2; used.has(name); i++) name = `${name}_${i}`;
    used.add(name);
    out.push(
      block(`resource "azurerm_role_assignment" "${name}"`, [
        ["scope", scope],
        ["role_definition_name", ra.role],
        [
          "principal_id",
          who
            ? expr(`azurerm_user_assigned_identity.${idLabel(who.name)}.principal_id`)
            : isDeveloper(ra.assignee)
              ? expr("data.azurerm_client_config.current.object_id")
              : ra.assignee,
        ],
        ...(who ? ([["principal_type", "ServicePrincipal"]] as Body) : []),
      ]),
    );
  }

  for (const job of model.jobs) out.push(jobBlock(model, job, value, secretVars, pulls));
  out.splice(7, 0, ...secretVars);
  const notes = model.jobs.flatMap(({ spec }) => jobNotes(model, spec, "terraform"));
  if (notes.length) out.push(commentLines("# note: ", notes));
  return out.join("\n\n") + "\n";
}

function namespaceBlocks(
  ns: NamespaceConfig,
  nsLabel: (n: string) => string,
  queueLabel: (n: string, q: string) => string,
): string[] {
  const out = [
    `# names are global in Azure: rename ${ns.name} if it is taken`,
    block(`resource "azurerm_servicebus_namespace" "${nsLabel(ns.name)}"`, [
      ["name", ns.name],
      ["location", expr("var.location")],
      ["resource_group_name", expr("var.resource_group_name")],
      ["sku", "Standard"],
    ]),
  ];
  for (const p of ns.policies.filter((p) => p.name !== "RootManageSharedAccessKey")) {
    out.push(
      block(`resource "azurerm_servicebus_namespace_authorization_rule" "${label(ns.name, p.name)}"`, [
        ["name", p.name],
        ["namespace_id", expr(`azurerm_servicebus_namespace.${nsLabel(ns.name)}.id`)],
        ["listen", p.rights.includes("Listen")],
        ["send", p.rights.includes("Send")],
        ["manage", p.rights.includes("Manage")],
      ]),
    );
  }
  const names = new Set(ns.queues.map((q) => q.name));
  for (const q of ns.queues) {
    const body: Body = [
      ["name", q.name],
      ["namespace_id", expr(`azurerm_servicebus_namespace.${nsLabel(ns.name)}.id`)],
    ];
    for (const a of QUEUE_ATTRS) {
      const v = q.properties[a.field];
      if (v !== undefined && v !== QUEUE_DEFAULTS[a.field]) body.push([a.attr, a.value(v as never)]);
    }
    // a reference to the target queue also orders the creation
    for (const [attr, target] of [
      ["forward_to", q.properties.forwardTo],
      ["forward_dead_lettered_messages_to", q.properties.forwardDeadLetteredMessagesTo],
    ] as const) {
      if (target)
        body.push([
          attr,
          names.has(target) ? expr(`azurerm_servicebus_queue.${queueLabel(ns.name, target)}.name`) : target,
        ]);
    }
    out.push(block(`resource "azurerm_servicebus_queue" "${queueLabel(ns.name, q.name)}"`, body));
  }
  out.push(...topicBlocks(ns, names));
  return out;
}

/** The connection string of `${servicebus.<ns>.connectionString}` (the namespace's first policy, as locally). */
function connectionExpr(model: ExportModel, ns: string): string {
  const policy = connectionPolicy(model, ns);
  return policy === "RootManageSharedAccessKey"
    ? `azurerm_servicebus_namespace.${label(ns)}.default_primary_connection_string`
    : `azurerm_servicebus_namespace_authorization_rule.${label(ns, policy)}.primary_connection_string`;
}

function jobBlock(
  model: ExportModel,
  exported: ExportJob,
  value: (s: string) => Value,
  secretVars: string[],
  pulls: Map<string, string>,
): string {
  const job = exported.spec;
  const after: string[] = [];
  const body: Body = [
    ["name", job.name],
    ["location", expr("var.location")],
    ["resource_group_name", expr("var.resource_group_name")],
    ["container_app_environment_id", expr("var.container_app_environment_id")],
    ["replica_timeout_in_seconds", job.replicaTimeout],
    ["replica_retry_limit", job.replicaRetryLimit],
  ];
  for (const s of secretSources(job)) {
    let v: Value;
    if (s.ref) v = value(`\${${s.ref.text}}`);
    else {
      const name = label(job.name, s.name);
      secretVars.push(
        block(`variable "${name}"`, [
          ["type", expr("string")],
          ["sensitive", true],
          ["description", `secret ${s.name} of job ${job.name}`],
        ]),
      );
      v = expr(`var.${name}`);
    }
    body.push([
      "secret",
      [
        ["name", s.name],
        ["value", v],
      ],
    ]);
  }
  const counts: Body = [
    ["parallelism", job.parallelism],
    ["replica_completion_count", job.replicaCompletionCount],
  ];
  if (job.triggerType === "Event") {
    const s = job.scale!;
    const scale: Body = [
      ["min_executions", s.minExecutions],
      ["max_executions", s.maxExecutions],
      ["polling_interval_in_seconds", s.pollingInterval],
    ];
    for (const r of s.rules) {
      const rule: Body = [
        ["name", r.name],
        ["custom_rule_type", r.type],
        ["metadata", Object.fromEntries(Object.entries(r.metadata).map(([k, v]) => [k, value(v)]))],
      ];
      for (const a of r.auth ?? [])
        rule.push([
          "authentication",
          [
            ["secret_name", a.secretRef],
            ["trigger_parameter", a.triggerParameter],
          ],
        ]);
      scale.push(["rules", rule]);
    }
    body.push(["event_trigger_config", [...counts, ["scale", scale]]]);
  } else if (job.triggerType === "Schedule")
    body.push(["schedule_trigger_config", [["cron_expression", job.cronExpression!], ...counts]]);
  else body.push(["manual_trigger_config", counts]);

  if (job.identity && job.identity.type !== "None") {
    const ids = Object.keys(job.identity.userAssignedIdentities ?? {}).map((k) => {
      const id = findIdentity(model, k);
      return id ? expr(`azurerm_user_assigned_identity.${label(id.name)}.id`) : value(k);
    });
    body.push([
      "identity",
      [["type", job.identity.type.replace(",", ", ")], ...(ids.length ? ([["identity_ids", ids]] as Body) : [])],
    ]);
  }
  for (const r of jobRegistries(model, exported)) {
    const server = r.acr ? expr(`azurerm_container_registry.${label(r.acr)}.login_server`) : r.server;
    const identity =
      r.identity === "system"
        ? "System"
        : r.identity && expr(`azurerm_user_assigned_identity.${label(r.identity.name)}.id`);
    const login: Body =
      r.username && r.passwordSecretRef
        ? [
            ["username", r.username],
            ["password_secret_name", r.passwordSecretRef],
          ]
        : [];
    body.push(["registry", [["server", server], ...(identity ? ([["identity", identity]] as Body) : []), ...login]]);
    // the identity must be able to pull before the job is created
    const pull = r.acr && r.identity && r.identity !== "system" && pulls.get(`${r.acr}|${r.identity.name}`);
    if (pull) after.push(`azurerm_role_assignment.${pull}`);
    const build = r.acr && builds(model, r.acr, job);
    if (build) after.push(...build);
  }
  body.push(["template", job.template.containers.map((c) => ["container", containerBody(c, value)] as Body[number])]);
  if (after.length) body.push(["depends_on", after.map(expr)]);
  const comment = job.paused ? `# ${job.name} is paused locally; Container Apps jobs have no paused state\n` : "";
  return comment + block(`resource "azurerm_container_app_job" "${label(job.name)}"`, body);
}

function containerBody(c: Container, value: (s: string) => Value): Body {
  // cpu and memory are required by the provider: Container Apps' own defaults when the job leaves them out
  const body: Body = [
    ["name", c.name],
    ["image", value(c.image)],
    ["cpu", c.resources?.cpu ?? 0.5],
    ["memory", acaMemory(c.resources?.memory ?? "1Gi")],
  ];
  if (c.command?.length) body.push(["command", c.command.map(value)]);
  if (c.args?.length) body.push(["args", c.args.map(value)]);
  for (const e of c.env ?? [])
    body.push([
      "env",
      [["name", e.name], e.secretRef !== undefined ? ["secret_name", e.secretRef] : ["value", value(e.value ?? "")]],
    ]);
  return body;
}
