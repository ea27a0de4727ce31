// `eventjobs --version` and `eventjobs version`: this package's version and the azure-cli release whose
// commands, flags and output shapes the az-style commands follow (docs/cli.md).
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { addOutputOption, print } from "./output.js";

/** The azure-cli release the az-style commands are checked against. */
export const AZURE_CLI_VERSION = "2.67.0";

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** The table `az --version` prints, with eventjobs first. */
export function versionText(): string {
  const row = (name: string, version: string) => `${name.padEnd(34)}${version}`;
  return [row("eventjobs", packageVersion()), "", row("azure-cli", AZURE_CLI_VERSION)].join("\n");
}

export function registerVersion(program: Command): void {
  addOutputOption(program.command("version"))
    .description("Print the versions as JSON, as `az version` does (eventjobs, and the azure-cli release it follows)")
    .addHelpText("after", "\nExamples:\n  eventjobs version\n  eventjobs version --query eventjobs -o tsv\n")
    .action((o: { output: string }) =>
      print({ "azure-cli": AZURE_CLI_VERSION, eventjobs: packageVersion(), extensions: {} }, o.output, [
        { header: "Azure-cli", get: (v) => v["azure-cli"] },
        { header: "Eventjobs", get: (v) => v.eventjobs },
      ]),
    );
}
