// `eventjobs group create|show|list|delete`: resource groups as az records and prints them. Only recorded: the
// -g other commands take ends up in their resource ids either way, and deleting a group deletes nothing else.
import type { Command } from "commander";
import { ApiClient, addDataDirOption } from "./client.js";
import { addOutputOption, checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

const COLUMNS: Column[] = [
  { header: "Name", get: (g) => g.name },
  { header: "Location", get: (g) => g.location },
  { header: "Status", get: (g) => g.properties.provisioningState },
];

const common = (cmd: Command) =>
  addOutputOption(addDataDirOption(cmd)).option("--subscription <id>", "accepted for az compatibility");
const path = (name: string) => `/resourceGroups/${encodeURIComponent(name)}`;

export function registerGroup(program: Command): void {
  const group = program.command("group").description("Resource groups (recorded: the -g of other commands)");
  common(group.command("create"))
    .description("Record a resource group (az group create); creating it again with the same location changes nothing")
    .requiredOption("-n, --name <name>", "1-90 letters, digits, periods, underscores, hyphens, parentheses")
    .option("-l, --location <location>", "the location, e.g. eastus (required, as in az)")
    .option("--tags <pairs...>", "KEY=VALUE tags")
    .option("--managed-by <id>", "accepted for az compatibility")
    .addHelpText("after", "\nExamples:\n  eventjobs group create --name rg-lab --location eastus\n")
    .action(async (o: Obj) => {
      checkFormat(o.output);
      if (!o.location) fail("the following arguments are required: --location/-l");
      const tags: Obj = {};
      for (const t of o.tags ?? []) {
        const i = t.indexOf("=");
        if (i <= 0) fail(`--tags "${t}": expected KEY=VALUE`);
        tags[t.slice(0, i)] = t.slice(i + 1);
      }
      const body = { location: o.location, ...(o.tags ? { tags } : {}) };
      print(await new ApiClient(o.dataDir).request("PUT", path(o.name), body), o.output, COLUMNS);
    });
  common(group.command("show"))
    .description("Show a resource group")
    .requiredOption("-n, --name <name>", "the resource group")
    .addHelpText("after", "\nExamples:\n  eventjobs group show -n rg-lab --query location -o tsv\n")
    .action(async (o: Obj) => print(await new ApiClient(o.dataDir).request("GET", path(o.name)), o.output, COLUMNS));
  common(group.command("list"))
    .description("List the resource groups")
    .addHelpText(
      "after",
      '\nExamples:\n  eventjobs group list -o table\n  eventjobs group list --query "[].name" -o tsv\n',
    )
    .action(async (o: Obj) =>
      print((await new ApiClient(o.dataDir).request("GET", "/resourceGroups")).value, o.output, COLUMNS),
    );
  common(group.command("delete"))
    .description("Forget a resource group (what was made with its -g stays: delete it with its own command)")
    .requiredOption("-n, --name <name>", "the resource group")
    .option("-y, --yes", "do not prompt for confirmation (accepted for az compatibility)")
    .option("--no-wait", "accepted for az compatibility; the command finishes before it returns")
    .option("-f, --force-deletion-types <types>", "accepted for az compatibility")
    .addHelpText("after", "\nExamples:\n  eventjobs group delete --name rg-lab --yes\n")
    .action(async (o: Obj) => {
      await new ApiClient(o.dataDir).request("DELETE", path(o.name));
    });
}
