// `eventjobs export --from-server`: what the running server holds, read through the control API (/api/v1) as the
// CLI's other commands read it: namespaces with their queues, topics, subscriptions and rules, identities, role
// assignments and jobs, whether a project file, `terraform apply` or az commands made them. It becomes an
// eventjobs.yaml-shaped project, checked by the same loader as a file, for the same exporters. Job secrets come
// masked from the API and become placeholders; this server's addresses and identity ids go back to references,
// so the export names Azure's.
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { parseConfigText } from "../config/load.js";
import { DEVELOPER_UPN } from "../identity/registry.js";
import type { ProjectConfig } from "../model/config.js";
import { formatDuration, TIMESPAN_MAX_MS } from "../model/duration.js";
import { QUEUE_SPECS, SUBSCRIPTION_SPECS, TOPIC_SPECS } from "../model/properties.js";
import type { PropSpec } from "../model/validate.js";
import { ApiClient } from "./client.js";

type Obj = Record<string, any>;
const enc = encodeURIComponent;

/** What ARM prints for a time to live that never ends (TimeSpan.MaxValue): the default, left out as a file does. */
const NEVER = formatDuration(TIMESPAN_MAX_MS);

/** The ARM properties a project file may set (the read-only ones, counts and status, are left out). */
const settable = (props: Obj | undefined, specs: PropSpec[]): Obj | undefined => {
  const out = Object.fromEntries(
    specs.filter((s) => props?.[s.key] !== undefined && props[s.key] !== NEVER).map((s) => [s.key, props![s.key]]),
  );
  return Object.keys(out).length ? out : undefined;
};

/** A rule in eventjobs.yaml's shape; the `$Default` rule (true filter) is what a subscription without rules has. */
function ruleEntry(r: Obj): Obj {
  const p = r.properties as Obj;
  const out: Obj = { name: r.name, filterType: p.filterType };
  if (p.sqlFilter) out.sqlFilter = { sqlExpression: p.sqlFilter.sqlExpression };
  if (p.correlationFilter) out.correlationFilter = p.correlationFilter;
  if (p.action?.sqlExpression) out.action = { sqlExpression: p.action.sqlExpression };
  return out;
}

const isDefaultRule = (r: Obj) => r.name === "$Default" && r.properties?.sqlFilter?.sqlExpression === "1=1";

/** Whole values that are this server's: a namespace's address, an identity's ids → the references they stand for. */
function referencer(values: Map<string, string>) {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return values.get(v) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk;
}

export async function projectFromServer(dataDir: string): Promise<ProjectConfig> {
  const api = new ApiClient(dataDir);
  const refs = new Map<string, string>();
  const namespaces: Obj[] = [];
  for (const ns of (await api.request("GET", "/servicebus/namespaces")).value as Obj[]) {
    const base = `/servicebus/namespaces/${enc(ns.name)}`;
    const keys = await api.request("GET", `${base}/keys?tls=true`);
    const [, host, port] = /sb:\/\/([^:/;]+)(?::(\d+))?/.exec(String(keys.primaryConnectionString)) ?? [];
    if (host) for (const v of [host, `${host}:${port}`]) refs.set(v, `\${servicebus.${ns.name}.fqdn}`);
    const queues = ((await api.request("GET", `${base}/queues`)).value as Obj[]).map((q) => ({
      name: q.name,
      ...(settable(q.properties, QUEUE_SPECS) ? { properties: settable(q.properties, QUEUE_SPECS) } : {}),
    }));
    const topics: Obj[] = [];
    for (const t of (await api.request("GET", `${base}/topics`)).value as Obj[]) {
      const subscriptions: Obj[] = [];
      for (const s of (await api.request("GET", `${base}/topics/${enc(t.name)}/subscriptions`)).value as Obj[]) {
        const path = `${base}/topics/${enc(t.name)}/subscriptions/${enc(s.name)}/rules`;
        const rules = (await api.request("GET", path)).value as Obj[];
        const props = settable(s.properties, SUBSCRIPTION_SPECS);
        subscriptions.push({
          name: s.name,
          ...(props ? { properties: props } : {}),
          // only the $Default rule: the subscription as a file declares it without rules
          ...(rules.length === 1 && isDefaultRule(rules[0]) ? {} : { rules: rules.map(ruleEntry) }),
        });
      }
      const props = settable(t.properties, TOPIC_SPECS);
      topics.push({ name: t.name, ...(props ? { properties: props } : {}), subscriptions });
    }
    namespaces.push({ name: ns.name, queues, ...(topics.length ? { topics } : {}) });
  }
  const byId = new Map<string, string>();
  const identities = ((await api.request("GET", "/identities")).value as Obj[]).map((i) => {
    for (const prop of ["clientId", "principalId"]) {
      refs.set(i[prop], `\${identity.${i.name}.${prop}}`);
      byId.set(String(i[prop]).toLowerCase(), i.name);
    }
    return { name: i.name };
  });
  const roleAssignments = ((await api.request("GET", "/roleAssignments")).value as Obj[]).map((a) => ({
    role: a.roleDefinitionName,
    // the developer of `eventjobs login` is "you" in Azure, whatever id named it here
    assignee: a.principalType === "User" ? DEVELOPER_UPN : (byId.get(String(a.assignee).toLowerCase()) ?? a.assignee),
    scope: a.scope,
  }));
  const toRefs = referencer(refs);
  const jobs: Obj[] = [];
  for (const j of (await api.request("GET", "/jobs")).value as Obj[])
    jobs.push(toRefs(await api.request("GET", `/jobs/${enc(j.name)}/definition`)) as Obj);
  const project = { namespaces, identities, roleAssignments, jobs };
  for (const k of ["identities", "roleAssignments", "jobs"] as const)
    if (!project[k].length) delete (project as Obj)[k];
  // a name for messages and the export's header; nothing is written there
  const file = join(resolve(dataDir), "server-project.yaml");
  const config = parseConfigText(stringify(project), file);
  return { ...config, source: `the server on ${dataDir}` };
}
