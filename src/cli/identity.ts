// `eventjobs identity create|show|list|delete`: user-assigned managed identities, as az identity prints them.
import type { Command } from "commander";
import { ApiClient, addAzCommandOptions } from "./client.js";
import { checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

const COLUMNS: Column[] = [
  { header: "Name", get: (i) => i.name },
  { header: "ClientId", get: (i) => i.clientId },
  { header: "PrincipalId", get: (i) => i.principalId },
  { header: "ResourceGroup", get: (i) => i.resourceGroup },
];

export function registerIdentity(program: Command): void {
  const identity = program
    .command("identity")
    .description("User-assigned managed identities (tokens from the local issuer, RBAC on Service Bus)");
  addAzCommandOptions(identity.command("create"))
    .description(
      "Create a user-assigned identity (client and principal ids are generated and kept; -g is recorded in its id)",
    )
    .requiredOption("-n, --name <name>", "3-128 letters, digits, hyphens or underscores")
    .option("-l, --location <location>", "accepted for az compatibility")
    .option("--tags <pairs...>", "KEY=VALUE tags")
    .option("--client-id <guid>", "eventjobs: use this client id (to match one from Azure)")
    .option("--principal-id <guid>", "eventjobs: use this principal id")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs identity create --name identity-aca --resource-group rg-lab\n  eventjobs identity create -n worker-id --client-id 6f1c2f7e-1111-4c4c-9d9d-000000000001 -o table\n",
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      const tags: Obj = {};
      for (const t of o.tags ?? []) {
        const i = t.indexOf("=");
        if (i <= 0) fail(`--tags "${t}": expected KEY=VALUE`);
        tags[t.slice(0, i)] = t.slice(i + 1);
      }
      print(
        await new ApiClient(o.dataDir).request("PUT", `/identities/${encodeURIComponent(o.name)}`, {
          clientId: o.clientId,
          principalId: o.principalId,
          resourceGroup: o.resourceGroup,
          tags,
        }),
        o.output,
        COLUMNS,
      );
    });
  addAzCommandOptions(identity.command("show"))
    .description("Show an identity")
    .requiredOption("-n, --name <name>", "the identity")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs identity show -n identity-aca\n  eventjobs identity show -g rg-lab -n identity-aca --query clientId -o tsv\n",
    )
    .action(async (o: Obj) =>
      print(
        await new ApiClient(o.dataDir).request("GET", `/identities/${encodeURIComponent(o.name)}`),
        o.output,
        COLUMNS,
      ),
    );
  addAzCommandOptions(identity.command("list"))
    .description("List the identities")
    .addHelpText("after", "\nExamples:\n  eventjobs identity list -o table\n")
    .action(async (o: Obj) =>
      print((await new ApiClient(o.dataDir).request("GET", "/identities")).value, o.output, COLUMNS),
    );
  addAzCommandOptions(identity.command("delete"))
    .description("Delete an identity (its role assignments stay until deleted, as in Azure)")
    .requiredOption("-n, --name <name>", "the identity")
    .addHelpText("after", "\nExamples:\n  eventjobs identity delete -n identity-aca\n")
    .action(async (o: Obj) => {
      await new ApiClient(o.dataDir).request("DELETE", `/identities/${encodeURIComponent(o.name)}`);
    });
}
