// A Terraform module → an eventjobs project (eventjobs.yaml's shape) plus, per resource address, its evaluated
// arguments and the project resources it owns: what `eventjobs terraform plan|apply` send through the project
// machinery (src/control/). Resource types and attributes: docs/terraform.md.
import { resolve as resolvePath } from "node:path";
import { parseScope } from "../identity/config.js";
import { DEVELOPER_UPN } from "../identity/registry.js";
import { roleAssignmentId } from "../control/resources.js";
import {
  computed,
  CORRELATION_ARGS,
  nameIn,
  QUEUE_ARGS,
  QUEUE_IGNORED,
  renamed,
  RULE_ARGS,
  SUBSCRIPTION_ARGS,
  SUBSCRIPTION_IGNORED,
  TOPIC_ARGS,
  TOPIC_IGNORED,
  type ClientConfig,
} from "./attributes.js";
import { evaluate, references, step } from "./evaluate.js";
import { jobFromTerraform } from "./job.js";
import { TerraformError, type Block, type Module } from "./load.js";
import { parseAzCommand } from "./local-exec.js";

type Obj = Record<string, any>;

export const EMULATED: Record<string, string> = {
  azurerm_resource_group: "recorded",
  azurerm_log_analytics_workspace: "a workspace: `monitor log-analytics query` reads the job logs in it",
  azurerm_container_app_environment: "recorded; jobs run as local processes",
  azurerm_container_registry: "recorded; images are built by `az acr build` provisioners",
  azurerm_user_assigned_identity: "an identity",
  azurerm_role_assignment: "a role assignment",
  azurerm_servicebus_namespace: "a namespace",
  azurerm_servicebus_queue: "a queue",
  azurerm_servicebus_topic: "a topic",
  azurerm_servicebus_subscription: "a subscription",
  azurerm_servicebus_subscription_rule: "a subscription rule",
  azurerm_container_app_job: "a job",
  terraform_data: "local-exec provisioners (`az acr build` becomes an image build)",
  null_resource: "local-exec provisioners (`az acr build` becomes an image build)",
};
const META = ["depends_on", "provisioner", "lifecycle", "connection", "provider", "timeouts"];

export interface TfResource {
  address: string;
  type: string;
  at: string;
  args: Obj;
  /** project resources it stands for (`queue:ns/q`) */
  owns: string[];
  note?: string;
}
export interface Command {
  address: string;
  command: string;
  workingDir: string;
  environment: Record<string, string>;
}
export interface Translation {
  config: Obj;
  resources: TfResource[];
  commands: Command[];
  outputs: Array<{ name: string; value: unknown; sensitive: boolean }>;
  /** where each entry of the translated project comes from: `namespaces[0].queues[1]` → the queue's block */
  places: Array<{ path: string; address: string; at: string }>;
}

function only(r: TfResource, allowed: string[]): void {
  for (const k of Object.keys(r.args))
    if (!allowed.includes(k)) throw new TerraformError(`${r.at}: ${r.type}: "${k}" is not supported here`);
}

/** `…/namespaces/<ns>/topics/<t>[/subscriptions/<s>]` → its names. */
function entityOf(id: unknown): { ns: string; topic: string; sub?: string } | undefined {
  const m = /\/namespaces\/([^/]+)\/topics\/([^/]+)(?:\/subscriptions\/([^/]+))?$/i.exec(String(id));
  return m ? { ns: m[1], topic: m[2], sub: m[3] } : undefined;
}

/** `<ns>.servicebus.windows.net` of a declared namespace → `${servicebus.<ns>.fqdn}`: this server's address. */
function localHosts(text: string, namespaces: Obj[]): string {
  for (const { name } of namespaces)
    text = text.replace(
      new RegExp(`\\b${String(name).replace(/[.-]/g, "\\$&")}\\.servicebus\\.windows\\.net(:443)?\\b`, "gi"),
      `\${servicebus.${name}.fqdn}`,
    );
  return text;
}

/** A terraform_data's local-exec bodies without `when` (creation-time ones; destroy-time ones are refused). */
function localExecs(b: Block): Obj[] {
  const out: Obj[] = [];
  for (const p of [b.body.provisioner ?? []].flat() as Obj[])
    for (const [kind, [body]] of Object.entries(p) as Array<[string, Obj[]]>) {
      if (kind !== "local-exec")
        throw new TerraformError(`${b.at}: provisioner "${kind}" is not supported here (local-exec is)`);
      const { when, ...rest } = body;
      const phase = String(when ?? "create").replace(/^\$\{(.*)\}$/, "$1");
      if (phase !== "create")
        throw new TerraformError(
          `${b.at}: ${b.address}: provisioner "local-exec" with when = ${phase} is not supported here (creation-time provisioners are)`,
        );
      out.push(rest);
    }
  return out;
}

export function checkTypes(mod: Module): void {
  for (const b of mod.resources) {
    if (!EMULATED[b.type])
      throw new TerraformError(
        `${b.at}: resource type "${b.type}" is not emulated (emulated: ${Object.keys(EMULATED).join(", ")})`,
      );
    for (const k of ["count", "for_each"])
      if (k in b.body) throw new TerraformError(`${b.at}: ${b.address}: "${k}" is not supported here`);
  }
  for (const d of mod.data)
    if (d.type !== "azurerm_client_config")
      throw new TerraformError(`${d.at}: data source "${d.type}" is not emulated (only azurerm_client_config is)`);
}

/** `client`: what `data.azurerm_client_config` reads (the developer principal of `eventjobs login`). */
export function translate(mod: Module, vars: Map<string, unknown>, client: ClientConfig): Translation {
  checkTypes(mod);
  const blocks = new Map(mod.resources.map((b) => [b.address, b] as const));
  const attrs = new Map<string, Obj>();
  const localValues = new Map<string, unknown>();
  const busy = new Set<string>();

  const resolver = (at: string, self?: Obj) => (parts: Array<string | number>, expr: string) => {
    const [root, a, b, ...rest] = parts as string[];
    if (root === "var") {
      if (!vars.has(a)) throw new TerraformError(`${at}: \${${expr}}: no variable "${a}" is declared`);
      return step(
        vars.get(a),
        [b, ...rest].filter((x) => x !== undefined),
        expr,
        at,
      );
    }
    if (root === "local")
      return step(
        local(a, at),
        [b, ...rest].filter((x) => x !== undefined),
        expr,
        at,
      );
    if (root === "path" && ["module", "root", "cwd"].includes(a)) return a === "cwd" ? process.cwd() : mod.dir;
    if (root === "self" && self) return step(self, parts.slice(1), expr, at);
    if (root === "data") {
      const d = mod.data.find((x) => x.type === a && x.name === b);
      if (!d) throw new TerraformError(`${at}: \${${expr}}: no data "${a}" "${b}" is declared`);
      return step(client, rest, expr, at);
    }
    const address = `${root}.${a}`;
    if (!blocks.has(address)) throw new TerraformError(`${at}: \${${expr}}: no resource "${root}" "${a}" is declared`);
    return step(attributes(blocks.get(address)!), parts.slice(2), expr, at);
  };

  function local(name: string, at: string): unknown {
    const l = mod.locals.get(name);
    if (!l) throw new TerraformError(`${at}: no local value "${name}" is declared`);
    if (!localValues.has(name)) {
      if (busy.has(`local.${name}`)) throw new TerraformError(`${l.at}: local.${name} refers to itself`);
      busy.add(`local.${name}`);
      localValues.set(name, evaluate(l.value, resolver(l.at), l.at));
    }
    return localValues.get(name);
  }

  function args(b: Block): Obj {
    const body = Object.fromEntries(Object.entries(b.body).filter(([k]) => !META.includes(k)));
    return evaluate(body, resolver(b.at), b.at) as Obj;
  }

  function attributes(b: Block): Obj {
    if (!attrs.has(b.address)) {
      if (busy.has(b.address)) throw new TerraformError(`${b.at}: ${b.address} refers to itself (a cycle)`);
      busy.add(b.address);
      const a = args(b);
      attrs.set(b.address, { ...a, ...computed(b.type, a, client) });
    }
    return attrs.get(b.address)!;
  }

  const config: Obj = { namespaces: [], identities: [], roleAssignments: [], images: [], jobs: [] };
  const resources: TfResource[] = [];
  const commands: Command[] = [];
  const places: Translation["places"] = [];
  const place = (path: string, b: Block) => places.push({ path, address: b.address, at: b.at });
  const rank = (type: string) => Object.keys(EMULATED).indexOf(type);
  const ordered = [...mod.resources].sort((x, y) => rank(x.type) - rank(y.type) || x.at.localeCompare(y.at));
  for (const b of ordered) {
    for (const dep of references(b.body.depends_on ?? []))
      if (!blocks.has(dep) && !dep.startsWith("data."))
        throw new TerraformError(`${b.at}: depends_on: no resource "${dep}" is declared`);
    const a = attributes(b);
    const r: TfResource = { address: b.address, type: b.type, at: b.at, args: args(b), owns: [] };
    resources.push(r);
    if (b.type === "azurerm_user_assigned_identity") {
      place(`identities[${config.identities.length}]`, b);
      config.identities.push({ name: a.name });
      r.owns.push(`identity:${a.name}`);
    } else if (b.type === "azurerm_servicebus_namespace") {
      place(`namespaces[${config.namespaces.length}]`, b);
      config.namespaces.push({ name: a.name, queues: [] });
      r.owns.push(`namespace:${a.name}`);
    } else if (b.type === "azurerm_servicebus_queue") {
      for (const k of Object.keys(r.args))
        if (!QUEUE_ARGS[k] && !QUEUE_IGNORED.includes(k))
          throw new TerraformError(`${b.at}: azurerm_servicebus_queue: "${k}" is not supported here`);
      const nsName = nameIn(a.namespace_id, "namespaces");
      const ns = (config.namespaces as Obj[]).find((n) => n.name === nsName);
      if (!ns) throw new TerraformError(`${b.at}: namespace_id must be an azurerm_servicebus_namespace's id`);
      const properties = Object.fromEntries(
        Object.entries(QUEUE_ARGS)
          .filter(([k]) => a[k] !== undefined)
          .map(([k, v]) => [v, a[k]]),
      );
      place(`namespaces[${config.namespaces.indexOf(ns)}].queues[${ns.queues.length}]`, b);
      ns.queues.push({ name: a.name, ...(Object.keys(properties).length ? { properties } : {}) });
      r.owns.push(`queue:${nsName}/${a.name}`);
    } else if (b.type === "azurerm_servicebus_topic") {
      only(r, [...Object.keys(TOPIC_ARGS), ...TOPIC_IGNORED]);
      const nsName = nameIn(a.namespace_id, "namespaces");
      const ns = (config.namespaces as Obj[]).find((n) => n.name === nsName);
      if (!ns) throw new TerraformError(`${b.at}: namespace_id must be an azurerm_servicebus_namespace's id`);
      const properties = renamed(a, TOPIC_ARGS);
      ns.topics ??= [];
      place(`namespaces[${config.namespaces.indexOf(ns)}].topics[${ns.topics.length}]`, b);
      ns.topics.push({ name: a.name, ...(Object.keys(properties).length ? { properties } : {}), subscriptions: [] });
      r.owns.push(`topic:${nsName}/${a.name}`);
    } else if (b.type === "azurerm_servicebus_subscription") {
      only(r, [...Object.keys(SUBSCRIPTION_ARGS), ...SUBSCRIPTION_IGNORED]);
      if (a.max_delivery_count === undefined)
        throw new TerraformError(`${b.at}: azurerm_servicebus_subscription: max_delivery_count is required`);
      const e = entityOf(a.topic_id);
      const ns = (config.namespaces as Obj[]).find((n) => n.name === e?.ns);
      const ti = (ns?.topics ?? []).findIndex((t: Obj) => t.name === e?.topic);
      if (!e || e.sub || ti < 0) throw new TerraformError(`${b.at}: topic_id must be an azurerm_servicebus_topic's id`);
      const topic = ns!.topics[ti];
      const properties = renamed(a, SUBSCRIPTION_ARGS);
      place(
        `namespaces[${config.namespaces.indexOf(ns)}].topics[${ti}].subscriptions[${topic.subscriptions.length}]`,
        b,
      );
      topic.subscriptions.push({ name: a.name, properties });
      r.owns.push(`subscription:${e.ns}/${e.topic}/${a.name}`);
    } else if (b.type === "azurerm_servicebus_subscription_rule") {
      only(r, RULE_ARGS);
      const e = entityOf(a.subscription_id);
      const ns = (config.namespaces as Obj[]).find((n) => n.name === e?.ns);
      const ti = (ns?.topics ?? []).findIndex((t: Obj) => t.name === e?.topic);
      const si = ti < 0 ? -1 : (ns!.topics[ti].subscriptions as Obj[]).findIndex((s) => s.name === e?.sub);
      if (!e?.sub || si < 0)
        throw new TerraformError(`${b.at}: subscription_id must be an azurerm_servicebus_subscription's id`);
      const sub = ns!.topics[ti].subscriptions[si];
      const rule: Obj = { name: a.name, filterType: a.filter_type };
      if (a.sql_filter !== undefined) rule.sqlFilter = { sqlExpression: a.sql_filter };
      if (a.correlation_filter !== undefined) {
        const c = (Array.isArray(a.correlation_filter) ? a.correlation_filter[0] : a.correlation_filter) as Obj;
        for (const k of Object.keys(c ?? {}))
          if (!CORRELATION_ARGS[k])
            throw new TerraformError(`${b.at}: ${b.type}: "correlation_filter.${k}" is not supported here`);
        rule.correlationFilter = renamed(c ?? {}, CORRELATION_ARGS);
      }
      if (a.action !== undefined && a.action !== null && a.action !== "") rule.action = { sqlExpression: a.action };
      sub.rules ??= [];
      place(
        `namespaces[${config.namespaces.indexOf(ns)}].topics[${ti}].subscriptions[${si}].rules[${sub.rules.length}]`,
        b,
      );
      sub.rules.push(rule);
      r.owns.push(`rule:${e.ns}/${e.topic}/${e.sub}/${a.name}`);
    } else if (b.type === "azurerm_role_assignment") {
      if (!a.role_definition_name)
        throw new TerraformError(`${b.at}: azurerm_role_assignment: role_definition_name is required here`);
      const principal = String(a.principal_id);
      // the developer principal is assigned by its name, as `role assignment create` names it (docs/terraform.md)
      const assignee =
        principal === client.object_id
          ? DEVELOPER_UPN
          : (/^\$\{identity\.([^.}]+)\.(principalId|clientId)\}$/.exec(principal)?.[1] ?? principal);
      const scope = String(a.scope);
      const parsed = parseScope(scope);
      if (!parsed) {
        // AcrPull on a registry: local images need no pull rights
        r.note = "recorded: its scope is not a Service Bus namespace, queue or topic (nothing here checks it)";
        continue;
      }
      place(`roleAssignments[${config.roleAssignments.length}]`, b);
      config.roleAssignments.push({ role: a.role_definition_name, assignee, scope });
      r.owns.push(
        `roleAssignment:${roleAssignmentId(a.role_definition_name, assignee, parsed.namespace, parsed.entity)}`,
      );
    } else if (b.type === "azurerm_container_app_job") {
      const job = jobFromTerraform(r.args, b.at);
      place(`jobs[${config.jobs.length}]`, b);
      config.jobs.push(job);
      r.owns.push(`job:${job.name}`);
    } else if (b.type === "terraform_data" || b.type === "null_resource") {
      const provisioners = localExecs(b);
      for (const body of provisioners) {
        const e = evaluate(body, resolver(b.at, a), b.at) as Obj;
        const workingDir = resolvePath(mod.dir, String(e.working_dir ?? "."));
        const image = parseAzCommand(String(e.command), workingDir);
        if (image) {
          place(`images[${config.images.length}]`, b);
          config.images.push(image);
          r.owns.push(`image:${image.registry.toLowerCase()}.azurecr.io/${image.image}`);
        } else
          commands.push({
            address: b.address,
            command: String(e.command),
            workingDir,
            environment: (e.environment ?? {}) as Record<string, string>,
          });
      }
      r.args = {
        ...r.args,
        provisioners: provisioners.map((body) => ({ "local-exec": [evaluate(body, resolver(b.at, a), b.at)] })),
      };
    } else r.note = EMULATED[b.type];
  }
  const namespaces = config.namespaces as Obj[];
  config.jobs = (config.jobs as Obj[]).map((j) => JSON.parse(localHosts(JSON.stringify(j), namespaces)) as Obj);
  // a command's `az containerapp job create --env-vars X=<ns>.servicebus.windows.net` reaches this server too
  for (const c of commands) c.command = localHosts(c.command, namespaces);
  const outputs = mod.outputs.map((o) => ({
    name: o.name,
    value: evaluate(o.body.value, resolver(o.at), o.at),
    sensitive: o.body.sensitive === true,
  }));
  for (const k of Object.keys(config)) if (!config[k].length) delete config[k];
  return { config, resources, commands, outputs, places };
}

/** A refusal of the translated project, with the Terraform block (`main.tf:48: azurerm_servicebus_queue.queue:`)
 *  in place of the translated file's line. */
export function located(message: string, t: Translation, file: string): string {
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return message.replace(new RegExp(`${esc}:\\d+:\\d+: ([\\w.\\[\\]-]+)`, "g"), (whole, path: string) => {
    const p = t.places
      .filter((x) => path === x.path || path.startsWith(`${x.path}.`))
      .sort((a, b) => b.path.length - a.path.length)[0];
    return p ? `${p.at}: ${p.address}: ${path.slice(p.path.length + 1) || path}` : whole;
  });
}
