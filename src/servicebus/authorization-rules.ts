// Shared access policies ("authorization rules") of namespaces and queues, changed at run time: create,
// delete, and key renewal as `az servicebus ... authorization-rule` does them. Every change takes effect at
// once (tokens are checked against the live keys) and the changed scope's rules are written to
// <data-dir>/authorization-rules.json (0600: it holds keys), which start lays over the config, so keys
// survive restarts. Keys the project file gives are the file's: the next apply sets them again.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import { EMULATOR_ROOT_POLICY, type AccessRight, type SasPolicyConfig } from "../model/config.js";
import { SAS_RULE_NAME } from "../model/validate.js";
import type { Broker } from "./broker.js";
import type { Namespace } from "./entities/namespace.js";

export const RULES_FILE = "authorization-rules.json";

export type KeyType = "PrimaryKey" | "SecondaryKey";

/** A failure the caller made (unknown rule, bad rights, ...): `status` is the HTTP status to answer with. */
export class RuleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Saved {
  version: 1;
  /** by lowercase namespace name: its rules and its queues' (by lowercase queue name) */
  namespaces: Record<string, { policies?: SasPolicyConfig[]; queues?: Record<string, SasPolicyConfig[]> }>;
}

/** A key as Azure generates them: 32 random bytes, Base64. */
export const newKey = (): string => randomBytes(32).toString("base64");

const RIGHTS: AccessRight[] = ["Listen", "Send", "Manage"];

/** az's --rights: Listen, Send, Manage in any case and order; Manage needs the other two, as the service says. */
export function parseRights(input: unknown): AccessRight[] {
  const list = Array.isArray(input) ? input.map(String) : [];
  const rights: AccessRight[] = [];
  for (const r of list) {
    const right = RIGHTS.find((x) => x.toLowerCase() === r.toLowerCase());
    if (!right) throw new RuleError(400, "InvalidParameter", `rights: '${r}' — expected Listen, Send or Manage`);
    if (!rights.includes(right)) rights.push(right);
  }
  if (!rights.length)
    throw new RuleError(400, "InvalidParameter", "rights: expected at least one of Listen, Send, Manage");
  if (rights.includes("Manage") && !(rights.includes("Send") && rights.includes("Listen"))) {
    throw new RuleError(
      400,
      "InvalidParameter",
      "rights: Manage must come with Send and Listen (Service Bus requires all three)",
    );
  }
  return rights;
}

export class AuthorizationRules {
  constructor(
    private readonly broker: Broker,
    /** absent: nothing is written (an in-memory platform without a data dir) */
    private readonly dir?: string,
  ) {}

  /** Lays the rules saved at run time over the ones the broker started with (call once, at start). */
  restore(): void {
    const saved = this.read();
    for (const [nsName, entry] of Object.entries(saved.namespaces)) {
      const ns = this.broker.namespace(nsName);
      if (!ns) continue;
      if (entry.policies?.length) ns.policies = entry.policies;
      for (const [q, policies] of Object.entries(entry.queues ?? {})) if (ns.queue(q)) ns.setQueuePolicies(q, policies);
    }
  }

  /** Sets a namespace's own rules (a namespace made at run time, with its new keys) and keeps them. */
  setNamespacePolicies(nsName: string, policies: SasPolicyConfig[]): void {
    this.set(nsName, undefined, policies);
  }

  /** Drops what was kept for a namespace that was deleted, so a namespace made later under its name starts afresh. */
  forget(nsName: string): void {
    if (!this.dir) return;
    const saved = this.read();
    if (!(nsName.toLowerCase() in saved.namespaces)) return;
    delete saved.namespaces[nsName.toLowerCase()];
    writeFileAtomic(join(this.dir, RULES_FILE), JSON.stringify(saved, null, 2) + "\n");
  }

  /** The namespace's name as declared (names are case-insensitive). */
  namespaceName(nsName: string): string {
    return this.broker.namespace(nsName)?.name ?? nsName;
  }

  list(nsName: string, queue?: string): SasPolicyConfig[] {
    const { ns, q } = this.scope(nsName, queue);
    return q === undefined ? ns.policies : ns.queuePolicies(q);
  }

  get(nsName: string, queue: string | undefined, name: string): SasPolicyConfig {
    const rule = this.list(nsName, queue).find((p) => p.name === name);
    if (!rule)
      throw new RuleError(
        404,
        "ResourceNotFound",
        `The authorization rule '${name}' of '${this.scopeText(nsName, queue)}' was not found.`,
      );
    return rule;
  }

  /** Creates a rule with new keys, or changes an existing rule's rights (keys stay). */
  put(
    nsName: string,
    queue: string | undefined,
    name: string,
    rightsInput: unknown,
  ): { rule: SasPolicyConfig; created: boolean } {
    if (!SAS_RULE_NAME.test(name))
      throw new RuleError(
        400,
        "InvalidParameter",
        `The authorization rule name '${name}' is invalid: expected ${SAS_RULE_NAME.expected}.`,
      );
    const rights = parseRights(rightsInput);
    const list = [...this.list(nsName, queue)];
    const i = list.findIndex((p) => p.name === name);
    const rule: SasPolicyConfig =
      i >= 0
        ? { ...list[i], rights }
        : { name, rights, primaryKey: newKey(), secondaryKey: newKey(), createdAtRuntime: true };
    if (i >= 0) list[i] = rule;
    else list.push(rule);
    this.set(nsName, queue, list);
    return { rule, created: i < 0 };
  }

  delete(nsName: string, queue: string | undefined, name: string): void {
    const list = this.list(nsName, queue);
    this.get(nsName, queue, name);
    if (queue === undefined && list.length === 1) {
      throw new RuleError(
        409,
        "Conflict",
        `The authorization rule '${name}' is the namespace's last one: connection strings the server prints use it. Create another first.`,
      );
    }
    this.set(
      nsName,
      queue,
      list.filter((p) => p.name !== name),
    );
  }

  /**
   * az's `keys renew`: a new (or the given) key replaces one of the rule's two; tokens signed with the old one fail
   * from now on.
   */
  renew(nsName: string, queue: string | undefined, name: string, keyType: string, value?: string): SasPolicyConfig {
    if (keyType !== "PrimaryKey" && keyType !== "SecondaryKey")
      throw new RuleError(400, "InvalidParameter", `keyType: '${keyType}' — expected PrimaryKey or SecondaryKey`);
    if (value !== undefined && !(value.length > 0 && value.length <= 256))
      throw new RuleError(400, "InvalidParameter", "key: expected a non-empty string of at most 256 characters");
    const rule = this.get(nsName, queue, name);
    if (
      keyType === "PrimaryKey" &&
      queue === undefined &&
      rule.name === EMULATOR_ROOT_POLICY.name &&
      rule.primaryKey === EMULATOR_ROOT_POLICY.primaryKey
    ) {
      throw new RuleError(
        409,
        "Conflict",
        `The primary key of '${rule.name}' is the emulator's well-known ${EMULATOR_ROOT_POLICY.primaryKey}, which stays valid unless eventjobs.yaml gives the namespace its own authorizationRules. Renew the SecondaryKey, or declare the rule with your own keys.`,
      );
    }
    const next: SasPolicyConfig = {
      ...rule,
      [keyType === "PrimaryKey" ? "primaryKey" : "secondaryKey"]: value ?? newKey(),
    };
    this.set(
      nsName,
      queue,
      this.list(nsName, queue).map((p) => (p.name === name ? next : p)),
    );
    return next;
  }

  private set(nsName: string, queue: string | undefined, policies: SasPolicyConfig[]): void {
    const { ns, q } = this.scope(nsName, queue);
    if (q === undefined) ns.policies = policies;
    else ns.setQueuePolicies(q, policies);
    this.save(ns);
  }

  private scope(nsName: string, queue?: string): { ns: Namespace; q?: string } {
    const ns = this.broker.namespace(nsName);
    if (!ns)
      throw new RuleError(
        404,
        "ResourceNotFound",
        `The Resource 'Microsoft.ServiceBus/namespaces/${nsName}' was not found.`,
      );
    if (queue === undefined) return { ns };
    const q = ns.queue(queue);
    if (!q)
      throw new RuleError(404, "ResourceNotFound", `The messaging entity '${ns.name}:Queue:${queue}' was not found.`);
    return { ns, q: q.path.slice(ns.name.length + 1) };
  }

  private scopeText(nsName: string, queue?: string): string {
    return queue === undefined ? nsName : `${nsName}/queues/${queue}`;
  }

  /** Writes the namespace's live rules and its queues' (queues gone since are dropped). */
  private save(ns: Namespace): void {
    if (!this.dir) return;
    const saved = this.read();
    const queues: Record<string, SasPolicyConfig[]> = {};
    for (const q of ns.queueNames()) {
      const own = ns.queuePolicies(q);
      if (own.length) queues[q.toLowerCase()] = own;
    }
    saved.namespaces[ns.name.toLowerCase()] = { policies: ns.policies, queues };
    writeFileAtomic(join(this.dir, RULES_FILE), JSON.stringify(saved, null, 2) + "\n");
  }

  private read(): Saved {
    const file = this.dir && join(this.dir, RULES_FILE);
    if (!file || !existsSync(file)) return { version: 1, namespaces: {} };
    const s = JSON.parse(readFileSync(file, "utf8")) as Saved;
    return s?.version === 1 && s.namespaces ? s : { version: 1, namespaces: {} };
  }
}
