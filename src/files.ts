// Writing a file that holds a secret or state: readers never see it half-written (written beside it, then
// renamed over it), and it has `mode` even where the umask is narrower or it existed before (chmod).
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface WriteOptions {
  /** default 0600 */
  mode?: number;
  /** creates the directory if missing, with this mode (e.g. 0700 for a directory of secrets); default the umask's */
  dirMode?: number;
}

export function writeFileAtomic(file: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const mode = opts.mode ?? 0o600;
  mkdirSync(dirname(file), { recursive: true, mode: opts.dirMode });
  // unique per writer, so processes sharing a data dir never write into each other's temporary file
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, data, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
