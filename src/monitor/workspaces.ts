// The Log Analytics workspaces a query may name: the local environment's own, and every
// azurerm_log_analytics_workspace the last `eventjobs terraform apply` made (terraform-state.json). There is one
// environment here, so every workspace reads the same job logs. A workspace is named by its name, its
// customerId (workspace GUID) or its ARM resource id; docs/logs.md.
import { readTfState } from "../terraform/state.js";
import { workspaceCustomerId } from "./workspace-id.js";

export interface Workspace {
  name: string;
  customerId: string;
  resourceGroup: string;
}

/** The workspace every eventjobs server has, whether or not a Terraform folder declared one. */
export const DEFAULT_WORKSPACE = "workspace-eventjobs";

export class WorkspaceNotFound extends Error {
  override name = "WorkspaceNotFound";
}

/** Known workspaces: the default one, then Terraform's (none when `dataDir` is undefined: an in-memory platform). */
export function listWorkspaces(dataDir: string | undefined): Workspace[] {
  const out: Workspace[] = [
    { name: DEFAULT_WORKSPACE, customerId: workspaceCustomerId(DEFAULT_WORKSPACE), resourceGroup: "eventjobs" },
  ];
  if (dataDir === undefined) return out;
  for (const r of Object.values(readTfState(dataDir).resources)) {
    if (r.type !== "azurerm_log_analytics_workspace") continue;
    const name = String(r.args.name ?? "");
    if (!name || out.some((w) => w.name.toLowerCase() === name.toLowerCase())) continue;
    out.push({ name, customerId: workspaceCustomerId(name), resourceGroup: String(r.args.resource_group_name ?? "") });
  }
  return out;
}

/** The workspace `ref` names (case-insensitive, as Azure names are), or WorkspaceNotFound naming it. */
export function findWorkspace(dataDir: string | undefined, ref: string): Workspace {
  const all = listWorkspaces(dataDir);
  const r = ref.trim().toLowerCase();
  // /subscriptions/<any>/resourceGroups/<any>/providers/Microsoft.OperationalInsights/workspaces/<name>
  const fromId =
    /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.operationalinsights\/workspaces\/([^/]+)$/.exec(
      r,
    )?.[1];
  const found = all.find((w) => w.name.toLowerCase() === (fromId ?? r) || w.customerId === r);
  if (!found)
    throw new WorkspaceNotFound(
      `The Log Analytics workspace '${ref}' was not found (workspaces here: ${all.map((w) => `${w.name} (${w.customerId})`).join(", ")})`,
    );
  return found;
}
