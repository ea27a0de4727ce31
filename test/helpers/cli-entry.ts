// How tests start the eventjobs CLI as a child process. A user runs bin/eventjobs.js, which loads the compiled
// dist/; `npm test` builds dist/ first, so tests run that same path (and skip tsx's loader, which doubles the
// start-up time of every command). When dist/ is missing or older than a file in src/ (a developer running one
// test file after an edit), the source runs through tsx instead. EVENTJOBS_TEST_CLI=source|dist forces one.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const DIST_MAIN = join(ROOT, "dist/cli/main.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function distIsCurrent(): boolean {
  return existsSync(DIST_MAIN) && statSync(DIST_MAIN).mtimeMs >= newestMtime(join(ROOT, "src"));
}

function choose(): "dist" | "source" {
  const forced = process.env.EVENTJOBS_TEST_CLI;
  if (forced === "dist" || forced === "source") return forced;
  if (forced) throw new Error(`EVENTJOBS_TEST_CLI must be "dist" or "source", not "${forced}"`);
  return distIsCurrent() ? "dist" : "source";
}

/** Which build the CLI runs from in this test process. */
export const CLI_BUILD = choose();

/** Node arguments that run the CLI; the command's own arguments follow. */
export const CLI: readonly string[] =
  CLI_BUILD === "dist"
    ? [join(ROOT, "bin/eventjobs.js")]
    : ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/main.ts")];
