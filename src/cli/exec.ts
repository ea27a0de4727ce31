// `eventjobs exec [--identity NAME | --as-me] -- CMD ...`: runs any command with the environment a job replica
// gets from the platform — IDENTITY_ENDPOINT/IDENTITY_HEADER for a managed identity, and the local CA through
// NODE_EXTRA_CA_CERTS / SSL_CERT_FILE / REQUESTS_CA_BUNDLE — against the server running on --data-dir; with
// --as-me, no managed identity but the `az` of `eventjobs shellenv` first on PATH (the developer's tokens).
// The header is issued by the server's loopback-only exec endpoint (its secret is in the data dir) and
// revoked when the command ends. Neither is ever printed.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { EXEC_PATH, EXEC_TOKEN_FILE } from "../identity/paths.js";
import { azShimEnv } from "./az-shim.js";
import { addDataDirOption } from "./client.js";
import { fail } from "./util.js";

interface ExecOptions {
  identity?: string;
  asMe?: boolean;
  dataDir: string;
}

/** Variables that would make an SDK take the managed-identity path; --as-me drops them. */
const MANAGED_IDENTITY_VARS = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET"];

interface ExecGrant {
  env: Record<string, string>;
  identities: Array<{ name: string; kind: string; clientId: string }>;
}

export function registerExec(program: Command): void {
  const exec = program
    .command("exec")
    .description(
      "Run a command with a job replica's identity and CA environment (IDENTITY_ENDPOINT, IDENTITY_HEADER, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE)",
    )
    .argument("<command...>", "the command and its arguments (put them after --)")
    .option(
      "--identity <name>",
      "a user-assigned identity (name, client id or principal id) or a job name (that job's identities); default: every user-assigned identity, picked by client id",
    )
    .option(
      "--as-me",
      "no managed identity: the developer principal of `eventjobs login`, through the `az` of `eventjobs shellenv` put first on PATH",
    );
  addDataDirOption(exec)
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs exec --identity identity-aca -- python processor.py\n  eventjobs exec -- node processor.js\n  eventjobs exec --as-me -- python processor.py       # DefaultAzureCredential through AzureCliCredential\n",
    )
    .action(async (argv: string[], o: ExecOptions) => {
      if (o.asMe && o.identity) fail("--as-me and --identity exclude each other");
      const grant = await requestGrant(o);
      const env: NodeJS.ProcessEnv = { ...process.env, ...grant.env };
      if (o.asMe) {
        for (const k of MANAGED_IDENTITY_VARS) delete env[k];
        env.PATH = azShimEnv(o.dataDir, env.PATH);
      }
      process.exitCode = await run(argv, env);
      if (grant.env.IDENTITY_HEADER) await revoke(o, grant.env.IDENTITY_HEADER).catch(() => undefined);
    });
}

/** The server's loopback identity endpoints (exec, CLI tokens) and the secret they take, or a one-line error. */
export function execServer(dataDir: string): { http: string; secret: string } {
  const dir = resolve(dataDir);
  const file = join(dir, "server.json");
  const none = `no eventjobs server is running on ${dataDir}`;
  if (!existsSync(file)) fail(none);
  let info: { pid?: number; http?: string } = {};
  try {
    info = JSON.parse(readFileSync(file, "utf8"));
    if (info.pid) process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") fail(none); // EPERM: running, as another user
  }
  if (!info.http) fail(none);
  const secretFile = join(dir, "identity", EXEC_TOKEN_FILE);
  if (!existsSync(secretFile))
    fail(`the server on ${dataDir} has no exec secret (${secretFile}); restart it with this version of eventjobs`);
  return { http: info.http.replace(/\/$/, ""), secret: readFileSync(secretFile, "utf8").trim() };
}

async function call(
  o: ExecOptions,
  method: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return execCall(o.dataDir, EXEC_PATH, method, init);
}

/** A call to one of the server's loopback identity endpoints with the exec secret. */
export async function execCall(
  dataDir: string,
  path: string,
  method: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const s = execServer(dataDir);
  try {
    return await fetch(s.http + path, {
      method,
      body: init.body,
      headers: { "content-type": "application/json", authorization: `Bearer ${s.secret}`, ...init.headers },
    });
  } catch (e) {
    fail(
      `cannot reach the eventjobs server at ${s.http} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message})`,
    );
  }
}

export async function requestGrant(o: ExecOptions): Promise<ExecGrant> {
  const res = await call(o, "POST", {
    body: JSON.stringify(o.asMe ? { asMe: true } : o.identity ? { identity: o.identity } : {}),
  });
  const data = (await res.json().catch(() => ({}))) as ExecGrant & { error?: { message?: string } };
  if (!res.ok) fail(data.error?.message ?? `the server refused the exec request (HTTP ${res.status})`);
  return data;
}

async function revoke(o: ExecOptions, header: string): Promise<void> {
  await call(o, "DELETE", { headers: { "x-identity-header": header } });
}

/**
 * Runs the command with inherited stdio, passing SIGINT/SIGTERM on; resolves with its exit code (128+n for a signal).
 */
function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: "inherit", env });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt).on("SIGTERM", onTerm);
    const finish = (code: number) => {
      process.off("SIGINT", onInt).off("SIGTERM", onTerm);
      done(code);
    };
    child.once("error", (e) => {
      console.error(
        `eventjobs: cannot run ${argv[0]}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "command not found" : e.message}`,
      );
      finish(127);
    });
    child.once("exit", (code, signal) => finish(code ?? 128 + (signal ? signalNumber(signal) : 1)));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1;
}
