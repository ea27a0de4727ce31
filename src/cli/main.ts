#!/usr/bin/env node
// The eventjobs command line: one module per command group, registered here.
import { Command } from "commander";
import { ConfigError } from "../config/model.js";
import { RefError } from "../config/refs.js";
import { JobDefinitionError } from "../jobs/model.js";
import { registerAcr } from "./acr.js";
import { registerCa } from "./ca.js";
import { registerExec } from "./exec.js";
import { registerExport } from "./export.js";
import { registerDemo } from "./demo.js";
import { registerJob } from "./job.js";
import { registerProject } from "./project.js";
import { registerIdentity } from "./identity.js";
import { registerRole } from "./role.js";
import { registerServiceBus } from "./servicebus.js";
import { registerUp } from "./up.js";
import { CliError } from "./util.js";

const program = new Command("eventjobs")
  .description("Azure Service Bus, KEDA and Container Apps Jobs on one machine")
  .showHelpAfterError("(run with --help for usage and examples)");
registerUp(program);
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

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError || err instanceof ConfigError || err instanceof JobDefinitionError || err instanceof RefError) {
    console.error(`eventjobs: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
