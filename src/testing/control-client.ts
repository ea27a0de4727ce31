// How the testing helpers reach the platform they started: the control API (/api/v1) over loopback HTTP, the same
// calls the CLI makes, so a helper checks its input and fails as the matching `eventjobs` command does. node:http
// rather than the global fetch: test runners that sandbox globals (jest) still have the built-in modules.
import { Agent, request } from "node:http";

export class ControlClient {
  private readonly base: string;
  private readonly agent = new Agent({ keepAlive: true });

  constructor(httpUrl: string) {
    this.base = httpUrl.replace(/\/$/, "") + "/api/v1";
  }

  /** The response's JSON; an error names the helper call and carries the API's message (field and value). */
  call<T = any>(what: string, method: string, path: string, body?: unknown): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = data ? { "content-type": "application/json", "content-length": String(data.length) } : {};
    return new Promise<T>((resolve, reject) => {
      const req = request(this.base + path, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: any;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(parsed as T);
          reject(new ControlError(`${what}: ${parsed?.error?.message ?? `HTTP ${status}`}`, status));
        });
      });
      req.on("error", (e) =>
        reject(new Error(`${what}: the eventjobs server is not answering (${e.message}); was it stopped?`)),
      );
      req.end(data);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export class ControlError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ControlError";
  }
}

/** A path segment as the control API's routes read it. */
export const seg = (s: string) => encodeURIComponent(s);
