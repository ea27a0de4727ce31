// Start bench/ceiling-broker.ts in a child process on a free port.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "../procs.js";
import type { Server } from "./types.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startCeiling(): Promise<Server> {
  const script = path.join(here, "..", "ceiling-broker.ts");
  const child = startChild("ceiling-broker", process.execPath, ["--import", "tsx", script, "0"], {
    cwd: path.join(here, "..", ".."),
  });
  try {
    const m = await child.waitForLine(/ceiling listening on (\d+)/, 30_000);
    const port = Number(m[1]);
    return {
      targets: [
        {
          name: "ceiling",
          probe: {
            host: "127.0.0.1",
            port,
            hostname: "localhost",
            username: "bench",
            sendAddress: "bench",
            receiveAddress: "bench",
          },
        },
      ],
      stop: () => child.stop(5000),
    };
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
}
