// What the store keeps (EntityRecord.definition, as JSON) for topics and subscriptions, so they come back
// after a restart: those created at run time, and the rules of any subscription whose rules were changed.
import type { SubscriptionProperties, TopicProperties } from "../../model/config.js";
import type { RuleDescription } from "./rules.js";

export interface TopicDefinition {
  kind: "topic";
  properties: TopicProperties;
  /** admin-API properties the broker does not act on, echoed back as given */
  extras?: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface SubscriptionDefinition {
  kind: "subscription";
  properties: SubscriptionProperties;
  rules: RuleDescription[];
  extras?: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export type TopicsDefinition = TopicDefinition | SubscriptionDefinition;

/**
 * JSON for a definition; values JSON has no type for (dates and 64-bit integers in correlation-filter
 * properties and SQL parameters) are tagged so they come back as they were.
 */
export function stringifyTopicsDefinition(d: TopicsDefinition): string {
  return JSON.stringify(d, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    if (raw instanceof Date) return { $date: raw.getTime() };
    if (typeof value === "bigint") return { $bigint: value.toString() };
    return value;
  });
}

function revive(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o.$date === "number") return new Date(o.$date);
    if (keys.length === 1 && typeof o.$bigint === "string") return BigInt(o.$bigint);
  }
  return value;
}

export function parseTopicsDefinition(json: string): TopicsDefinition | undefined {
  try {
    const d = JSON.parse(json, revive) as TopicsDefinition;
    if (d?.kind === "topic" && typeof d.properties === "object") return d;
    if (d?.kind === "subscription" && typeof d.properties === "object" && Array.isArray(d.rules)) return d;
    return undefined;
  } catch {
    return undefined;
  }
}
