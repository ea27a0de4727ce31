// `export --format terraform` for container registries: azurerm_container_registry per registry the project uses,
// the AcrPull role assignment of each job's registry identity, and a terraform_data per declared image whose
// local-exec runs `az acr build` (as the lab builds its image), so `terraform apply` deploys everything.
import type { JobSpec } from "../../jobs/job-definition.js";
import type { ExportModel } from "./common.js";
import { block, expr, hcl, label, type Body } from "./hcl.js";
import { acrPulls, projectRegistries } from "./registries.js";

const imageLabel = (acr: string, image: string) => label("build", acr, image);

/** The registry blocks, and the AcrPull assignments' labels by `<acr>|<identity>`. */
export function registryResources(model: ExportModel): { blocks: string[]; pulls: Map<string, string> } {
  const blocks: string[] = [];
  const pulls = new Map<string, string>();
  const acrs = projectRegistries(model);
  if (!acrs.length) return { blocks, pulls };
  blocks.push("# container registries: names are global in Azure, rename them if taken");
  for (const acr of acrs)
    blocks.push(
      block(`resource "azurerm_container_registry" "${label(acr)}"`, [
        ["name", acr],
        ["resource_group_name", expr("var.resource_group_name")],
        ["location", expr("var.location")],
        ["sku", "Basic"],
        ["admin_enabled", false],
      ]),
    );
  for (const { acr, identity } of acrPulls(model)) {
    const name = label(identity.name, "acrpull", acr);
    pulls.set(`${acr}|${identity.name}`, name);
    blocks.push(
      block(`resource "azurerm_role_assignment" "${name}"`, [
        ["scope", expr(`azurerm_container_registry.${label(acr)}.id`)],
        ["role_definition_name", "AcrPull"],
        ["principal_id", expr(`azurerm_user_assigned_identity.${label(identity.name)}.principal_id`)],
        ["principal_type", "ServicePrincipal"],
      ]),
    );
  }
  const images = builtImages(model);
  if (images.length)
    blocks.push(
      `# the images, built by ACR Tasks from their folders (paths as in ${model.source}: keep this file next to it)`,
    );
  for (const i of images) {
    const body: Body = [["triggers_replace", [i.image]]];
    const command = `az acr build --registry \${azurerm_container_registry.${label(i.acr)}.name} --image ${i.image} ${i.context}`;
    // hcl() escapes `${`: the registry reference is put back as an interpolation
    body.push(['provisioner "local-exec"', [["command", expr(hcl(command).replace("$${", "${"))]]]);
    blocks.push(block(`resource "terraform_data" "${imageLabel(i.acr, i.image)}"`, body));
  }
  return { blocks, pulls };
}

/** The terraform_data addresses that build the images `job` runs from registry `acr`. */
export function builds(model: ExportModel, acr: string, job: JobSpec): string[] {
  return builtImages(model)
    .filter((i) => i.acr === acr && job.template.containers.some((c) => c.image === `${acr}.azurecr.io/${i.image}`))
    .map((i) => `terraform_data.${imageLabel(i.acr, i.image)}`);
}

function builtImages(model: ExportModel): Array<{ acr: string; image: string; context: string }> {
  return model.images.flatMap((i) =>
    i.registry && i.image && i.context
      ? [{ acr: i.registry.replace(/\.azurecr\.io$/i, "").toLowerCase(), image: i.image, context: i.context }]
      : [],
  );
}
