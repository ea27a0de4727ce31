// `eventjobs role assignment create|list|delete`: Service Bus data roles for identities, as az prints them.
import type { Command } from "commander";
import { ApiClient, addDataDirOption } from "./client.js";
import { addOutputOption, checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

const COLUMNS: Column[] = [
  { header: "Principal", get: (a) => a.assignee },
  { header: "Role", get: (a) => a.roleDefinitionName },
  { header: "Scope", get: (a) => a.scope },
];

function common(cmd: Command): Command {
  return addOutputOption(addDataDirOption(cmd)).option("--subscription <id>", "accepted for az compatibility");
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** az's --assignee-principal-type choices. */
const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal", "ForeignGroup", "Device"];

const SCOPE_HELP =
  "<namespace>[/queues/<queue>], or the ARM id /subscriptions/<any>/resourceGroups/<any>/providers/Microsoft.ServiceBus/namespaces/<namespace>[/queues/<queue>]";

function filters(o: Obj): URLSearchParams {
  const q = new URLSearchParams();
  if (o.assignee) q.set("assignee", o.assignee);
  if (o.role) q.set("role", o.role);
  if (o.scope) q.set("scope", o.scope);
  return q;
}

export function registerRole(program: Command): void {
  const role = program.command("role").description("Role-based access control for Service Bus (data roles only)");
  const assignment = role
    .command("assignment")
    .description("Role assignments: Azure Service Bus Data Owner, Sender, Receiver");
  common(assignment.command("create"))
    .description("Assign a Service Bus data role to an identity on a namespace or entity")
    .option("--assignee <id>", "identity name, client id or principal id (a job name: its system-assigned identity)")
    .requiredOption(
      "--role <role>",
      '"Azure Service Bus Data Owner", "Azure Service Bus Data Sender" or "Azure Service Bus Data Receiver" (or its definition id)',
    )
    .requiredOption("--scope <scope>", SCOPE_HELP)
    .option("--assignee-object-id <id>", "the principal id (az's alternative to --assignee)")
    .option(
      "--assignee-principal-type <type>",
      "with --assignee-object-id: User, Group, ServicePrincipal, ForeignGroup or Device (checked against the principal)",
    )
    .option("--description <text>", "accepted for az compatibility")
    .addHelpText(
      "after",
      '\nExamples:\n  eventjobs role assignment create --assignee identity-aca --role "Azure Service Bus Data Receiver" --scope servicebus-ns-job/queues/queue-messages\n  eventjobs role assignment create --assignee-object-id $PRINCIPAL_ID --assignee-principal-type ServicePrincipal \\\n    --role "Azure Service Bus Data Receiver" --scope $(eventjobs servicebus namespace show -g rg-lab -n servicebus-ns-job --query id -o tsv)\n  eventjobs role assignment create --assignee $CLIENT_ID --role "Azure Service Bus Data Sender" \\\n    --scope /subscriptions/x/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/servicebus-ns-job/queues/queue-messages\n',
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      if ((o.assignee === undefined) === (o.assigneeObjectId === undefined))
        fail("usage error: --assignee STRING | --assignee-object-id GUID");
      if (o.assigneeObjectId !== undefined && !GUID.test(o.assigneeObjectId))
        fail(`--assignee-object-id "${o.assigneeObjectId}": expected an object (principal) id, a GUID`);
      const type = o.assigneePrincipalType as string | undefined;
      if (type !== undefined && o.assigneeObjectId === undefined)
        fail("usage error: --assignee-principal-type goes with --assignee-object-id");
      if (type !== undefined && !PRINCIPAL_TYPES.includes(type))
        fail(
          `argument --assignee-principal-type: invalid choice: '${type}' (choose from ${PRINCIPAL_TYPES.join(", ")})`,
        );
      const made = await new ApiClient(o.dataDir).request("POST", "/roleAssignments", {
        assignee: o.assigneeObjectId ?? o.assignee,
        role: o.role,
        scope: o.scope,
        ...(type ? { principalType: type } : {}),
      });
      print(made, o.output, COLUMNS);
    });
  common(assignment.command("list"))
    .description("List role assignments, optionally only an assignee's, a role's or a scope's")
    .option("--assignee <id>", "identity name, client id or principal id")
    .option("--role <role>", "role name or definition id")
    .option("--scope <scope>", SCOPE_HELP)
    .option("--all", "accepted for az compatibility (every assignment is listed anyway)")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs role assignment list -o table\n  eventjobs role assignment list --assignee identity-aca --scope servicebus-ns-job/queues/queue-messages\n",
    )
    .action(async (o: Obj) => {
      const q = filters(o);
      print(
        (await new ApiClient(o.dataDir).request("GET", `/roleAssignments${q.size ? `?${q}` : ""}`)).value,
        o.output,
        COLUMNS,
      );
    });
  common(assignment.command("delete"))
    .description("Delete the role assignments that match every filter given")
    .option("--assignee <id>", "identity name, client id or principal id")
    .option("--role <role>", "role name or definition id")
    .option("--scope <scope>", SCOPE_HELP)
    .option("-y, --yes", "accepted for az compatibility")
    .addHelpText(
      "after",
      '\nExamples:\n  eventjobs role assignment delete --assignee identity-aca --role "Azure Service Bus Data Receiver" --scope servicebus-ns-job/queues/queue-messages\n',
    )
    .action(async (o: Obj) => {
      const q = filters(o);
      if (!q.size) fail("Usage error: give --assignee, --role or --scope (deleting every assignment needs them named)");
      const gone = (await new ApiClient(o.dataDir).request("DELETE", `/roleAssignments?${q}`)).value as Obj[];
      if (!gone.length) fail("No matched assignments were found to delete.");
      if (o.output !== "json") print(gone, o.output, COLUMNS);
    });
}
