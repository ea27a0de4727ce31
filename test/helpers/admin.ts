// The SDK's admin client for in-process tests: @azure/service-bus 7.9.5 only speaks https to the
// Endpoint's host:port, so one pipeline policy points its requests at the platform's http port (nothing
// else changed). Over HTTPS the tests run it unmodified in a child process (runAdminScript).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ServiceBusAdministrationClient } from "@azure/service-bus";
import type { TestBroker } from "./broker.js";

export function adminClient(b: TestBroker, connectionString = b.connectionString): ServiceBusAdministrationClient {
  const admin = new ServiceBusAdministrationClient(connectionString);
  const base = `http://localhost:${b.platform.endpoints.httpPort}`;
  admin.pipeline.addPolicy({
    name: "eventjobs-test-http",
    sendRequest(req, next) {
      req.url = req.url.replace(/^https:\/\/[^/]+/, base);
      req.allowInsecureConnection = true;
      return next(req);
    },
  });
  return admin;
}

/**
 * Runs an ES module script in a child process with `admin` (an unmodified ServiceBusAdministrationClient
 * on the broker's TLS connection string, trusting the local CA through NODE_EXTRA_CA_CERTS) and `env`
 * (the given values, passed through the environment); returns what the script's last line printed as JSON.
 */
export async function runAdminScript(b: TestBroker, body: string, env: Record<string, string>): Promise<unknown> {
  const script = `
    import { ServiceBusAdministrationClient } from "@azure/service-bus";
    const admin = new ServiceBusAdministrationClient(process.env.SB_CONNECTION);
    const env = JSON.parse(process.env.SB_ENV);
    ${body}
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? "",
      NODE_EXTRA_CA_CERTS: b.platform.ca.certPath,
      SB_CONNECTION: b.platform.connectionString(undefined, { tls: true }),
      SB_ENV: JSON.stringify(env),
    },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}
