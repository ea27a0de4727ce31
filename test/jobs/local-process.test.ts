// The local-process executor with real child processes: exit codes, output capture, clean environment,
// timeout, memory limit, stop, start failures and process-group cleanup.
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { LineSplitter } from "../../src/jobs/local-process/output-lines.js";
import { SYSTEM_PATH } from "../../src/jobs/local-process/programs.js";
import { startReplica } from "../../src/jobs/local-process/supervisor.js";
import type { ReplicaHandle, ReplicaOutcome, ReplicaSpec, Stream } from "../../src/jobs/types.js";
import { tempFiles } from "../helpers/files.js";

const { tempDir } = tempFiles("eventjobs-exec-");
const NODE = process.execPath;

interface Run {
  handle: ReplicaHandle;
  lines: Array<[Stream, string]>;
  /** resolves with the first line matching `re` (rejects after a deadline) */
  line(re: RegExp, ms?: number): Promise<string>;
  done: Promise<ReplicaOutcome>;
}

function run(argv: string[], spec: Partial<ReplicaSpec> = {}): Run {
  const lines: Array<[Stream, string]> = [];
  const waiters: Array<() => void> = [];
  const handle = startReplica(
    {
      jobName: "job",
      executionName: "job-abc1234",
      replicaName: "job-abc1234-x1",
      containerName: "main",
      argv,
      env: {},
      cwd: spec.cwd ?? tempDir(),
      timeoutSeconds: 30,
      ...spec,
    },
    (stream, text) => {
      lines.push([stream, text]);
      waiters.forEach((w) => w());
    },
  );
  const line = (re: RegExp, ms = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(([, t]) => re.test(t));
        if (hit) {
          clearTimeout(timer);
          resolve(hit[1]);
        }
      };
      const timer = setTimeout(
        () => reject(new Error(`no line ${re} within ${ms} ms; got ${JSON.stringify(lines)}`)),
        ms,
      );
      waiters.push(check);
      check();
    });
  return { handle, lines, line, done: withDeadline(handle.done, 20_000) };
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}

/** a pid is gone once it no longer exists or is a zombie waiting for its (new) parent to reap it */
function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z";
  } catch {
    return true;
  }
}

async function waitDead(pid: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!dead(pid)) {
    if (Date.now() > deadline) assert.fail(`process ${pid} still alive after ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

const node = (code: string) => [NODE, "-e", code];

describe("exit codes", () => {
  test("exit 0 → Completed", async () => {
    const o = await run(["true"]).done;
    assert.deepEqual(o, { reason: "Completed", exitCode: 0 });
  });

  test("exit 3 → Error with the code", async () => {
    const o = await run(["sh", "-c", "exit 3"]).done;
    assert.equal(o.reason, "Error");
    assert.equal(o.exitCode, 3);
    assert.match(o.message!, /exited with code 3/);
  });

  test("killed by a signal it sent itself → Error, 128 + signo", async () => {
    const o = await run(["sh", "-c", "kill -SEGV $$"]).done;
    assert.equal(o.reason, "Error");
    assert.equal(o.signal, "SIGSEGV");
    assert.equal(o.exitCode, 139);
  });
});

describe("output", () => {
  test("lines split across chunks, UTF-8 split mid-character, CRLF, stderr, trailing partial line", async () => {
    const script = `
      const w = (s, b) => new Promise((r) => s.write(b, r));
      (async () => {
        await w(process.stdout, "hel");
        await new Promise((r) => setTimeout(r, 20));
        await w(process.stdout, Buffer.concat([Buffer.from("lo w\\u00f6rld "), Buffer.from("€").subarray(0, 1)]));
        await new Promise((r) => setTimeout(r, 20));
        await w(process.stdout, Buffer.concat([Buffer.from("€").subarray(1), Buffer.from("\\r\\nsecond\\n\\nfourth")]));
        await w(process.stderr, "oops\\n");
      })();`;
    const r = run(node(script));
    assert.equal((await r.done).reason, "Completed");
    assert.deepEqual(
      r.lines.filter(([s]) => s === "stdout").map(([, t]) => t),
      ["hello wörld €", "second", "", "fourth"],
    );
    assert.deepEqual(
      r.lines.filter(([s]) => s === "stderr").map(([, t]) => t),
      ["oops"],
    );
  });

  test("the splitter on exact chunk boundaries", () => {
    const got: string[] = [];
    const s = new LineSplitter("stdout", (_, t) => got.push(t));
    const bytes = Buffer.from("ä€\r\nx\ny");
    for (const b of bytes) s.write(Buffer.from([b]));
    assert.deepEqual(got, ["ä€", "x"]);
    s.end();
    assert.deepEqual(got, ["ä€", "x", "y"]);
  });
});

describe("environment", () => {
  test("clean: parent variables absent, declared ones present, standard PATH, HOME and LANG", async () => {
    process.env.SECRET_FROM_PARENT = "do-not-leak";
    try {
      const cwd = tempDir();
      const r = run(node("console.log(JSON.stringify({ env: process.env, cwd: process.cwd() }))"), {
        cwd,
        env: { DECLARED: "yes", LANG: "en_US.UTF-8" },
      });
      assert.equal((await r.done).reason, "Completed");
      const { env, cwd: childCwd } = JSON.parse(r.lines[0][1]);
      assert.equal(env.SECRET_FROM_PARENT, undefined);
      assert.equal(env.DECLARED, "yes");
      assert.equal(env.LANG, "en_US.UTF-8", "spec.env overrides the defaults");
      assert.equal(env.HOME, cwd);
      assert.equal(childCwd, cwd);
      const path = env.PATH.split(":");
      assert.deepEqual(path.slice(0, SYSTEM_PATH.length), SYSTEM_PATH);
      assert.ok(path.includes(NODE.slice(0, NODE.lastIndexOf("/"))));
      assert.deepEqual(Object.keys(env).sort(), ["DECLARED", "HOME", "HOSTNAME", "LANG", "PATH"]);
    } finally {
      delete process.env.SECRET_FROM_PARENT;
    }
  });

  test("`python` runs python3 when only python3 is on the standard PATH, with a notice", async (t) => {
    const hasPython = SYSTEM_PATH.some((d) => existsSync(join(d, "python")));
    const hasPython3 = SYSTEM_PATH.some((d) => existsSync(join(d, "python3")));
    if (hasPython || !hasPython3) return t.skip("needs python3 without python on the system PATH");
    const r = run(["python", "-c", "import sys; print('hi from python', sys.version_info[0])"]);
    assert.deepEqual(await r.done, { reason: "Completed", exitCode: 0 });
    assert.deepEqual(r.lines, [["stdout", "hi from python 3"]]);
    assert.match(r.handle.notices![0], /^"python" is not on the replica's PATH; it runs \/\S+python3$/);
    // shell form (CMD python processor.py) finds it too
    const sh = run(["/bin/sh", "-c", "python -c 'print(42)'"]);
    assert.deepEqual(await sh.done, { reason: "Completed", exitCode: 0 });
    assert.deepEqual(sh.lines, [["stdout", "42"]]);
    assert.equal(sh.handle.notices!.length, 1);
    // a replica that does not mention python gets no notice
    assert.deepEqual(run(["true"]).handle.notices, []);
  });
});

describe("ending replicas", () => {
  test("timeout → SIGTERM, then SIGKILL after the grace period for a process that ignores SIGTERM", async () => {
    // sh starts in a millisecond, so its trap is in place long before the 1 s timeout; `wait` (unlike a foreground
    // sleep) returns as soon as the signal arrives, so the trap runs then and not when a sleep happens to end
    const r = run(["sh", "-c", "trap 'echo got SIGTERM' TERM; echo ready; while :; do sleep 1 & wait $!; done"], {
      timeoutSeconds: 1,
      terminationGracePeriodSeconds: 1,
    });
    const o = await r.done;
    assert.equal(o.reason, "DeadlineExceeded");
    assert.equal(o.exitCode, 137);
    assert.equal(o.signal, "SIGKILL");
    assert.match(o.message!, /replica timeout of 1s exceeded; still running after the 1s grace period, killed/);
    assert.deepEqual(
      r.lines.filter(([s]) => s === "stdout").map(([, t]) => t),
      ["ready", "got SIGTERM"],
    );
  });

  test("timeout → a process that exits on SIGTERM reports its own exit", async () => {
    const o = await run(["sleep", "30"], { timeoutSeconds: 1, terminationGracePeriodSeconds: 5 }).done;
    assert.deepEqual(o, {
      reason: "DeadlineExceeded",
      exitCode: 143,
      signal: "SIGTERM",
      message: "replica timeout of 1s exceeded",
    });
  });

  test("memory limit exceeded → OOMKilled, 137", async () => {
    const r = run(node("const keep = []; setInterval(() => keep.push(Buffer.alloc(16 << 20, 1)), 5)"), {
      memoryLimitBytes: 200 << 20,
    });
    const o = await r.done;
    assert.equal(o.reason, "OOMKilled");
    assert.equal(o.exitCode, 137);
    assert.match(o.message!, /^memory \d+ MiB over limit 200 MiB$/);
  });

  test("memory of the whole tree counts (a grandchild allocates)", async () => {
    const child = "const keep = []; setInterval(() => keep.push(Buffer.alloc(16 << 20, 1)), 5)";
    const r = run(["sh", "-c", `${NODE} -e "${child}"; echo after`], { memoryLimitBytes: 200 << 20 });
    const o = await r.done;
    assert.equal(o.reason, "OOMKilled");
    assert.equal(r.lines.length, 0, "the shell was killed too");
  });

  test("stop() → SIGTERM → Stopped", async () => {
    const r = run(
      node(
        "process.on('SIGTERM', () => { console.log('bye'); process.exit(0) }); console.log('ready'); setInterval(() => {}, 1000)",
      ),
    );
    await r.line(/ready/);
    r.handle.stop();
    r.handle.stop(); // idempotent
    assert.deepEqual(await r.done, { reason: "Stopped", exitCode: 0, message: "stopped" });
    assert.deepEqual(
      r.lines.map(([, t]) => t),
      ["ready", "bye"],
    );
  });

  test("stop() kills the grandchildren too", async () => {
    const r = run(["sh", "-c", "sleep 300 & echo $!; wait"]);
    const pid = Number(await r.line(/^\d+$/));
    r.handle.stop();
    const o = await r.done;
    assert.equal(o.reason, "Stopped");
    await waitDead(pid);
  });

  test("no orphan: a background grandchild dies when the main process exits", async () => {
    const r = run(["sh", "-c", "sleep 300 & echo $!"]);
    const o = await r.done;
    assert.equal(o.reason, "Completed");
    await waitDead(Number(r.lines[0][1]));
  });
});

describe("start failures", () => {
  test("a missing program → StartFailed 127 naming it", async () => {
    const r = run(["no-such-program-xyz", "arg"]);
    assert.equal(r.handle.pid, undefined);
    const o = await r.done;
    assert.equal(o.reason, "StartFailed");
    assert.equal(o.exitCode, 127);
    assert.match(o.message!, /^command not found: no-such-program-xyz \(PATH=\/usr\/local\/sbin:/);
  });

  test("a file that is not executable → StartFailed 126", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "run.sh"), "#!/bin/sh\necho hi\n");
    const o = await run(["./run.sh"], { cwd }).done;
    assert.deepEqual(o, {
      reason: "StartFailed",
      exitCode: 126,
      message: "permission denied: ./run.sh is not an executable file",
    });
    chmodSync(join(cwd, "run.sh"), 0o755);
    const ok = run(["./run.sh"], { cwd });
    assert.equal((await ok.done).reason, "Completed");
    assert.deepEqual(ok.lines, [["stdout", "hi"]]);
  });

  test("a script whose #! interpreter is missing → StartFailed naming the interpreter", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "run.sh"), "#!/no/such/interpreter -x\necho hi\n", { mode: 0o755 });
    assert.deepEqual(await run(["./run.sh"], { cwd }).done, {
      reason: "StartFailed",
      exitCode: 127,
      message: "cannot start ./run.sh: its interpreter /no/such/interpreter -x was not found",
    });
  });

  test("a PATH the job sets is not shown", async () => {
    const o = await run(["no-such-program-xyz"], { env: { PATH: "/secret/dir" } }).done;
    assert.equal(o.message, "command not found: no-such-program-xyz (on the job's PATH)");
  });

  test("a missing working directory → StartFailed", async () => {
    const o = await run(["true"], { cwd: "/nonexistent/eventjobs" }).done;
    assert.equal(o.reason, "StartFailed");
    assert.match(o.message!, /working directory does not exist: \/nonexistent\/eventjobs/);
  });

  test("an empty argv → StartFailed", async () => {
    const o = await run([]).done;
    assert.equal(o.reason, "StartFailed");
    assert.equal(o.exitCode, 127);
  });
});
