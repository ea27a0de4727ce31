// `eventjobs hosts add|remove|list`: a marked block in /etc/hosts (or --hosts-file / $EVENTJOBS_HOSTS_FILE) that
// maps every namespace's cloud name `<ns>.servicebus.windows.net` to 127.0.0.1, so code and connection strings
// written for Azure reach the local broker unchanged. Without write permission: the exact sudo command, exit 1.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { nodeFlags, shQuote } from "./az-shim.js";
import { ApiClient, addDataDirOption } from "./client.js";
import { blockNames, cloudFqdn, CLOUD_SUFFIX, hostsEntries, hostsFilePath, withBlock } from "./hosts-file.js";
import { addOutputOption, print } from "./output.js";
import { fail } from "./util.js";

interface HostsOptions {
  namespaceName?: string[];
  hostsFile?: string;
  dataDir: string;
  output?: string;
}

function common(cmd: Command): Command {
  return addDataDirOption(cmd).option(
    "--hosts-file <file>",
    "the hosts file to edit (env EVENTJOBS_HOSTS_FILE; default /etc/hosts)",
  );
}

const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

/** The namespaces named, else every namespace of the server on --data-dir. */
async function namespaces(o: HostsOptions): Promise<string[]> {
  if (o.namespaceName?.length) return o.namespaceName;
  const list = (await new ApiClient(o.dataDir).request("GET", "/servicebus/namespaces")).value as Array<{
    name: string;
  }>;
  return list.map((n) => n.name);
}

/** Writes the file in place (it may be a mount); without permission, the sudo command that does the same. */
function write(file: string, text: string, retry: string[]): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM" && code !== "EROFS") throw e;
    const self = [process.execPath, ...nodeFlags(), resolve(process.argv[1])];
    const fileFlag = file === "/etc/hosts" ? [] : ["--hosts-file", resolve(file)];
    fail(
      `cannot write ${file} (${code}); run:\n  sudo ${[...self, "hosts", ...retry, ...fileFlag].map(shQuote).join(" ")}`,
    );
  }
}

export function registerHosts(program: Command): void {
  const hosts = program
    .command("hosts")
    .description(
      `Map the namespaces' cloud names (<ns>${CLOUD_SUFFIX}) to 127.0.0.1 in /etc/hosts, in a block eventjobs owns`,
    );
  common(hosts.command("add"))
    .description("Add (idempotently) every namespace's cloud name, or the ones named, to eventjobs' block")
    .option("--namespace-name <names...>", "these namespaces (default: every namespace of the running server)")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs hosts add\n  sudo eventjobs hosts add --namespace-name servicebus-ns-job\n  eventjobs hosts add --hosts-file ./hosts.test\n",
    )
    .action(async (o: HostsOptions) => {
      const file = hostsFilePath(o.hostsFile);
      const names = (await namespaces(o)).map(cloudFqdn);
      const text = read(file);
      const all = [...new Set([...blockNames(text), ...names])];
      const next = withBlock(text, all);
      if (next !== text)
        write(file, next, ["add", "--namespace-name", ...all.map((n) => n.slice(0, -CLOUD_SUFFIX.length))]);
      console.log(
        `${file}: ${names.map((n) => `127.0.0.1 ${n}`).join(", ")}${next === text ? " (already there)" : ""}`,
      );
    });
  common(hosts.command("remove"))
    .description("Remove eventjobs' block (or only the namespaces named); the rest of the file is left as it is")
    .option("--namespace-name <names...>", "only these namespaces")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs hosts remove\n  eventjobs hosts remove --namespace-name servicebus-ns-job\n",
    )
    .action((o: HostsOptions) => {
      const file = hostsFilePath(o.hostsFile);
      const text = read(file);
      const drop = new Set((o.namespaceName ?? []).map(cloudFqdn));
      const keep = o.namespaceName?.length ? blockNames(text).filter((n) => !drop.has(n)) : [];
      const next = withBlock(text, keep);
      if (next !== text) {
        const retry = o.namespaceName?.length ? ["remove", "--namespace-name", ...o.namespaceName] : ["remove"];
        write(file, next, retry);
      }
      console.log(
        `${file}: ${next === text ? "nothing to remove" : `removed ${blockNames(text).length - keep.length} name(s)`}`,
      );
    });
  addOutputOption(common(hosts.command("list")))
    .description("List the names in eventjobs' block and the addresses the hosts file gives them")
    .addHelpText("after", "\nExamples:\n  eventjobs hosts list\n  eventjobs hosts list -o table\n")
    .action((o: HostsOptions) => {
      const text = read(hostsFilePath(o.hostsFile));
      const entries = hostsEntries(text);
      const rows = blockNames(text).map((host) => ({
        namespace: host.slice(0, -CLOUD_SUFFIX.length),
        host,
        addresses: entries.get(host) ?? [],
      }));
      print(rows, o.output ?? "json", [
        { header: "Namespace", get: (r) => r.namespace },
        { header: "Host", get: (r) => r.host },
        { header: "Addresses", get: (r) => r.addresses.join(" ") },
      ]);
    });
}
