// `eventjobs export`: the project file (or, with --from-server, what the running server holds) as Container Apps
// YAML, az commands, Terraform or KEDA manifests. Secret values are never part of the output.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { loadConfigFile } from "../config/load.js";
import { EXPORT_FORMATS, ExportError, exportProject, type ExportFormat } from "../config/export/index.js";
import { JobDefinitionError } from "../jobs/job-definition.js";
import { ConfigError, type ProjectConfig } from "../model/config.js";
import { DEFAULT_DATA_DIR } from "./client.js";
import { projectFromServer } from "./export-server.js";
import { fail } from "./util.js";

/** Other names of a format: Container Apps' own. */
const ALIASES: Record<string, ExportFormat> = { containerapps: "aca-yaml" };

interface ExportOptions {
  format: string;
  job?: string;
  config: string;
  output?: string;
  fromServer?: boolean;
  dataDir: string;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description(
      "Export the project (namespaces, queues, topics, identities, role assignments, jobs) to Azure or Kubernetes + KEDA; secrets become placeholders",
    )
    .requiredOption("--format <format>", `${EXPORT_FORMATS.join(" | ")} (containerapps = aca-yaml)`)
    .option("--job <name>", "only this job (Service Bus resources, identities and role assignments are still exported)")
    .option("--config <file>", "eventjobs.yaml or the emulator's Config.json", "eventjobs.yaml")
    .option("-o, --output <file>", "write to FILE instead of standard output")
    .option(
      "--from-server",
      "export what the running server holds (made by apply, terraform or az commands) instead of --config",
    )
    .option(
      "--data-dir <dir>",
      "the server's data directory (with --from-server)",
      process.env.EVENTJOBS_DATA_DIR ?? DEFAULT_DATA_DIR,
    )
    .addHelpText(
      "after",
      "\nFormats:\n" +
        "  aca-yaml   the body az containerapp job create --yaml takes, one document per job (also: containerapps)\n" +
        "  az         a bash script of az commands (resource group, Service Bus with topics, registry and images, identities, roles, jobs)\n" +
        "  terraform  azurerm ~> 4.0 resources (registry, image builds, AcrPull too), with variables for the resource group,\n" +
        "             location, environment id and subscription\n" +
        "  keda       Kubernetes Secret, TriggerAuthentication and ScaledJob manifests; workload identity's ServiceAccount\n" +
        "\nExamples:\n  eventjobs export --format az > deploy.sh\n  eventjobs export --format aca-yaml --job job-python -o job-python.yaml\n  eventjobs export --format terraform --from-server -o main.tf\n",
    )
    .action(async (o: ExportOptions) => {
      const format = ALIASES[o.format] ?? o.format;
      if (!(EXPORT_FORMATS as readonly string[]).includes(format))
        fail(`--format "${o.format}": expected one of ${EXPORT_FORMATS.join(", ")}`);
      let config: ProjectConfig;
      try {
        config = o.fromServer ? await projectFromServer(o.dataDir) : loadConfigFile(o.config);
      } catch (e) {
        // what the server holds that a project file cannot say (a bug here, not the user's): named, not hidden
        if (o.fromServer && e instanceof ConfigError) fail(`--from-server: ${e.message}`);
        throw e;
      }
      let text: string;
      try {
        text = exportProject(config, { format: format as ExportFormat, job: o.job });
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
        console.error(`exported ${format} to ${o.output}`);
      }
    });
}
