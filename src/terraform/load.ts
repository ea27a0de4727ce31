// Reads a Terraform folder: every *.tf file parsed with HashiCorp's HCL parser (@cdktf/hcl2json, HCL compiled to
// WebAssembly), merged into one module with the file:line of each block; variables from -var, -var-file and
// terraform.tfvars. See docs/terraform.md.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parse } from "@cdktf/hcl2json";

type Obj = Record<string, any>;

export interface Block {
  /** `azurerm_servicebus_queue.queue`, `data.azurerm_client_config.current`, `var.location`, `output.x` */
  address: string;
  type: string;
  name: string;
  body: Obj;
  /** `main.tf:12` */
  at: string;
}

export interface Module {
  dir: string;
  variables: Block[];
  locals: Map<string, { value: unknown; at: string }>;
  outputs: Block[];
  resources: Block[];
  data: Block[];
}

export class TerraformError extends Error {}

/** The line of the first `keyword "a" "b"` (or `keyword "a"`) header in `text`, 1-based, or 1. */
function lineOf(text: string, keyword: string, ...labels: string[]): number {
  const re = new RegExp(
    `^\\s*${keyword}${labels.map((l) => `\\s+"${l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`).join("")}\\s*\\{`,
    "m",
  );
  const m = re.exec(text);
  return m ? text.slice(0, m.index + m[0].search(/\S/)).split("\n").length : 1;
}

function lineOfLocal(text: string, name: string): number {
  const m = new RegExp(`^\\s*${name}\\s*=`, "m").exec(text);
  return m ? text.slice(0, m.index + m[0].search(/\S/)).split("\n").length : 1;
}

export async function loadModule(dirArg: string): Promise<Module> {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new TerraformError(`-chdir=${dirArg}: no such directory`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort();
  if (!files.length) throw new TerraformError(`no Terraform configuration files (*.tf) in ${dir}`);
  const mod: Module = { dir, variables: [], locals: new Map(), outputs: [], resources: [], data: [] };
  for (const f of files) {
    const text = readFileSync(join(dir, f), "utf8");
    if (/\.tf\.json$/.test(f)) continue;
    let doc: Obj;
    try {
      doc = (await parse(f, text)) as Obj;
    } catch (e) {
      throw new TerraformError(`${f}: ${(e as Error).message.trim()}`);
    }
    const at = (line: number) => `${f}:${line}`;
    for (const [name, [body]] of Object.entries((doc.variable ?? {}) as Record<string, Obj[]>))
      mod.variables.push({
        address: `var.${name}`,
        type: "variable",
        name,
        body,
        at: at(lineOf(text, "variable", name)),
      });
    for (const [name, [body]] of Object.entries((doc.output ?? {}) as Record<string, Obj[]>))
      mod.outputs.push({ address: `output.${name}`, type: "output", name, body, at: at(lineOf(text, "output", name)) });
    for (const locals of (doc.locals ?? []) as Obj[])
      for (const [name, value] of Object.entries(locals))
        mod.locals.set(name, { value, at: at(lineOfLocal(text, name)) });
    for (const [kind, list] of [
      ["resource", mod.resources],
      ["data", mod.data],
    ] as const)
      for (const [type, byName] of Object.entries((doc[kind] ?? {}) as Record<string, Record<string, Obj[]>>))
        for (const [name, [body]] of Object.entries(byName))
          list.push({
            address: `${kind === "data" ? "data." : ""}${type}.${name}`,
            type,
            name,
            body,
            at: at(lineOf(text, kind, type, name)),
          });
    for (const k of Object.keys(doc))
      if (!["variable", "output", "locals", "resource", "data", "terraform", "provider"].includes(k))
        throw new TerraformError(`${f}:${lineOf(text, k)}: "${k}" blocks are not supported here (docs/terraform.md)`);
  }
  return mod;
}

/** Values for variables: defaults, then terraform.tfvars, *.auto.tfvars, each -var-file, each -var (last wins). */
export async function variableValues(mod: Module, varFiles: string[], vars: string[]): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const declared = new Set(mod.variables.map((v) => v.name));
  for (const v of mod.variables) if ("default" in v.body) out.set(v.name, v.body.default);
  const auto = readdirSync(mod.dir)
    .filter((f) => f === "terraform.tfvars" || f.endsWith(".auto.tfvars"))
    .sort()
    .map((f) => join(mod.dir, f));
  for (const file of [...auto, ...varFiles.map((f) => resolve(f))]) {
    if (!existsSync(file)) throw new TerraformError(`-var-file=${file}: no such file`);
    const doc = (await parse(basename(file), readFileSync(file, "utf8"))) as Obj;
    for (const [k, v] of Object.entries(doc)) {
      if (!declared.has(k)) throw new TerraformError(`${basename(file)}: value for undeclared variable "${k}"`);
      out.set(k, v);
    }
  }
  for (const kv of vars) {
    const i = kv.indexOf("=");
    if (i < 1) throw new TerraformError(`-var "${kv}": expected NAME=VALUE`);
    const k = kv.slice(0, i);
    if (!declared.has(k)) throw new TerraformError(`-var "${kv}": no variable "${k}" is declared`);
    const v = kv.slice(i + 1);
    // a -var value is a string unless the variable declares another type, as in Terraform
    const type = mod.variables.find((x) => x.name === k)!.body.type;
    out.set(k, type === "${number}" ? Number(v) : type === "${bool}" ? v === "true" : v);
  }
  for (const v of mod.variables)
    if (!out.has(v.name))
      throw new TerraformError(`${v.at}: variable "${v.name}" has no value (pass -var ${v.name}=…)`);
  return out;
}
