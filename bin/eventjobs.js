#!/usr/bin/env node
// Runs the compiled CLI (npm ci builds dist/ through the prepare script).
import("../dist/cli/main.js").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/cli/main.js")) {
    console.error("eventjobs: dist/ is missing; run `npm run build` first.");
    process.exit(1);
  }
  throw err;
});
