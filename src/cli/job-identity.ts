// `eventjobs containerapp job identity assign|remove|show`: a job's managed identities, changed the way az changes
// them (read the job, change its identity, write it back) and printed in az's shape, with the identities' ids.
import type { Command } from "commander";
import { identityNameOf } from "../identity/config.js";
import { ApiClient } from "./client.js";
import { checkJobName } from "./job-flags.js";
import { checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

const COLUMNS: Column[] = [
  { header: "Type", get: (i) => i.type },
  { header: "PrincipalId", get: (i) => i.principalId },
  { header: "UserAssigned", get: (i) => Object.keys(i.userAssignedIdentities ?? {}).length },
];

const same = (a: string, b: string) => identityNameOf(a).toLowerCase() === identityNameOf(b).toLowerCase();

/** The job's identity with system on or off and these user-assigned identities (keys as given). */
function identityOf(system: boolean, users: string[]): Obj {
  const type = [system ? "SystemAssigned" : "", users.length ? "UserAssigned" : ""].filter(Boolean).join(",");
  return type
    ? { type, ...(users.length ? { userAssignedIdentities: Object.fromEntries(users.map((u) => [u, {}])) } : {}) }
    : { type: "None" };
}

/** Reads the job, lets `change` set its identity, writes it back and prints the identity as az does. */
async function changeIdentity(o: Obj, change: (system: boolean, users: string[]) => Obj): Promise<void> {
  checkFormat(o.output);
  checkJobName(o.name);
  const api = new ApiClient(o.dataDir);
  const entry = await api.request("GET", `/jobs/${o.name}/definition`);
  const now = entry.identity ?? { type: "None" };
  entry.identity = change(/SystemAssigned/i.test(now.type), Object.keys(now.userAssignedIdentities ?? {}));
  await api.request("PUT", `/jobs/${o.name}`, entry);
  print(await api.request("GET", `/jobs/${o.name}/identity`), o.output, COLUMNS);
}

export function registerJobIdentity(job: Command, common: (cmd: Command) => Command): void {
  const identity = job.command("identity").description("A job's managed identities (az containerapp job identity)");
  const named = (cmd: Command) => common(cmd).requiredOption("-n, --name <name>", "the job's name");

  named(identity.command("assign"))
    .description("Give the job its system-assigned identity and/or user-assigned identities (names or resource ids)")
    .option("--system-assigned", "the job's system-assigned identity")
    .option("--user-assigned <identities...>", "user-assigned identities (resource ids or names)")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job identity assign -n job-python --user-assigned $IDENTITY_ID\n  eventjobs containerapp job identity assign -n job-python --system-assigned --query principalId -o tsv\n",
    )
    .action((o: Obj) => {
      if (!o.systemAssigned && !o.userAssigned) fail("Usage error: give --system-assigned, --user-assigned or both");
      return changeIdentity(o, (system, users) => {
        const added = (o.userAssigned ?? []).filter((u: string) => !users.some((x) => same(x, u)));
        return identityOf(system || !!o.systemAssigned, [...users, ...added]);
      });
    });

  named(identity.command("remove"))
    .description("Take identities away from the job: --user-assigned without ids removes every user-assigned one")
    .option("--system-assigned", "the job's system-assigned identity")
    .option("--user-assigned [identities...]", "user-assigned identities (resource ids or names); none given: all")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job identity remove -n job-python --user-assigned $IDENTITY_ID\n  eventjobs containerapp job identity remove -n job-python --system-assigned\n",
    )
    .action((o: Obj) => {
      if (!o.systemAssigned && !o.userAssigned) fail("Usage error: give --system-assigned, --user-assigned or both");
      return changeIdentity(o, (system, users) => {
        if (o.systemAssigned && !system) fail(`The containerapp job '${o.name}' has no system assigned identity.`);
        const gone: string[] = o.userAssigned === true ? users : (o.userAssigned ?? []);
        for (const u of gone)
          if (!users.some((x) => same(x, u)))
            fail(
              `The containerapp job '${o.name}' does not have specified user identity '${u}' assigned, so it cannot be removed.`,
            );
        return identityOf(
          system && !o.systemAssigned,
          users.filter((x) => !gone.some((u) => same(x, u))),
        );
      });
    });

  named(identity.command("show"))
    .description("Show the job's identities: type, the system-assigned principal id, the user-assigned client ids")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job identity show -n job-python\n  eventjobs containerapp job identity show -n job-python --query type -o tsv\n",
    )
    .action(async (o: Obj) => {
      checkJobName(o.name);
      print(await new ApiClient(o.dataDir).request("GET", `/jobs/${o.name}/identity`), o.output, COLUMNS);
    });
}
