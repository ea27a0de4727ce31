// A subscription's rules: named filters with optional actions, kept and listed in name order. A message
// matches the subscription when any rule's filter matches; the actions of the matching rules are applied,
// in that order, to the subscription's copy (docs/architecture.md, topics).
import type { RuleConfig } from "../../model/config.js";
import { BrokerError } from "../errors.js";
import type { StoredMessage } from "../store/types.js";
import {
  compileAction,
  compileFilter,
  FilterError,
  type FilterMessage,
  type RuleAction,
  type RuleFilter,
} from "../filters/index.js";
import { changedSystemFields, filterMessageOf, withReplacedProperties, withSystemFields } from "./filter-message.js";

export type { RuleAction, RuleFilter } from "../filters/index.js";

export const DEFAULT_RULE = "$Default";

export interface RuleDescription {
  name: string;
  filter: RuleFilter;
  action?: RuleAction;
  /** ms epoch */
  createdAt: number;
}

interface CompiledRule {
  rule: RuleDescription;
  matches: (m: FilterMessage) => boolean;
  apply?: (m: FilterMessage) => FilterMessage;
}

/** A filter or action that does not compile: the service's 400 for a bad rule. */
export function ruleError(e: unknown): BrokerError {
  if (e instanceof BrokerError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new BrokerError("ArgumentError", e instanceof FilterError ? text : `The rule is not valid: ${text}`);
}

function compile(rule: RuleDescription): CompiledRule {
  try {
    return {
      rule,
      matches: compileFilter(rule.filter),
      apply: rule.action ? compileAction(rule.action) : undefined,
    };
  } catch (e) {
    throw ruleError(e);
  }
}

/** What routing a message through a subscription's rules gave. */
export type RouteResult =
  | { kind: "none" }
  | { kind: "copy"; message: StoredMessage }
  | { kind: "error"; message: StoredMessage; description: string };

export class RuleSet {
  private readonly rules = new Map<string, CompiledRule>();
  /** a true filter and no action anywhere: every message is copied unchanged without looking at it */
  private takesAll = false;

  constructor(rules: RuleDescription[]) {
    for (const r of rules) this.rules.set(r.name.toLowerCase(), compile(r));
    this.changed();
  }

  private changed(): void {
    const sorted = [...this.rules.entries()].sort(([a], [b]) => byName(a, b));
    this.rules.clear();
    for (const [k, v] of sorted) this.rules.set(k, v);
    const all = sorted.map(([, c]) => c.rule);
    this.takesAll = all.some((r) => r.filter.type === "true") && all.every((r) => !r.action);
  }

  /** The rules in name order (as the service enumerates them), without regard to case. */
  list(): RuleDescription[] {
    return [...this.rules.values()].map((c) => c.rule);
  }

  get(name: string): RuleDescription | undefined {
    return this.rules.get(name.toLowerCase())?.rule;
  }

  /** Adds a rule; the service's already-exists error for a name in use, its 400 for a bad filter or action. */
  add(rule: RuleDescription, entityPath: string): void {
    if (this.rules.has(rule.name.toLowerCase())) {
      throw new BrokerError(
        "EntityAlreadyExists",
        `The messaging entity '${entityPath}/Rules/${rule.name}' already exists.`,
      );
    }
    this.rules.set(rule.name.toLowerCase(), compile(rule));
    this.changed();
  }

  /** Replaces an existing rule (admin API update). */
  replace(rule: RuleDescription): void {
    this.rules.set(rule.name.toLowerCase(), compile(rule));
    this.changed();
  }

  remove(name: string, entityPath: string): void {
    if (!this.rules.delete(name.toLowerCase())) {
      throw new BrokerError("EntityNotFound", `The messaging entity '${entityPath}/Rules/${name}' could not be found.`);
    }
    this.changed();
  }

  /**
   * Whether `m` goes to the subscription, and as what: the matching rules' actions applied to a copy. A filter
   * or action that fails on this message (FilterEvaluationError) gives "error" when `deadLetterOnError` (the
   * subscription's deadLetteringOnFilterEvaluationExceptions), else that rule is skipped. `view` gives the
   * message as filters see it (shared by the topic's subscriptions, decoded only when a rule needs it).
   */
  route(
    m: StoredMessage,
    view: () => FilterMessage = () => filterMessageOf(m),
    deadLetterOnError = false,
  ): RouteResult {
    if (this.takesAll) return { kind: "copy", message: m };
    const seen = view();
    let out: FilterMessage | undefined;
    for (const c of this.rules.values()) {
      try {
        if (!c.matches(seen)) continue;
        out = c.apply ? c.apply(out ?? seen) : (out ?? seen);
      } catch (e) {
        if (!deadLetterOnError) continue;
        const description = `Rule '${c.rule.name}': ${e instanceof Error ? e.message : String(e)}`;
        return { kind: "error", message: m, description };
      }
    }
    if (!out) return { kind: "none" };
    if (out === seen) return { kind: "copy", message: m };
    const system = changedSystemFields(seen, out);
    let bare = withReplacedProperties(m.bare, out.properties);
    if (Object.keys(system).length) bare = withSystemFields(bare, system);
    const copy: StoredMessage = { ...m, bare, size: bare.length + m.annotations.length };
    if ("sessionId" in system) copy.sessionId = system.sessionId === undefined ? undefined : String(system.sessionId);
    if ("messageId" in system && system.messageId !== undefined) copy.messageId = String(system.messageId);
    return { kind: "copy", message: copy };
  }
}

function byName(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}

export function defaultRule(now = Date.now()): RuleDescription {
  return { name: DEFAULT_RULE, filter: { type: "true" }, createdAt: now };
}

const CORRELATION_CONFIG: Record<string, keyof Extract<RuleFilter, { type: "correlation" }>> = {
  CorrelationId: "correlationId",
  MessageId: "messageId",
  To: "to",
  ReplyTo: "replyTo",
  Label: "subject",
  Subject: "subject",
  SessionId: "sessionId",
  ReplyToSessionId: "replyToSessionId",
  ContentType: "contentType",
};

/** A rule as the config files declare it (Config.json's shape: FilterType, SqlFilter, CorrelationFilter, Action). */
export function ruleFromConfig(r: RuleConfig, now = Date.now()): RuleDescription {
  const p = r.properties as Record<string, any>;
  let filter: RuleFilter;
  if (p.FilterType === "Sql") filter = { type: "sql", expression: String(p.SqlFilter?.SqlExpression ?? "1=1") };
  else if (p.FilterType === "Correlation") {
    const cf = (p.CorrelationFilter ?? {}) as Record<string, unknown>;
    const f: Record<string, unknown> = { type: "correlation" };
    for (const [k, v] of Object.entries(cf)) {
      if (k === "Properties") f.properties = v;
      else if (CORRELATION_CONFIG[k] && v !== undefined) f[CORRELATION_CONFIG[k]] = String(v);
    }
    filter = f as RuleFilter;
  } else filter = { type: "true" };
  const expr = p.Action?.SqlExpression;
  return { name: r.name, filter, action: expr ? { type: "sql", expression: String(expr) } : undefined, createdAt: now };
}
