// `eventjobs containerapp job ...`: az's job commands against the running server's control API.
import { Option, type Command } from "commander";
import { warnCloudNames } from "./hosts-file.js";
import { ApiClient, addDataDirOption } from "./client.js";
import {
  checkJobName,
  cpuFlag,
  cronFlag,
  envVars,
  intFlag,
  jobFromFlags,
  jobFromYaml,
  memoryFlag,
  startTemplate,
  type JobFlags,
} from "./job-flags.js";
import { explain } from "./job-explain.js";
import { registerJobIdentity } from "./job-identity.js";
import { showLogs, type LogsOptions } from "./job-logs.js";
import { addOutputOption, addQueryOption, checkFormat, print, type Column } from "./output.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

const JOB_COLUMNS: Column[] = [
  { header: "Name", get: (j) => j.name },
  { header: "TriggerType", get: (j) => j.properties?.configuration?.triggerType },
  { header: "ReplicaTimeout", get: (j) => j.properties?.configuration?.replicaTimeout },
  { header: "Image", get: (j) => j.properties?.template?.containers?.[0]?.image },
  { header: "ProvisioningState", get: (j) => j.properties?.provisioningState },
];
const EXECUTION_COLUMNS: Column[] = [
  { header: "Name", get: (e) => e.name },
  { header: "Status", get: (e) => e.properties.status },
  { header: "StartTime", get: (e) => e.properties.startTime },
  { header: "EndTime", get: (e) => e.properties.endTime },
];

/** Flags az requires for Azure only: accepted and recorded, never needed here. */
function azureFlags(cmd: Command): Command {
  return cmd
    .option("-g, --resource-group <name>", "accepted for az compatibility (recorded in the resource id)")
    .option("--subscription <id>", "accepted for az compatibility")
    .option("--no-wait", "accepted for az compatibility; operations finish before the command returns");
}

function common(cmd: Command): Command {
  return addOutputOption(addDataDirOption(azureFlags(cmd)));
}

const nameOption = (cmd: Command) => cmd.requiredOption("-n, --name <name>", "the job's name");

export function registerJob(program: Command): void {
  const containerapp =
    program.commands.find((c) => c.name() === "containerapp") ??
    program.command("containerapp").description("Container Apps jobs, run as local processes");
  const job = containerapp.command("job").description("Jobs: create, inspect, start and stop executions, read logs");

  common(nameOption(job.command("create")))
    .description("Create a job (the same flags as az containerapp job create)")
    .option("--environment <name>", "accepted for az compatibility (recorded)")
    .option("--trigger-type <type>", "Event, Manual or Schedule")
    .option("--replica-timeout <seconds>", "maximum seconds a replica may run (default 1800)")
    .option("--replica-retry-limit <n>", "retries of a failed replica (default 0)")
    .option("--replica-completion-count <n>", "successful replicas that complete an execution (default 1)")
    .addOption(new Option("--rcc <n>", "same as --replica-completion-count").hideHelp())
    .option("--parallelism <n>", "replicas run at once per execution (default 1)")
    .option("--image <image>", "container image: a local image from `eventjobs acr build`, or any image with --command")
    .option("--container-name <name>", "container name (default: the job name)")
    .option("--cpu <cores>", "required CPU in cores, e.g. 0.25 (recorded)")
    .option("--memory <size>", "memory limit, e.g. 0.5Gi (enforced: over it the replica is OOMKilled)")
    .option("--command <args...>", "overrides the image's ENTRYPOINT")
    .option("--args <args...>", "overrides the image's CMD")
    .option("--env-vars <pairs...>", "KEY=VALUE or KEY=secretref:SECRET_NAME")
    .option("--secrets <pairs...>", "NAME=VALUE")
    .option("--min-executions <n>", "minimum executions per polling interval (default 0)")
    .option("--max-executions <n>", "maximum unfinished executions (default 10)")
    .option("--polling-interval <seconds>", "seconds between scale rule checks (default 30)")
    .option("--cron-expression <cron>", "5-field cron in UTC (Schedule jobs)")
    .option("--scale-rule-name <name>", "scale rule name")
    .option("--scale-rule-type <type>", "scale rule type (azure-servicebus)")
    .option("--scale-rule-metadata <pairs...>", "KEY=VALUE metadata of the scale rule")
    .option("--scale-rule-auth <pairs...>", "TRIGGER_PARAMETER=SECRET_NAME")
    .option("--mi-system-assigned", "give the job a system-assigned identity")
    .option("--mi-user-assigned <identities...>", "user-assigned identities (names or resource ids)")
    .option("--tags <pairs...>", "KEY=VALUE tags")
    .option("--yaml <file>", "the Container Apps job body in YAML; other flags are ignored")
    .option("--workload-profile-name, -w <name>", "accepted for az compatibility")
    .option("--registry-server <server>", "the registry, recorded in configuration.registries (local images need none)")
    .option("--registry-username <name>", "recorded with the registry (the password becomes a secret)")
    .option("--registry-password <password>", "kept as a secret, as az keeps it")
    .option(
      "--registry-identity <identity>",
      "identity resource id or system: recorded, and given to the job as az does",
    )
    .addHelpText(
      "after",
      `
Examples:
  eventjobs containerapp job create -n my-job --trigger-type Manual --image myreg.azurecr.io/worker:1.0 --replica-timeout 300
  eventjobs containerapp job create --name job-python --trigger-type Event --replica-timeout 86400 \\
    --replica-retry-limit 1 --replica-completion-count 1 --parallelism 1 --image myreg.azurecr.io/job-python:1.0.0 \\
    --cpu 0.25 --memory 0.5 --min-executions 0 --max-executions 1 \\
    --secrets service-bus-connection-string=<connection string> \\
    --scale-rule-name azure-servicebus-queue-rule --scale-rule-type azure-servicebus \\
    --scale-rule-auth connection=service-bus-connection-string \\
    --scale-rule-metadata queueName=queue-messages namespace=servicebus-ns-job messageCount=1 \\
    --env-vars SERVICEBUS_QUEUE_NAME=queue-messages
  eventjobs containerapp job create -n my-job --yaml job.yaml
`,
    )
    .action(async (o: JobFlags & { output: string; dataDir: string; rcc?: string }) => {
      checkFormat(o.output);
      const entry = jobFromFlags({ ...o, replicaCompletionCount: o.replicaCompletionCount ?? o.rcc });
      const api = new ApiClient(o.dataDir);
      print(await api.request("PUT", `/jobs/${o.name}`, entry), o.output, JOB_COLUMNS);
      await warnCloudNames([{ name: o.name, body: entry }]);
    });

  common(nameOption(job.command("update")))
    .description("Update a job: image, resources, env vars, scale settings, or a whole --yaml body (merged)")
    .option("--image <image>", "container image")
    .option("--cpu <cores>", "CPU cores")
    .option("--memory <size>", "memory limit")
    .option("--command <args...>", "overrides ENTRYPOINT")
    .option("--args <args...>", "overrides CMD")
    .option("--set-env-vars <pairs...>", "add or change KEY=VALUE or KEY=secretref:NAME")
    .option("--remove-env-vars <names...>", "remove these env vars")
    .option("--replica-timeout <seconds>", "maximum seconds a replica may run")
    .option("--replica-retry-limit <n>", "retries of a failed replica")
    .option("--parallelism <n>", "replicas run at once")
    .option("--replica-completion-count <n>", "successful replicas per execution")
    .addOption(new Option("--rcc <n>", "same as --replica-completion-count").hideHelp())
    .option("--min-executions <n>", "minimum executions")
    .option("--max-executions <n>", "maximum executions")
    .option("--polling-interval <seconds>", "seconds between scale checks")
    .option("--cron-expression <cron>", "5-field cron in UTC")
    .option("--yaml <file>", "a Container Apps job body merged over the current one")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job update -n my-job --image myreg.azurecr.io/worker:1.1\n  eventjobs containerapp job update -n my-job --max-executions 5 --set-env-vars LOG_LEVEL=debug\n",
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      checkJobName(o.name);
      const api = new ApiClient(o.dataDir);
      const current = await api.request("GET", `/jobs/${o.name}/definition`);
      const entry = o.yaml ? mergeDeep(current, jobFromYaml(o.yaml, o.name)) : applyUpdate(current, o);
      print(await api.request("PUT", `/jobs/${o.name}`, entry), o.output, JOB_COLUMNS);
    });

  common(nameOption(job.command("show")))
    .description("Show a job")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job show -n my-job\n  eventjobs containerapp job show -n my-job -o yaml\n",
    )
    .action(async (o: Obj) =>
      print(await new ApiClient(o.dataDir).request("GET", `/jobs/${o.name}`), o.output, JOB_COLUMNS),
    );

  common(job.command("list"))
    .description("List jobs")
    .addHelpText("after", "\nExamples:\n  eventjobs containerapp job list -o table\n")
    .action(async (o: Obj) =>
      print((await new ApiClient(o.dataDir).request("GET", "/jobs")).value, o.output, JOB_COLUMNS),
    );

  common(nameOption(job.command("delete")))
    .description("Delete a job, stopping its executions")
    .option("-y, --yes", "do not prompt for confirmation (accepted for az compatibility)")
    .addHelpText("after", "\nExamples:\n  eventjobs containerapp job delete -n my-job --yes\n")
    .action(async (o: Obj) => {
      await new ApiClient(o.dataDir).request("DELETE", `/jobs/${o.name}`);
    });

  common(nameOption(job.command("start")))
    .description("Start an execution now, optionally overriding the template for this execution only")
    .option("--image <image>", "container image for this execution")
    .option("--container-name <name>", "which container to override (default: the first)")
    .option("--cpu <cores>", "CPU cores")
    .option("--memory <size>", "memory limit")
    .option("--command <args...>", "overrides ENTRYPOINT")
    .option("--args <args...>", "overrides CMD")
    .option("--env-vars <pairs...>", "KEY=VALUE or KEY=secretref:NAME, merged over the job's")
    .option("--yaml <file>", "an execution template in YAML (containers: ...)")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job start -n my-job\n  eventjobs containerapp job start -n my-job --env-vars MODE=backfill\n",
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      const api = new ApiClient(o.dataDir);
      const current = await api.request("GET", `/jobs/${o.name}`);
      const template = startTemplate(o, o.containerName ?? current.properties.template.containers[0].name);
      print(await api.request("POST", `/jobs/${o.name}/start`, template ?? {}), o.output, [
        { header: "Name", get: (e) => e.name },
        { header: "Id", get: (e) => e.id },
      ]);
    });

  common(nameOption(job.command("stop")))
    .description("Stop every running execution of a job, or the ones named")
    .option("--job-execution-name <name>", "stop this execution only")
    .option("--execution-name-list <names>", "comma-separated executions to stop")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job stop -n my-job\n  eventjobs containerapp job stop -n my-job --job-execution-name my-job-abc1234\n",
    )
    .action(async (o: Obj) => {
      const body = o.executionNameList
        ? {
            executionNameList: String(o.executionNameList)
              .split(",")
              .map((s) => s.trim()),
          }
        : o.jobExecutionName
          ? { jobExecutionName: o.jobExecutionName }
          : {};
      print((await new ApiClient(o.dataDir).request("POST", `/jobs/${o.name}/stop`, body)).value, o.output, [
        { header: "Name", get: (e) => e.name },
      ]);
    });

  addQueryOption(addDataDirOption(azureFlags(nameOption(job.command("explain")))))
    .option("-o, --output <format>", "output format: table, json, yaml, tsv, none", "table")
    .description(
      "Why executions did or did not start: the scaler's recent decisions with every input; when a Schedule job runs next (eventjobs)",
    )
    .option("--all", "every recorded decision, not just the last 10")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job explain -n job-python -o table\n  eventjobs containerapp job explain -n nightly-report\n",
    )
    .action((o: Obj) => explain(o.dataDir, o.name, o.output, o));

  const execution = job.command("execution").description("Executions of a job");
  common(nameOption(execution.command("list")))
    .description("List a job's executions, newest first")
    .addHelpText("after", "\nExamples:\n  eventjobs containerapp job execution list -n my-job -o table\n")
    .action(async (o: Obj) =>
      print(
        (await new ApiClient(o.dataDir).request("GET", `/jobs/${o.name}/executions`)).value,
        o.output,
        EXECUTION_COLUMNS,
      ),
    );
  common(nameOption(execution.command("show")))
    .description("Show one execution with its replicas")
    .requiredOption("--job-execution-name <name>", "the execution")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job execution show -n my-job --job-execution-name my-job-abc1234\n",
    )
    .action(async (o: Obj) =>
      print(
        await new ApiClient(o.dataDir).request("GET", `/jobs/${o.name}/executions/${o.jobExecutionName}`),
        o.output,
        EXECUTION_COLUMNS,
      ),
    );

  registerLogs(job);
  registerJobIdentity(job, common);
}

function registerLogs(job: Command): void {
  const logs = job.command("logs").description("Console and system logs of a job's executions");
  addDataDirOption(azureFlags(nameOption(logs.command("show"))))
    .description(
      "Show an execution's console logs (the latest execution by default); --follow streams the job's, every execution's as it starts",
    )
    .option(
      "--execution <name>",
      "the execution (default: the latest; with --follow, every execution); with --follow, exit when it ends",
    )
    .option("--replica <name>", "one replica only")
    .option("--container <name>", "one container only")
    .option("--type <type>", "console or system", "console")
    .option("--follow", "keep streaming new lines")
    .option("--tail <n>", "lines from the end, 0-300", "20")
    .option("--format <format>", "json or text", "json")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs containerapp job logs show -n job-python --format text\n  eventjobs containerapp job logs show -n job-python --follow --format text\n  eventjobs containerapp job logs show -n job-python --follow --execution job-python-abc1234\n  eventjobs containerapp job logs show -n job-python --type system --tail 100\n",
    )
    .action((o: LogsOptions) => showLogs(o));
}

/**
 * Applies `job update` flags to the stored entry. Every value is checked here, with create's messages naming
 * the flag and the value: a bad one must not reach the entry (NaN would travel as null, and the server's
 * message could only name the field).
 */
function applyUpdate(entry: Obj, o: Obj): Obj {
  const next = structuredClone(entry);
  const conf = next.properties.configuration;
  const trig = conf.eventTriggerConfig ?? conf.manualTriggerConfig ?? conf.scheduleTriggerConfig;
  const c = next.properties.template.containers[0];
  const set = (obj: Obj | undefined, key: string, v: unknown) => v !== undefined && obj && (obj[key] = v);
  const scale = (flag: string, v: string | undefined, min: number) => {
    if (v !== undefined && !conf.eventTriggerConfig)
      fail(`Usage error: ${flag} applies to Event jobs only (the trigger type of ${o.name} is ${conf.triggerType})`);
    return intFlag(flag, v, undefined, min);
  };
  const cpu = o.cpu === undefined ? undefined : cpuFlag(o.cpu);
  const memory = o.memory === undefined ? undefined : memoryFlag(o.memory);
  const counts = {
    replicaTimeout: intFlag("--replica-timeout", o.replicaTimeout, undefined, 1),
    replicaRetryLimit: intFlag("--replica-retry-limit", o.replicaRetryLimit, undefined, 0),
    parallelism: intFlag("--parallelism", o.parallelism, undefined, 1),
    replicaCompletionCount: intFlag("--replica-completion-count", o.replicaCompletionCount ?? o.rcc, undefined, 1),
    minExecutions: scale("--min-executions", o.minExecutions, 0),
    maxExecutions: scale("--max-executions", o.maxExecutions, 1),
    pollingInterval: scale("--polling-interval", o.pollingInterval, 1),
  };
  if (o.cronExpression !== undefined) {
    if (!conf.scheduleTriggerConfig)
      fail(
        `Usage error: --cron-expression applies to Schedule jobs only (the trigger type of ${o.name} is ${conf.triggerType})`,
      );
    conf.scheduleTriggerConfig.cronExpression = cronFlag(o.cronExpression);
  }
  set(c, "image", o.image);
  if (cpu !== undefined || memory !== undefined)
    c.resources = {
      ...c.resources,
      ...(cpu !== undefined ? { cpu } : {}),
      ...(memory !== undefined ? { memory } : {}),
    };
  set(c, "command", o.command);
  set(c, "args", o.args);
  if (o.setEnvVars || o.removeEnvVars) {
    const remove = new Set<string>(o.removeEnvVars ?? []);
    const add = envVars(o.setEnvVars, "--set-env-vars");
    for (const a of add) remove.add(a.name);
    c.env = [...(c.env ?? []).filter((e: Obj) => !remove.has(e.name)), ...add];
  }
  set(conf, "replicaTimeout", counts.replicaTimeout);
  set(conf, "replicaRetryLimit", counts.replicaRetryLimit);
  set(trig, "parallelism", counts.parallelism);
  set(trig, "replicaCompletionCount", counts.replicaCompletionCount);
  set(trig?.scale, "minExecutions", counts.minExecutions);
  set(trig?.scale, "maxExecutions", counts.maxExecutions);
  set(trig?.scale, "pollingInterval", counts.pollingInterval);
  return next;
}

function mergeDeep(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && base[k] && typeof base[k] === "object"
        ? mergeDeep(base[k], v)
        : v;
  return out;
}
