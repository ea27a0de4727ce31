// Builds the dashboard (src/dashboard/ui) into dist/dashboard/public: index.html, assets/app.js (preact and
// the pages, one minified ES module), assets/app.css and assets/favicon.svg. `npm ci` runs it (prepare), so a
// checkout serves the dashboard without a network; nothing it writes is committed.
//
//   npm run build:dashboard        (node --import tsx scripts/build-dashboard.ts)
import { copyFileSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const UI = join(ROOT, "src/dashboard/ui");
export const OUT = join(ROOT, "dist/dashboard/public");

export interface BuildResult {
  dir: string;
  /** bytes of each file written, by path under `dir` */
  sizes: Record<string, number>;
}

/** Builds into a fresh folder beside `out`, then swaps it in, so a server never reads a half-written bundle. */
export async function buildDashboard(out = OUT): Promise<BuildResult> {
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await build({
    entryPoints: { app: join(UI, "main.tsx") },
    outdir: join(tmp, "assets"),
    bundle: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
  copyFileSync(join(UI, "index.html"), join(tmp, "index.html"));
  copyFileSync(join(UI, "favicon.svg"), join(tmp, "assets/favicon.svg"));
  mkdirSync(dirname(out), { recursive: true });
  const old = `${out}.old-${process.pid}`;
  try {
    renameSync(out, old);
  } catch {
    // first build: nothing to move aside
  }
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
  const files = ["index.html", "assets/app.js", "assets/app.css", "assets/favicon.svg"];
  return { dir: out, sizes: Object.fromEntries(files.map((f) => [f, statSync(join(out, f)).size])) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const r = await buildDashboard();
  const list = Object.entries(r.sizes).map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KB`);
  console.log(`dashboard built into ${r.dir.slice(ROOT.length + 1)}: ${list.join(", ")}`);
}
