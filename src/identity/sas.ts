// Shared Access Signature tokens as Service Bus issues and checks them:
// "SharedAccessSignature sr=<url-encoded resource>&sig=<url-encoded base64 HMAC-SHA256>&se=<expiry s>&skn=<key name>".
import { createHmac, timingSafeEqual } from "node:crypto";
import type { AccessRight, SasPolicyConfig } from "../model/config.js";

export interface SasClaims {
  /** the resource the token covers, decoded (e.g. sb://localhost/orders) */
  resource: string;
  rights: AccessRight[];
  expiresAt: number;
  keyName: string;
}

export class SasError extends Error {}

export function sign(resourceEncoded: string, expiry: number, key: string): string {
  return createHmac("sha256", Buffer.from(key, "utf8")).update(`${resourceEncoded}\n${expiry}`).digest("base64");
}

export function createSasToken(resource: string, keyName: string, key: string, ttlSeconds = 3600): string {
  const sr = encodeURIComponent(resource);
  const se = Math.floor(Date.now() / 1000) + ttlSeconds;
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sign(sr, se, key))}&se=${se}&skn=${encodeURIComponent(keyName)}`;
}

/** Verifies a SAS token against the policies; throws SasError with the service's wording. */
export function verifySasToken(token: string, policies: SasPolicyConfig[], now = Date.now()): SasClaims {
  const prefix = "SharedAccessSignature ";
  if (!token.startsWith(prefix)) throw new SasError("InvalidSignature: The token has an invalid format.");
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split("&")) {
    const i = part.indexOf("=");
    if (i > 0) fields.set(part.slice(0, i), part.slice(i + 1));
  }
  const sr = fields.get("sr"),
    sig = fields.get("sig"),
    se = fields.get("se"),
    skn = fields.get("skn");
  if (!sr || !sig || !se || !skn) throw new SasError("InvalidSignature: The token is missing sr, sig, se or skn.");
  const keyName = decodeField(skn);
  // a namespace policy and an entity policy may share a name: the key that signed the token decides
  const named = policies.filter((p) => p.name === keyName);
  if (!named.length)
    throw new SasError(
      `InvalidSignature: The token has an invalid signature. The shared access key '${keyName}' is not known.`,
    );
  const expiry = Number(se);
  const given = Buffer.from(decodeField(sig), "base64");
  const policy = named.find((p) =>
    [p.primaryKey, p.secondaryKey].some((key) => {
      if (!key) return false;
      const expected = Buffer.from(sign(sr, expiry, key), "base64");
      return expected.length === given.length && timingSafeEqual(expected, given);
    }),
  );
  if (!policy) throw new SasError("InvalidSignature: The token has an invalid signature.");
  if (!Number.isFinite(expiry) || expiry * 1000 <= now) {
    throw new SasError(
      `ExpiredToken: The token is expired. Expiration time: '${new Date(expiry * 1000).toISOString()}'.`,
    );
  }
  return { resource: decodeField(sr), rights: policy.rights, expiresAt: expiry * 1000, keyName };
}

/**
 * A connection string's key (SharedAccessKeyName + SharedAccessKey) against the policies, for callers that
 * hold the key itself rather than a token signed with it: the named policy whose primary or secondary key it
 * is. Throws SasError with the service's wording.
 */
export function verifySharedAccessKey(
  keyName: string | undefined,
  key: string | undefined,
  policies: SasPolicyConfig[],
): SasPolicyConfig {
  const given = Buffer.from(key ?? "", "utf8");
  const policy = policies.find(
    (p) =>
      keyName !== undefined &&
      p.name === keyName &&
      [p.primaryKey, p.secondaryKey].some((k) => {
        if (!k || !key) return false;
        const expected = Buffer.from(k, "utf8");
        return expected.length === given.length && timingSafeEqual(expected, given);
      }),
  );
  if (!policy) throw new SasError("InvalidSignature: The token has an invalid signature.");
  return policy;
}

/** A token field's percent-decoding: a broken escape is a malformed token, not an internal error. */
function decodeField(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    throw new SasError("InvalidSignature: The token has an invalid format.");
  }
}

/** The decoded `sr` of a SAS token (undefined when the token has none): which entity's policies can have signed it. */
export function tokenResource(token: string): string | undefined {
  const m = /(?:^SharedAccessSignature |&)sr=([^&]*)/.exec(token);
  try {
    return m ? decodeURIComponent(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Entity path of a resource URI: "sb://host:5672/Orders/" → "orders"; the namespace root → "". */
export function resourcePath(uri: string): string {
  const withoutScheme = uri.replace(/^[a-z]+:\/\//i, "");
  const slash = withoutScheme.indexOf("/");
  return entityScope(slash < 0 ? "" : withoutScheme.slice(slash + 1));
}

/**
 * The entity an address or token audience is about: lowercase, without trailing slashes and without the
 * sub-nodes that share their entity's rights (`q/$management`, `q/$DeadLetterQueue`).
 */
export function entityScope(path: string): string {
  return path
    .toLowerCase()
    .replace(/\/+$/, "")
    .replace(/\/\$management$/, "")
    .replace(/\/\$deadletterqueue$/, "");
}

/** Manage implies Send and Listen. */
export function grants(rights: AccessRight[], needed: AccessRight): boolean {
  return rights.includes(needed) || rights.includes("Manage");
}

/** Whether a token scoped to `scope` covers entity `path` (both from resourcePath). */
export function covers(scope: string, path: string): boolean {
  return scope === "" || path === scope || path.startsWith(scope + "/");
}

/**
 * The whole SAS check both wire layers make ($cbs put-token, the admin API): the signature against the
 * policies that can sign for the token's resource, then that resource covers the requested scope.
 * `shown` is how the request is named in the InvalidAudience error. Throws SasError.
 */
export function verifySasFor(
  token: string,
  policiesFor: (resource: string | undefined) => SasPolicyConfig[],
  requestedScope: string,
  shown: string,
): SasClaims & { scope: string } {
  // JS and Go sign the whole admin request URL, query included; only its path is a scope
  const claims = verifySasToken(token, policiesFor(tokenResource(token)?.split("?")[0]));
  const scope = resourcePath(claims.resource.split("?")[0]);
  if (!covers(scope, requestedScope))
    throw new SasError(`InvalidAudience: The token's resource '${claims.resource}' does not cover '${shown}'.`);
  return { ...claims, scope };
}
