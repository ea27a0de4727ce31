// The managed-identity endpoint as Container Apps (and App Service) serve it to their containers, on the
// platform's HTTP port. A replica gets IDENTITY_ENDPOINT (this URL) and IDENTITY_HEADER (a secret bound to
// its job); the Azure SDKs then ask:
//   GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>
//       [&client_id=|object_id=|principal_id=|mi_res_id=|msi_res_id=]
//   X-IDENTITY-HEADER: {IDENTITY_HEADER}
// (@azure/identity 4.13 via @azure/msal-node's AppService source; Python azure-identity 1.13 app_service.py)
// and read { access_token, expires_on (epoch seconds, string), resource, token_type, client_id }.
// Failures are 400/401 with a JSON error: never 404/410 (msal-node's IMDS retry policy would retry those
// for a minute) and never 5xx (the pipeline retries those too).
import { createHash, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { sendJson, type Request } from "../http/router.js";
import type { Identity } from "./registry.js";

export const TOKEN_PATH = "/msi/token";
const API_VERSIONS = ["2019-08-01"];

/** What an IDENTITY_HEADER lets its holder ask for. */
export interface Binding {
  /** for messages: `job <name>` or `eventjobs exec` */
  label: string;
  /** the identities it may get tokens for */
  allowed: Identity[];
  /** the identity a request without an id gets (the job's system-assigned identity) */
  default?: Identity;
}

export interface IssuedToken {
  token: string;
  /** epoch seconds */
  expiresOn: number;
}

/** Keeps the header → binding table and answers token requests. Headers are stored hashed only. */
export class IdentityEndpoint {
  private readonly bindings = new Map<string, Binding & { expiresAt: number }>();

  constructor(
    private readonly issue: (identity: Identity, resource: string) => Promise<IssuedToken>,
    /** whether a token may be issued for this resource (IdentityService.knownResource); default any */
    private readonly knownResource: (resource: string) => boolean = () => true,
    private readonly tenant: () => string = () => "",
  ) {}

  /** A new random header for `binding`, valid for `ttlMs`. */
  bind(binding: Binding, ttlMs: number): string {
    this.prune();
    const header = randomUUID();
    this.bindings.set(hash(header), { ...binding, expiresAt: Date.now() + ttlMs });
    return header;
  }

  revoke(header: string): void {
    this.bindings.delete(hash(header));
  }

  private prune(): void {
    const now = Date.now();
    for (const [k, b] of this.bindings) if (b.expiresAt <= now) this.bindings.delete(k);
  }

  /** GET TOKEN_PATH */
  readonly handle = async (req: Request, res: ServerResponse): Promise<void> => {
    const header = req.headers["x-identity-header"];
    if (typeof header !== "string" || !header) {
      return fail(
        res,
        400,
        "invalid_request",
        "The request is missing the X-IDENTITY-HEADER header (set it to the value of the IDENTITY_HEADER environment variable).",
      );
    }
    const binding = this.bindings.get(hash(header));
    if (!binding || binding.expiresAt <= Date.now()) {
      return fail(
        res,
        401,
        "unauthorized_client",
        "The X-IDENTITY-HEADER value is not valid: it is not the IDENTITY_HEADER of a running replica or `eventjobs exec` of this server.",
      );
    }
    const q = req.query;
    const version = q.get("api-version");
    if (!version || !API_VERSIONS.includes(version)) {
      return fail(
        res,
        400,
        "invalid_request",
        `The api-version '${version ?? ""}' is not supported; use ${API_VERSIONS.join(", ")}.`,
      );
    }
    const resource = resourceOf(q.get("resource") ?? q.get("scope") ?? "");
    if (!resource)
      return fail(
        res,
        400,
        "invalid_request",
        "The request has no resource parameter (e.g. resource=https://servicebus.azure.net/).",
      );
    if (!this.knownResource(resource)) {
      // Entra's answer for a resource that has no service principal in the tenant, passed on by the endpoint
      const shown = JSON.stringify(resource).slice(1, -1); // control characters escaped, as in a log line
      return fail(
        res,
        400,
        "invalid_resource",
        `AADSTS500011: The resource principal named ${shown} was not found in the tenant named ${this.tenant()}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. (Tokens here are for https://servicebus.azure.net, https://<namespace>.servicebus.windows.net or a managed identity's client id.)`,
      );
    }
    const selectors = [
      ["client_id", q.get("client_id") ?? q.get("clientid")],
      ["principal_id", q.get("principal_id") ?? q.get("object_id")],
      ["mi_res_id", q.get("mi_res_id") ?? q.get("msi_res_id")],
    ].filter((s): s is [string, string] => Boolean(s[1]));
    if (selectors.length > 1)
      return fail(
        res,
        400,
        "invalid_request",
        `Give at most one of client_id, principal_id/object_id, mi_res_id; got ${selectors.map((s) => s[0]).join(", ")}.`,
      );
    let identity: Identity | undefined;
    if (selectors.length === 0) {
      identity = binding.default;
      if (!identity) {
        const ids = binding.allowed.map((i) => `${i.name} (client_id ${i.clientId})`).join(", ");
        return fail(
          res,
          400,
          "invalid_request",
          `Unable to load the proper Managed Identity: ${binding.label} has no system-assigned identity${ids ? `; pass the client id of one of its user-assigned identities: ${ids}` : ""}.`,
        );
      }
    } else {
      const [kind, value] = selectors[0];
      const v = value.trim().toLowerCase();
      identity = binding.allowed.find((i) =>
        kind === "client_id"
          ? i.clientId === v
          : kind === "principal_id"
            ? i.principalId === v
            : i.resourceId.toLowerCase() === v,
      );
      if (!identity) {
        return fail(
          res,
          400,
          "invalid_request",
          `Unable to load the proper Managed Identity: no identity with ${kind} '${value}' is assigned to ${binding.label}.`,
        );
      }
    }
    const t = await this.issue(identity, resource);
    sendJson(res, 200, {
      access_token: t.token,
      expires_on: String(t.expiresOn),
      resource,
      token_type: "Bearer",
      client_id: identity.clientId,
    });
  };
}

/** The resource of a request: the value as given, minus a trailing `/.default` if a scope was passed. */
export function resourceOf(value: string): string {
  const v = value.trim();
  return v.endsWith("/.default") ? v.slice(0, -"/.default".length) : v;
}

function hash(header: string): string {
  return createHash("sha256").update(header).digest("base64url");
}

function fail(res: ServerResponse, status: number, error: string, description: string): void {
  // msal-node reads `error` and `message`/`error_description`; Python surfaces the whole body
  sendJson(res, status, {
    error,
    error_description: description,
    message: description,
    statusCode: status,
    correlationId: randomUUID(),
  });
}
