// `eventjobs terraform init|plan|apply|destroy|output`: a lab's Terraform folder (cwd or -chdir=DIR) against the
// server of the data dir, with Terraform's flags. The folder is translated into a project (src/terraform/) and
// goes through plan/apply/destroy as eventjobs.yaml does. See docs/terraform.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import type { Plan } from "../control/diff.js";
import { loadModule, TerraformError, variableValues, type Module } from "../terraform/load.js";
import { OFFLINE_CLIENT } from "../terraform/attributes.js";
import { runCommand } from "../terraform/local-exec.js";
import { formatTfPlan, isSecretValue, masked, tfChanges, type TfChange } from "../terraform/plan.js";
import { clearTfState, hashOf, readTfState, writeTfState, type TfState } from "../terraform/state.js";
import { checkTypes, EMULATED, located, translate, type Translation } from "../terraform/translate.js";
import { ApiClient, DEFAULT_DATA_DIR, readNdjson } from "./client.js";
import { clientConfig, jobNames, removeMade, resolveValues } from "./terraform-server.js";
import { CliError, EXIT, fail } from "./util.js";

type Obj = Record<string, any>;
const PROJECT_FILE = ".eventjobs-terraform.yaml"; // never written: names the translated project (image contexts)

interface Flags {
  chdir: string;
  dataDir: string;
  sub?: string;
  out?: string;
  vars: string[];
  varFiles: string[];
  autoApprove: boolean;
  detailed: boolean;
  json: boolean;
  raw: boolean;
  positional: string[];
}

function parseFlags(argv: string[]): Flags {
  const f: Flags = {
    chdir: ".",
    dataDir: process.env.EVENTJOBS_DATA_DIR ?? DEFAULT_DATA_DIR,
    vars: [],
    varFiles: [],
    autoApprove: false,
    detailed: false,
    json: false,
    raw: false,
    positional: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--?([\w-]+)(?:=(.*))?$/s.exec(a);
    if (!m) {
      if (f.sub === undefined) f.sub = a;
      else f.positional.push(a);
      continue;
    }
    const value = () => m[2] ?? argv[++i] ?? fail(`${a}: expected a value`);
    switch (m[1]) {
      case "chdir":
        f.chdir = value();
        break;
      case "data-dir":
        f.dataDir = value();
        break;
      case "out":
        f.out = value();
        break;
      case "var":
        f.vars.push(value());
        break;
      case "var-file":
        f.varFiles.push(value());
        break;
      case "auto-approve":
        f.autoApprove = true;
        break;
      case "detailed-exitcode":
        f.detailed = true;
        break;
      case "json":
        f.json = true;
        break;
      case "raw":
        f.raw = true;
        break;
      case "help":
      case "h":
        f.sub = "help";
        break;
      case "input":
      case "lock":
      case "no-color":
      case "upgrade":
      case "reconfigure":
      case "compact-warnings":
      case "refresh":
      case "parallelism":
        if (m[2] === undefined && ["parallelism"].includes(m[1])) i++;
        break;
      default:
        fail(`terraform: flag "${a}" is not supported here (docs/terraform.md)`);
    }
  }
  return f;
}

/** The folder translated; `offline` (validate) reads nothing from the server, as Terraform reads no data source. */
async function load(f: Flags, offline = false): Promise<{ mod: Module; t: Translation }> {
  const mod = await loadModule(f.chdir);
  checkTypes(mod);
  const vars = await variableValues(mod, f.varFiles, f.vars);
  const client = offline ? OFFLINE_CLIENT : await clientConfig(new ApiClient(f.dataDir), mod);
  return { mod, t: translate(mod, vars, client) };
}

const projectBody = (mod: Module, t: Translation) => ({
  text: `# translated from the Terraform folder ${mod.dir}\n${stringify(t.config)}`,
  file: join(mod.dir, PROJECT_FILE),
});

async function computePlan(f: Flags, mod: Module, t: Translation) {
  const api = new ApiClient(f.dataDir);
  const server = (await relocate(mod, t, () => api.request("POST", "/plan", projectBody(mod, t)))) as Plan;
  const changed = new Set(server.changes.map((c) => `${c.kind}:${c.id}`.toLowerCase()));
  const state = readTfState(f.dataDir);
  // resources another project file applied to this data dir, which this apply deletes
  const ours = new Set(
    [...t.resources, ...Object.values(state.resources)].flatMap((r) => r.owns.map((k) => k.toLowerCase())),
  );
  const others = server.changes.filter((c) => c.action === "delete" && !ours.has(`${c.kind}:${c.id}`.toLowerCase()));
  return { api, state, changes: tfChanges(t, state, changed), others: others.map((c) => c.title) };
}

/** Runs `fn`; an error naming the translated project names the Terraform block instead. */
async function relocate<T>(mod: Module, t: Translation, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliError) throw new CliError(located(e.message, t, join(mod.dir, PROJECT_FILE)));
    throw e;
  }
}

function warnOthers(others: string[]): void {
  if (others.length)
    console.log(
      `\nWarning: the data dir's project was applied from another file; apply also deletes what it made:\n${others.map((o) => `  - ${o}`).join("\n")}`,
    );
}

const notesOf = (t: Translation) => new Map(t.resources.filter((r) => r.note).map((r) => [r.address, r.note!]));

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`\n${question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
  rl.close();
  return answer.trim() === "yes";
}

/** `name = "value"`; sensitive outputs and connection strings as <sensitive>. */
function outputLine(o: TfState["outputs"][number]): string {
  const v = masked(o.name, o.value);
  return `${o.name} = ${o.sensitive || JSON.stringify(v).includes("(sensitive value)") ? "<sensitive>" : JSON.stringify(v)}`;
}

function printOutputs(outputs: TfState["outputs"]): void {
  if (!outputs.length) return;
  console.log("\nOutputs:\n");
  for (const o of outputs) console.log(outputLine(o));
}

/** Streams the server's apply/destroy events as lines; returns the result or fails. */
async function stream(res: Response): Promise<Obj> {
  if (!res.ok || !res.body) {
    const data = (await res.json().catch(() => ({}))) as Obj;
    fail(`${data.error?.message ?? `HTTP ${res.status}`}\nNothing was changed.`);
  }
  let result: Obj | undefined;
  await readNdjson(res, (e: Obj) => {
    if (e.event === "step" && e.status !== "start")
      console.log(`${e.text}... ${e.status === "done" ? "done" : `failed: ${e.error}`}`);
    else if (e.event === "error") fail(`${e.error.message}\nNothing was changed.`);
    else if (e.event === "result") return Boolean((result = e));
  });
  return result ?? fail("the server closed the connection before apply finished; run eventjobs terraform plan");
}

async function apply(f: Flags): Promise<void> {
  const planFile = f.positional[0];
  if (planFile) {
    const saved = JSON.parse(readFileSync(resolve(f.chdir, planFile), "utf8")) as Obj;
    if (saved.format !== "eventjobs-tfplan") fail(`${planFile}: not a plan file written by eventjobs terraform plan`);
    Object.assign(f, { vars: saved.vars, varFiles: saved.varFiles, chdir: saved.dir });
  }
  const { mod, t } = await load(f);
  const { api, state, changes, others } = await computePlan(f, mod, t);
  if (planFile) {
    const saved = JSON.parse(readFileSync(resolve(f.chdir, planFile), "utf8")) as Obj;
    if (saved.digest !== hashOf([t, changes]))
      fail("Saved plan is stale: the configuration or the server changed since it was made; run plan again");
  } else {
    console.log(formatTfPlan(changes, notesOf(t)).join("\n"));
    warnOthers(others);
    if (
      (changes.length || others.length) &&
      !f.autoApprove &&
      !(await confirm("Do you want to perform these actions?"))
    )
      fail("Apply cancelled.");
  }
  const result = await relocate(mod, t, async () => stream(await api.fetch("POST", "/apply", projectBody(mod, t))));
  const touched = new Set(changes.filter((c) => c.action !== "delete").map((c) => c.address));
  // the project is applied: the state is written even when a provisioner fails (its resource is left out, so the
  // next apply runs it again, as Terraform taints it)
  // what each resource's commands made (kept from earlier applies): destroy deletes it
  const made = new Map(Object.entries(state.resources).map(([k, r]) => [k, new Set(r.made ?? [])]));
  const write = async (failed?: string) => {
    const outputs = await Promise.all(t.outputs.map(async (o) => ({ ...o, value: await resolveValues(api, o.value) })));
    writeTfState(f.dataDir, {
      version: 1,
      dir: mod.dir,
      resources: Object.fromEntries(
        t.resources
          .filter((r) => r.address !== failed)
          .map((r) => {
            const m = [...(made.get(r.address) ?? [])];
            return [
              r.address,
              { type: r.type, hash: hashOf(r.args), args: r.args, owns: r.owns, ...(m.length ? { made: m } : {}) },
            ];
          }),
      ),
      outputs,
    });
    return outputs;
  };
  for (const cmd of t.commands.filter((c) => touched.has(c.address))) {
    console.log(`${cmd.address}: Provisioning with 'local-exec'...`);
    try {
      const before = await jobNames(api);
      // the server's values (connection strings, client ids, this server's addresses) go into the command
      const command = String(await resolveValues(api, cmd.command));
      // as Terraform does, a command with a secret in it shows none of its output
      const quiet = isSecretValue("command", cmd.command);
      let said = false;
      const say = (l: string) => {
        if (!quiet) console.log(`${cmd.address} ${l}`);
        else if (!said && (said = true))
          console.log(`${cmd.address} (local-exec): (output suppressed due to sensitive value in config)`);
      };
      await runCommand({ ...cmd, command, shown: cmd.command }, f.dataDir, say);
      const mine = made.get(cmd.address) ?? new Set<string>();
      for (const name of await jobNames(api)) if (!before.has(name)) mine.add(`job:${name}`);
      made.set(cmd.address, mine);
    } catch (e) {
      await write(cmd.address);
      throw e;
    }
  }
  const outputs = await write();
  const n = (a: TfChange["action"]) => changes.filter((c) => c.action === a).length;
  console.log(`\nApply complete! Resources: ${n("create")} added, ${n("update")} changed, ${n("delete")} destroyed.`);
  printOutputs(outputs);
  if ((result.errors as string[]).length) process.exitCode = EXIT.error;
}

async function destroy(f: Flags): Promise<void> {
  const state = readTfState(f.dataDir);
  const changes: TfChange[] = Object.entries(state.resources).map(([address, r]) => {
    const [type, name] = address.split(".").slice(-2);
    return { action: "delete", address, type, name, before: r.args };
  });
  console.log(formatTfPlan(changes, new Map()).join("\n"));
  if (!changes.length) return;
  if (!f.autoApprove && !(await confirm("Do you really want to destroy all resources?"))) fail("Destroy cancelled.");
  const api = new ApiClient(f.dataDir);
  // what local-exec commands made lives in the resource group Terraform deletes: it goes first (a job before its
  // namespace)
  await removeMade(
    api,
    Object.values(state.resources).flatMap((r) => r.made ?? []),
    (l) => console.log(l),
  );
  const result = await stream(await api.fetch("POST", "/destroy", {}));
  if ((result.errors as string[]).length) {
    process.exitCode = EXIT.error;
    console.log((result.errors as string[]).join("\n"));
    return;
  }
  clearTfState(f.dataDir);
  console.log(`\nDestroy complete! Resources: ${changes.length} destroyed.`);
}

async function run(argv: string[], cmd: Command): Promise<void> {
  const f = parseFlags(argv);
  if (f.sub === "help" || f.sub === undefined) return cmd.help();
  try {
    switch (f.sub) {
      case "init": {
        const mod = await loadModule(f.chdir);
        checkTypes(mod);
        console.log(
          "Initializing provider plugins...\n- azurerm, terraform_data, null: emulated by eventjobs (nothing to download)\n",
        );
        console.log("eventjobs will emulate:");
        const line = (at: string) => [at.split(":")[0], Number(at.split(":")[1])] as const;
        const byPlace = [...mod.resources].sort((a, b) => {
          const [fa, la] = line(a.at);
          const [fb, lb] = line(b.at);
          return fa.localeCompare(fb) || la - lb;
        });
        for (const r of byPlace) console.log(`  ${r.address} (${r.at}): ${EMULATED[r.type]}`);
        console.log("\neventjobs has been successfully initialized!");
        return;
      }
      case "validate": {
        await load(f, true);
        console.log("Success! The configuration is valid.");
        return;
      }
      case "plan": {
        const { mod, t } = await load(f);
        const { changes, others } = await computePlan(f, mod, t);
        console.log(formatTfPlan(changes, notesOf(t)).join("\n"));
        warnOthers(others);
        if (f.out) {
          const file = resolve(f.chdir, f.out);
          const saved = { format: "eventjobs-tfplan", dir: mod.dir, vars: f.vars, varFiles: f.varFiles };
          writeFileSync(file, JSON.stringify({ ...saved, digest: hashOf([t, changes]) }) + "\n", { mode: 0o600 });
          console.log(
            `\nSaved the plan to: ${f.out}\n\nTo perform exactly these actions, run:\n    eventjobs terraform apply "${f.out}"`,
          );
        }
        if (f.detailed && changes.length) process.exitCode = EXIT.changes;
        return;
      }
      case "apply":
        return await apply(f);
      case "destroy":
        return await destroy(f);
      case "output": {
        const outputs = readTfState(f.dataDir).outputs;
        const name = f.positional[0];
        if (name) {
          const o = outputs.find((x) => x.name === name) ?? fail(`output "${name}" not found (run apply first)`);
          console.log(f.raw && typeof o.value === "string" ? o.value : JSON.stringify(o.value, null, 2));
        } else if (f.json)
          console.log(
            JSON.stringify(
              Object.fromEntries(outputs.map((o) => [o.name, { sensitive: o.sensitive, value: o.value }])),
              null,
              2,
            ),
          );
        else for (const o of outputs) console.log(outputLine(o));
        return;
      }
      default:
        fail(
          `terraform: expected one of init, validate, plan, apply, destroy, output${f.sub ? ` (not "${f.sub}")` : ""}`,
        );
    }
  } catch (e) {
    if (e instanceof TerraformError) fail(`Error: ${e.message}`);
    throw e;
  }
}

export function registerTerraform(program: Command): void {
  program
    .command("terraform")
    .description("Run a Terraform folder (azurerm lab) here: init, validate, plan [-out F], apply [F], destroy, output")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]", "Terraform's arguments: [-chdir=DIR] init|plan|apply|destroy|output [flags]")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs terraform init\n  eventjobs terraform plan -out tfplan\n  eventjobs terraform apply tfplan\n  eventjobs terraform -chdir=examples/seed/terraform apply -auto-approve -var location=westeurope\n  eventjobs terraform output\n  eventjobs terraform destroy -auto-approve\n",
    )
    .action(async (args: string[], _o: unknown, cmd: Command) => run(args, cmd));
}
