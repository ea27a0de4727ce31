#!/usr/bin/env node
// The eventjobs command line: one module per command group, registered here.
import { Command } from "commander";
import { registerAcr } from "./acr.js";
import { registerCa } from "./ca.js";
import { registerExec } from "./exec.js";
import { registerExport } from "./export.js";
import { registerDemo } from "./demo.js";
import { registerJob } from "./job.js";
import { registerLifecycle } from "./lifecycle.js";
import { registerProject } from "./project.js";
import { registerHosts } from "./hosts.js";
import { registerIdentity } from "./identity.js";
import { registerLogin } from "./login.js";
import { registerRole } from "./role.js";
import { registerServiceBus } from "./servicebus.js";
import { registerTerraform } from "./terraform.js";
import { registerUp } from "./up.js";
import { exitOnError } from "./util.js";

const program = new Command("eventjobs")
  .description("Azure Service Bus, KEDA and Container Apps Jobs on one machine")
  .showHelpAfterError("(run with --help for usage and examples)");
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
registerRole(program);
registerLogin(program);
registerHosts(program);
registerTerraform(program);

program.parseAsync(process.argv).catch(exitOnError);
