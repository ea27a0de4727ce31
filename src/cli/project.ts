// `eventjobs plan|apply|destroy`: a project file against the running server. plan shows what would change,
// apply changes it (all or nothing) and says what it does as it goes, destroy removes what the project made.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { formatPlan, summary, type Plan } from "../control/diff.js";
import { warnCloudNames } from "./hosts-file.js";
import { ApiClient, addDataDirOption, readNdjson } from "./client.js";
import { print } from "./output.js";
import { EXIT, fail } from "./util.js";

type Obj = Record<string, any>;
const FORMATS = ["text", "json", "yaml"];

function projectFile(config?: string): { file: string; text: string } {
  const file = resolve(config ?? "eventjobs.yaml");
  if (!existsSync(file))
    fail(config ? `--config "${config}": no such file` : `no eventjobs.yaml in ${process.cwd()} (pass --config FILE)`);
  return { file, text: readFileSync(file, "utf8") };
}

/** The server's jobs, as `containerapp job list` shows them. */
async function serverJobs(dataDir: string): Promise<Array<{ name: string; body: unknown }>> {
  const jobs = (await new ApiClient(dataDir).request("GET", "/jobs")).value as Array<{ name: string }>;
  return jobs.map((j) => ({ name: j.name, body: j }));
}

function checkOutput(o: string): void {
  if (!FORMATS.includes(o)) fail(`--output "${o}": expected one of ${FORMATS.join(", ")}`);
}

/** Reads apply/destroy's event stream: plan, one line per step as it ends, then the result. */
async function follow(res: Response, format: string): Promise<Obj> {
  if (!res.ok || !res.body) {
    const data = (await res.json().catch(() => ({}))) as Obj;
    fail(
      `${data.error?.message ?? `HTTP ${res.status}`}${data.error?.code === "InvalidConfig" ? "\nNothing was changed." : ""}`,
    );
  }
  const text = format === "text";
  const say = (s: string) => (text ? process.stdout.write(s) : process.stderr.write(s));
  let result: Obj | undefined;
  await readNdjson(res, (e: Obj) => {
    if (e.event === "step" && e.status === "start") say(`${e.text}... `);
    else if (e.event === "step") say(e.status === "done" ? "done\n" : `failed\n  ${e.error}\n`);
    else if (e.event === "plan" && text && e.plan.changes.length)
      say(
        formatPlan(e.plan as Plan)
          .slice(0, -1)
          .join("\n") + "\n\n",
      );
    else if (e.event === "error") fail(`${e.error.message}\nNothing was changed.`);
    else if (e.event === "result") return Boolean((result = e));
  });
  if (result) return result;
  fail("the server closed the connection before apply finished; run eventjobs plan to see where things stand");
}

function done(result: Obj, verb: string): string {
  const plan = result.plan as Plan;
  if (!plan.changes.length) return "No changes.";
  const n = (a: string) => plan.changes.filter((c) => c.action === a).length;
  const failed = (result.errors as string[]).length;
  return `${verb} complete: ${n("create")} created, ${n("update")} updated, ${n("delete") - failed} deleted.${failed ? ` ${failed} could not be deleted (they stay in the project; apply again to retry).` : ""}`;
}

/** apply's and destroy's result: the summary line (text) or the whole result; exit 1 when a deletion failed. */
function report(result: Obj, verb: string, format: string): void {
  if (format === "text") console.log(done(result, verb));
  else print(result, format, []);
  if (result.errors.length) process.exitCode = EXIT.error;
}

export function registerProject(program: Command): void {
  const common = (cmd: Command, def = "text") =>
    addDataDirOption(cmd)
      .option("--config <file>", "the project file (default: ./eventjobs.yaml)")
      .option("-o, --output <format>", `output format: ${FORMATS.join(", ")}`, def);

  common(program.command("plan"))
    .description(
      "Show what apply would change on the running server: + create, ~ update (each changed field), - delete; secrets masked",
    )
    .option("--detailed-exitcode", "exit 2 when there are changes, 0 when there are none")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs plan\n  eventjobs plan --config examples/seed/eventjobs.yaml -o json\n  eventjobs plan --detailed-exitcode || echo changes\n",
    )
    .action(async (o: Obj) => {
      checkOutput(o.output);
      const plan = (await new ApiClient(o.dataDir).request("POST", "/plan", projectFile(o.config))) as Plan;
      if (o.output === "text")
        console.log(
          plan.changes.length
            ? formatPlan(plan).join("\n")
            : `${summary(plan)} The running server matches ${plan.source ?? "the project"}.`,
        );
      else print(plan, o.output, []);
      if (o.detailedExitcode && plan.changes.length) process.exitCode = EXIT.changes;
    });

  common(program.command("apply"))
    .description(
      "Make the running server match the project file: build images, create, update and delete resources; all or nothing",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs apply\n  eventjobs apply --config examples/seed/eventjobs.yaml\n  eventjobs apply -o json > result.json\n",
    )
    .action(async (o: Obj) => {
      checkOutput(o.output);
      const res = await new ApiClient(o.dataDir).fetch("POST", "/apply", projectFile(o.config));
      report(await follow(res, o.output), "Apply", o.output);
      await warnCloudNames(await serverJobs(o.dataDir));
    });

  common(program.command("destroy"))
    .description("Delete everything the project created on the running server (resources made by other commands stay)")
    .option("-y, --yes", "do not ask for confirmation")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs destroy --yes\n  eventjobs destroy --config examples/seed/eventjobs.yaml\n",
    )
    .action(async (o: Obj) => {
      checkOutput(o.output);
      const api = new ApiClient(o.dataDir);
      const project = await api.request("GET", "/project");
      if (o.config && project.source && resolve(o.config) !== project.source)
        fail(`the server's project is ${project.source}, not ${resolve(o.config)}; nothing was destroyed`);
      if (!project.resources.length) {
        if (o.output === "text") console.log("No changes. The project owns nothing on this server.");
        else print({ plan: { changes: [], unchanged: 0 }, errors: [] }, o.output, []);
        return;
      }
      if (!o.yes) {
        if (!process.stdin.isTTY)
          fail(
            `destroy deletes ${project.resources.length} resources of ${project.source ?? "the project"}: pass --yes to confirm`,
          );
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(
          `Delete the ${project.resources.length} resources ${project.source ?? "the project"} created? (y/N) `,
        );
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) fail("destroy cancelled; nothing was changed");
      }
      report(await follow(await api.fetch("POST", "/destroy", {}), o.output), "Destroy", o.output);
    });
}
