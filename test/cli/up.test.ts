// Black-box tests of `eventjobs up`: the real CLI in a child process, as a user runs it (docs/getting-started.md).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { CLI } from "../helpers/cli-entry.js";

const ROOT = resolve(import.meta.dirname, "../..");
const tmpDirs: string[] = [];
// the servers' TLS certificates come from a throwaway CA, never the user's
const CA_DIR = mkdtempSync(join(tmpdir(), "eventjobs-cli-ca-"));
tmpDirs.push(CA_DIR);
const children = new Set<ChildProcess>();

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function tmpDir(): string {
  const d = mkdtempSync(join(tmpdir(), "eventjobs-cli-"));
  tmpDirs.push(d);
  return d;
}

interface Up {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** resolves when stdout matches, rejects if the process exits first or after the timeout */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function up(args: string[]): Up {
  const child = spawn(process.execPath, [...CLI, "up", ...args], {
    cwd: ROOT,
    env: { ...process.env, EVENTJOBS_DATA_DIR: undefined, EVENTJOBS_CA_DIR: CA_DIR, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (d) => ((out += d), listeners.forEach((l) => l())));
  child.stderr!.on("data", (d) => ((err += d), listeners.forEach((l) => l())));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("exit", (code, signal) => {
      children.delete(child);
      listeners.forEach((l) => l());
      r({ code, signal });
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) return done(() => resolve(m));
          if (child.exitCode !== null || child.signalCode !== null) {
            return done(() =>
              reject(
                new Error(
                  `eventjobs up exited (${child.exitCode ?? child.signalCode}) before ${re}\nstdout:\n${out}\nstderr:\n${err}`,
                ),
              ),
            );
          }
        };
        const t = setTimeout(
          () => done(() => reject(new Error(`no ${re} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`))),
          timeoutMs,
        );
        const done = (f: () => void) => (clearTimeout(t), listeners.delete(check), f());
        listeners.add(check);
        check();
      });
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}

const FREE_PORTS = ["--amqp-port", "0", "--http-port", "0", "--amqps-port", "0", "--https-port", "0"];

interface Ready {
  connectionString: string;
  amqpUrl: URL;
  httpUrl: URL;
}

/** Waits for the ready block: `eventjobs ready`, then the connection string and the URLs. */
async function ready(p: Up): Promise<Ready> {
  await p.waitFor(/^eventjobs ready$[\s\S]*amqp:\/\/[^\s]+:\d+[\s\S]*https?:\/\/[^\s]+:\d+/m);
  const out = p.stdout();
  const after = out.slice(out.indexOf("eventjobs ready"));
  const cs = after.match(/Endpoint=sb:\/\/[^\s]+/);
  assert.ok(cs, `connection string after the ready line:\n${out}`);
  const amqp = after.match(/amqp:\/\/[^\s/]+:\d+/);
  const http = after.match(/http:\/\/[^\s/]+:\d+/);
  assert.ok(amqp && http, `amqp and http URLs after the ready line:\n${out}`);
  return { connectionString: cs[0], amqpUrl: new URL(amqp[0]), httpUrl: new URL(http[0]) };
}

async function sendReceive(connectionString: string, queue: string): Promise<void> {
  const c = new ServiceBusClient(connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } });
  try {
    await c.createSender(queue).sendMessages({ body: { hello: queue }, messageId: "cli-1" });
    const got = await c
      .createReceiver(queue, { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    assert.equal(got.length, 1, `received from ${queue}`);
    assert.deepEqual(got[0].body, { hello: queue });
  } finally {
    await c.close();
  }
}

function yamlFile(dir: string, text: string): string {
  const f = join(dir, "eventjobs.yaml");
  writeFileSync(f, text);
  return f;
}

const QUEUE_YAML = `namespaces:
  - name: sbemulatorns
    queues:
      - name: orders
        properties:
          lockDuration: PT30S
`;

/**
 * A rejected config: non-zero exit, no ready block, stderr names the file, the `path` and the `value`, and no
 * server.json in `dataDir`. Returns stderr.
 */
async function expectConfigRejected(
  p: Up,
  file: string,
  dataDir: string,
  path: RegExp,
  value: RegExp,
): Promise<string> {
  const exit = await withTimeout(p.exited, 20_000, "exit on a bad config");
  assert.notEqual(exit.code, 0);
  assert.doesNotMatch(p.stdout(), /eventjobs ready/);
  const err = p.stderr();
  assert.ok(err.includes(file), `stderr names the file ${file}:\n${err}`);
  assert.match(err, path, `stderr names the path:\n${err}`);
  assert.match(err, value, `stderr names the value:\n${err}`);
  assert.ok(!existsSync(join(dataDir, "server.json")), "no server.json");
  return err;
}

describe("eventjobs up", () => {
  test("prints the ready block with real ports, serves /health and the SDK, writes server.json; SIGTERM exits 0 and removes it", async () => {
    const dir = tmpDir();
    const dataDir = join(dir, "data");
    const p = up(["--config", yamlFile(dir, QUEUE_YAML), "--data-dir", dataDir, ...FREE_PORTS]);
    const r = await ready(p);
    const lines = p.stdout().split("\n");
    assert.ok(lines.includes("eventjobs ready"), "a line that is exactly `eventjobs ready`");
    assert.ok(
      lines.indexOf("eventjobs ready") < lines.findIndex((l) => l.includes("Endpoint=sb://")),
      "connection string after the ready line",
    );
    assert.notEqual(r.amqpUrl.port, "0");
    assert.notEqual(r.httpUrl.port, "0");
    assert.notEqual(r.amqpUrl.port, "5672", "port 0 picked a free port, not the default");
    assert.match(
      r.connectionString,
      new RegExp(`^Endpoint=sb://localhost:${r.amqpUrl.port};`),
      "the connection string points at the real AMQP port",
    );
    assert.match(
      r.connectionString,
      /SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;?$/,
    );

    const res = await fetch(new URL("/health", r.httpUrl));
    assert.equal(res.status, 200);
    const health = (await res.json()) as { status?: string };
    assert.equal(health.status, "healthy");

    await sendReceive(r.connectionString, "orders");

    const serverFile = join(dataDir, "server.json");
    assert.ok(existsSync(serverFile), "server.json in the data dir");
    const info = JSON.parse(readFileSync(serverFile, "utf8"));
    const text = JSON.stringify(info);
    assert.ok(text.includes(`:${r.amqpUrl.port}`), `server.json has the AMQP address: ${text}`);
    assert.ok(text.includes(`:${r.httpUrl.port}`), `server.json has the HTTP address: ${text}`);

    p.child.kill("SIGTERM");
    const exit = await withTimeout(p.exited, 10_000, "exit after SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, `stderr:\n${p.stderr()}`);
    assert.ok(!existsSync(serverFile), "server.json removed on shutdown");
  });

  test("SIGINT shuts down cleanly too, with a client still connected", async () => {
    const dir = tmpDir();
    const dataDir = join(dir, "data");
    const p = up(["--config", yamlFile(dir, QUEUE_YAML), "--data-dir", dataDir, ...FREE_PORTS]);
    const r = await ready(p);
    await sendReceive(r.connectionString, "orders");
    assert.ok(existsSync(join(dataDir, "server.json")));
    // a client is still connected, with a receiver waiting for messages
    const c = new ServiceBusClient(r.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 2000 } });
    const pending = c
      .createReceiver("orders")
      .receiveMessages(1, { maxWaitTimeInMs: 4000 })
      .catch((e) => e);
    await new Promise((res) => setTimeout(res, 300)); // let the receive attach (no event to wait on from outside)
    try {
      p.child.kill("SIGINT");
      const exit = await withTimeout(p.exited, 10_000, "exit after SIGINT with a client connected");
      assert.deepEqual(exit, { code: 0, signal: null }, `stderr:\n${p.stderr()}`);
    } finally {
      await withTimeout(c.close(), 10_000, "client close").catch(() => undefined);
      void pending;
    }
    assert.ok(!existsSync(join(dataDir, "server.json")), "server.json removed on shutdown");
  });

  test("the ready block lists the amqps and https URLs too; they serve TLS with the CA's certificate", async () => {
    const dir = tmpDir();
    const dataDir = join(dir, "data");
    const p = up(["--config", yamlFile(dir, QUEUE_YAML), "--data-dir", dataDir, ...FREE_PORTS]);
    try {
      await ready(p);
      await p.waitFor(/^ {2}namespaces: .*\n/m); // the block's last line: every line before it is complete
      const lines = p.stdout().split("\n");
      const amqps = lines.find((l) => /^ {2}amqps: amqps:\/\/[^\s/]+:[1-9]\d*$/.test(l));
      const https = lines.find((l) => /^ {2}https: https:\/\/[^\s/]+:[1-9]\d*$/.test(l));
      assert.ok(
        amqps && https,
        `lines \`  amqps: amqps://host:port\` and \`  https: https://host:port\`:\n${p.stdout()}`,
      );
      const amqpsPort = new URL(amqps.split(": ")[1]).port;
      assert.match(
        p.stdout(),
        new RegExp(
          `tls connection string: Endpoint=sb://localhost:${amqpsPort}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;$`,
          "m",
        ),
      );
      const info = JSON.parse(readFileSync(join(dataDir, "server.json"), "utf8"));
      assert.equal(info.amqps, amqps.split(": ")[1]);
      assert.equal(info.https, https.split(": ")[1]);
      assert.equal(info.caFile, join(CA_DIR, "rootCA.pem"));
      // /health over HTTPS, trusting only the CA
      const httpsUrl = new URL(https.split(": ")[1]);
      const health = await new Promise<number>((res, rej) =>
        httpsGet(
          {
            host: httpsUrl.hostname,
            port: httpsUrl.port,
            path: "/health",
            servername: "localhost",
            ca: readFileSync(info.caFile),
          },
          (r) => {
            r.resume();
            res(r.statusCode ?? 0);
          },
        ).once("error", rej),
      );
      assert.equal(health, 200);
    } finally {
      p.child.kill("SIGTERM");
      await withTimeout(p.exited, 10_000, "exit");
    }
  });

  test("an invalid eventjobs.yaml (lockDuration: banana): non-zero exit, stderr names file, path and value, no server.json", async () => {
    const dir = tmpDir();
    const dataDir = join(dir, "data");
    const file = yamlFile(dir, QUEUE_YAML.replace("PT30S", "banana"));
    const p = up(["--config", file, "--data-dir", dataDir, ...FREE_PORTS]);
    const err = await expectConfigRejected(
      p,
      file,
      dataDir,
      /namespaces\[0\]\.queues\[0\]\.properties\.lockDuration/,
      /banana/,
    );
    assert.doesNotMatch(err, /\n\s+at /, `no stack trace:\n${err}`);
  });

  test("an unknown property in the emulator's Config.json: non-zero exit, stderr names file, path and value, no server.json", async () => {
    const dir = tmpDir();
    const dataDir = join(dir, "data");
    const file = join(dir, "Config.json");
    writeFileSync(
      file,
      JSON.stringify(
        {
          UserConfig: {
            Namespaces: [
              {
                Name: "sbemulatorns",
                Queues: [{ Name: "q1", Properties: { MaxDeliveryCount: 3, NotAProperty: "surprise" } }],
              },
            ],
            Logging: { Type: "File" },
          },
        },
        null,
        2,
      ),
    );
    const p = up(["--config", file, "--data-dir", dataDir, ...FREE_PORTS]);
    await expectConfigRejected(p, file, dataDir, /Namespaces\[0\]\.Queues\[0\]\.Properties\.NotAProperty/, /surprise/);
  });

  test("examples/emulator/Config.json loads and its queues are usable by the SDK", async () => {
    const dir = tmpDir();
    const p = up(["--config", "examples/emulator/Config.json", "--data-dir", join(dir, "data"), ...FREE_PORTS]);
    try {
      const r = await ready(p);
      await sendReceive(r.connectionString, "invoices");
    } finally {
      p.child.kill("SIGTERM");
      const exit = await withTimeout(p.exited, 10_000, "exit after SIGTERM");
      assert.equal(exit.code, 0, `stderr:\n${p.stderr()}`);
    }
  });

  for (const which of ["--amqp-port", "--http-port", "--amqps-port", "--https-port"]) {
    test(`a port already in use (${which}): one clear line, non-zero exit`, async () => {
      const blocker: Server = createServer();
      await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
      const port = (blocker.address() as { port: number }).port;
      try {
        const dir = tmpDir();
        const args = [...FREE_PORTS];
        args[args.indexOf(which) + 1] = String(port);
        const p = up(["--config", yamlFile(dir, QUEUE_YAML), "--data-dir", join(dir, "data"), ...args]);
        const exit = await withTimeout(p.exited, 20_000, "exit on a busy port");
        assert.notEqual(exit.code, 0);
        assert.doesNotMatch(p.stdout(), /eventjobs ready/);
        const lines = p
          .stderr()
          .split("\n")
          .filter((l) => l.trim() !== "");
        assert.equal(lines.length, 1, `exactly one line on stderr:\n${p.stderr()}`);
        assert.match(lines[0], new RegExp(`\\b${port}\\b`), "names the port");
        assert.match(lines[0], /in use/i);
        assert.ok(!existsSync(join(dir, "data", "server.json")), "no server.json");
      } finally {
        await new Promise((r) => blocker.close(r));
      }
    });
  }
});
