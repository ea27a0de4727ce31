// `eventjobs ca path|trust`: the local CA (identity/ca.ts) that signs the TLS certificate of every eventjobs
// server of this user. Python's uamqp-based SDK trusts only the system store, hence `trust`.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { CaError, ensureCa, type LocalCa } from "../identity/ca.js";
import { fail } from "./util.js";

/** A system trust store we know how to add a CA to. */
interface TrustStore {
  name: string;
  dir: string;
  update: string[];
}

const STORES: TrustStore[] = [
  { name: "Debian/Ubuntu", dir: "/usr/local/share/ca-certificates", update: ["update-ca-certificates"] },
  { name: "Fedora/RHEL", dir: "/etc/pki/ca-trust/source/anchors", update: ["update-ca-trust", "extract"] },
];

function loadCa(): LocalCa {
  try {
    return ensureCa();
  } catch (e) {
    if (e instanceof CaError) fail(e.message);
    throw e;
  }
}

function onPath(cmd: string): boolean {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  return dirs.some((d) => d && existsSync(join(d, cmd)));
}

export function registerCa(program: Command): void {
  const ca = program
    .command("ca")
    .description("The local certificate authority behind AMQPS/HTTPS (one per user; EVENTJOBS_CA_DIR moves it)");

  ca.command("path")
    .description("Print the CA certificate file (created on first use), e.g. for NODE_EXTRA_CA_CERTS or SSL_CERT_FILE")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs ca path\n  NODE_EXTRA_CA_CERTS=$(eventjobs ca path) node processor.js\n",
    )
    .action(() => {
      console.log(loadCa().certPath);
    });

  ca.command("trust")
    .description("Add the CA certificate to the system trust store (Debian/Ubuntu, Fedora/RHEL); asks first")
    .option("-y, --yes", "do not ask for confirmation")
    .addHelpText("after", "\nExamples:\n  eventjobs ca trust\n  sudo eventjobs ca trust --yes\n")
    .action(async (o: { yes?: boolean }) => {
      const c = loadCa();
      const store = STORES.find((s) => existsSync(s.dir) && onPath(s.update[0]));
      if (!store) {
        fail(
          `ca trust: no supported system trust store here (Debian's update-ca-certificates or Fedora's update-ca-trust); add ${c.certPath} to your system's trust store by hand`,
        );
      }
      const target = join(store.dir, `eventjobs-${c.shortId}.crt`);
      if (existsSync(target) && readFileSync(target, "utf8") === c.certPem) {
        console.log(`already trusted: ${target}`);
        return;
      }
      if (!o.yes) {
        if (!process.stdin.isTTY)
          fail(
            `ca trust: confirmation needed but stdin is not a terminal; run \`eventjobs ca trust --yes\` to add ${c.certPath} to the system store`,
          );
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(
          `Add the eventjobs CA (${c.certPath}, SHA-256 ${c.fingerprint}) to the ${store.name} trust store as ${target}? ` +
            `Every program on this machine will then trust certificates it signs. [y/N] `,
        );
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) fail("ca trust: not confirmed; nothing changed");
      }
      // root writes directly; others go through sudo, which asks for their password itself
      const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
      if (sudo.length && !onPath("sudo")) fail(`ca trust: writing ${target} needs root; run it as root`);
      const run = (args: string[]) => {
        const [cmd, ...rest] = [...sudo, ...args];
        try {
          execFileSync(cmd, rest, { stdio: ["inherit", "ignore", "inherit"] });
        } catch (e) {
          fail(`ca trust: \`${[cmd, ...rest].join(" ")}\` failed (${(e as Error).message.split("\n")[0]})`);
        }
      };
      run(["install", "-m", "0644", c.certPath, target]);
      run(store.update);
      console.log(`trusted: ${target}`);
    });
}
