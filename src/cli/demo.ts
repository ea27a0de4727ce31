// `eventjobs demo` (what `npm start` runs): the lab end to end. Start the platform with examples/seed,
// build the processor image, send a message, and show the execution it triggers: start, logs, result.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { loadConfigFile } from "../config/load.js";
import type { ProjectConfig } from "../model/config.js";
import { buildImage } from "../jobs/images.js";
import type { LogEntry } from "../jobs/store.js";
import { Platform } from "../platform.js";
import { composeMessage } from "../servicebus/message/compose.js";
import { fail, parsePort } from "./util.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SEED = join(ROOT, "examples/seed/eventjobs.yaml");
const JOB = "job-python";
const QUEUE = "queue-messages";

interface DemoOptions {
  once?: boolean;
  dataDir: string;
  processor: string;
  message?: string;
  amqpPort: string;
  amqpsPort: string;
  httpPort: string;
  httpsPort: string;
}

type Image = { registry: string; image: string; context: string };

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "Run the lab end to end: a message in queue-messages starts an execution of job-python, which reads it with its managed identity",
    )
    .option("--once", "exit after the first execution finishes (0 if it Succeeded)")
    .option("--data-dir <dir>", "data directory", ".eventjobs-demo")
    .option("--processor <which>", "auto, python or ts", "auto")
    .option("--message <text>", "the message to send")
    .option("--amqp-port <port>", "plain AMQP port", "5672")
    .option("--amqps-port <port>", "AMQPS port (Debian's Python SDK only connects to 5671)", "5671")
    .option("--http-port <port>", "HTTP port", "5300")
    .option("--https-port <port>", "HTTPS port", "5301")
    .addHelpText("after", "\nExamples:\n  npm start\n  npx eventjobs demo --once --processor ts\n")
    .action(runDemo);
}

async function runDemo(o: DemoOptions): Promise<void> {
  if (!["auto", "python", "ts"].includes(o.processor))
    fail(`--processor "${o.processor}": expected auto, python or ts`);
  const say = (s = "") => console.log(s);
  say('eventjobs demo: the lab "Autoscaling Jobs using KEDA and Service Bus" on this machine');
  say(`  project: ${SEED}`);
  const config = loadConfigFile(SEED);
  const dataDir = resolve(o.dataDir);

  // 1. images, as `az acr build` would push them
  const images = (config.extra?.images ?? []) as Image[];
  for (const img of images) {
    const built = buildImage({
      imagesDir: join(dataDir, "images"),
      registry: img.registry,
      image: img.image,
      contextDir: join(dirname(SEED), img.context),
    });
    const skipped = built.steps.filter((s) => s.instruction === "RUN").length;
    say(
      `  image: ${built.ref} built from examples/seed/${img.context} (${skipped} RUN step${skipped === 1 ? "" : "s"} not executed)`,
    );
  }

  // 2. which processor: Python when Debian's SDK can run here, else the same flow in TypeScript
  const python = o.processor === "ts" ? { ok: false, why: "--processor ts" } : pythonReady(Number(o.amqpsPort));
  if (o.processor === "python" && !python.ok) fail(`the Python processor cannot run here: ${python.why}`);
  const usePython = python.ok;
  if (!usePython) useTypeScriptProcessor(config);

  // 3. the platform, with the project applied
  const platform = await Platform.start({
    config,
    dataDir,
    amqpPort: parsePort("--amqp-port", o.amqpPort),
    amqpsPort: parsePort("--amqps-port", o.amqpsPort),
    httpPort: parsePort("--http-port", o.httpPort),
    httpsPort: parsePort("--https-port", o.httpsPort),
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "EADDRINUSE")
      fail(
        `port in use: ${e.message.replace(/^listen EADDRINUSE: address already in use /, "")} (is eventjobs already running? pick other ports with --amqp-port/--amqps-port/--http-port/--https-port)`,
      );
    throw e;
  });
  if (usePython) say("  processor: examples/seed/app/processor.py (Debian's python3-azure)");
  else say(`  processor: examples/seed/app-ts/processor.ts (TypeScript; Python not used: ${python.why})`);
  const e = platform.endpoints;
  say(
    `  eventjobs ready: amqp://${e.host}:${e.amqpPort}, amqps://${e.host}:${e.amqpsPort}, http://${e.host}:${e.httpPort}`,
  );
  say(`  dashboard: http://${e.host}:${e.httpPort}/ (the lab's portal pages: resources, explorer, job, logs)`);

  // 4. the job as the user sees it: its settings and env vars, secrets masked
  const job = platform.jobs.engine.job(JOB)!;
  const rule = job.scale!.rules[0];
  say();
  say(
    `job ${JOB}: trigger Event, maxExecutions ${job.scale!.maxExecutions}, scale rule ${rule.name} (${rule.type}: ${Object.entries(
      rule.metadata,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")})`,
  );
  say("  env:");
  for (const v of job.template.containers[0].env ?? [])
    say(`    ${v.name}=${v.secretRef ? `secretref:${v.secretRef}` : v.value}`);
  for (const [k, v] of Object.entries(platform.identity.replicaEnv(job)))
    say(`    ${k}=${/HEADER|SECRET/.test(k) ? "(sensitive)" : v}`);

  // 5. send, then follow what happens
  const text = o.message ?? `Hello from eventjobs at ${new Date().toISOString()}`;
  const queue = platform.broker.namespace("servicebus-ns-job")!.queue(QUEUE)!;
  const sentAt = Date.now();
  let execution: string | undefined;
  const finished = new Promise<string>((resolveFinished) => {
    platform.jobs.engine.on("executionStarted", (x) => {
      if (x.job !== JOB || execution) return;
      execution = x.name;
      say(
        `execution ${x.name} started ${Date.now() - sentAt} ms after the message was sent (the cloud polls every 30 s)`,
      );
      platform.jobs.logs.follow({ execution: x.name }, (l) => say(formatLog(l)));
    });
    platform.jobs.engine.on("executionFinished", (x) => {
      if (x.name === execution) resolveFinished(x.status);
    });
  });
  await queue.send([composeMessage({ body: text })]);
  say();
  say(`message sent to ${QUEUE}: "${text}"`);

  const stop = async (code: number) => {
    await platform.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  const status = await finished;
  say(`execution ${execution} ${status}`);
  if (o.once) return stop(status === "Succeeded" ? 0 : 1);
  say();
  say("eventjobs keeps running (Ctrl-C stops it). In another terminal:");
  const dd = o.dataDir === ".eventjobs-demo" ? " --data-dir .eventjobs-demo" : ` --data-dir ${o.dataDir}`;
  say(
    `  npx eventjobs servicebus message send --namespace-name servicebus-ns-job --queue-name ${QUEUE} --body "another one"${dd}`,
  );
  say(`  npx eventjobs containerapp job execution list -n ${JOB} -o table${dd}`);
  say(`  npx eventjobs containerapp job logs show -n ${JOB} --format text --follow${dd}`);
  say(`  npx eventjobs containerapp job explain -n ${JOB}${dd}`);
}

function formatLog(l: LogEntry): string {
  const t = new Date(l.time).toISOString().slice(11, 23);
  return l.kind === "console" ? `  ${t} [${l.stream}] ${l.text}` : `  ${t} (${l.reason}) ${l.text}`;
}

/** The demo's fallback: the same job running the TypeScript processor image. */
function useTypeScriptProcessor(config: ProjectConfig): void {
  const jobs = config.extra!.jobs as { name: string; properties: { template: { containers: { image: string }[] } } }[];
  const job = jobs.find((j) => j.name === JOB)!;
  job.properties.template.containers[0].image = "eventjobsdemo.azurecr.io/job-ts:1.0.0";
}

/** Debian's python3-azure needs /usr/bin/python3 with the packages and AMQPS on port 5671. */
function pythonReady(amqpsPort: number): { ok: boolean; why: string } {
  if (!existsSync("/usr/bin/python3")) return { ok: false, why: "/usr/bin/python3 is not installed" };
  try {
    execFileSync("/usr/bin/python3", ["-c", "import azure.servicebus, azure.identity"], { stdio: "ignore" });
  } catch {
    return { ok: false, why: "Debian's python3-azure is not installed (apt-get install python3-azure)" };
  }
  // uamqp trusts SSL_CERT_FILE, which every replica gets (system bundle + the local CA); its port is fixed
  if (amqpsPort !== 5671) return { ok: false, why: "Debian's Python SDK only connects to AMQPS port 5671" };
  return { ok: true, why: "" };
}
