// Managed identities known to the platform: the user-assigned ones from eventjobs.yaml and one
// system-assigned identity per job that asks for it. Client and principal ids that the config does not
// give are generated once and kept in <data-dir>/identity/identities.json, so they stay the same across
// restarts (users put client ids into env vars and role assignments).
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../files.js";
import type { AccessRight } from "../model/config.js";
import { covers } from "./sas.js";
import { roleRights, type IdentityDecl, type RoleAssignmentDecl } from "./config.js";

/** The subscription and resource group of local ARM ids (the same as the control API's). */
export const LOCAL_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
export const LOCAL_RESOURCE_GROUP = "eventjobs";

/** The local developer's user principal (`eventjobs login`): the "me" of `az account get-access-token`. */
export interface Developer {
  objectId: string;
  userPrincipalName: string;
  displayName: string;
}

/** The developer's user principal name (the domain is the local tenant's). */
export const DEVELOPER_UPN = "developer@eventjobs.local";

export interface Identity {
  /** user: user-assigned; system: a job's system-assigned identity; developer: the `eventjobs login` user */
  kind: "user" | "system" | "developer";
  /** the identity's name; for a system-assigned identity, its job's name */
  name: string;
  clientId: string;
  principalId: string;
  /** ARM resource id (the token's `xms_mirid`) */
  resourceId: string;
}

interface Ids {
  clientId: string;
  principalId: string;
}

interface State {
  tenantId: string;
  /** by lowercase name; resourceGroup: the -g of `identity create` */
  user: Record<string, Ids & { name: string; resourceGroup?: string }>;
  /** by job name */
  system: Record<string, Ids>;
  /** made by `eventjobs login`, kept across restarts */
  developer?: Developer;
}

export function userIdentityResourceId(name: string, resourceGroup = LOCAL_RESOURCE_GROUP): string {
  return `/subscriptions/${LOCAL_SUBSCRIPTION}/resourcegroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

export function jobResourceId(job: string): string {
  return `/subscriptions/${LOCAL_SUBSCRIPTION}/resourceGroups/${LOCAL_RESOURCE_GROUP}/providers/Microsoft.App/jobs/${job}`;
}

export class IdentityRegistry {
  private readonly state: State;
  private readonly users = new Map<string, Identity>();

  /** `file` absent: ids live in memory only (an in-memory platform without a data dir). */
  constructor(
    decls: IdentityDecl[],
    private readonly assignments: RoleAssignmentDecl[],
    private readonly file?: string,
  ) {
    const loaded = file && existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<State>) : {};
    this.state = {
      tenantId: loaded.tenantId ?? randomUUID(),
      user: loaded.user ?? {},
      system: loaded.system ?? {},
      ...(loaded.developer ? { developer: loaded.developer } : {}),
    };
    for (const d of decls) {
      const kept = this.state.user[d.name.toLowerCase()];
      const ids: Ids = {
        clientId: d.clientId ?? kept?.clientId ?? randomUUID(),
        principalId: d.principalId ?? kept?.principalId ?? randomUUID(),
      };
      const resourceGroup = kept?.resourceGroup;
      this.state.user[d.name.toLowerCase()] = { name: d.name, ...ids, ...(resourceGroup ? { resourceGroup } : {}) };
      this.users.set(d.name.toLowerCase(), {
        kind: "user",
        name: d.name,
        ...ids,
        resourceId: userIdentityResourceId(d.name, resourceGroup),
      });
    }
    this.save();
  }

  get tenantId(): string {
    return this.state.tenantId;
  }

  /** The user-assigned identities, in config order. */
  userIdentities(): Identity[] {
    return [...this.users.values()];
  }

  user(name: string): Identity | undefined {
    return this.users.get(name.toLowerCase());
  }

  /** The system-assigned identity of a job, created (and kept) on first use. */
  system(job: string): Identity {
    let ids = this.state.system[job];
    if (!ids) {
      ids = this.state.system[job] = { clientId: randomUUID(), principalId: randomUUID() };
      this.save();
    }
    return { kind: "system", name: job, ...ids, resourceId: jobResourceId(job) };
  }

  /** Whether a job already has a system-assigned identity. */
  hasSystem(job: string): boolean {
    return job in this.state.system;
  }

  /** The developer principal, once `eventjobs login` made it. */
  developer(): Developer | undefined {
    return this.state.developer;
  }

  /** Makes the developer principal (kept in the state file), or returns the one made before. */
  login(): Developer {
    if (!this.state.developer) {
      this.state.developer = {
        objectId: randomUUID(),
        userPrincipalName: DEVELOPER_UPN,
        displayName: "eventjobs developer",
      };
      this.save();
    }
    return this.state.developer;
  }

  /** The developer as an assignee: its UPN is its name; it has no client id or resource id. */
  private developerIdentity(): Identity | undefined {
    const d = this.state.developer;
    return d && { kind: "developer", name: d.userPrincipalName, clientId: "", principalId: d.objectId, resourceId: "" };
  }

  /**
   * An identity by name, client id, principal id or resource id: user-assigned ones first, then the
   * developer principal (by UPN or object id), then the system-assigned identities of jobs (by job name or ids).
   */
  find(ref: string): Identity | undefined {
    const r = ref.trim().toLowerCase();
    if (!r) return undefined;
    const matches = (i: Identity) =>
      i.name.toLowerCase() === r || i.clientId === r || i.principalId === r || i.resourceId.toLowerCase() === r;
    const user = [...this.users.values()].find(matches);
    if (user) return user;
    const developer = this.developerIdentity();
    if (developer && matches(developer)) return developer;
    for (const job of Object.keys(this.state.system)) {
      const s = this.system(job);
      if (matches(s)) return s;
    }
    return undefined;
  }

  /** Whether a role assignment's assignee means this identity. */
  private assigned(a: RoleAssignmentDecl, who: Identity): boolean {
    const r = a.assignee.toLowerCase();
    return (
      r === who.clientId ||
      r === who.principalId ||
      (r === who.name.toLowerCase() && (who.kind === "user" || !this.users.has(r)))
    );
  }

  /**
   * The claims an identity's role assignments give for a token presented for `entity` (lowercase path,
   * "" = the namespace) in `namespace`: a role on a wider scope applies to the entity; a role on a narrower
   * scope (an entity inside a namespace-wide audience) applies to that narrower scope only.
   */
  claimsFor(principalId: string, namespace: string, entity: string): Array<{ scope: string; rights: AccessRight[] }> {
    const who = this.find(principalId);
    if (!who) return [];
    const out: Array<{ scope: string; rights: AccessRight[] }> = [];
    for (const a of this.assignments) {
      if (a.scope.namespace.toLowerCase() !== namespace.toLowerCase() || !this.assigned(a, who)) continue;
      if (covers(a.scope.entity, entity)) out.push({ scope: entity, rights: roleRights(a.role) });
      else if (covers(entity, a.scope.entity)) out.push({ scope: a.scope.entity, rights: roleRights(a.role) });
    }
    return out;
  }

  /** Adds or changes a user-assigned identity at run time (apply, `identity create`); ids and resource group
   *  not given are the ones this name had before, else new (and the local resource group). */
  upsertUser(d: IdentityDecl & { resourceGroup?: string }): Identity {
    const kept = this.state.user[d.name.toLowerCase()];
    const ids: Ids = {
      clientId: d.clientId ?? kept?.clientId ?? randomUUID(),
      principalId: d.principalId ?? kept?.principalId ?? randomUUID(),
    };
    const resourceGroup = d.resourceGroup ?? kept?.resourceGroup;
    this.state.user[d.name.toLowerCase()] = { name: d.name, ...ids, ...(resourceGroup ? { resourceGroup } : {}) };
    const identity: Identity = {
      kind: "user",
      name: d.name,
      ...ids,
      resourceId: userIdentityResourceId(d.name, resourceGroup),
    };
    this.users.set(d.name.toLowerCase(), identity);
    this.save();
    return identity;
  }

  /** Forgets a user-assigned identity; its ids stay on file, so creating it again gives the same ones. */
  removeUser(name: string): boolean {
    return this.users.delete(name.toLowerCase());
  }

  roleAssignments(): readonly RoleAssignmentDecl[] {
    return this.assignments;
  }

  addAssignment(a: RoleAssignmentDecl): void {
    this.assignments.push(a);
  }

  /** Removes the assignments `match` selects; returns them. */
  removeAssignments(match: (a: RoleAssignmentDecl) => boolean): RoleAssignmentDecl[] {
    const gone = this.assignments.filter(match);
    for (const a of gone) this.assignments.splice(this.assignments.indexOf(a), 1);
    return gone;
  }

  /** Role assignments whose assignee matches no identity (reported when the platform starts). */
  unresolvedAssignments(systemJobs: string[]): RoleAssignmentDecl[] {
    return this.assignments.filter((a) => {
      // the developer principal exists once `eventjobs login` ran; an assignment naming it waits until then
      if (this.find(a.assignee) || a.assignee.trim().toLowerCase() === DEVELOPER_UPN) return false;
      return !systemJobs.some((j) => j.toLowerCase() === a.assignee.toLowerCase());
    });
  }

  private save(): void {
    if (!this.file) return;
    writeFileAtomic(this.file, JSON.stringify(this.state, null, 2) + "\n", { dirMode: 0o700 });
  }
}
