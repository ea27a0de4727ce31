// Shared CLI helpers: one-line errors with a non-zero exit, and the one place errors become exit codes.
import { ConfigError } from "../model/config.js";
import { RefError } from "../model/refs.js";
import { JobDefinitionError } from "../jobs/job-definition.js";

export class CliError extends Error {}

/** The CLI's exit codes (a command run by `exec` passes its own through). */
export const EXIT = {
  ok: 0,
  /** any error, and apply/destroy when a deletion failed */
  error: 1,
  /** plan --detailed-exitcode: there are changes */
  changes: 2,
  /** status: no server runs on the data dir */
  notRunning: 3,
  /** status: a server process runs there but does not answer ready (starting, or hung) */
  notReady: 4,
} as const;

/** Errors the user can act on: printed as one `eventjobs: …` line. Anything else is a bug, printed whole. */
function isUserError(err: unknown): err is Error {
  return (
    err instanceof CliError ||
    err instanceof ConfigError ||
    err instanceof JobDefinitionError ||
    err instanceof RefError
  );
}

/** Reports an error that ended a command and exits with EXIT.error. */
export function exitOnError(err: unknown): never {
  if (isUserError(err)) console.error(`eventjobs: ${err.message}`);
  else console.error(err);
  process.exit(EXIT.error);
}

export function fail(message: string): never {
  throw new CliError(message);
}

export function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${flag}: "${value}" is not a port number (0-65535)`);
  return n;
}
