// Shared CLI helpers: one-line errors with a non-zero exit.

export class CliError extends Error {}

export function fail(message: string): never {
  throw new CliError(message);
}

export function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${flag}: "${value}" is not a port number (0-65535)`);
  return n;
}
