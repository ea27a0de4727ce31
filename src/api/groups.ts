// The control API's resource groups, in the shape `az group create|show|list` prints. A group is only recorded
// (<data-dir>/resource-groups.json): the -g of other commands is kept in their resource ids whether or not the
// group was created, and deleting a group deletes nothing else.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import { LOCAL_SUBSCRIPTION } from "./arm.js";
import { ApiError, jsonBody, type ApiRoute } from "./control.js";

export const GROUPS_FILE = "resource-groups.json";

interface Group {
  name: string;
  location: string;
  tags?: Record<string, string>;
}

/** ARM's rule for resource group names. */
const GROUP_NAME = /^[-\w.()]{1,90}$/;

export function groupResource(g: Group) {
  return {
    id: `/subscriptions/${LOCAL_SUBSCRIPTION}/resourceGroups/${g.name}`,
    location: g.location,
    managedBy: null,
    name: g.name,
    properties: { provisioningState: "Succeeded" },
    tags: g.tags && Object.keys(g.tags).length ? g.tags : null,
    type: "Microsoft.Resources/resourceGroups",
  };
}

/**
 * `dir` absent: groups live in memory only (an in-memory platform without a data dir). Returns a recorded
 * group's location.
 */
export function registerGroupsApi(route: ApiRoute, dir?: string): (group: string) => string | undefined {
  const file = dir && join(dir, GROUPS_FILE);
  const groups: Group[] = file && existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).groups : [];
  const save = () => file && writeFileAtomic(file, JSON.stringify({ groups }, null, 2) + "\n");
  const find = (name: string) => groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
  const groupOf = (name: string) => {
    const g = find(name);
    if (!g) throw new ApiError(404, "ResourceGroupNotFound", `Resource group '${name}' could not be found.`);
    return g;
  };

  route("GET", "/resourceGroups", () => ({ value: groups.map(groupResource) }));
  route("GET", "/resourceGroups/:name", (req) => groupResource(groupOf(req.params.name)));
  route("PUT", "/resourceGroups/:name", async (req) => {
    const name = req.params.name;
    if (!GROUP_NAME.test(name) || name.endsWith("."))
      throw new ApiError(
        400,
        "InvalidResourceGroup",
        `The provided resource group name '${name}' has these invalid characters or length: it allows 1-90 letters, digits, periods, underscores, hyphens and parentheses, and cannot end in a period.`,
      );
    const b = await jsonBody(req);
    if (typeof b.location !== "string" || !b.location.trim())
      throw new ApiError(400, "InvalidParameter", "location: expected a location, e.g. eastus");
    const location = b.location.trim();
    const tags = (b.tags && typeof b.tags === "object" ? b.tags : undefined) as Record<string, string> | undefined;
    const existing = find(name);
    if (existing && existing.location.toLowerCase() !== location.toLowerCase())
      throw new ApiError(
        409,
        "InvalidResourceGroupLocation",
        `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`,
      );
    if (existing) {
      if (tags) existing.tags = tags;
    } else groups.push({ name, location, ...(tags ? { tags } : {}) });
    save();
    return { ...groupResource(find(name)!), created: !existing };
  });
  route("DELETE", "/resourceGroups/:name", (req) => {
    const g = groupOf(req.params.name);
    groups.splice(groups.indexOf(g), 1);
    save();
    return undefined;
  });
  return (group) => find(group)?.location;
}
