// Debian's Python SDK (uamqp) always connects to port 5671, so every test file that serves it there takes its
// turn: a lock directory in the temp dir, held for the file's run, taken over when its holder's process is gone.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const LOCK = join(tmpdir(), "eventjobs-test-amqps-5671.lock");

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) until no other test process holds port 5671's turn; returns the release. */
export async function holdAmqpsPort(timeoutMs = 15 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      const release = () => rmSync(LOCK, { recursive: true, force: true });
      process.once("exit", release);
      return release;
    } catch {
      // a holder that died (or has not written its pid yet: give it a moment) leaves the lock behind
      if (!holderAlive()) {
        await delay(500);
        if (!holderAlive()) rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another test process held port 5671 for over ${timeoutMs} ms`);
      await delay(250);
    }
  }
}
