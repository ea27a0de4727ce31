#!/usr/bin/env node
// The eventjobs command line: one module per command group, registered here.
import { Command } from "commander";
import { registerAcr } from "./acr.js";
import { registerCa } from "./ca.js";
import { registerExec } from "./exec.js";
import { registerExport } from "./export.js";
import { registerDemo } from "./demo.js";
import { registerGroup } from "./group.js";
import { registerJob } from "./job.js";
import { registerLifecycle } from "./lifecycle.js";
import { registerProject } from "./project.js";
import { registerHosts } from "./hosts.js";
import { registerIdentity } from "./identity.js";
import { registerLogin } from "./login.js";
import { registerMonitor } from "./monitor.js";
import { registerRole } from "./role.js";
import { registerServiceBus } from "./servicebus.js";
import { registerTerraform } from "./terraform.js";
import { registerUp } from "./up.js";
import { useQuery } from "./output.js";
import { exitOnError } from "./util.js";
import { registerVersion, versionText } from "./version.js";

const program = new Command("eventjobs")
  .description("Azure Service Bus, KEDA and Container Apps Jobs on one machine")
  .showHelpAfterError("(run with --help for usage and examples)")
  .version(versionText(), "--version", "print the eventjobs version and the azure-cli version its commands follow")
  // every command that prints through output.ts applies its --query (az's JMESPath)
  .hook("preAction", (_program, command) => useQuery(command.opts().query));
registerUp(program);
registerLifecycle(program);
registerJob(program);
registerDemo(program);
registerAcr(program);
registerCa(program);
registerExec(program);
registerExport(program);
registerProject(program);
registerServiceBus(program);
registerIdentity(program);
registerGroup(program);
registerRole(program);
registerLogin(program);
registerHosts(program);
registerTerraform(program);
registerVersion(program);
registerMonitor(program);

program.parseAsync(process.argv).catch(exitOnError);
