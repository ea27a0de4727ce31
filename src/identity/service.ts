// Identity for the platform: the registry of managed identities, the token issuer, the managed-identity
// endpoint, JWT validation + RBAC for $cbs, the variables a replica gets, and the loopback-only endpoint
// `eventjobs exec` uses to get an IDENTITY_HEADER of its own.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import { readBody, sendJson, type Request, type Router } from "../http/router.js";
import { ConfigError, type ProjectConfig } from "../model/config.js";
import type { JobIdentity, JobSpec } from "../jobs/job-definition.js";
import type { Claim, TokenValidator } from "./claims.js";
import { parseIdentityConfig, parseJobIdentity, type IdentityConfig } from "./config.js";
import { IdentityEndpoint, TOKEN_PATH, type Binding } from "./endpoint.js";
import { IdentityRegistry, LOCAL_SUBSCRIPTION, type Identity } from "./registry.js";
import { CLI_TOKEN_PATH, EXEC_PATH, EXEC_TOKEN_FILE } from "./paths.js";
export { CLI_TOKEN_PATH, EXEC_PATH, EXEC_TOKEN_FILE };
import { resourcePath } from "./sas.js";
import { issueAccessToken, issueUserToken, loadIssuer, TokenError, verifyAccessToken, type Issuer } from "./tokens.js";

const EXEC_HEADER_TTL_MS = 24 * 3600_000;

export interface IdentityServiceOptions {
  config: ProjectConfig;
  /** `<data-dir>/identity`; absent: nothing is persisted (in-memory platform without a data dir) */
  dir?: string;
  /** the URL replicas reach TOKEN_PATH at (known once the HTTP port listens) */
  endpointUrl: () => string;
  /** the CA certificate replicas must trust */
  caFile: () => string;
  /** a job applied at run time, for `eventjobs exec --identity <job>` */
  job?: (name: string) => JobSpec | undefined;
  /** the namespaces served now (apply adds some at run time); default the config's */
  namespaces?: () => Iterable<string>;
}

export class IdentityService {
  readonly registry: IdentityRegistry;
  readonly endpoint: IdentityEndpoint;
  private issuerKey?: Issuer;
  private readonly decls: IdentityConfig;
  private execToken?: string;

  /**
   * The token signing key, read or made on first use: making one is an RSA key generation, which a platform
   * that never issues or checks a token (most test servers) does not pay for at start.
   */
  get issuer(): Issuer {
    this.issuerKey ??= loadIssuer(this.registry.tenantId, this.o.dir && join(this.o.dir, "issuer-key.pem"));
    return this.issuerKey;
  }

  constructor(private readonly o: IdentityServiceOptions) {
    const namespaces = o.config.namespaces.map((n) => n.name);
    this.decls = parseIdentityConfig(o.config.extra, namespaces, o.config.source);
    this.registry = new IdentityRegistry(
      this.decls.identities,
      this.decls.roleAssignments,
      o.dir && join(o.dir, "identities.json"),
    );
    const systemJobs = this.decls.jobs.filter((j) => j.systemAssigned).map((j) => j.job);
    // ids exist before anyone asks, so role assignments can name them
    for (const job of systemJobs) this.registry.system(job);
    const unresolved = this.registry.unresolvedAssignments(systemJobs);
    if (unresolved.length) {
      const known =
        [...this.registry.userIdentities().map((i) => i.name), ...systemJobs.map((j) => `${j} (system-assigned)`)].join(
          ", ",
        ) || "none";
      throw new ConfigError(
        unresolved.map((a) => ({
          file: o.config.source,
          path: `${a.path}.assignee`,
          value: JSON.stringify(a.assignee),
          expected: `an identity name, client id or principal id (identities: ${known})`,
        })),
      );
    }
    this.endpoint = new IdentityEndpoint(
      async (identity, resource) => {
        const { token, claims } = await issueAccessToken(this.issuer, identity, resource);
        return { token, expiresOn: claims.exp };
      },
      (resource) => this.knownResource(resource),
      () => this.registry.tenantId,
    );
  }

  /** Serves the managed-identity endpoint and the exec endpoint; register before any catch-all route. */
  register(router: Router): void {
    this.execSecret(); // `eventjobs exec` finds it next to server.json
    router.on("GET", TOKEN_PATH, this.endpoint.handle);
    router.on("POST", EXEC_PATH, (req, res) => this.execHeader(req, res));
    router.on("DELETE", EXEC_PATH, (req, res) => this.execRevoke(req, res));
    router.on("POST", CLI_TOKEN_PATH, (req, res) => this.cliToken(req, res));
  }

  /** The identities a job's replicas may use; the system-assigned one is the default. */
  jobBinding(jobName: string, identity: JobIdentity | undefined): Binding | undefined {
    if (!identity || identity.type === "None") return undefined;
    const problems: string[] = [];
    const decl = parseJobIdentity(identity, jobName, "identity", (_p, value, expected) =>
      problems.push(`${value} — expected ${expected}`),
    );
    if (!decl) {
      if (problems.length) throw new Error(`job ${jobName}: identity: ${problems.join("; ")}`);
      return undefined;
    }
    const allowed: Identity[] = [];
    const system = decl.systemAssigned ? this.registry.system(jobName) : undefined;
    if (system) allowed.push(system);
    for (const name of decl.userAssigned) {
      const u = this.registry.user(name);
      if (!u)
        throw new Error(
          `job ${jobName}: the user-assigned identity '${name}' is not declared under identities (${
            this.registry
              .userIdentities()
              .map((i) => i.name)
              .join(", ") || "none"
          })`,
        );
      allowed.push(u);
    }
    return { label: `job ${jobName}`, allowed, default: system };
  }

  /** The platform's variables for a replica of `job` (the platformEnv hook): CA bundle, and identity if it has one. */
  replicaEnv(job: JobSpec): Record<string, string> {
    const env = this.caEnv();
    const binding = this.jobBinding(job.name, job.identity);
    if (binding) {
      const ttl = (job.replicaTimeout + job.terminationGracePeriodSeconds + 300) * 1000;
      Object.assign(env, {
        IDENTITY_ENDPOINT: this.o.endpointUrl(),
        IDENTITY_HEADER: this.endpoint.bind(binding, ttl),
      });
    }
    return env;
  }

  /**
   * NODE_EXTRA_CA_CERTS adds the local CA to Node's roots; SSL_CERT_FILE (OpenSSL) and REQUESTS_CA_BUNDLE
   * (Python requests) replace the roots, so they point at the system bundle plus the local CA.
   */
  caEnv(): Record<string, string> {
    const ca = this.o.caFile();
    const bundle = this.o.dir ? caBundle(ca, join(this.o.dir, "ca-bundle.pem")) : ca;
    return { NODE_EXTRA_CA_CERTS: ca, SSL_CERT_FILE: bundle, REQUESTS_CA_BUNDLE: bundle };
  }

  /** `${identity.<name>.clientId|principalId|resourceId}` */
  lookupRef(name: string, prop: string): string | undefined {
    const i = this.registry.user(name) ?? (this.registry.hasSystem(name) ? this.registry.system(name) : undefined);
    if (!i) return undefined;
    if (prop === "clientId") return i.clientId;
    if (prop === "principalId") return i.principalId;
    if (prop === "resourceId") return i.resourceId;
    return undefined;
  }

  /** $cbs put-token of type `jwt`: a token from our issuer, for Service Bus, turned into claims by role assignments. */
  readonly validateToken: TokenValidator = async (type, token, audience, conn) => {
    if (type !== "jwt") throw new TokenError(`The token type '${type}' is not supported.`);
    const claims = await verifyAccessToken(token, this.issuer);
    if (!validAudience(String(claims.aud ?? ""), conn.namespace.name)) {
      throw new TokenError("InvalidAudience: The authorization header contains a token with a wrong audience.");
    }
    const exp = claims.exp * 1000;
    return this.registry
      .claimsFor(claims.oid, conn.namespace.name, resourcePath(audience))
      .map((c): Claim => ({ ...c, expiresAt: exp }));
  };

  /**
   * Whether Entra would issue a token for `resource` here: a Service Bus audience the broker accepts (the
   * service, or a namespace this server serves), or an app of this tenant, i.e. a managed identity's client id
   * (`<client-id>` or `api://<client-id>`), the way another app's identity asks for a token to call it.
   */
  knownResource(resource: string): boolean {
    if (resource.toLowerCase().replace(/\/+$/, "") === "https://servicebus.azure.net") return true;
    const namespaces = this.o.namespaces?.() ?? this.o.config.namespaces.map((n) => n.name);
    for (const ns of namespaces) if (validAudience(resource, ns)) return true;
    const app = resource
      .replace(/^api:\/\//i, "")
      .replace(/\/+$/, "")
      .toLowerCase();
    return (
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(app) &&
      this.registry.find(app)?.clientId === app
    );
  }

  // ---- eventjobs exec ----

  /** The exec secret (created on first use, 0600 in the identity dir); never printed. */
  execSecret(): string {
    if (this.execToken) return this.execToken;
    const file = this.o.dir && join(this.o.dir, EXEC_TOKEN_FILE);
    if (file && existsSync(file)) return (this.execToken = readFileSync(file, "utf8").trim());
    this.execToken = randomBytes(32).toString("base64url");
    if (file) writeFileAtomic(file, this.execToken + "\n", { dirMode: 0o700 });
    return this.execToken;
  }

  /**
   * The binding for `eventjobs exec [--identity REF]`: one identity, a job's identities, or every user-assigned one.
   */
  execBinding(ref?: string): Binding {
    if (!ref) {
      const all = this.registry.userIdentities();
      return { label: "eventjobs exec", allowed: all, default: all.length === 1 ? all[0] : undefined };
    }
    const job = this.o.job?.(ref);
    const jobBinding = job ? this.jobBinding(job.name, job.identity) : undefined;
    if (jobBinding && !this.registry.user(ref)) return { ...jobBinding, label: `eventjobs exec --identity ${ref}` };
    const identity = this.registry.find(ref);
    if (!identity) {
      const known =
        this.registry
          .userIdentities()
          .map((i) => i.name)
          .join(", ") || "none declared";
      throw Object.assign(
        new Error(`no identity '${ref}' (identities: ${known}; a job name gives that job's identities)`),
        { status: 400 },
      );
    }
    return { label: `eventjobs exec --identity ${ref}`, allowed: [identity], default: identity };
  }

  private authorizedExec(req: Request, res: ServerResponse): boolean {
    const remote = req.socket.remoteAddress ?? "";
    if (!/^(127\.|::1$|::ffff:127\.)/.test(remote)) {
      sendJson(res, 403, { error: { code: "Forbidden", message: "exec headers are only issued to loopback clients" } });
      return false;
    }
    const given = Buffer.from(String(req.headers.authorization ?? "").replace(/^Bearer /, ""));
    const expected = Buffer.from(this.execSecret());
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      sendJson(res, 401, {
        error: {
          code: "Unauthorized",
          message: `the exec endpoint needs the secret in <data-dir>/identity/${EXEC_TOKEN_FILE}`,
        },
      });
      return false;
    }
    return true;
  }

  private async execHeader(req: Request, res: ServerResponse): Promise<void> {
    if (!this.authorizedExec(req, res)) return;
    let body: { identity?: string; asMe?: boolean } = {};
    try {
      const text = (await readBody(req, 64 * 1024)).toString("utf8");
      body = text ? JSON.parse(text) : {};
    } catch {
      return sendJson(res, 400, {
        error: { code: "BadRequest", message: "the body must be JSON: { identity?: string, asMe?: boolean }" },
      });
    }
    let binding: Binding;
    try {
      binding = body.asMe
        ? { label: "eventjobs exec --as-me", allowed: [] } // the CA only: the command's `az` gets the developer's tokens
        : this.execBinding(typeof body.identity === "string" ? body.identity : undefined);
    } catch (e) {
      return sendJson(res, 400, { error: { code: "IdentityNotFound", message: (e as Error).message } });
    }
    const env = this.caEnv();
    if (binding.allowed.length)
      Object.assign(env, {
        IDENTITY_ENDPOINT: this.o.endpointUrl(),
        IDENTITY_HEADER: this.endpoint.bind(binding, EXEC_HEADER_TTL_MS),
      });
    sendJson(res, 200, {
      env,
      identities: binding.allowed.map((i) => ({
        name: i.name,
        kind: i.kind,
        clientId: i.clientId,
        principalId: i.principalId,
      })),
    });
  }

  /**
   * `az account get-access-token` of `eventjobs shellenv`: a user token for the developer principal. Errors carry
   * the wording az prints (the SDKs' Azure CLI credentials look for "az login" in it).
   */
  private async cliToken(req: Request, res: ServerResponse): Promise<void> {
    if (!this.authorizedExec(req, res)) return;
    let body: { resource?: unknown; tenant?: unknown } = {};
    try {
      body = JSON.parse((await readBody(req, 64 * 1024)).toString("utf8") || "{}");
    } catch {
      body = {};
    }
    const fail = (status: number, code: string, message: string) => sendJson(res, status, { error: { code, message } });
    if (typeof body.resource !== "string" || !body.resource)
      return fail(400, "BadRequest", "the body must be JSON: { resource: string, tenant?: string }");
    const developer = this.registry.developer();
    if (!developer) return fail(401, "NotLoggedIn", "Please run 'az login' to setup account.");
    const tenant = this.registry.tenantId;
    if (typeof body.tenant === "string" && body.tenant && body.tenant.toLowerCase() !== tenant)
      return fail(
        400,
        "TenantNotFound",
        `AADSTS90002: Tenant '${body.tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. (The local tenant is ${tenant}.)`,
      );
    if (!this.knownResource(body.resource))
      return fail(
        400,
        "invalid_resource",
        `AADSTS500011: The resource principal named ${body.resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. (Tokens here are for https://servicebus.azure.net, https://<namespace>.servicebus.windows.net or a managed identity's client id.)`,
      );
    const { token, claims } = await issueUserToken(this.issuer, developer, body.resource);
    sendJson(res, 200, { accessToken: token, expires_on: claims.exp, tenant, subscription: LOCAL_SUBSCRIPTION });
  }

  private async execRevoke(req: Request, res: ServerResponse): Promise<void> {
    if (!this.authorizedExec(req, res)) return;
    const header = req.headers["x-identity-header"];
    if (typeof header === "string") this.endpoint.revoke(header);
    res.writeHead(204).end();
  }
}

/** Service Bus accepts tokens for the service (`https://servicebus.azure.net`) or for the namespace's own host. */
export function validAudience(aud: string, namespace: string): boolean {
  const a = aud.toLowerCase().replace(/\/+$/, "");
  return a === "https://servicebus.azure.net" || a === `https://${namespace.toLowerCase()}.servicebus.windows.net`;
}

/** The system CA bundle followed by the local CA, written when either changed (checked once per process). */
const bundles = new Map<string, string>();
function caBundle(caFile: string, out: string): string {
  const key = `${caFile}\0${out}`;
  if (bundles.has(key)) return bundles.get(key)!;
  const system = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"].find(
    (f) => existsSync(f),
  );
  const text = (system ? readFileSync(system, "utf8").trimEnd() + "\n" : "") + readFileSync(caFile, "utf8");
  // public (replicas read it), and replaced whole so a replica starting meanwhile never reads half of it
  if (!existsSync(out) || readFileSync(out, "utf8") !== text) writeFileAtomic(out, text, { mode: 0o644 });
  bundles.set(key, out);
  return out;
}

/** IDENTITY_ENDPOINT for a server listening on `host`: a wildcard bind address is reached on loopback. */
export function tokenEndpointUrl(host: string, httpPort: number): string {
  const h = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${h.includes(":") ? `[${h}]` : h}:${httpPort}${TOKEN_PATH}`;
}
