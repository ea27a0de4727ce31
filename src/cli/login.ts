// `eventjobs login` (the developer principal: the "me" of role assignments, of the `az` that `shellenv` puts on
// PATH and of Terraform's client config) and `eventjobs shellenv` (the shell lines that put that `az` first on
// PATH and make the SDKs trust the local CA). See docs/developer-credential.md.
import type { Command } from "commander";
import { shQuote, writeAzShim } from "./az-shim.js";
import { ApiClient, addDataDirOption } from "./client.js";
import { requestGrant } from "./exec.js";
import { addOutputOption, print, type Column } from "./output.js";

const COLUMNS: Column[] = [
  { header: "UserPrincipalName", get: (m) => m.userPrincipalName },
  { header: "ObjectId", get: (m) => m.objectId },
  { header: "TenantId", get: (m) => m.tenantId },
];

export function registerLogin(program: Command): void {
  addOutputOption(addDataDirOption(program.command("login")))
    .description(
      "Make (or show) the local developer principal (developer@eventjobs.local): the assignee for your own role assignments and the user of the `az` from `eventjobs shellenv`",
    )
    .addHelpText(
      "after",
      '\nExamples:\n  eventjobs login\n  eventjobs login -o table\n  eventjobs role assignment create --assignee developer@eventjobs.local --role "Azure Service Bus Data Sender" --scope servicebus-ns-job\n',
    )
    .action(async (o: { dataDir: string; output: string }) => {
      print(await new ApiClient(o.dataDir).request("POST", "/identity/me"), o.output, COLUMNS);
    });

  addDataDirOption(program.command("shellenv"))
    .description(
      "Print shell lines that put eventjobs' `az` first on PATH (account get-access-token for the developer principal) and trust the local CA (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE)",
    )
    .addHelpText(
      "after",
      '\nExamples:\n  eval "$(eventjobs shellenv)"\n  eval "$(eventjobs shellenv --data-dir .eventjobs-demo)" && az account get-access-token --resource https://servicebus.azure.net\n',
    )
    .action(async (o: { dataDir: string }) => {
      const grant = await requestGrant({ dataDir: o.dataDir, asMe: true });
      const lines = [`export PATH=${shQuote(writeAzShim(o.dataDir))}:"$PATH"`];
      for (const [k, v] of Object.entries(grant.env)) lines.push(`export ${k}=${shQuote(v)}`);
      lines.push("unset IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT MSI_SECRET");
      console.log(lines.join("\n"));
    });
}
