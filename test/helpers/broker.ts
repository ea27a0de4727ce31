// Starts a real eventjobs platform on free ports for a test, with queues from an eventjobs.yaml snippet.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.js";
import { Platform } from "../../src/platform.js";

export interface TestBroker {
  platform: Platform;
  connectionString: string;
  port: number;
  dataDir: string;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

let counter = 0;
/** A queue name no other test uses. */
export function uniqueName(prefix = "q"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** Tests never create or use the user's CA: one throwaway CA for every test process (creation is race-safe). */
export const TEST_CA_DIR = join(tmpdir(), "eventjobs-test-ca");

export async function startBroker(
  yaml: string,
  opts: {
    dataDir?: string;
    inMemory?: boolean;
    caDir?: string;
    /** default 0 (a free port) */ amqpsPort?: number;
  } = {},
): Promise<TestBroker> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "eventjobs-test-"));
  const config = parseConfigText(yaml, join(dataDir, "eventjobs.yaml"));
  const caDir = opts.caDir ?? TEST_CA_DIR;
  const platform = await Platform.start({
    config,
    dataDir,
    inMemory: opts.inMemory,
    amqpPort: 0,
    httpPort: 0,
    amqpsPort: opts.amqpsPort ?? 0,
    httpsPort: 0,
    caDir,
  });
  return {
    platform,
    connectionString: platform.connectionString(),
    port: platform.endpoints.amqpPort,
    dataDir,
    async close(o = {}) {
      await platform.close();
      if (!o.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** eventjobs.yaml for one namespace with the given queues (name → properties). */
export function queuesYaml(queues: Record<string, Record<string, unknown>>, extra = ""): string {
  const lines = ["namespaces:", "  - name: sbemulatorns", extra, "    queues:"].filter(Boolean);
  for (const [name, props] of Object.entries(queues)) {
    lines.push(`      - name: ${name}`);
    if (Object.keys(props).length) {
      lines.push("        properties:");
      for (const [k, v] of Object.entries(props)) lines.push(`          ${k}: ${JSON.stringify(v)}`);
    }
  }
  return lines.join("\n") + "\n";
}
