// A Log Analytics workspace's customerId (the GUID `az monitor log-analytics query --workspace` takes) for a
// workspace name: derived from the name so Terraform's `workspace_id` and the query API agree without storing it.
import { createHash } from "node:crypto";

export function workspaceCustomerId(name: string): string {
  const h = createHash("sha256").update(`eventjobs-log-analytics-workspace:${name.toLowerCase()}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
