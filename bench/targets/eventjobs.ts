// Our broker: `eventjobs up` in a child process with a one-queue config in a temp dir; with `fanoutSubscriptions`,
// also a topic with that many subscriptions (no rules declared: each has the $Default true filter), target
// "<target>-fanout".
// The probe authenticates like the SDK: CBS put-token (SAS) before attaching.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Connection } from "rhea";
import { putToken } from "../cbs.js";
import { onExitSync, startChild, tail } from "../procs.js";
import type { Server } from "./types.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const QUEUE = "bench";
export const KEY_NAME = "RootManageSharedAccessKey";
export const KEY = "SAS_KEY_VALUE";
export const FANOUT_TOPIC = "bench-fanout";

/**
 * `checkout` (default: this repository) lets a run compare two versions of eventjobs side by side: the
 * baseline target runs another checkout's `src/cli/main.ts` under the name `target`.
 */
export async function startEventjobs(
  log: (s: string) => void,
  {
    checkout = root,
    target = "eventjobs",
    fanoutSubscriptions = 0,
  }: { checkout?: string; target?: string; fanoutSubscriptions?: number } = {},
): Promise<Server> {
  const main = path.join(checkout, "src", "cli", "main.ts");
  if (!existsSync(main))
    throw new Error(
      `${path.relative(root, main)} does not exist yet (the broker CLI is not written) — skipping eventjobs`,
    );
  const dir = mkdtempSync(path.join(tmpdir(), "bench-eventjobs-"));
  const config = path.join(dir, "eventjobs.yaml");
  const subscriptions = Array.from({ length: fanoutSubscriptions }, (_, i) => `sub-${i}`);
  writeFileSync(
    config,
    [
      "namespaces:",
      "  - name: sbemulatorns",
      "    queues:",
      `      - name: ${QUEUE}`,
      ...(subscriptions.length
        ? [
            "    topics:",
            `      - name: ${FANOUT_TOPIC}`,
            "        subscriptions:",
            ...subscriptions.map((s) => `          - name: ${s}`),
          ]
        : []),
      "",
    ].join("\n"),
  );
  const args = [
    "--import",
    "tsx",
    main,
    "up",
    "--config",
    config,
    "--data-dir",
    path.join(dir, "data"),
    "--amqp-port",
    "0",
    "--amqps-port",
    "0",
    "--http-port",
    "0",
    "--https-port",
    "0",
  ];
  const child = startChild(target, process.execPath, args, { cwd: checkout, env: { ...process.env } });
  const unregisterExit = onExitSync(() => rmSync(dir, { recursive: true, force: true }));
  const stop = async () => {
    await child.stop(5000);
    unregisterExit();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const started = Date.now();
    await child.waitForLine(/eventjobs ready/, 30_000);
    const m = await child.waitForLine(/amqp:\s+amqp:\/\/[^:\s]+:(\d+)/, 5_000);
    const port = Number(m[1]);
    log(`${target} ready in ${Date.now() - started} ms, amqp port ${port}`);
    const audience = `sb://localhost/${QUEUE}`;
    const common = {
      host: "127.0.0.1",
      port,
      hostname: "localhost",
      username: "bench", // no password: rhea uses SASL ANONYMOUS, as the JS SDK does
    };
    const receiveAddresses = subscriptions.map((s) => `${FANOUT_TOPIC}/Subscriptions/${s}`);
    return {
      amqpPort: port,
      targets: [
        {
          name: target,
          probe: {
            ...common,
            sendAddress: QUEUE,
            receiveAddress: QUEUE,
            beforeAttach: (conn) => putToken(conn, { audience, keyName: KEY_NAME, key: KEY }),
          },
        },
        ...(subscriptions.length
          ? [
              {
                name: `${target}-fanout`,
                probe: {
                  ...common,
                  sendAddress: FANOUT_TOPIC,
                  receiveAddress: receiveAddresses[0],
                  receiveAddresses,
                  // the topic's token covers its subscriptions (the audience is a path prefix)
                  beforeAttach: (conn: Connection) =>
                    putToken(conn, { audience: `sb://localhost/${FANOUT_TOPIC}`, keyName: KEY_NAME, key: KEY }),
                },
              },
            ]
          : []),
      ],
      stop,
    };
  } catch (err) {
    const out = child.output();
    await stop();
    throw new Error(`${target} did not start: ${(err as Error).message}\n--- output tail ---\n${tail(out)}`);
  }
}
