// Ctrl-C on `eventjobs up` while clients hold streams open: a `job logs show --follow` and a long-polling
// `servicebus message receive`. `up` must exit within seconds, not wait for its clients to go away, and
// each client must end too, saying in one line that the server stopped.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { uniqueName } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";
import { CLI } from "../helpers/cli-entry.js";

interface Client {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** resolves once stdout matches `re` (rejects after `ms`) */
  waitFor(re: RegExp, ms: number): Promise<void>;
}

/** A CLI command that keeps running (a follower, a long poll), as a child process. */
function client(dataDir: string, args: string[]): Client {
  const child = spawn(process.execPath, [...CLI, ...args, "--data-dir", dataDir], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, ms) =>
      new Promise((ok, fail) => {
        const check = () => {
          if (!re.test(out)) return;
          clearTimeout(timer);
          child.stdout!.off("data", check);
          ok();
        };
        const timer = setTimeout(
          () => fail(new Error(`no ${re} within ${ms} ms\nstdout:\n${out}\nstderr:\n${err}`)),
          ms,
        );
        child.stdout!.on("data", check);
        check();
      }),
  };
}

/** The exit code, or a rejection naming what is still running after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what} still running ${ms} ms later`)), ms))),
  ]).finally(() => clearTimeout(t));
}

describe("shutdown with clients attached", () => {
  const clients: Client[] = [];
  let server: ServerProcess | undefined;
  after(async () => {
    for (const c of clients) if (c.child.exitCode === null) c.child.kill("SIGKILL");
    await server?.dispose();
  });

  it("SIGINT ends `up` within seconds while a log follower and a long-polling receive are connected; both clients exit with a one-line message", async () => {
    server = await startServer();
    const d = server.dataDir;
    const job = uniqueName("ticker");
    const queue = uniqueName("idle");
    const script = join(d, "ticker.mjs");
    writeFileSync(script, "console.log('ticker started');\nsetInterval(() => console.log('tick'), 200);\n");
    const created = await cli(d, [
      "containerapp",
      "job",
      "create",
      "-n",
      job,
      "--trigger-type",
      "Manual",
      "--replica-timeout",
      "300",
      "--image",
      "busybox",
      "--command",
      "node",
      script,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const started = await cli(d, ["containerapp", "job", "start", "-n", job]);
    assert.equal(started.code, 0, started.stderr);
    const made = await cli(d, ["servicebus", "queue", "create", "--namespace-name", "sbemulatorns", "-n", queue]);
    assert.equal(made.code, 0, made.stderr);

    // the receive starts first: by the time the follower (two requests, then a line) streams, it is waiting
    const receiver = client(d, [
      "servicebus",
      "message",
      "receive",
      "--namespace-name",
      "sbemulatorns",
      "--queue-name",
      queue,
      "--max-wait-time",
      "120",
    ]);
    const follower = client(d, ["containerapp", "job", "logs", "show", "-n", job, "--follow", "--format", "text"]);
    clients.push(follower, receiver);
    await follower.waitFor(/tick/, 20_000);
    assert.equal(receiver.child.exitCode, null, `the receive is still waiting: ${receiver.stderr()}`);

    const t0 = Date.now();
    const exit = await server.stop("SIGINT", 10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, `up exits cleanly after SIGINT\n${server.stderr()}`);
    assert.ok(Date.now() - t0 < 10_000);

    const followerCode = await within(follower.exited, 5_000, "the log follower");
    assert.equal(followerCode, 1, "a follower whose server went away exits 1, as kubectl logs -f does");
    assert.match(follower.stderr(), /^eventjobs: the eventjobs server on .+ stopped; no more logs to follow\n$/);
    assert.match(follower.stdout(), /: tick$/m, "what came before the shutdown was shown");

    const receiverCode = await within(receiver.exited, 5_000, "the long-polling receive");
    assert.equal(receiverCode, 1);
    assert.match(receiver.stderr(), /^eventjobs: .*\n$/, `one line: ${receiver.stderr()}`);
  });
});
