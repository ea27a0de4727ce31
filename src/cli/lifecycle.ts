// `eventjobs status`, `down` and `wait-ready`: a server started in the background (`up --detach`, or `up &` in a
// script) seen and stopped from other commands, with exit codes a CI step can test (docs/ci.md).
import type { Command } from "commander";
import type { ServerInfo } from "./client.js";
import { addDataDirOption } from "./client.js";
import {
  fetchStatus,
  parseWait,
  pidAlive,
  pollUntil,
  readServerFile,
  removeStale,
  type ServerStatus,
} from "./server-state.js";
import { EXIT, fail } from "./util.js";

/** The server on a data dir as the lifecycle commands see it. */
type Seen =
  | { state: "not running"; info?: ServerInfo }
  | { state: "starting"; info: ServerInfo }
  | { state: "ready"; info: ServerInfo; status: ServerStatus };

async function look(dataDir: string): Promise<Seen> {
  const info = readServerFile(dataDir);
  if (!info || !pidAlive(info.pid)) return { state: "not running", info };
  const status = await fetchStatus(info, dataDir);
  // the pid must match: another server may have taken the port of one that died
  return status && status.pid === info.pid ? { state: "ready", info, status } : { state: "starting", info };
}

export function formatStatus(s: ServerStatus): string {
  const c = s.counts;
  return [
    `eventjobs ready (pid ${s.pid}, started ${s.startedAt})`,
    `  versions: eventjobs ${s.versions.eventjobs}, node ${s.versions.node}`,
    `  amqp: ${s.endpoints.amqp}`,
    `  amqps: ${s.endpoints.amqps}`,
    `  http: ${s.endpoints.http}`,
    `  https: ${s.endpoints.https}`,
    `  counts: ${c.namespaces} namespaces, ${c.queues} queues, ${c.topics} topics, ${c.subscriptions} subscriptions, ` +
      `${c.messages} messages, ${c.jobs} jobs, ${c.runningExecutions} running executions`,
  ].join("\n");
}

export function registerLifecycle(program: Command): void {
  addDataDirOption(program.command("status"))
    .description(
      `Whether a server runs on the data dir and is ready, with its versions, addresses and counts; exit ${EXIT.ok} ready, ${EXIT.notRunning} not running, ${EXIT.notReady} running but not ready`,
    )
    .option("-o, --output <format>", "text or json", "text")
    .addHelpText("after", "\nExamples:\n  eventjobs status\n  eventjobs status --data-dir .eventjobs-ci -o json\n")
    .action(async (o: { dataDir: string; output: string }) => {
      if (o.output !== "text" && o.output !== "json") fail(`--output "${o.output}": expected text or json`);
      const seen = await look(o.dataDir);
      if (seen.state === "not running" && seen.info) removeStale(o.dataDir, seen.info.pid);
      if (o.output === "json")
        console.log(
          JSON.stringify(
            seen.state === "ready" ? seen.status : { status: seen.state, ...(seen.info ? { pid: seen.info.pid } : {}) },
            null,
            2,
          ),
        );
      else if (seen.state === "ready") console.log(formatStatus(seen.status));
      else if (seen.state === "starting")
        console.log(`eventjobs starting (pid ${seen.info.pid}): not ready yet, or not answering on ${seen.info.http}`);
      else console.log(`eventjobs not running on ${o.dataDir}`);
      process.exitCode = seen.state === "ready" ? EXIT.ok : seen.state === "starting" ? EXIT.notReady : EXIT.notRunning;
    });

  addDataDirOption(program.command("down"))
    .description("Stop the server on the data dir gracefully (running executions are stopped) and wait until it exited")
    .option("--timeout <duration>", "how long to wait for the server to exit", "30s")
    .option("--force", "kill the server (SIGKILL) if it has not exited within --timeout, or does not answer")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs down\n  eventjobs down --data-dir .eventjobs-ci --timeout 10s --force\n",
    )
    .action(async (o: { dataDir: string; timeout: string; force?: boolean }) => {
      const timeoutMs = parseWait("--timeout", o.timeout);
      const seen = await look(o.dataDir);
      if (seen.state === "not running") {
        if (seen.info) removeStale(o.dataDir, seen.info.pid);
        console.error(`eventjobs: no server running on ${o.dataDir}; nothing to stop`);
        return;
      }
      const pid = seen.info.pid;
      // a pid that does not answer may be another process that took a dead server's pid: only --force signals it
      if (seen.state === "starting" && !o.force)
        fail(
          `the server on ${o.dataDir} (pid ${pid}) does not answer on ${seen.info.http}; stop it with: eventjobs down --force --data-dir ${o.dataDir}`,
        );
      process.kill(pid, "SIGTERM");
      const exited = await pollUntil(() => (pidAlive(pid) ? undefined : true), timeoutMs);
      if (!exited) {
        if (!o.force)
          fail(
            `the server on ${o.dataDir} (pid ${pid}) is still running ${o.timeout} after SIGTERM; kill it with: eventjobs down --force --data-dir ${o.dataDir}`,
          );
        process.kill(pid, "SIGKILL");
        await pollUntil(() => (pidAlive(pid) ? undefined : true), 10_000);
        removeStale(o.dataDir, pid); // a killed server cannot remove it itself
        console.log(`eventjobs killed (pid ${pid}, SIGKILL after ${o.timeout})`);
        return;
      }
      removeStale(o.dataDir, pid);
      console.log(`eventjobs stopped (pid ${pid})`);
    });

  addDataDirOption(program.command("wait-ready"))
    .description("Wait until a server on the data dir is ready (for scripts that start `eventjobs up` themselves)")
    .option("--timeout <duration>", "how long to wait", "30s")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs up --data-dir .eventjobs-ci > server.log 2>&1 &\n  eventjobs wait-ready --data-dir .eventjobs-ci --timeout 30s\n",
    )
    .action(async (o: { dataDir: string; timeout: string }) => {
      const timeoutMs = parseWait("--timeout", o.timeout);
      let last = { state: "not running" } as Seen; // set by the poll below
      const ready = await pollUntil(
        async () => {
          last = await look(o.dataDir);
          return last.state === "ready" ? last.status : undefined;
        },
        timeoutMs,
        100,
      );
      if (!ready) {
        const why =
          last.state === "starting"
            ? `pid ${last.info.pid} is running but does not answer ready on ${last.info.http}`
            : last.info
              ? `server.json names pid ${last.info.pid}, which is not running`
              : `there is no ${o.dataDir}/server.json`;
        fail(`no ready eventjobs server on ${o.dataDir} within ${o.timeout} (${why})`);
      }
      console.log(formatStatus(ready));
    });
}
