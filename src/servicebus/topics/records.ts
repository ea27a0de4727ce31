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

export function parseTopicsDefinition(json: string): TopicsDefinition | undefined {
  try {
    const d = JSON.parse(json) as TopicsDefinition;
    if (d?.kind === "topic" && typeof d.properties === "object") return d;
    if (d?.kind === "subscription" && typeof d.properties === "object" && Array.isArray(d.rules)) return d;
    return undefined;
  } catch {
    return undefined;
  }
}
