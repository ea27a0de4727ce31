// azurerm_container_app_job (evaluated arguments) → a job in eventjobs.yaml's shape (the Container Apps ARM shape
// `az containerapp job create` takes). Argument names follow the azurerm provider; see docs/terraform.md.
import { TerraformError } from "./load.js";

type Obj = Record<string, any>;

const one = (v: unknown): Obj | undefined => (Array.isArray(v) ? (v[0] as Obj) : (v as Obj | undefined));
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : v ? [v as Obj] : []);
const defined = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** `/subscriptions/…/userAssignedIdentities/<name>` → name */
export function identityName(id: string, at: string): string {
  const m = /\/userAssignedIdentities\/([^/]+)$/i.exec(id);
  if (!m) throw new TerraformError(`${at}: identity_ids: "${id}" is not a user-assigned identity's id`);
  return m[1];
}

function only(block: Obj | undefined, allowed: string[], what: string, at: string): void {
  for (const k of Object.keys(block ?? {}))
    if (!allowed.includes(k))
      throw new TerraformError(`${at}: ${what}: "${k}" is not supported here (docs/terraform.md)`);
}

const JOB_ARGS = [
  "name",
  "location",
  "resource_group_name",
  "container_app_environment_id",
  "replica_timeout_in_seconds",
  "replica_retry_limit",
  "workload_profile_name",
  "identity",
  "secret",
  "registry",
  "event_trigger_config",
  "manual_trigger_config",
  "schedule_trigger_config",
  "template",
  "tags",
];

function triggerBase(t: Obj): Obj {
  return defined({ parallelism: t.parallelism, replicaCompletionCount: t.replica_completion_count });
}

/** A registry identity: `System`, or a user-assigned identity's id as its `${identity.<name>.resourceId}`. */
function identityRef(id: string): string {
  if (id.toLowerCase() === "system") return "system";
  const name = /\/userAssignedIdentities\/([^/]+)$/i.exec(id)?.[1];
  return name ? `\${identity.${name}.resourceId}` : id;
}

export function jobFromTerraform(args: Obj, at: string): Obj {
  only(args, JOB_ARGS, "azurerm_container_app_job", at);
  const event = one(args.event_trigger_config);
  const manual = one(args.manual_trigger_config);
  const schedule = one(args.schedule_trigger_config);
  const triggers = [event, manual, schedule].filter(Boolean).length;
  if (triggers !== 1)
    throw new TerraformError(
      `${at}: exactly one of event_trigger_config, manual_trigger_config, schedule_trigger_config is required`,
    );
  const configuration: Obj = defined({
    triggerType: event ? "Event" : manual ? "Manual" : "Schedule",
    replicaTimeout: args.replica_timeout_in_seconds,
    replicaRetryLimit: args.replica_retry_limit,
  });
  const secrets = list(args.secret);
  if (secrets.length) {
    for (const s of secrets) only(s, ["name", "value"], "secret", at);
    configuration.secrets = secrets.map((s) => ({ name: s.name, value: s.value }));
  }
  // recorded as az records it (local images need no registry), so `export --from-server` carries it
  const registries = list(args.registry).filter((r) => typeof r.server === "string");
  if (registries.length)
    configuration.registries = registries.map((r) =>
      defined({ server: r.server, identity: typeof r.identity === "string" ? identityRef(r.identity) : undefined }),
    );
  if (manual) configuration.manualTriggerConfig = triggerBase(manual);
  if (schedule)
    configuration.scheduleTriggerConfig = { cronExpression: schedule.cron_expression, ...triggerBase(schedule) };
  if (event) {
    const scale = one(event.scale) ?? {};
    only(scale, ["min_executions", "max_executions", "polling_interval_in_seconds", "rules"], "scale", at);
    configuration.eventTriggerConfig = {
      ...triggerBase(event),
      scale: defined({
        minExecutions: scale.min_executions,
        maxExecutions: scale.max_executions,
        pollingInterval: scale.polling_interval_in_seconds,
        rules: list(scale.rules).map((r) => {
          only(r, ["name", "custom_rule_type", "metadata", "authentication"], "scale rules", at);
          return defined({
            name: r.name,
            type: r.custom_rule_type,
            metadata: r.metadata,
            auth: list(r.authentication).length
              ? list(r.authentication).map((a) => ({ triggerParameter: a.trigger_parameter, secretRef: a.secret_name }))
              : undefined,
          });
        }),
      }),
    };
  }
  const template = one(args.template) ?? {};
  only(template, ["container"], "template", at);
  const containers = list(template.container).map((c) => {
    only(c, ["name", "image", "cpu", "memory", "command", "args", "env"], "template.container", at);
    return defined({
      name: c.name,
      image: c.image,
      command: c.command,
      args: c.args,
      resources: defined({ cpu: c.cpu, memory: c.memory }),
      env: list(c.env).length
        ? list(c.env).map((e) =>
            defined({ name: e.name, value: e.secret_name ? undefined : e.value, secretRef: e.secret_name }),
          )
        : undefined,
    });
  });
  const job: Obj = { name: args.name };
  const identity = one(args.identity);
  if (identity) {
    only(identity, ["type", "identity_ids"], "identity", at);
    const ids = (identity.identity_ids ?? []) as string[];
    job.identity = defined({
      type: identity.type,
      userAssignedIdentities: ids.length ? Object.fromEntries(ids.map((id) => [identityName(id, at), {}])) : undefined,
    });
  }
  job.properties = { configuration, template: { containers } };
  return job;
}
