// `eventjobs up`: start the broker and listeners, print the ready block, then the activity feed (unless --quiet),
// shut down on SIGINT/SIGTERM.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { emptyConfig, loadConfigFile } from "../config/load.js";
import { lastAppliedConfig } from "../control/state.js";
import { EMULATOR_ROOT_POLICY } from "../model/config.js";
import { CaError } from "../identity/ca.js";
import { Platform } from "../platform.js";
import { watchActivity } from "../triggering/activity.js";
import { DEFAULT_DATA_DIR } from "./client.js";
import { READY_IPC_ENV, READY_MESSAGE, upDetached, type DetachOptions } from "./detach.js";
import { warnCloudNames } from "./hosts-file.js";
import { parseWait } from "./server-state.js";
import { activityLine } from "./up-activity.js";
import { fail, parsePort } from "./util.js";

/** `up`'s own flags, beside those it hands to a background copy of itself. */
interface UpOptions extends DetachOptions {
  detach?: boolean;
  readyTimeout: string;
}

export function registerUp(program: Command): void {
  program
    .command("up")
    .description(
      "Start eventjobs: the Service Bus-compatible broker, the scaler and the job runner, with the project applied",
    )
    .option(
      "--config <file>",
      "eventjobs.yaml or the emulator's Config.json, applied at start (default: ./eventjobs.yaml if present, else the project last applied to the data dir)",
    )
    .option("--data-dir <dir>", "data directory", process.env.EVENTJOBS_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--amqp-port <port>", "plain AMQP port (0 = a free port)", "5672")
    .option("--amqps-port <port>", "AMQP over TLS port (0 = a free port)", "5671")
    .option(
      "--http-port <port>",
      "HTTP port: health, admin API, control API, identity endpoint, AMQP over ws (0 = a free port)",
      "5300",
    )
    .option(
      "--https-port <port>",
      "HTTPS port: the same as --http-port over TLS, plus AMQPS and AMQP over wss (0 = a free port)",
      "5301",
    )
    .option("--in-memory", "keep messages in memory only")
    .option(
      "--allowed-host <name>",
      "a host name the control API, dashboard and identity endpoint answer to besides localhost, *.localhost, 127.0.0.0/8, [::1], --host and the namespaces' names; a leading dot allows its subdomains (repeatable)",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      "-q, --quiet",
      "print the ready block and warnings only, not the activity feed (messages on watched queues, executions started and finished)",
    )
    .option(
      "--detach",
      "start in the background and return once ready (output in <data-dir>/server.log; stop with eventjobs down)",
    )
    .option("--ready-timeout <duration>", "with --detach: how long to wait for ready", "60s")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs up\n  eventjobs up --quiet\n  eventjobs up --config examples/seed/eventjobs.yaml --amqp-port 0\n  eventjobs up --host 0.0.0.0 --allowed-host devbox.example.com\n  eventjobs up --detach --config eventjobs.yaml && npm test; eventjobs down\n",
    )
    .action(async (o: UpOptions) => {
      if (o.detach) return upDetached(o, parseWait("--ready-timeout", o.readyTimeout));
      const file = o.config ?? (existsSync("eventjobs.yaml") ? "eventjobs.yaml" : undefined);
      // without a file, the project last applied to this data dir (so a restart keeps what apply made)
      const kept = file || o.inMemory ? undefined : lastAppliedConfig(o.dataDir);
      if (kept)
        console.error(
          `using the project last applied to ${o.dataDir} (${kept.source ?? "no file"}); pass --config to apply another`,
        );
      const config = file ? loadConfigFile(file) : (kept ?? emptyConfig());
      const platform = await Platform.start({
        config,
        dataDir: o.dataDir,
        inMemory: o.inMemory,
        host: o.host,
        allowedHosts: o.allowedHost,
        amqpPort: parsePort("--amqp-port", o.amqpPort),
        httpPort: parsePort("--http-port", o.httpPort),
        amqpsPort: parsePort("--amqps-port", o.amqpsPort),
        httpsPort: parsePort("--https-port", o.httpsPort),
        log: (line) => console.error(line),
      }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "EADDRINUSE")
          fail(
            `port in use: ${e.message.replace(/^listen EADDRINUSE: address already in use /, "")} (pick another with --amqp-port/--amqps-port/--http-port/--https-port, or 0 for a free one)`,
          );
        if (e instanceof CaError) fail(e.message);
        throw e;
      });
      const e = platform.endpoints;
      const ns = platform.broker.namespace(platform.broker.defaultNamespace)!;
      // the emulator's well-known key is no secret; any other key is not printed
      const secret = ns.policies[0].primaryKey !== EMULATOR_ROOT_POLICY.primaryKey;
      const mask = (cs: string) => (secret ? cs.replace(/SharedAccessKey=[^;]*/, "SharedAccessKey=***") : cs);
      console.log("eventjobs ready");
      console.log(`  connection string: ${mask(platform.connectionString())}`);
      console.log(`  tls connection string: ${mask(platform.connectionString(undefined, { tls: true }))}`);
      console.log(`  amqp: amqp://${e.host}:${e.amqpPort}`);
      console.log(`  amqps: amqps://${e.host}:${e.amqpsPort}`);
      console.log(`  http: http://${e.host}:${e.httpPort}`);
      console.log(`  https: https://${e.host}:${e.httpsPort}`);
      console.log(`  dashboard: http://${e.host}:${e.httpPort}/`);
      console.log(`  ca: ${platform.ca.certPath}`);
      console.log(
        `  namespaces: ${[...platform.broker.namespaces.values()].map((n) => `${n.name} (${n.queueNames().length} queues)`).join(", ")}`,
      );
      // from the ready block on: a client that saw it and sends at once has its message in the feed
      const unwatch = o.quiet
        ? undefined
        : watchActivity(platform.broker, platform.jobs.engine, (a) => console.log(activityLine(a)));
      const jobs = (config.extra?.jobs ?? []) as Array<{ name?: unknown }>;
      await warnCloudNames(jobs.map((j) => ({ name: String(j?.name), body: j })));
      // started by `up --detach`: the parent returns now (detach.ts)
      if (process.env[READY_IPC_ENV] && process.connected) {
        delete process.env[READY_IPC_ENV];
        process.send!(READY_MESSAGE);
        process.disconnect();
      }
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        unwatch?.();
        await platform.close();
        process.exit(0);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
}
