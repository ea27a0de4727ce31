// The hosts file block of `eventjobs hosts add|remove|list` (every namespace's cloud name,
// `<ns>.servicebus.windows.net`, mapped to 127.0.0.1 between two marker lines, the rest of the file untouched),
// and the check `up`, `apply` and `job create` make: does a cloud name in a job's env reach this machine?
// See docs/troubleshooting.md#cloud-names-do-not-reach-the-local-broker.
import { lookup } from "node:dns/promises";
import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

export const HOSTS_FILE_ENV = "EVENTJOBS_HOSTS_FILE";
export const BEGIN = "# BEGIN eventjobs: Service Bus cloud names served on this machine (eventjobs hosts add|remove)";
export const END = "# END eventjobs";
export const CLOUD_SUFFIX = ".servicebus.windows.net";
const CLOUD_NAME = /\b([a-z0-9][a-z0-9-]*\.servicebus\.windows\.net)\b/gi;

/** The hosts file: `--hosts-file`, else $EVENTJOBS_HOSTS_FILE, else /etc/hosts. */
export function hostsFilePath(flag?: string): string {
  return flag ?? process.env[HOSTS_FILE_ENV] ?? "/etc/hosts";
}

export const cloudFqdn = (namespace: string) => `${namespace.toLowerCase()}${CLOUD_SUFFIX}`;

/** The names in eventjobs' block (none when there is no block). */
export function blockNames(text: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(BEGIN);
  if (start < 0) return [];
  const end = lines.indexOf(END, start);
  return lines
    .slice(start + 1, end < 0 ? lines.length : end)
    .map((l) => l.trim().split(/\s+/)[1])
    .filter((n): n is string => !!n);
}

/** The file with eventjobs' block holding `names` (sorted, each once); no names: the block removed. */
export function withBlock(text: string, names: string[]): string {
  const lines = text.split("\n");
  const start = lines.indexOf(BEGIN);
  const end = start < 0 ? -1 : lines.indexOf(END, start);
  const unique = [...new Set(names.map((n) => n.toLowerCase()))].sort();
  const block = unique.length ? [BEGIN, ...unique.map((n) => `127.0.0.1 ${n}`), END] : [];
  if (start >= 0) {
    lines.splice(start, (end < 0 ? lines.length - 1 : end) - start + 1, ...block);
    return lines.join("\n");
  }
  if (!block.length) return text;
  const base = text === "" || text.endsWith("\n") ? text : text + "\n";
  return base + block.join("\n") + "\n";
}

/** hostname → addresses, from every line of a hosts file. */
export function hostsEntries(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const [address, ...names] = raw.replace(/#.*/, "").trim().split(/\s+/);
    if (!address || !names.length) continue;
    for (const n of names) out.set(n.toLowerCase(), [...(out.get(n.toLowerCase()) ?? []), address]);
  }
  return out;
}

function isLocalAddress(address: string): boolean {
  if (/^127\./.test(address) || address === "::1" || address === "::ffff:127.0.0.1") return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address));
}

/**
 * Whether `host` reaches this machine: the hosts file first (as the system resolver reads it before DNS), then
 * the resolver (3 s at most; a name that does not resolve does not reach this machine).
 */
export async function resolvesHere(host: string, hostsText: string): Promise<boolean> {
  const listed = hostsEntries(hostsText).get(host.toLowerCase());
  if (listed) return listed.some(isLocalAddress);
  const timeout = new Promise<null>((done) => setTimeout(() => done(null), 3000).unref());
  const found = await Promise.race([lookup(host, { all: true }).catch(() => null), timeout]);
  return !!found && found.some((a) => isLocalAddress(a.address));
}

/** `{ job, variable, host }` for each env var (any `env: [{ name, value }]` list in a job) naming a cloud FQDN. */
export function cloudNamesInJobs(
  jobs: Array<{ name: string; body: unknown }>,
): Array<{ job: string; variable: string; host: string }> {
  const out: Array<{ job: string; variable: string; host: string }> = [];
  const walk = (job: string, v: unknown, key?: string): void => {
    if (Array.isArray(v)) {
      for (const item of v) {
        const e = item as { name?: unknown; value?: unknown };
        if (key === "env" && typeof e?.name === "string" && typeof e.value === "string")
          for (const m of e.value.matchAll(CLOUD_NAME)) out.push({ job, variable: e.name, host: m[1].toLowerCase() });
        else walk(job, item);
      }
    } else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(job, x, k);
  };
  for (const j of jobs) walk(j.name, j.body);
  return out;
}

/** One warning line per env var naming a cloud FQDN that does not reach this machine. */
export async function cloudNameWarnings(
  jobs: Array<{ name: string; body: unknown }>,
  hostsText: string,
  hostsFile: string,
): Promise<string[]> {
  const found = cloudNamesInJobs(jobs);
  const here = new Map<string, boolean>();
  await Promise.all(
    [...new Set(found.map((f) => f.host))].map(async (h) => here.set(h, await resolvesHere(h, hostsText))),
  );
  return found
    .filter((f) => !here.get(f.host))
    .map(
      (f) =>
        `warning: job ${f.job}: env ${f.variable} names ${f.host}, which does not resolve to this machine, so the SDK would connect to Azure; run \`eventjobs hosts add\` to map it to 127.0.0.1 in ${hostsFile} (or use \${servicebus.<namespace>.fqdn})`,
    );
}

/** Prints cloudNameWarnings to stderr for jobs `up`, `apply` or `job create` just made; never fails the command. */
export async function warnCloudNames(jobs: Array<{ name: string; body: unknown }>): Promise<void> {
  try {
    const file = hostsFilePath();
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    for (const w of await cloudNameWarnings(jobs, text, file)) console.error(w);
  } catch {
    // a warning, not the command's business
  }
}
