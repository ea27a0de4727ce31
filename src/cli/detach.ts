// `eventjobs up --detach`: the same `up` as a background process, for a CI step. The child gets the same flags,
// its own session (a terminal's Ctrl-C or hang-up does not reach it) and <data-dir>/server.log for its output;
// it tells this process over an IPC channel once it printed its ready block, and this process then returns.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pidAlive, readServerFile } from "./server-state.js";
import { fail, parsePort } from "./util.js";

/** The environment variable that tells `up` to report ready over IPC (set only by this module). */
export const READY_IPC_ENV = "EVENTJOBS_READY_IPC";
export const READY_MESSAGE = "eventjobs-ready";

export interface DetachOptions {
  config?: string;
  dataDir: string;
  host: string;
  amqpPort: string;
  amqpsPort: string;
  httpPort: string;
  httpsPort: string;
  inMemory?: boolean;
  allowedHost?: string[];
  quiet?: boolean;
}

const LOG_TAIL = 30;

function tail(file: string): string {
  if (!existsSync(file)) return "  (no output)";
  const lines = readFileSync(file, "utf8").trimEnd().split("\n");
  return lines
    .slice(-LOG_TAIL)
    .map((l) => `  ${l}`)
    .join("\n");
}

/** The flags the child `up` gets: what was given, with paths made absolute. */
function childArgs(o: DetachOptions, dataDir: string): string[] {
  const args = ["up", "--data-dir", dataDir, "--host", o.host];
  args.push(
    "--amqp-port",
    o.amqpPort,
    "--amqps-port",
    o.amqpsPort,
    "--http-port",
    o.httpPort,
    "--https-port",
    o.httpsPort,
  );
  if (o.config) args.push("--config", resolve(o.config));
  if (o.inMemory) args.push("--in-memory");
  if (o.quiet) args.push("--quiet");
  for (const h of o.allowedHost ?? []) args.push("--allowed-host", h);
  return args;
}

export async function upDetached(o: DetachOptions, readyTimeoutMs: number): Promise<void> {
  const dataDir = resolve(o.dataDir);
  const running = readServerFile(dataDir);
  if (running && pidAlive(running.pid))
    fail(
      `a server is already running on ${o.dataDir} (pid ${running.pid}); stop it first with: eventjobs down --data-dir ${o.dataDir}`,
    );
  // what the child would refuse, refused here with the same words (no log to read)
  for (const [flag, v] of [
    ["--amqp-port", o.amqpPort],
    ["--amqps-port", o.amqpsPort],
    ["--http-port", o.httpPort],
    ["--https-port", o.httpsPort],
  ])
    parsePort(flag, v);
  if (o.config && !existsSync(o.config)) fail(`--config: ${o.config}: no such file`);
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, "server.log");
  const out = openSync(logFile, "w");
  // this process's own loader flags (tsx when run from source) and script: the child runs the same CLI
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...childArgs(o, dataDir)], {
    detached: true,
    stdio: ["ignore", out, out, "ipc"],
    env: { ...process.env, [READY_IPC_ENV]: "1" },
  });
  closeSync(out);

  const outcome = await new Promise<{ ok: true } | { ok: false; why: string }>((done) => {
    const timer = setTimeout(
      () => done({ ok: false, why: `not ready within ${readyTimeoutMs / 1000}s` }),
      readyTimeoutMs,
    );
    const finish = (r: { ok: true } | { ok: false; why: string }) => {
      clearTimeout(timer);
      process.off("SIGINT", interrupted);
      done(r);
    };
    const interrupted = () => finish({ ok: false, why: "interrupted" });
    process.on("SIGINT", interrupted);
    child.on("message", (m) => m === READY_MESSAGE && finish({ ok: true }));
    child.on("exit", (code, signal) =>
      finish({ ok: false, why: `it exited (${signal ?? `code ${code}`}) before ready` }),
    );
    child.on("error", (e) => finish({ ok: false, why: e.message }));
  });

  if (!outcome.ok) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    console.error(
      `eventjobs: the server did not start: ${outcome.why}\n${logFile} (last ${LOG_TAIL} lines):\n${tail(logFile)}`,
    );
    process.exit(1);
  }
  if (child.connected) child.disconnect();
  child.unref();
  // the child's ready block (addresses, masked connection strings), as a foreground `up` prints it
  const block =
    /^eventjobs ready\n(?: {2}.*\n)*? {2}namespaces: .*$/m.exec(readFileSync(logFile, "utf8"))?.[0] ??
    "eventjobs ready";
  console.log(block.replace(/^eventjobs ready/, `eventjobs ready (pid ${child.pid}, in the background)`));
  console.log(`  log: ${logFile}`);
  console.log(`  stop with: eventjobs down --data-dir ${o.dataDir}`);
}
