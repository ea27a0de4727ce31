// `eventjobs servicebus namespace|queue authorization-rule ...`: shared access policies with az's names,
// flags and output shapes. `keys list` and `keys renew` are the only commands that print keys, as in az.
import type { Command } from "commander";
import { ApiClient, addDataDirOption } from "./client.js";
import { addOutputOption, checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;
type Scope = "namespace" | "queue";

const RULE_COLUMNS: Column[] = [
  { header: "Name", get: (r) => r.name },
  { header: "ResourceGroup", get: (r) => r.resourceGroup },
  { header: "Rights", get: (r) => r.rights.join(", ") },
];
const KEY_COLUMNS: Column[] = [
  { header: "KeyName", get: (k) => k.keyName },
  { header: "PrimaryConnectionString", get: (k) => k.primaryConnectionString },
  { header: "SecondaryConnectionString", get: (k) => k.secondaryConnectionString },
];

const enc = encodeURIComponent;

function rulesPath(scope: Scope, o: Obj, rule?: string): string {
  const base = `/servicebus/namespaces/${enc(o.namespaceName)}${scope === "queue" ? `/queues/${enc(o.queueName)}` : ""}/authorizationRules`;
  return rule === undefined ? base : `${base}/${enc(rule)}`;
}

/** az's --rights takes space-separated values (and, from scripts, a comma-separated one). */
function rights(values: string[] | undefined): string[] | undefined {
  return values
    ?.flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

export function registerAuthorizationRules(parent: Command, scope: Scope): void {
  const az = `az servicebus ${scope} authorization-rule`;
  const rule = parent.command("authorization-rule").description(`Shared access policies of a ${scope} (${az})`);
  const where =
    scope === "queue" ? "--namespace-name sbemulatorns --queue-name orders" : "--namespace-name sbemulatorns";
  const ex = (...lines: string[]) =>
    `\nExamples:\n${lines.map((l) => `  eventjobs servicebus ${scope} authorization-rule ${l}\n`).join("")}`;
  const base = (cmd: Command, named: boolean) => {
    addOutputOption(addDataDirOption(cmd))
      .requiredOption("--namespace-name <namespace>", "the namespace")
      .option("-g, --resource-group <name>", "accepted for az compatibility")
      .option("--subscription <id>", "accepted for az compatibility");
    if (scope === "queue") cmd.requiredOption("--queue-name <queue>", "the queue");
    if (named) cmd.requiredOption("-n, --name <rule>", "the authorization rule");
    return cmd;
  };
  const api = (o: Obj) => new ApiClient(o.dataDir);

  base(rule.command("list"), false)
    .description(`List the ${scope}'s authorization rules (no keys: see keys list)`)
    .addHelpText("after", ex(`list ${where} -o table`))
    .action(async (o: Obj) => print((await api(o).request("GET", rulesPath(scope, o))).value, o.output, RULE_COLUMNS));
  base(rule.command("show"), true)
    .description("Show an authorization rule (no keys: see keys list)")
    .addHelpText("after", ex(`show ${where} --name RootManageSharedAccessKey`))
    .action(async (o: Obj) => print(await api(o).request("GET", rulesPath(scope, o, o.name)), o.output, RULE_COLUMNS));
  for (const verb of ["create", "update"] as const) {
    base(rule.command(verb), true)
      .description(
        verb === "create"
          ? "Create an authorization rule with new keys (Base64 of 32 random bytes), or set an existing one's rights"
          : "Change an existing rule's rights (its keys stay)",
      )
      .requiredOption("--rights <rights...>", "Listen, Send, Manage (Manage needs the other two)")
      .addHelpText(
        "after",
        ex(`${verb} ${where} --name app --rights Send Listen`, `${verb} ${where} -n monitor --rights Listen -o table`),
      )
      .action(async (o: Obj) => {
        checkFormat(o.output);
        const client = api(o);
        if (verb === "update") await client.request("GET", rulesPath(scope, o, o.name)); // "not found", as az says
        print(
          await client.request("PUT", rulesPath(scope, o, o.name), { rights: rights(o.rights) }),
          o.output,
          RULE_COLUMNS,
        );
      });
  }
  base(rule.command("delete"), true)
    .description("Delete an authorization rule: tokens signed with its keys are refused from then on")
    .addHelpText("after", ex(`delete ${where} --name app`))
    .action(async (o: Obj) => {
      await api(o).request("DELETE", rulesPath(scope, o, o.name));
    });

  const keys = rule.command("keys").description("The keys and connection strings of an authorization rule");
  base(keys.command("list"), true)
    .description("Print the rule's keys and connection strings (the emulator form; --tls for AMQPS)")
    .option(
      "--tls",
      "connection strings in the AMQPS form (no UseDevelopmentEmulator), for clients that trust the local CA",
    )
    .addHelpText(
      "after",
      ex(
        `keys list ${where} --name RootManageSharedAccessKey`,
        `keys list ${where} -n app --query primaryConnectionString -o tsv`,
        `keys list ${where} -n app --tls -o yaml`,
      ),
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      const keys = await api(o).request("POST", `${rulesPath(scope, o, o.name)}/listKeys${o.tls ? "?tls=true" : ""}`);
      print(keys, o.output, KEY_COLUMNS);
    });
  base(keys.command("renew"), true)
    .description(
      "Regenerate one of the rule's keys (or set it with --key-value): tokens signed with the old key are refused at once",
    )
    .requiredOption("--key <which>", "PrimaryKey or SecondaryKey")
    .option("--key-value <key>", "the new key (default: Base64 of 32 random bytes)")
    .option("--tls", "connection strings in the AMQPS form")
    .addHelpText(
      "after",
      ex(
        `keys renew ${where} --name app --key PrimaryKey`,
        `keys renew ${where} -n app --key SecondaryKey --key-value "$(openssl rand -base64 32)"`,
      ),
    )
    .action(async (o: Obj) => {
      if (o.key !== "PrimaryKey" && o.key !== "SecondaryKey")
        fail(`argument --key: invalid choice: '${o.key}' (choose from 'PrimaryKey', 'SecondaryKey')`);
      checkFormat(o.output);
      const body = { keyType: o.key, ...(o.keyValue === undefined ? {} : { key: o.keyValue }) };
      const path = `${rulesPath(scope, o, o.name)}/regenerateKeys${o.tls ? "?tls=true" : ""}`;
      print(await api(o).request("POST", path, body), o.output, KEY_COLUMNS);
    });
}
