// A private RabbitMQ 3.10 (Debian `rabbitmq-server`) instance with the AMQP 1.0 plugin:
// own node name, ports (AMQP, dist, epmd, CLI dist), mnesia/log/config under a temp dir,
// all bound to 127.0.0.1. Started and stopped by the benchmark; nothing is left running.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, run, sleep, startChild, tail, waitForPort, onCleanup, onExitSync, type Child } from "./procs.js";

const BIN = "/usr/lib/rabbitmq/bin";
const SERVER = `${BIN}/rabbitmq-server`;
const CTL = `${BIN}/rabbitmqctl`;

export interface Rabbit {
  port: number;
  version: string;
  /** Queue name → probe address (same for send and receive). */
  queues: { classic: string; quorum: string };
  /** Fan-out: a durable fanout exchange bound to durable classic queues (undefined: not asked for). */
  fanout?: { sendAddress: string; receiveAddresses: string[] };
  stop(): Promise<void>;
}

/** Install rabbitmq-server from Debian when missing, never letting the package start the system service. */
export async function ensureRabbitInstalled(log: (s: string) => void): Promise<void> {
  if (existsSync(SERVER)) return;
  if (process.getuid?.() !== 0)
    throw new Error("rabbitmq-server is not installed and we are not root to apt-get install it");
  log("installing rabbitmq-server (apt-get)…");
  const policy = "/usr/sbin/policy-rc.d";
  const addedPolicy = !existsSync(policy);
  if (addedPolicy) {
    // Keep the postinst from starting the system-wide broker on 0.0.0.0:5672.
    writeFileSync(policy, "#!/bin/sh\nexit 101\n");
    chmodSync(policy, 0o755);
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const upd = await run("apt-get", ["update", "-q"], { env, timeoutMs: 300_000 });
    if (upd.code !== 0) throw new Error(`apt-get update failed: ${upd.error ?? ""}\n${tail(upd.out)}`);
    const inst = await run("apt-get", ["install", "-y", "-q", "--no-install-recommends", "rabbitmq-server"], {
      env,
      timeoutMs: 600_000,
    });
    if (inst.code !== 0)
      throw new Error(`apt-get install rabbitmq-server failed: ${inst.error ?? ""}\n${tail(inst.out)}`);
  } finally {
    if (addedPolicy) rmSync(policy, { force: true });
  }
  if (!existsSync(SERVER)) throw new Error(`${SERVER} missing after install`);
}

export const FANOUT_EXCHANGE = "bench-fanout";

/** `fanoutQueues` > 0 also declares the fan-out: exchange `bench-fanout` (fanout, durable) bound to that many
 *  durable classic queues `bench-fanout-<i>`, sent to at `/exchange/bench-fanout/fanout` (a fanout exchange
 *  ignores the routing key) and received from at `/amq/queue/bench-fanout-<i>`. */
export async function startRabbit(log: (s: string) => void, { fanoutQueues = 0 } = {}): Promise<Rabbit> {
  await ensureRabbitInstalled(log);
  const dir = mkdtempSync(path.join(tmpdir(), "bench-rabbit-"));
  const port = await freePort();
  // Keep dist ports low enough that RabbitMQ's derived defaults stay below 65535.
  const distPort = await freePort(20000, 30000);
  const epmdPort = await freePort(30000, 40000);
  const ctlDistMin = await freePort(40000, 50000);
  const node = `bench-${process.pid}@localhost`;

  writeFileSync(
    path.join(dir, "rabbitmq.conf"),
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      "loopback_users.guest = true",
      "amqp1_0.default_user = guest",
      "amqp1_0.default_vhost = /",
      "",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, "enabled_plugins"), "[rabbitmq_amqp1_0].\n");
  writeFileSync(path.join(dir, "rabbitmq-env.conf"), "");
  writeFileSync(path.join(dir, ".erlang.cookie"), randomBytes(16).toString("hex").toUpperCase(), { mode: 0o400 });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_USE_LONGNAME: "false",
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CTL_DIST_PORT_MIN: String(ctlDistMin),
    RABBITMQ_CTL_DIST_PORT_MAX: String(ctlDistMin + 10),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(dir, "log"),
    RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, "rabbitmq-env.conf"),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
  };
  const ctl = (args: string[], timeoutMs = 60_000) => run(CTL, ["-n", node, ...args], { env, cwd: dir, timeoutMs });

  let child: Child | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= doStop());
  const doStop = async () => {
    unregister();
    if (child && !child.exited()) {
      const r = await ctl(["stop"], 15_000);
      if (r.code !== 0) log(`rabbitmqctl stop failed (${r.code}): ${r.error ?? ""}\n${tail(r.out, 12)}`);
    }
    await child?.stop(5000);
    await killEpmd(epmdPort, env, log);
    rmSync(dir, { recursive: true, force: true });
    unregisterExit();
  };
  const unregister = onCleanup(stop);
  // After a crash: the server group is SIGKILLed by startChild's exit hook; epmd lives outside it.
  const unregisterExit = onExitSync(() => {
    for (const pid of epmdPids(epmdPort)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  try {
    log(`starting RabbitMQ node ${node} on 127.0.0.1:${port} (dist ${distPort}, epmd ${epmdPort}) in ${dir}`);
    child = startChild("rabbitmq-server", SERVER, [], { env, cwd: dir, ownCleanup: false });
    await waitForPort(port, 120_000, () => child!.exited() && `${child!.exited()}\n${tail(child!.output())}`);
    const up = await ctl(["await_startup", "--timeout", "60"], 90_000);
    if (up.code !== 0) throw new Error(`rabbitmqctl await_startup failed: ${up.error ?? ""}\n${tail(up.out)}`);
    const plugins = await ctl(["eval", "application:which_applications()."]);
    if (!plugins.out.includes("rabbitmq_amqp1_0"))
      throw new Error(`AMQP 1.0 plugin not running:\n${tail(plugins.out)}`);
    for (const [name, type] of [
      ["bench-classic", "classic"],
      ["bench-quorum", "quorum"],
    ]) {
      const expr =
        `rabbit_amqqueue:declare(rabbit_misc:r(<<"/">>, queue, <<"${name}">>), true, false, ` +
        `[{<<"x-queue-type">>, longstr, <<"${type}">>}], none, <<"guest">>).`;
      const r = await ctl(["eval", expr]);
      if (r.code !== 0 || !/\{(new|existing),/.test(r.out))
        throw new Error(`declaring ${type} queue failed:\n${tail(r.out)}`);
    }
    let fanout: Rabbit["fanout"];
    if (fanoutQueues > 0) {
      const x = `rabbit_misc:r(<<"/">>, exchange, <<"${FANOUT_EXCHANGE}">>)`;
      // rabbit_exchange:declare(Name, Type, Durable, AutoDelete, Internal, Args, ActingUser)
      const dx = await ctl(["eval", `rabbit_exchange:declare(${x}, fanout, true, false, false, [], <<"guest">>).`]);
      if (dx.code !== 0 || !/#?exchange|\{exchange,/.test(dx.out))
        throw new Error(`declaring the fanout exchange failed:\n${tail(dx.out)}`);
      const receiveAddresses: string[] = [];
      for (let i = 0; i < fanoutQueues; i++) {
        const name = `${FANOUT_EXCHANGE}-${i}`;
        const q = `rabbit_misc:r(<<"/">>, queue, <<"${name}">>)`;
        const dq = await ctl([
          "eval",
          `rabbit_amqqueue:declare(${q}, true, false, [{<<"x-queue-type">>, longstr, <<"classic">>}], none, <<"guest">>).`,
        ]);
        if (dq.code !== 0 || !/\{(new|existing),/.test(dq.out))
          throw new Error(`declaring queue ${name} failed:\n${tail(dq.out)}`);
        // #binding{source, key, destination, args} as a tuple (records do not exist in eval)
        const b = await ctl(["eval", `rabbit_binding:add({binding, ${x}, <<>>, ${q}, []}, <<"guest">>).`]);
        if (b.code !== 0 || b.out.trim() !== "ok") throw new Error(`binding ${name} failed:\n${tail(b.out)}`);
        receiveAddresses.push(`/amq/queue/${name}`);
      }
      fanout = { sendAddress: `/exchange/${FANOUT_EXCHANGE}/fanout`, receiveAddresses };
    }
    const ver = await ctl(["version"]);
    const version = ver.out.trim().split(/\s+/).pop() || "unknown";
    return {
      port,
      version,
      queues: { classic: "/amq/queue/bench-classic", quorum: "/amq/queue/bench-quorum" },
      fanout,
      stop,
    };
  } catch (err) {
    const logs = readLogs(path.join(dir, "log"));
    await stop();
    throw new Error(`${(err as Error).message}${logs ? `\n--- rabbit log tail ---\n${logs}` : ""}`);
  }
}

function readLogs(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".log"))
      .map((f) => tail(readFileSync(path.join(dir, f), "utf8"), 10))
      .join("\n");
  } catch {
    return "";
  }
}

/** Stop the epmd this instance started (it daemonises out of our process group). */
async function killEpmd(epmdPort: number, env: NodeJS.ProcessEnv, log: (s: string) => void): Promise<void> {
  await run("epmd", ["-kill"], { env, timeoutMs: 10_000 });
  for (let i = 0; i < 10; i++) {
    const pids = epmdPids(epmdPort);
    if (pids.length === 0) return;
    if (i === 5)
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    await sleep(200);
  }
  log(`warning: epmd on port ${epmdPort} still running`);
}

/** Pids of epmd processes whose environment names our private ERL_EPMD_PORT. */
function epmdPids(epmdPort: number): number[] {
  const out: number[] = [];
  for (const ent of readdirSync("/proc")) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      if (readFileSync(`/proc/${ent}/comm`, "utf8").trim() !== "epmd") continue;
      const environ = readFileSync(`/proc/${ent}/environ`, "latin1").split("\0");
      if (environ.includes(`ERL_EPMD_PORT=${epmdPort}`)) out.push(Number(ent));
    } catch {
      /* raced with exit */
    }
  }
  return out;
}
