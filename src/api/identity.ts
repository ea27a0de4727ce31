// The control API for managed identities and role assignments, in the shapes az prints for
// `az identity create|show|list` and `az role assignment create|list`. Identities and assignments made
// here are kept in <data-dir>/identity/cli-resources.json and come back after a restart.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import { GUID, identityNameOf, parseScope, ROLES, type RoleAssignmentDecl, type RoleName } from "../identity/config.js";
import { LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION, type Developer, type Identity } from "../identity/registry.js";
import type { IdentityService } from "../identity/service.js";
import { AZURE_CLI_APP_ID } from "../identity/tokens.js";
import type { Jobs } from "../triggering/jobs-service.js";
import type { Broker } from "../servicebus/broker.js";
import { LOCAL_LOCATION, namespaceId } from "./arm.js";
import { ApiError, jsonBody, type ApiRoute } from "./control.js";

export interface IdentityApiOptions {
  identity: IdentityService;
  broker: Broker;
  jobs: () => Jobs;
  /** where cli-resources.json lives; absent: nothing is kept */
  dir?: string;
}

/** Azure's built-in role definition ids. */
const ROLE_IDS: Record<RoleName, string> = {
  "Azure Service Bus Data Owner": "090c5cfd-751d-490a-894a-3ce6f1109419",
  "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
  "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
};
const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;

interface Kept {
  identities: Array<{
    name: string;
    clientId?: string;
    principalId?: string;
    resourceGroup?: string;
    tags?: Record<string, string>;
  }>;
  roleAssignments: Array<{ role: RoleName; assignee: string; scope: string }>;
}

const guidOf = (text: string) => {
  const h = createHash("sha1").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const armScope = (ns: string, entity: string, resourceGroup?: string) => {
  const base = namespaceId(ns, resourceGroup);
  if (!entity) return base;
  const [first, sub, subName] = entity.split("/");
  return sub ? `${base}/topics/${first}/subscriptions/${subName}` : `${base}/queues/${first}`;
};

/** The resource group in an identity's resource id (the -g it was created with). */
export const identityGroup = (i: Identity): string =>
  /\/resourcegroups\/([^/]+)/i.exec(i.resourceId)?.[1] ?? LOCAL_RESOURCE_GROUP;

export function identityResource(i: Identity, tenantId: string, tags: Record<string, string> = {}) {
  return {
    id: i.resourceId,
    name: i.name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities",
    location: LOCAL_LOCATION,
    resourceGroup: identityGroup(i),
    tags,
    clientId: i.clientId,
    principalId: i.principalId,
    tenantId,
  };
}

/** The developer principal, with the names `az ad signed-in-user show` and `az account show` use. */
export function developerResource(d: Developer, tenantId: string) {
  return {
    id: d.objectId,
    objectId: d.objectId,
    userPrincipalName: d.userPrincipalName,
    displayName: d.displayName,
    type: "user",
    tenantId,
    subscriptionId: LOCAL_SUBSCRIPTION,
    /** the app the developer's tokens are issued to (the Azure CLI's), as Terraform's client config reports it */
    clientId: AZURE_CLI_APP_ID,
  };
}

export function registerIdentityApi(route: ApiRoute, o: IdentityApiOptions): void {
  const { registry } = o.identity;
  const file = o.dir && join(o.dir, "cli-resources.json");
  const kept: Kept =
    file && existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { identities: [], roleAssignments: [] };
  const save = () => {
    if (!file) return;
    writeFileAtomic(file, JSON.stringify(kept, null, 2) + "\n", { dirMode: 0o700 });
  };
  const tagsOf = (name: string) => kept.identities.find((i) => i.name.toLowerCase() === name.toLowerCase())?.tags ?? {};
  const userOf = (name: string) => {
    const i = registry.user(name);
    if (!i)
      throw new ApiError(
        404,
        "ResourceNotFound",
        `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${name}' under resource group '${LOCAL_RESOURCE_GROUP}' was not found.`,
      );
    return i;
  };
  /** An assignee: identity name, client id, principal id, or a job with a system-assigned identity. */
  const principal = (assignee: string): Identity => {
    const found = registry.find(assignee);
    if (found) return found;
    const job = o.jobs().engine.job(assignee);
    if (job?.identity?.type.includes("SystemAssigned")) return registry.system(job.name);
    const known =
      registry
        .userIdentities()
        .map((i) => i.name)
        .join(", ") || "none";
    throw new ApiError(
      400,
      "PrincipalNotFound",
      `Cannot find user or service principal in graph database for '${assignee}'. (identities: ${known}; a job name works for a job with a system-assigned identity; developer@eventjobs.local once eventjobs login ran)`,
    );
  };
  const scopeOf = (text: string) => {
    const s = parseScope(text);
    const ns = s && o.broker.namespace(s.namespace);
    if (!s)
      throw new ApiError(
        400,
        "InvalidScope",
        `--scope "${text}": expected <namespace>[/queues/<queue>|/topics/<topic>[/subscriptions/<subscription>]] or /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ServiceBus/namespaces/<namespace>[/queues/<queue>]`,
      );
    if (!ns)
      throw new ApiError(
        400,
        "InvalidScope",
        `--scope "${text}": no namespace '${s.namespace}' on this server (namespaces: ${[...o.broker.namespaces.values()].map((n) => n.name).join(", ")})`,
      );
    return { namespace: ns.name, entity: s.entity };
  };
  const roleOf = (text: unknown): RoleName => {
    const role = (Object.keys(ROLES) as RoleName[]).find(
      (r) =>
        typeof text === "string" &&
        (r.toLowerCase() === text.trim().toLowerCase() || ROLE_IDS[r] === text.trim().toLowerCase()),
    );
    if (!role)
      throw new ApiError(
        400,
        "RoleDefinitionNotFound",
        `Role '${String(text)}' doesn't exist. Service Bus data roles: ${Object.keys(ROLES)
          .map((r) => `"${r}"`)
          .join(", ")}`,
      );
    return role;
  };
  const assignmentResource = (a: RoleAssignmentDecl) => {
    const who = registry.find(a.assignee) ?? (registry.hasSystem(a.assignee) ? registry.system(a.assignee) : undefined);
    const scope = armScope(
      a.scope.namespace,
      a.scope.entity,
      o.broker.namespaceRecord(a.scope.namespace)?.resourceGroup,
    );
    const name = guidOf(`${a.role}|${who?.principalId ?? a.assignee}|${scope.toLowerCase()}`);
    return {
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      type: "Microsoft.Authorization/roleAssignments",
      principalId: who?.principalId ?? null,
      principalType: who?.kind === "developer" ? "User" : "ServicePrincipal",
      roleDefinitionId: `/subscriptions/${LOCAL_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS[a.role]}`,
      roleDefinitionName: a.role,
      scope,
      assignee: a.assignee,
      condition: null,
      description: null,
    };
  };
  const matching = (q: URLSearchParams) => {
    const assignee = q.get("assignee");
    const who = assignee ? principal(assignee) : undefined;
    const role = q.get("role") ? roleOf(q.get("role")) : undefined;
    const scope = q.get("scope") ? scopeOf(q.get("scope")!) : undefined;
    return (a: RoleAssignmentDecl) =>
      (!who ||
        registry.find(a.assignee)?.principalId === who.principalId ||
        (registry.hasSystem(a.assignee) && registry.system(a.assignee).principalId === who.principalId)) &&
      (!role || a.role === role) &&
      (!scope ||
        (a.scope.namespace.toLowerCase() === scope.namespace.toLowerCase() && a.scope.entity === scope.entity));
  };
  const add = (role: RoleName, assignee: string, scopeText: string) => {
    const scope = scopeOf(scopeText);
    const decl: RoleAssignmentDecl = { role, assignee, scope, scopeText, path: "role assignment create" };
    registry.addAssignment(decl);
    return decl;
  };

  // what was made here before the restart
  for (const i of kept.identities) {
    if (!registry.user(i.name)) registry.upsertUser(i);
  }
  for (const a of kept.roleAssignments) {
    try {
      if (
        !registry
          .roleAssignments()
          .some((x) => x.role === a.role && x.assignee === a.assignee && x.scopeText === a.scope)
      )
        add(a.role, a.assignee, a.scope);
    } catch {
      // its namespace is gone: the assignment is dropped, as Azure drops assignments with their scope
    }
  }

  route("GET", "/identities", () => ({
    value: registry.userIdentities().map((i) => identityResource(i, registry.tenantId, tagsOf(i.name))),
  }));
  route("GET", "/identities/:name", (req) =>
    identityResource(userOf(req.params.name), registry.tenantId, tagsOf(req.params.name)),
  );
  route("PUT", "/identities/:name", async (req) => {
    const name = req.params.name;
    if (!IDENTITY_NAME.test(name))
      throw new ApiError(
        400,
        "InvalidResourceName",
        `Resource name '${name}' is invalid. The name can contain only letters, numbers, underscores and hyphens. The name must start with a letter or number, and be 3-128 characters.`,
      );
    const b = await jsonBody(req, true);
    for (const k of ["clientId", "principalId"] as const) {
      if (b[k] !== undefined && (typeof b[k] !== "string" || !GUID.test(b[k] as string)))
        throw new ApiError(400, "InvalidParameter", `${k}: ${JSON.stringify(b[k])} — expected a GUID`);
      const other = b[k] && registry.find(b[k] as string);
      if (other && other.name.toLowerCase() !== name.toLowerCase())
        throw new ApiError(409, "Conflict", `${k} ${b[k]} belongs to ${other.name}`);
    }
    const before = registry.user(name);
    const resourceGroup = typeof b.resourceGroup === "string" && b.resourceGroup ? b.resourceGroup : undefined;
    // one in no group of its own (declared in eventjobs.yaml) takes the -g; one made in another group is a conflict
    const group = before ? identityGroup(before) : LOCAL_RESOURCE_GROUP;
    if (
      before &&
      resourceGroup &&
      group !== LOCAL_RESOURCE_GROUP &&
      group.toLowerCase() !== resourceGroup.toLowerCase()
    )
      throw new ApiError(
        409,
        "Conflict",
        `An identity named '${before.name}' exists in resource group '${group}': identity names are unique on this server.`,
      );
    const created = !before;
    const decl = {
      name,
      ...(b.clientId ? { clientId: String(b.clientId).toLowerCase() } : {}),
      ...(b.principalId ? { principalId: String(b.principalId).toLowerCase() } : {}),
      ...(resourceGroup ? { resourceGroup } : {}),
    };
    const identity = registry.upsertUser(decl);
    const tags = (b.tags && typeof b.tags === "object" ? b.tags : {}) as Record<string, string>;
    kept.identities = [
      ...kept.identities.filter((i) => i.name.toLowerCase() !== name.toLowerCase()),
      {
        ...decl,
        clientId: identity.clientId,
        principalId: identity.principalId,
        resourceGroup: identityGroup(identity),
        tags,
      },
    ];
    save();
    return { ...identityResource(identity, registry.tenantId, tags), created };
  });
  route("DELETE", "/identities/:name", (req) => {
    const i = userOf(req.params.name);
    registry.removeUser(i.name);
    kept.identities = kept.identities.filter((x) => x.name.toLowerCase() !== i.name.toLowerCase());
    save();
    return undefined;
  });

  // `az containerapp job identity show`: the job's identities with their ids
  route("GET", "/jobs/:name/identity", (req) => {
    const job = o.jobs().engine.job(req.params.name);
    if (!job)
      throw new ApiError(
        404,
        "ResourceNotFound",
        `The Resource 'Microsoft.App/jobs/${req.params.name}' was not found.`,
      );
    const type = job.identity?.type ?? "None";
    if (type === "None") return { type };
    const system = type.includes("SystemAssigned") ? registry.system(job.name) : undefined;
    const users = Object.keys(job.identity?.userAssignedIdentities ?? {}).map((key) => {
      const i = registry.user(identityNameOf(key));
      return [i?.resourceId ?? key, i ? { clientId: i.clientId, principalId: i.principalId } : {}] as const;
    });
    return {
      ...(system ? { principalId: system.principalId, tenantId: registry.tenantId } : {}),
      type,
      ...(users.length ? { userAssignedIdentities: Object.fromEntries(users) } : {}),
    };
  });

  // the developer principal (`eventjobs login`, the `az` of `eventjobs shellenv`, Terraform's client config)
  const me = () => {
    const d = registry.developer();
    if (!d)
      throw new ApiError(
        404,
        "NotLoggedIn",
        "no developer principal yet: run `eventjobs login` (az: Please run 'az login' to setup account.)",
      );
    return developerResource(d, registry.tenantId);
  };
  route("GET", "/identity/me", me);
  route("POST", "/identity/me", () => {
    registry.login();
    return me();
  });

  route("GET", "/roleAssignments", (req) => ({
    value: registry.roleAssignments().filter(matching(req.query)).map(assignmentResource),
  }));
  route("POST", "/roleAssignments", async (req) => {
    const b = await jsonBody(req);
    if (typeof b.assignee !== "string" || !b.assignee.trim())
      throw new ApiError(400, "InvalidParameter", "assignee: expected an identity name, client id or principal id");
    if (typeof b.scope !== "string")
      throw new ApiError(400, "InvalidParameter", "scope: expected a namespace or entity scope");
    const role = roleOf(b.role);
    const who = principal(b.assignee.trim());
    const actualType = who.kind === "developer" ? "User" : "ServicePrincipal";
    if (b.principalType !== undefined && b.principalType !== actualType)
      throw new ApiError(
        400,
        "UnmatchedPrincipalType",
        `The PrincipalId '${who.principalId}' has type '${actualType}', which is different from specified PrincipalType '${String(b.principalType)}'.`,
      );
    const scope = scopeOf(b.scope);
    const exists = registry
      .roleAssignments()
      .some(
        (a) =>
          a.role === role &&
          matching(new URLSearchParams({ assignee: who.principalId }))(a) &&
          a.scope.namespace.toLowerCase() === scope.namespace.toLowerCase() &&
          a.scope.entity === scope.entity,
      );
    if (exists) throw new ApiError(409, "RoleAssignmentExists", "The role assignment already exists.");
    const decl = add(role, b.assignee.trim(), b.scope);
    kept.roleAssignments.push({ role, assignee: decl.assignee, scope: b.scope });
    save();
    return assignmentResource(decl);
  });
  route("DELETE", "/roleAssignments", (req) => {
    if (!["assignee", "role", "scope"].some((k) => req.query.get(k)))
      throw new ApiError(
        400,
        "InvalidParameter",
        "give at least one of assignee, role, scope (deleting every assignment needs them named)",
      );
    const gone = registry.removeAssignments(matching(req.query));
    const left = new Set(registry.roleAssignments().map((a) => `${a.role}|${a.assignee}|${a.scopeText}`));
    kept.roleAssignments = kept.roleAssignments.filter((a) => left.has(`${a.role}|${a.assignee}|${a.scope}`));
    save();
    return { value: gone.map(assignmentResource) };
  });
}
