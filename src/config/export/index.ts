// Exports of a project to Azure and Kubernetes: pure functions from the loaded config to text.
import type { ProjectConfig } from "../../model/config.js";
import { exportAcaYaml } from "./aca-yaml.js";
import { exportAz } from "./az.js";
import { buildModel, ExportError } from "./common.js";
import { exportKeda } from "./keda.js";
import { exportTerraform } from "./terraform.js";

export { ExportError } from "./common.js";

export const EXPORT_FORMATS = ["aca-yaml", "az", "terraform", "keda"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** only this job's job-related output (namespaces, identities and role assignments stay) */
  job?: string;
}

/** The project as `format` text. Throws ExportError (bad format, unknown job or reference) or
 *  JobDefinitionError (an invalid job entry). No secret value is ever part of the result. */
export function exportProject(config: ProjectConfig, options: ExportOptions): string {
  if (!EXPORT_FORMATS.includes(options.format)) {
    throw new ExportError(`--format "${options.format}": expected one of ${EXPORT_FORMATS.join(", ")}`);
  }
  const model = buildModel(config, options.job);
  switch (options.format) {
    case "aca-yaml":
      return exportAcaYaml(model);
    case "az":
      return exportAz(model);
    case "terraform":
      return exportTerraform(model);
    case "keda":
      return exportKeda(model);
  }
}
