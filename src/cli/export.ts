// `eventjobs export`: the project file as Container Apps YAML, az commands, Terraform or KEDA manifests.
// Reads only the file (no server needed); secret values are never part of the output.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { loadConfigFile } from "../config/load.js";
import { EXPORT_FORMATS, ExportError, exportProject, type ExportFormat } from "../config/export/index.js";
import { JobDefinitionError } from "../jobs/job-definition.js";
import { fail } from "./util.js";

interface ExportOptions {
  format: string;
  job?: string;
  config: string;
  output?: string;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description(
      "Export the project (namespaces, queues, topics, identities, role assignments, jobs) to Azure or Kubernetes + KEDA; secrets become placeholders",
    )
    .requiredOption("--format <format>", `${EXPORT_FORMATS.join(" | ")}`)
    .option("--job <name>", "only this job (Service Bus resources, identities and role assignments are still exported)")
    .option("--config <file>", "eventjobs.yaml or the emulator's Config.json", "eventjobs.yaml")
    .option("-o, --output <file>", "write to FILE instead of standard output")
    .addHelpText(
      "after",
      "\nFormats:\n" +
        "  aca-yaml   the body az containerapp job create --yaml takes, one document per job\n" +
        "  az         a bash script of az commands (resource group, Service Bus with topics, identities, roles, jobs)\n" +
        "  terraform  azurerm resources, with variables for the resource group, location and environment id\n" +
        "  keda       Kubernetes Secret, TriggerAuthentication and ScaledJob manifests\n" +
        "\nExamples:\n  eventjobs export --format az > deploy.sh\n  eventjobs export --format aca-yaml --job job-python -o job-python.yaml\n",
    )
    .action((o: ExportOptions) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(o.format))
        fail(`--format "${o.format}": expected one of ${EXPORT_FORMATS.join(", ")}`);
      const config = loadConfigFile(o.config);
      let text: string;
      try {
        text = exportProject(config, { format: o.format as ExportFormat, job: o.job });
      } catch (e) {
        if (e instanceof ExportError) fail(e.message);
        if (e instanceof JobDefinitionError) fail(`${o.config}: ${e.message}`);
        throw e;
      }
      if (o.output === undefined || o.output === "-") process.stdout.write(text);
      else {
        try {
          writeFileSync(o.output, text);
        } catch (e) {
          fail(`-o ${o.output}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
        }
        console.error(`exported ${o.format} to ${o.output}`);
      }
    });
}
