// The parts of eventjobs.yaml other layers define: images, jobs (the Container Apps shape, checked by the
// schema and then by the jobs model) and identities (checked by identity/config.ts). Their problems are
// given the position of the field they name, so every error reads file:line:col like the namespace checks.
import { parseIdentityConfig } from "../identity/config.js";
import { normalizeRegistry, parseImageName } from "../jobs/images.js";
import { JobDefinitionError, normalizeJob } from "../jobs/job-definition.js";
import { ConfigError, jobIssues, type ConfigIssue } from "../model/config.js";
import { locate } from "../model/positions.js";
import { checkSchema, projectSchema } from "./schema.js";
import { at, type Checker, type SrcNode } from "../model/validate.js";

/** Whether a problem at `path` is already covered by one reported at `path` or an enclosing field. */
function covered(c: Checker, path: string): boolean {
  return c.issues.some(
    (i) => i.path === path || (i.path !== "" && (path.startsWith(i.path + ".") || path.startsWith(i.path + "["))),
  );
}

/** Adds problems found by another layer (paths without positions), skipping those already reported. */
export function addIssues(c: Checker, root: SrcNode, issues: ConfigIssue[]): void {
  for (const i of issues) {
    if (covered(c, i.path)) continue;
    const p = i.line === undefined ? locate(root, i.path) : { line: i.line, col: i.col };
    c.report(p, i.path, i.value, i.expected);
  }
}

/** images: the schema, then Docker's naming rules and no image listed twice. */
export function checkImages(c: Checker, node: SrcNode, root: SrcNode): void {
  checkSchema(c, node, projectSchema().properties.images, "images");
  if (node.kind !== "seq") return;
  const seen = new Map<string, string>();
  node.items.forEach((item, i) => {
    if (item.kind !== "map") return;
    const get = (k: string) => item.entries.find((e) => e.key === k)?.value;
    const reg = get("registry");
    const img = get("image");
    if (
      reg?.kind !== "scalar" ||
      img?.kind !== "scalar" ||
      typeof reg.value !== "string" ||
      typeof img.value !== "string"
    )
      return;
    // the schema's patterns catch most bad names; Docker's full rules (acr build's messages) the rest
    let registry: string;
    try {
      registry = normalizeRegistry(reg.value);
    } catch (e) {
      return addIssues(c, root, [
        {
          path: `images[${i}].registry`,
          value: JSON.stringify(reg.value),
          expected: (e as Error).message.replace(/^--registry "[^"]*": /, ""),
        },
      ]);
    }
    try {
      const { repository, tag } = parseImageName(img.value, registry);
      const ref = `${registry}.azurecr.io/${repository}:${tag}`;
      const first = seen.get(ref);
      if (first) c.bad(img, at(`images[${i}]`, "image"), `an image not listed before (${first} builds ${ref})`);
      else seen.set(ref, `images[${i}]`);
    } catch (e) {
      addIssues(c, root, [
        {
          path: `images[${i}].image`,
          value: JSON.stringify(img.value),
          expected: (e as Error).message.replace(/^--image "[^"]*": /, ""),
        },
      ]);
    }
  });
}

/** jobs: the schema, then the jobs model's own checks (defaults, secrets, identity), unique names. */
export function checkJobs(c: Checker, node: SrcNode, raw: unknown, root: SrcNode): void {
  checkSchema(c, node, projectSchema().properties.jobs, "jobs");
  if (!Array.isArray(raw)) return;
  const names = new Map<string, number>();
  raw.forEach((entry, i) => {
    try {
      const job = normalizeJob(entry);
      const first = names.get(job.name);
      if (first !== undefined)
        addIssues(c, root, [
          {
            path: `jobs[${i}].name`,
            value: JSON.stringify(job.name),
            expected: `a job name not used before (jobs[${first}] has it)`,
          },
        ]);
      else names.set(job.name, i);
    } catch (e) {
      if (!(e instanceof JobDefinitionError)) throw e;
      addIssues(c, root, jobIssues(`jobs[${i}]`, e.issues));
    }
  });
}

/** identities, roleAssignments and the jobs' identity blocks (identity/config.ts), with positions. */
export function checkIdentities(c: Checker, extra: Record<string, unknown>, namespaces: string[], root: SrcNode): void {
  try {
    parseIdentityConfig(extra, namespaces, c.file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    addIssues(c, root, e.issues);
  }
}
