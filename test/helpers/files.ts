// Temporary directories and files for config tests, removed after the test file finishes.
import { after } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A `tempDir()` / `write(name, text)` pair whose directories (named `prefix…`) are removed after the file's tests. */
export function tempFiles(prefix: string): { tempDir(): string; write(name: string, text: string): string } {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  }

  function write(name: string, text: string): string {
    const file = join(tempDir(), name);
    writeFileSync(file, text);
    return file;
  }

  return { tempDir, write };
}
