// The SDK's admin client for in-process tests: @azure/service-bus 7.9.5 only speaks https to the
// Endpoint's host:port, so one pipeline policy points its requests at the platform's http port (nothing
// else changed). Over HTTPS the tests run it unmodified in a child process (runAdminScript).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ServiceBusAdministrationClient } from "@azure/service-bus";
import { createSasToken } from "../../src/identity/sas.js";
import { parseXml, type XmlElement } from "../../src/servicebus/admin/xml.js";
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

/** One ATOM request over HTTP, signed with the emulator's root key as the JS admin client signs. */
export async function atomCall(
  b: TestBroker,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; xml?: XmlElement }> {
  const url = `http://localhost:${b.platform.endpoints.httpPort}/${path}`;
  const authorization = createSasToken(url.toLowerCase(), "RootManageSharedAccessKey", "SAS_KEY_VALUE");
  const res = await fetch(url, {
    method: init.method ?? "GET",
    body: init.body,
    headers: { authorization, ...init.headers },
  });
  const text = await res.text();
  return { status: res.status, text, xml: text ? parseXml(text) : undefined };
}

/** An ATOM entry around a description element (`<RuleDescription …>…</RuleDescription>`). */
export function atomEntry(description: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom">` +
    `<content type="application/xml">${description}</content></entry>`
  );
}
