// The identity part of eventjobs.yaml: user-assigned identities, Service Bus data-plane role assignments,
// and the jobs' `identity` blocks (system-assigned / user-assigned, the Container Apps shape). Parsed from
// the reserved keys the project loader passes through in `config.extra`; every problem names its path.
import { ConfigError, type AccessRight, type ConfigIssue } from "../model/config.js";

export interface IdentityDecl {
  name: string;
  clientId?: string;
  principalId?: string;
}

export const ROLES = {
  "Azure Service Bus Data Owner": ["Manage", "Send", "Listen"],
  "Azure Service Bus Data Sender": ["Send"],
  "Azure Service Bus Data Receiver": ["Listen"],
} as const satisfies Record<string, readonly AccessRight[]>;
export type RoleName = keyof typeof ROLES;
const ROLE_NAMES = Object.keys(ROLES) as RoleName[];

/** A role assignment's scope: a namespace, or one entity in it. */
export interface Scope {
  namespace: string;
  /** "" for the whole namespace, else the entity path in lowercase: `q`, `t`, `t/subscriptions/s` */
  entity: string;
}

export interface RoleAssignmentDecl {
  role: RoleName;
  /** identity name, client id or principal id (resolved against the identities when the platform starts) */
  assignee: string;
  scope: Scope;
  /** the scope as written, for messages */
  scopeText: string;
  /** where it was declared, e.g. `roleAssignments[2]` */
  path: string;
}

/** A job's `identity` block, normalised. */
export interface JobIdentityDecl {
  job: string;
  systemAssigned: boolean;
  /** user-assigned identity names (the last segment of an ARM id) */
  userAssigned: string[];
  path: string;
}

export interface IdentityConfig {
  identities: IdentityDecl[];
  roleAssignments: RoleAssignmentDecl[];
  jobs: JobIdentityDecl[];
}

/** Azure's rule for a user-assigned identity name. */
const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UAMI_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/([^/]+)\/?$/i;
const JOB_IDENTITY_TYPES = ["None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"];
/** The keys of an `identities` item and of a `roleAssignments` item (the schema lists the same). */
export const IDENTITY_KEYS = ["name", "clientId", "principalId"] as const;
export const ROLE_ASSIGNMENT_KEYS = ["role", "assignee", "scope"] as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? "(missing)" : (JSON.stringify(v) ?? String(v)));

/**
 * Parses `identities`, `roleAssignments` and the jobs' `identity` blocks from `extra` (eventjobs.yaml's
 * reserved keys). `namespaces` are the names the config defines (a scope must name one). Throws ConfigError
 * listing every problem.
 */
export function parseIdentityConfig(
  extra: Record<string, unknown> | undefined,
  namespaces: string[],
  file?: string,
): IdentityConfig {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, value: unknown, expected: string) =>
    issues.push({ file, path, value: show(value), expected });
  const out: IdentityConfig = { identities: [], roleAssignments: [], jobs: [] };

  const list = (key: string): unknown[] => {
    const v = extra?.[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return (bad(key, v, "a list"), []);
    return v;
  };

  const names = new Map<string, string>();
  const ids = new Map<string, string>();
  list("identities").forEach((raw, i) => {
    const p = `identities[${i}]`;
    if (!isObj(raw)) return bad(p, raw, "an object with name and optionally clientId, principalId");
    for (const k of Object.keys(raw))
      if (!(IDENTITY_KEYS as readonly string[]).includes(k))
        bad(`${p}.${k}`, raw[k], `no such field (known: ${IDENTITY_KEYS.join(", ")})`);
    const name = raw.name;
    if (typeof name !== "string" || !IDENTITY_NAME.test(name))
      return bad(`${p}.name`, name, "3-128 letters, digits, hyphens or underscores, starting with a letter or digit");
    if (names.has(name.toLowerCase()))
      return bad(`${p}.name`, name, `a name not used before (${names.get(name.toLowerCase())} has it)`);
    names.set(name.toLowerCase(), p);
    const decl: IdentityDecl = { name };
    for (const key of ["clientId", "principalId"] as const) {
      const v = raw[key];
      if (v === undefined) continue;
      if (typeof v !== "string" || !GUID.test(v))
        bad(`${p}.${key}`, v, "a GUID like 1b4f6c2e-0d3a-4c5b-9e8f-7a6b5c4d3e2f");
      else if (ids.has(v.toLowerCase()))
        bad(`${p}.${key}`, v, `an id not used before (${ids.get(v.toLowerCase())} has it)`);
      else {
        ids.set(v.toLowerCase(), `${p}.${key}`);
        decl[key] = v.toLowerCase();
      }
    }
    out.identities.push(decl);
  });

  list("roleAssignments").forEach((raw, i) => {
    const p = `roleAssignments[${i}]`;
    if (!isObj(raw)) return bad(p, raw, "an object with role, assignee and scope");
    for (const k of Object.keys(raw))
      if (!(ROLE_ASSIGNMENT_KEYS as readonly string[]).includes(k))
        bad(`${p}.${k}`, raw[k], `no such field (known: ${ROLE_ASSIGNMENT_KEYS.join(", ")})`);
    const role = ROLE_NAMES.find(
      (r) => typeof raw.role === "string" && r.toLowerCase() === raw.role.trim().toLowerCase(),
    );
    if (!role)
      bad(`${p}.role`, raw.role, `one of the Service Bus data roles: ${ROLE_NAMES.map((r) => `"${r}"`).join(", ")}`);
    const assignee = typeof raw.assignee === "string" && raw.assignee.trim() ? raw.assignee.trim() : undefined;
    if (!assignee) bad(`${p}.assignee`, raw.assignee, "an identity name, client id or principal id");
    const scope = typeof raw.scope === "string" ? parseScope(raw.scope) : undefined;
    if (!scope) bad(`${p}.scope`, raw.scope, SCOPE_FORMS);
    else if (!namespaces.some((n) => n.toLowerCase() === scope.namespace.toLowerCase())) {
      bad(`${p}.scope`, raw.scope, `a scope in a namespace this config defines (${namespaces.join(", ")})`);
    } else scope.namespace = namespaces.find((n) => n.toLowerCase() === scope.namespace.toLowerCase())!;
    if (role && assignee && scope)
      out.roleAssignments.push({ role, assignee, scope, scopeText: String(raw.scope), path: p });
  });

  list("jobs").forEach((raw, i) => {
    if (!isObj(raw) || raw.identity === undefined) return; // the jobs layer reports malformed jobs
    const p = `jobs[${i}].identity`;
    const job = typeof raw.name === "string" ? raw.name : `(job ${i})`;
    const decl = parseJobIdentity(raw.identity, job, p, bad);
    if (decl) out.jobs.push(decl);
  });

  // user-assigned identities a job names must exist
  for (const j of out.jobs) {
    for (const name of j.userAssigned) {
      if (!names.has(name.toLowerCase())) {
        bad(
          `${j.path}.userAssignedIdentities`,
          name,
          `an identity declared under identities (${out.identities.map((x) => x.name).join(", ") || "none declared"})`,
        );
      }
    }
  }
  if (issues.length) throw new ConfigError(issues);
  return out;
}

/** A job entry's `identity` (also for jobs applied at run time); `bad` collects problems, undefined = none. */
export function parseJobIdentity(
  raw: unknown,
  job: string,
  path: string,
  bad: (path: string, value: unknown, expected: string) => void,
): JobIdentityDecl | undefined {
  if (!isObj(raw)) return void bad(path, raw, `an object with type (${JOB_IDENTITY_TYPES.join(", ")})`);
  const type =
    typeof raw.type === "string"
      ? JOB_IDENTITY_TYPES.find((t) => t.toLowerCase() === (raw.type as string).replace(/\s/g, "").toLowerCase())
      : undefined;
  if (!type) return void bad(`${path}.type`, raw.type, JOB_IDENTITY_TYPES.join(", "));
  const userAssigned: string[] = [];
  const uai = raw.userAssignedIdentities;
  if (type.includes("UserAssigned")) {
    if (!isObj(uai) || Object.keys(uai).length === 0) {
      bad(
        `${path}.userAssignedIdentities`,
        uai,
        "an object whose keys are identity names or ARM ids, e.g. { identity-aca: {} }",
      );
    } else {
      for (const key of Object.keys(uai)) userAssigned.push(identityNameOf(key));
    }
  } else if (uai !== undefined && !(isObj(uai) && Object.keys(uai).length === 0)) {
    bad(`${path}.userAssignedIdentities`, uai, `nothing unless type includes UserAssigned (type is ${type})`);
  }
  if (type === "None") return undefined;
  return { job, systemAssigned: type.startsWith("SystemAssigned"), userAssigned, path };
}

/**
 * The identity a userAssignedIdentities key names: an ARM id, a `${identity.<name>.resourceId}` reference, or a name.
 */
export function identityNameOf(key: string): string {
  return UAMI_ID.exec(key)?.[1] ?? /^\$\{identity\.([^.}]+)\.[A-Za-z]+\}$/.exec(key)?.[1] ?? key;
}

const SCOPE_FORMS =
  "<namespace>, <namespace>/queues/<queue>, <namespace>/topics/<topic>[/subscriptions/<subscription>], or the ARM id /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ServiceBus/namespaces/<namespace>[/queues/<queue>]";

/** A scope in any of the accepted forms, or undefined when it is none of them. */
export function parseScope(text: string): Scope | undefined {
  let rest = text.trim().replace(/\/+$/, "");
  const arm =
    /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.servicebus\/namespaces\/(.+)$/i.exec(rest);
  if (arm) rest = arm[1];
  else if (rest.startsWith("/")) return undefined;
  const parts = rest.split("/");
  if (parts.some((s) => !s)) return undefined;
  const [namespace, kind, entity, sub, subName, ...more] = parts;
  if (more.length || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(namespace)) return undefined;
  if (kind === undefined) return { namespace, entity: "" };
  const k = kind.toLowerCase();
  if (entity === undefined || (k !== "queues" && k !== "topics")) return undefined;
  if (sub === undefined) return { namespace, entity: entity.toLowerCase() };
  if (k !== "topics" || sub.toLowerCase() !== "subscriptions" || subName === undefined) return undefined;
  return { namespace, entity: `${entity}/subscriptions/${subName}`.toLowerCase() };
}

/** The rights a role grants. */
export function roleRights(role: RoleName): AccessRight[] {
  return [...ROLES[role]];
}

export { GUID };
