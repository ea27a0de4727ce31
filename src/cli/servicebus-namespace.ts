// `eventjobs servicebus namespace create|delete`: namespaces made at run time, as az makes them: served at once
// with a RootManageSharedAccessKey of new keys (see `authorization-rule keys list`), kept across restarts, and
// deleted with everything in them.
import type { Command } from "commander";
import { ApiClient, addDataDirOption } from "./client.js";
import { addOutputOption, checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

export const NAMESPACE_COLUMNS: Column[] = [
  { header: "Name", get: (n) => n.name },
  { header: "ResourceGroup", get: (n) => n.resourceGroup },
  { header: "Location", get: (n) => n.location },
  { header: "Status", get: (n) => n.properties.status },
  { header: "Default", get: (n) => n.properties.isDefault },
  { header: "Queues", get: (n) => n.properties.queueCount },
];

const path = (name: string) => `/servicebus/namespaces/${encodeURIComponent(name)}`;

const common = (cmd: Command) =>
  addOutputOption(addDataDirOption(cmd))
    .requiredOption("-n, --name <namespace>", "the namespace")
    .option("-g, --resource-group <name>", "the resource group (required, as in az; recorded in the namespace's id)")
    .option("--subscription <id>", "accepted for az compatibility")
    .option("--no-wait", "accepted for az compatibility; the command finishes before it returns");

export function registerNamespaceWrites(ns: Command): void {
  common(ns.command("create"))
    .description(
      "Create a namespace, served at once with a RootManageSharedAccessKey of new keys and kept across restarts",
    )
    .option("--sku <sku>", "Basic, Standard or Premium (recorded)", "Standard")
    .option("-l, --location <location>", "recorded (default: the resource group's location from group create)")
    .option("--tags <pairs...>", "KEY=VALUE tags")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus namespace create -g rg-lab -n servicebus-ns-job --location eastus\n  eventjobs servicebus namespace create -g rg-lab -n orders-ns --sku Standard --query id -o tsv\n",
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      if (!o.resourceGroup) fail("the following arguments are required: --resource-group/-g");
      const tags: Obj = {};
      for (const t of o.tags ?? []) {
        const i = t.indexOf("=");
        if (i <= 0) fail(`--tags "${t}": expected KEY=VALUE`);
        tags[t.slice(0, i)] = t.slice(i + 1);
      }
      const body = {
        resourceGroup: o.resourceGroup,
        sku: o.sku,
        ...(o.location ? { location: o.location } : {}),
        ...(o.tags ? { tags } : {}),
      };
      print(await new ApiClient(o.dataDir).request("PUT", path(o.name), body), o.output, NAMESPACE_COLUMNS);
    });
  common(ns.command("delete"))
    .description("Delete a namespace with its queues, topics and messages (not the default one)")
    .addHelpText("after", "\nExamples:\n  eventjobs servicebus namespace delete -g rg-lab -n orders-ns\n")
    .action(async (o: Obj) => {
      const group = o.resourceGroup ? `?resourceGroup=${encodeURIComponent(o.resourceGroup)}` : "";
      await new ApiClient(o.dataDir).request("DELETE", path(o.name) + group);
    });
}
