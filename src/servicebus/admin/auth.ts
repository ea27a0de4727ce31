// Who may call the admin API. The default authorizer checks `Authorization: SharedAccessSignature …` against
// the namespace's policies; the platform can inject another (e.g. one that also takes `Bearer <jwt>` and
// falls back to `sasAuthorize`). Every admin operation needs the Manage right, with the service's wording.
import type { Request } from "../../http/router.js";
import type { AccessRight } from "../../model/config.js";
import { entityScope, grants, SasError, verifySasFor } from "../../identity/sas.js";
import type { Namespace } from "../entities/namespace.js";
import { AdminError } from "./description.js";

export type AdminAction = "read" | "write" | "delete";

export interface AuthContext {
  namespace: Namespace;
  /** the request path without the leading slash: `orders`, `$Resources/Queues`, `$namespaceinfo` */
  resource: string;
  action: AdminAction;
}

/** What an authorizer found out about the caller. */
export interface Principal {
  rights: AccessRight[];
}

/**
 * Authenticates a request and returns the caller's rights; throws AdminError("Unauthorized") (401) with the service's
 * text.
 */
export type AdminAuthorizer = (req: Request, ctx: AuthContext) => Principal | Promise<Principal>;

/**
 * SAS as the SDKs send it. The token's `sr` is the whole request URL for JS and Go (query included) and
 * the namespace URL for Python, so the check is: the path of `sr` covers the requested path.
 */
export const sasAuthorize: AdminAuthorizer = (req, ctx) => {
  const header = req.headers.authorization;
  if (!header) throw new AdminError("Unauthorized", "MissingToken: The authorization header was not found.");
  if (/^bearer\s/i.test(header)) {
    throw new AdminError(
      "Unauthorized",
      "InvalidToken: Bearer tokens are not accepted by this endpoint; use a SharedAccessSignature.",
    );
  }
  try {
    const claims = verifySasFor(header, (r) => ctx.namespace.policiesFor(r), entityScope(ctx.resource), ctx.resource);
    return { rights: claims.rights };
  } catch (e) {
    if (e instanceof SasError) throw new AdminError("Unauthorized", e.message);
    throw e;
  }
};

const DENIED: Record<AdminAction, string> = {
  read: "Manage,EntityRead claims required for this operation.",
  write: "Authorization failed for specified action: Manage,EntityWrite.",
  delete: "Authorization failed for specified action: Manage,EntityDelete.",
};

/** Throws the service's 401 unless the caller has Manage. */
export function requireManage(principal: Principal, action: AdminAction): void {
  if (!grants(principal.rights, "Manage")) throw new AdminError("Unauthorized", DENIED[action]);
}
