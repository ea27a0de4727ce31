// Per-connection state: the namespace chosen by the open frame's hostname and the claims put on $cbs.
import type { AccessRight } from "../../model/config.js";
import type { Claim } from "../../identity/claims.js";
import { covers, entityScope, grants } from "../../identity/sas.js";
import type { Namespace } from "../entities/namespace.js";
import { errors } from "../errors.js";

export type { Claim };

export class ClientConnection {
  readonly claims: Claim[] = [];

  constructor(
    readonly namespace: Namespace,
    /** the host name the client used, for the service's error texts */
    readonly host: string,
  ) {}

  addClaim(claim: Claim): void {
    const now = Date.now();
    for (let i = this.claims.length - 1; i >= 0; i--) {
      const c = this.claims[i];
      if (c.expiresAt <= now || (c.scope === claim.scope && c.rights.join() === claim.rights.join()))
        this.claims.splice(i, 1);
    }
    this.claims.push(claim);
  }

  /** Throws the service's unauthorized error unless a live claim grants `right` on `entityPath`. */
  authorize(entityPath: string, right: AccessRight): void {
    const path = entityScope(entityPath);
    const now = Date.now();
    const ok = this.claims.some((c) => c.expiresAt > now && covers(c.scope, path) && grants(c.rights, right));
    if (!ok) throw errors.unauthorized(right, `sb://${this.host}/${entityPath}`);
  }
}

/**
 * Entity path from a link address as clients send it: JS uses bare paths (`q`, `q/$DeadLetterQueue`),
 * Python full URIs (`amqps://host/q`).
 */
export function entityPathOf(address: unknown): string {
  if (typeof address !== "string") return "";
  return address.replace(/^[a-z]+:\/\/[^/]+\//i, "").replace(/\/+$/, "");
}
