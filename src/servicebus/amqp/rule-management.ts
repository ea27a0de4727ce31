// The rule operations of a subscription's $management node, as the SDKs' rule managers drive them
// (docs/compatibility.md, topics): add-rule, remove-rule, enumerate-rules (skip/top paging). Requests and
// replies carry rules in the service's described-list encoding.
import rhea from "rhea";
import { BrokerError } from "../errors.js";
import type { QueueEntity } from "../entities/queue.js";
import { SubscriptionEntity } from "../topics/subscription.js";
import type { RuleAction, RuleDescription, RuleFilter } from "../topics/rules.js";
import { ok, type Body, type Operation } from "./session-management.js";

const types = rhea.types as any; // rhea's typings omit described and the wrap_* helpers

/** Descriptor codes of the rule encoding (Service Bus's AMQP request/response reference). */
const DESCRIPTOR = {
  ruleDescription: 0x0000013700000004,
  sqlFilter: 0x0000001370000006,
  trueFilter: 0x0000001370000007,
  falseFilter: 0x0000001370000008,
  correlationFilter: 0x0000001370000009,
  emptyRuleAction: 0x0000013700000005,
  sqlRuleAction: 0x0000013700000006,
};

const CORRELATION_FIELDS = [
  ["correlation-id", "correlationId"],
  ["message-id", "messageId"],
  ["to", "to"],
  ["reply-to", "replyTo"],
  ["label", "subject"],
  ["session-id", "sessionId"],
  ["reply-to-session-id", "replyToSessionId"],
  ["content-type", "contentType"],
] as const;

function subscriptionOf(entity: QueueEntity, entityPath: string): SubscriptionEntity {
  if (!(entity instanceof SubscriptionEntity))
    throw new BrokerError("NotAllowed", `The entity '${entityPath}' is not a subscription: it has no rules.`);
  return entity;
}

function ruleName(body: Body): string {
  const name = body["rule-name"];
  if (typeof name !== "string" || name === "") throw new BrokerError("ArgumentError", "The rule name is missing.");
  return name;
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The filter and action of an add-rule request's rule-description map. */
export function ruleFromRequest(name: string, d: Record<string, unknown>): Omit<RuleDescription, "createdAt"> {
  let filter: RuleFilter;
  const sql = asObject(d["sql-filter"]);
  const corr = asObject(d["correlation-filter"]);
  if (sql) {
    filter = { type: "sql", expression: String(sql.expression ?? "") };
  } else if (corr) {
    const f: Record<string, unknown> = { type: "correlation" };
    for (const [wire, key] of CORRELATION_FIELDS) {
      const v = corr[wire];
      if (v !== undefined && v !== null) f[key] = String(v);
    }
    const props = asObject(corr.properties);
    if (props && Object.keys(props).length) f.properties = props;
    filter = f as RuleFilter;
  } else if (d["true-filter"] !== undefined) filter = { type: "true" };
  else if (d["false-filter"] !== undefined) filter = { type: "false" };
  else throw new BrokerError("ArgumentError", "The rule description has no filter.");
  const actionBody = asObject(d["sql-rule-action"]);
  const action: RuleAction | undefined =
    actionBody && actionBody.expression !== undefined && actionBody.expression !== null
      ? { type: "sql", expression: String(actionBody.expression) }
      : undefined;
  return { name, filter, action };
}

const str = (v: unknown) => (v === undefined || v === null ? null : types.wrap_string(String(v)));

function encodeFilter(f: RuleFilter): unknown {
  const list = (code: number, items: unknown[]) => types.described(types.wrap_ulong(code), types.wrap_list(items));
  if (f.type === "true") return list(DESCRIPTOR.trueFilter, [types.wrap_string("1=1"), types.wrap_int(20)]);
  if (f.type === "false") return list(DESCRIPTOR.falseFilter, [types.wrap_string("1=0"), types.wrap_int(20)]);
  if (f.type === "sql") return list(DESCRIPTOR.sqlFilter, [types.wrap_string(f.expression), types.wrap_int(20)]);
  return list(DESCRIPTOR.correlationFilter, [
    ...CORRELATION_FIELDS.map(([, key]) => str(f[key])),
    types.wrap_map(f.properties ?? {}),
  ]);
}

/** A rule as enumerate-rules returns it: described list (filter, action, name, created-at). */
export function encodeRule(r: RuleDescription): unknown {
  const action = r.action
    ? types.described(
        types.wrap_ulong(DESCRIPTOR.sqlRuleAction),
        types.wrap_list([types.wrap_string(r.action.expression), types.wrap_int(20)]),
      )
    : types.described(types.wrap_ulong(DESCRIPTOR.emptyRuleAction), types.wrap_list([]));
  return types.described(
    types.wrap_ulong(DESCRIPTOR.ruleDescription),
    types.wrap_list([encodeFilter(r.filter), action, types.wrap_string(r.name), types.wrap_timestamp(r.createdAt)]),
  );
}

export const ruleOperations: Record<string, { right: "Send" | "Listen" | "Manage"; run: Operation }> = {
  "com.microsoft:add-rule": {
    right: "Manage",
    run: async (entity, body, conn, entityPath) => {
      const sub = subscriptionOf(entity, entityPath);
      const name = ruleName(body);
      const description = asObject(body["rule-description"]);
      if (!description) throw new BrokerError("ArgumentError", "The rule description is missing.");
      await conn.namespace.topics.createRule(sub.topicName, sub.name, ruleFromRequest(name, description));
      return ok();
    },
  },
  "com.microsoft:remove-rule": {
    right: "Manage",
    run: async (entity, body, conn, entityPath) => {
      const sub = subscriptionOf(entity, entityPath);
      await conn.namespace.topics.deleteRule(sub.topicName, sub.name, ruleName(body));
      return ok();
    },
  },
  "com.microsoft:enumerate-rules": {
    right: "Manage",
    run: (entity, body, _conn, entityPath) => {
      const sub = subscriptionOf(entity, entityPath);
      const skip = Math.max(0, Number(body.skip ?? 0) || 0);
      const top = Math.max(0, Number(body.top ?? 2 ** 31 - 1) || 0);
      const page = sub.rules.list().slice(skip, skip + top);
      if (page.length === 0) return { status: 204, description: "No rules" };
      return ok({ rules: page.map((r) => ({ "rule-description": encodeRule(r) })) });
    },
  },
};
