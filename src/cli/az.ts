// The `az` that `eventjobs shellenv` puts first on PATH (run through <data-dir>/bin/az, az-shim.ts). It answers
// what the SDKs' Azure CLI credentials run — `az account get-access-token --output json --resource R [--tenant T]`
// — with az 2.x's JSON and a user token for the developer principal of `eventjobs login`, plus `az account show`,
// `az account list` and `az login`. Every other command goes to eventjobs' az-style CLI
// (`az containerapp job list` → `eventjobs containerapp job list`). Errors are printed the way az prints them
// (`ERROR: …`, exit 1), since the credentials read stderr. See docs/developer-credential.md.
import { spawn } from "node:child_process";
import { CLI_TOKEN_PATH } from "../identity/paths.js";
import { applyQuery, tsv } from "./az-output.js";
import { ApiClient } from "./client.js";
import { execCall } from "./exec.js";
import { siblingModule } from "./az-shim.js";
import { CliError } from "./util.js";

const DATA_DIR = process.env.EVENTJOBS_AZ_DATA_DIR ?? process.env.EVENTJOBS_DATA_DIR ?? ".eventjobs";

/** az's `--resource-type` values and the resources they mean. */
const RESOURCE_TYPES: Record<string, string> = {
  arm: "https://management.core.windows.net/",
  "aad-graph": "https://graph.windows.net/",
  "ms-graph": "https://graph.microsoft.com/",
  batch: "https://batch.core.windows.net/",
  "data-lake": "https://datalake.azure.net/",
  media: "https://rest.media.azure.net",
  "oss-rdbms": "https://ossrdbms-aad.database.windows.net",
};

const NOT_LOGGED_IN = "Please run 'az login' to setup account.";

class AzError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** `--name value`, `--name=value`, `-x value`; `--scope` takes several values. Flags without a value: `bare`. */
function parseArgs(args: string[], known: Record<string, string>, bare: string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let value: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) [a, value] = [a.slice(0, eq), a.slice(eq + 1)];
    const name = known[a];
    if (bare.includes(a)) {
      out.set(a, []);
      continue;
    }
    if (!name) throw new AzError(`unrecognized arguments: ${args.slice(i).join(" ")}`, 2);
    const values = out.get(name) ?? [];
    if (value !== undefined) values.push(value);
    else {
      while (i + 1 < args.length && !args[i + 1].startsWith("-")) {
        values.push(args[++i]);
        if (name !== "scope") break;
      }
    }
    if (!values.length) throw new AzError(`argument ${a}: expected one argument`, 2);
    out.set(name, values);
  }
  return out;
}

const COMMON: Record<string, string> = {
  "--output": "output",
  "-o": "output",
  "--query": "query",
  "--subscription": "subscription",
  "-s": "subscription",
};
const GLOBAL_FLAGS = ["--only-show-errors", "--debug", "--verbose", "--all"];

/** Prints a result as az does for `-o json|jsonc|tsv|none`, after its `--query` (JMESPath). */
function output(value: unknown, opts: Map<string, string[]>): void {
  const query = opts.get("query")?.[0];
  const format = opts.get("output")?.[0] ?? "json";
  if (!["json", "jsonc", "tsv", "none"].includes(format))
    throw new AzError(`argument --output/-o: invalid choice: '${format}' (here: json, jsonc, tsv, none)`, 2);
  const result = query === undefined ? value : applyQuery(value, query);
  if (result === null || result === undefined || format === "none") return;
  if (format === "tsv") process.stdout.write(tsv(result, value));
  else console.log(JSON.stringify(result, null, 2));
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` in local time, as az prints `expiresOn`. */
export function localTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`
  );
}

async function getAccessToken(args: string[]): Promise<void> {
  const o = parseArgs(
    args,
    {
      ...COMMON,
      "--resource": "resource",
      "--scope": "scope",
      "--resource-type": "type",
      "--tenant": "tenant",
      "-t": "tenant",
    },
    GLOBAL_FLAGS,
  );
  if ([o.has("resource"), o.has("scope"), o.has("type")].filter(Boolean).length > 1)
    throw new AzError("usage error: --resource/--resource-type/--scope are mutually exclusive", 2);
  if (o.has("tenant") && o.has("subscription"))
    throw new AzError("usage error: --subscription and --tenant are mutually exclusive", 2);
  const type = o.get("type")?.[0];
  if (type && !RESOURCE_TYPES[type])
    throw new AzError(
      `argument --resource-type: invalid choice: '${type}' (choose from ${Object.keys(RESOURCE_TYPES).join(", ")})`,
      2,
    );
  const scope = o.get("scope")?.[0]?.replace(/\/\.default$/, "");
  const resource = o.get("resource")?.[0] ?? scope ?? (type ? RESOURCE_TYPES[type] : RESOURCE_TYPES.arm);
  const tenant = o.get("tenant")?.[0];
  const res = await execCall(DATA_DIR, CLI_TOKEN_PATH, "POST", { body: JSON.stringify({ resource, tenant }) });
  const data = (await res.json().catch(() => ({}))) as {
    accessToken?: string;
    expires_on?: number;
    tenant?: string;
    subscription?: string;
    error?: { message?: string };
  };
  if (!res.ok || !data.accessToken || !data.expires_on)
    throw new AzError(data.error?.message ?? `the eventjobs server refused the token request (HTTP ${res.status})`);
  // az 2.x: sorted keys; no subscription when --tenant is given
  output(
    {
      accessToken: data.accessToken,
      expiresOn: localTime(data.expires_on),
      expires_on: data.expires_on,
      ...(tenant ? {} : { subscription: data.subscription }),
      tenant: data.tenant,
      tokenType: "Bearer",
    },
    o,
  );
}

/** The one subscription, shaped as `az account show` prints it. */
async function account(login = false): Promise<Record<string, unknown>> {
  const api = new ApiClient(DATA_DIR);
  const res = await api.fetch(login ? "POST" : "GET", "/identity/me");
  const me = (await res.json().catch(() => ({}))) as Record<string, string> & { error?: { message?: string } };
  if (res.status === 404) throw new AzError(NOT_LOGGED_IN);
  if (!res.ok) throw new AzError(me.error?.message ?? `HTTP ${res.status}`);
  return {
    environmentName: "AzureCloud",
    homeTenantId: me.tenantId,
    id: me.subscriptionId,
    isDefault: true,
    managedByTenants: [],
    name: "eventjobs (local)",
    state: "Enabled",
    tenantId: me.tenantId,
    user: { name: me.userPrincipalName, type: "user" },
  };
}

/** Everything else: eventjobs' own command of the same name, on this data dir. */
function forward(args: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...process.execArgv, siblingModule("main"), ...args], {
      stdio: "inherit",
      env: { ...process.env, EVENTJOBS_DATA_DIR: DATA_DIR },
    });
    child.once("error", () => done(127));
    child.once("exit", (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

async function main(args: string[]): Promise<number> {
  const [group, command, ...rest] = args;
  if (group === "account" && command === "get-access-token") await getAccessToken(rest);
  else if (group === "account" && (command === "show" || command === "list")) {
    const o = parseArgs(rest, { ...COMMON, "--name": "name", "-n": "name" }, GLOBAL_FLAGS);
    const a = await account();
    output(command === "list" ? [a] : a, o);
  } else if (group === "login") {
    const o = parseArgs(args.slice(1), { ...COMMON, "--tenant": "tenant", "-t": "tenant" }, [
      ...GLOBAL_FLAGS,
      "--use-device-code",
      "--allow-no-subscriptions",
    ]);
    output([await account(true)], o);
  } else return forward(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    if (e instanceof AzError || e instanceof CliError) {
      const msg = e.message.replace(/^eventjobs: /, "");
      console.error(e instanceof AzError && e.code === 2 ? `az: error: ${msg}` : `ERROR: ${msg}`);
      process.exitCode = e instanceof AzError ? e.code : 1;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
