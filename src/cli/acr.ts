// `eventjobs acr build`: a local image from a directory with a Dockerfile, like `az acr build`.
import { resolve, join } from "node:path";
import type { Command } from "commander";
import { DockerfileError } from "../jobs/dockerfile.js";
import { buildImage, ImageError, type ImageRecord } from "../jobs/images.js";
import { DEFAULT_DATA_DIR } from "./client.js";
import { print, type Column } from "./output.js";
import { fail } from "./util.js";

interface BuildOptions {
  registry: string;
  image: string;
  file?: string;
  buildArg: string[];
  dataDir: string;
  output?: string;
  logs: boolean;
}

const FORMATS = ["json", "yaml", "table", "none"];
const COLUMNS: Column[] = [
  { header: "Image", get: (i: ImageRecord) => i.ref },
  { header: "Digest", get: (i: ImageRecord) => i.digest.slice(0, 19) },
  { header: "Workdir", get: (i: ImageRecord) => i.workdir || "." },
  { header: "Command", get: (i: ImageRecord) => JSON.stringify([...i.entrypoint, ...i.cmd]) },
];

export function registerAcr(program: Command): void {
  const acr = program
    .command("acr")
    .description("Local images, referenced as <registry>.azurecr.io/<name>:<tag> (like Azure Container Registry)");
  acr
    .command("build")
    .description(
      "Snapshot DIR as a local image and read its Dockerfile (WORKDIR, ENV, ENTRYPOINT, CMD); RUN steps are not executed",
    )
    .argument("<dir>", "the build context (source directory)")
    .requiredOption("-r, --registry <name>", "registry name or login server, e.g. myregistry or myregistry.azurecr.io")
    .requiredOption("-t, --image <name:tag>", "image name and tag, e.g. job-python:1.0.0 (tag defaults to latest)")
    .option("-f, --file <path>", "Dockerfile, relative to DIR (default: DIR/Dockerfile)")
    .option(
      "--build-arg <name=value>",
      "a Dockerfile ARG value (repeatable); NAME alone takes it from the environment",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option(
      "--data-dir <dir>",
      "data directory (images live in <data-dir>/images)",
      process.env.EVENTJOBS_DATA_DIR ?? DEFAULT_DATA_DIR,
    )
    .option(
      "-o, --output <format>",
      `output format: ${FORMATS.join(", ")} (default: the build log and the image reference)`,
    )
    .option("--query <jmespath>", "JMESPath query over the image record (with -o)")
    .option("--no-logs", "do not print the build steps")
    .option("-g, --resource-group <name>", "accepted for az compatibility; not used locally")
    .option("--subscription <id>", "accepted for az compatibility; not used locally")
    .option("--platform <platform>", "accepted for az compatibility; replicas run on this machine")
    .option("--no-wait", "accepted for az compatibility; the build is always synchronous")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs acr build --registry myregistry --image job-python:1.0.0 examples/seed/app\n  eventjobs acr build -r myregistry -t tools/worker:2 -f docker/Dockerfile.worker . -o json\n",
    )
    .action((dir: string, o: BuildOptions) => {
      if (o.output !== undefined && !FORMATS.includes(o.output))
        fail(`--output "${o.output}": expected one of ${FORMATS.join(", ")}`);
      const buildArgs: Record<string, string> = {};
      for (const a of o.buildArg) {
        const eq = a.indexOf("=");
        const name = eq < 0 ? a : a.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`--build-arg "${a}": expected NAME=VALUE`);
        const value = eq < 0 ? process.env[name] : a.slice(eq + 1);
        if (value !== undefined) buildArgs[name] = value;
      }
      let image: ImageRecord;
      try {
        image = buildImage({
          imagesDir: join(resolve(o.dataDir), "images"),
          registry: o.registry,
          image: o.image,
          contextDir: dir,
          dockerfile: o.file,
          buildArgs,
        });
      } catch (e) {
        if (e instanceof ImageError || e instanceof DockerfileError) fail(e.message);
        throw e;
      }
      // with a machine-readable format the build log goes to stderr, so stdout stays parseable
      const log = o.output === undefined ? (s: string) => console.log(s) : (s: string) => console.error(s);
      if (o.logs) printLog(image, log);
      if (o.output === undefined) console.log(`Image: ${image.ref}`);
      else print(image, o.output, COLUMNS);
    });
}

function size(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function printLog(image: ImageRecord, log: (s: string) => void): void {
  log(`Packing source code from ${image.source} (${image.files} files, ${size(image.bytes)})`);
  log(`Reading ${image.dockerfile}`);
  const n = image.steps.length;
  image.steps.forEach((s, i) => {
    log(`Step ${i + 1}/${n} : ${s.text.replace(/\s+/g, " ")}`);
    if (s.note) log(` ---> ${s.note}`);
  });
  const runs = image.steps.filter((s) => s.instruction === "RUN");
  if (runs.length) {
    log(
      `${runs.length} RUN step${runs.length === 1 ? " was" : "s were"} not executed; install what ${runs.length === 1 ? "it installs" : "they install"} on this machine if the job needs it:`,
    );
    for (const r of runs) log(`  line ${r.line}: ${r.text.replace(/\s+/g, " ")}`);
  }
  log(`Successfully tagged ${image.ref}`);
  log(`  digest: ${image.digest}`);
  log(`  workdir: ${image.workdir || "."} (in ${image.dir})`);
  const argv = [...image.entrypoint, ...image.cmd];
  log(`  runs: ${argv.length ? JSON.stringify(argv) : "(no ENTRYPOINT or CMD: the job must set a command)"}`);
}
