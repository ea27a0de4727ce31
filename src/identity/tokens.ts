// The local token issuer: one RSA key per data dir signs access tokens (JWT, RS256) for managed identities,
// with the claims Microsoft Entra ID puts into a managed identity's v1 access token. The broker verifies
// them with the same key. The JWS parts are jose's; the key (node:crypto KeyObjects, a PKCS#8 PEM file) and the
// claim checks, with the service's wording, are ours.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type KeyObject,
} from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { compactVerify, decodeJwt as joseDecodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { writeFileAtomic } from "../files.js";

/**
 * Lifetime of an issued token. Entra ID gives managed identities tokens valid for about 24 hours (the SDKs
 * refresh them well before: msal-node at half-life when over 2 h, the Service Bus clients 2–5 min before expiry).
 */
export const TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
/** clock skew allowed on `nbf` (the same machine signs and checks, but SDKs compare against their own clock too) */
const NBF_SKEW_SECONDS = 5 * 60;

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenError"; // $cbs answers these with 401 amqp:unauthorized-access
  }
}

export interface Issuer {
  /** the directory tenant: `tid` and the issuer URL */
  tenantId: string;
  /** key id (`kid` in the header): a thumbprint of the public key */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** What a token is issued for. */
export interface TokenSubject {
  clientId: string;
  principalId: string;
  /** the identity's ARM resource id (`xms_mirid`) */
  resourceId: string;
}

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  appidacr: string;
  azp: string;
  idp: string;
  oid: string;
  sub: string;
  tid: string;
  uti: string;
  ver: string;
  xms_mirid: string;
  [claim: string]: unknown;
}

export function issuerUrl(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/**
 * The issuer key in `keyFile` (PKCS#8 PEM, mode 0600), created on first use; without a file (in-memory
 * platforms) a key for this process only.
 */
export function loadIssuer(tenantId: string, keyFile?: string): Issuer {
  let privateKey: KeyObject;
  if (keyFile && existsSync(keyFile)) privateKey = createPrivateKey(readFileSync(keyFile));
  else {
    // Generated straight to PEM and parsed again: a KeyObject that node's key-generation job still refers to can
    // deadlock the process when jose exports it as a JWK (the export holds the key's lock while allocating; a GC
    // then frees the job, whose destructor waits for the same lock). Seen on Node 20 when the first token is signed
    // right after the key is made.
    const pem = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    }).privateKey;
    privateKey = createPrivateKey(pem);
    if (keyFile) writeFileAtomic(keyFile, pem, { dirMode: 0o700 });
  }
  const publicKey = createPublicKey(privateKey);
  const kid = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url")
    .slice(0, 27);
  return { tenantId, kid, privateKey, publicKey };
}

/** Signs any claims as a compact JWT (RS256). */
export function signJwt(claims: Record<string, unknown>, issuer: Pick<Issuer, "kid" | "privateKey">): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "RS256", kid: issuer.kid }).sign(issuer.privateKey);
}

/** An access token for `subject` and `resource` (the audience), as Entra issues it to a managed identity. */
export async function issueAccessToken(
  issuer: Issuer,
  subject: TokenSubject,
  resource: string,
  opts: { now?: number; lifetimeSeconds?: number } = {},
): Promise<{ token: string; claims: AccessTokenClaims }> {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const iss = issuerUrl(issuer.tenantId);
  const claims: AccessTokenClaims = {
    aud: resource,
    iss,
    iat,
    nbf: iat,
    exp: iat + (opts.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS),
    aio: randomUUID(),
    appid: subject.clientId,
    appidacr: "2", // authenticated by a managed identity (certificate) credential
    azp: subject.clientId,
    idp: iss,
    oid: subject.principalId,
    sub: subject.principalId,
    tid: issuer.tenantId,
    uti: randomUUID().replace(/-/g, "").slice(0, 22),
    ver: "1.0",
    xms_mirid: subject.resourceId,
  };
  return { token: await signJwt(claims, issuer), claims };
}

/** Azure CLI's public client id: the `appid` of the tokens `az account get-access-token` gets. */
export const AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/** The developer principal a user token is issued to. */
export interface UserSubject {
  objectId: string;
  userPrincipalName: string;
  displayName: string;
}

/**
 * An access token for a signed-in user, as Entra issues it to the Azure CLI (v1): `oid`, `upn`, `scp`,
 * `idtyp: user`, `appid` of the CLI, `aud` = the resource. Same lifetime as the managed-identity tokens.
 */
export async function issueUserToken(
  issuer: Issuer,
  user: UserSubject,
  resource: string,
  opts: { now?: number; lifetimeSeconds?: number } = {},
): Promise<{ token: string; claims: Omit<AccessTokenClaims, "xms_mirid"> }> {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const iss = issuerUrl(issuer.tenantId);
  // users have no managed-identity resource id (`xms_mirid`)
  const claims: Omit<AccessTokenClaims, "xms_mirid"> = {
    aud: resource,
    iss,
    iat,
    nbf: iat,
    exp: iat + (opts.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS),
    acr: "1",
    aio: randomUUID(),
    amr: ["pwd"],
    appid: AZURE_CLI_APP_ID,
    appidacr: "0", // a public client
    azp: AZURE_CLI_APP_ID,
    idp: iss,
    idtyp: "user",
    name: user.displayName,
    oid: user.objectId,
    scp: "user_impersonation",
    sub: user.objectId,
    tid: issuer.tenantId,
    unique_name: user.userPrincipalName,
    upn: user.userPrincipalName,
    uti: randomUUID().replace(/-/g, "").slice(0, 22),
    ver: "1.0",
  };
  return { token: await signJwt(claims, issuer), claims };
}

/** The claims of a token without checking anything (for messages and tests). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  if (token.split(".").length !== 3) throw new TokenError("InvalidToken: The token is not a JWT.");
  try {
    return { header: decodeProtectedHeader(token), claims: joseDecodeJwt(token) };
  } catch {
    throw new TokenError("InvalidToken: The token is not a JWT.");
  }
}

/**
 * Verifies a token from this issuer: RS256 signature by its key, issuer, `nbf` and `exp`. Audience and
 * authorization are the caller's (they depend on the namespace). Throws TokenError with the service's wording.
 */
export async function verifyAccessToken(token: string, issuer: Issuer, now = Date.now()): Promise<AccessTokenClaims> {
  const { header, claims } = decodeJwt(token);
  if (header.kid !== undefined && header.kid !== issuer.kid) {
    throw new TokenError("InvalidSignature: The token has an invalid signature.");
  }
  try {
    // RS256 only: `none`, HS256 with the public key as secret and any other algorithm are refused
    await compactVerify(token, issuer.publicKey, { algorithms: ["RS256"] });
  } catch {
    throw new TokenError("InvalidSignature: The token has an invalid signature.");
  }
  if (claims.iss !== issuerUrl(issuer.tenantId))
    throw new TokenError(`InvalidIssuer: The token issuer '${String(claims.iss)}' is not trusted.`);
  const seconds = Math.floor(now / 1000);
  const exp = Number(claims.exp);
  if (!Number.isFinite(exp) || exp <= seconds) {
    throw new TokenError(`ExpiredToken: The token is expired. Expiration time: '${isoSeconds(exp)}'`);
  }
  const nbf = Number(claims.nbf ?? claims.iat ?? 0);
  if (nbf > seconds + NBF_SKEW_SECONDS)
    throw new TokenError(`InvalidToken: The token is not valid before '${isoSeconds(nbf)}'`);
  return claims as AccessTokenClaims;
}

/** `2019-04-11 21:12:56Z`, the service's way of printing a token time. */
function isoSeconds(epochSeconds: number): string {
  if (!Number.isFinite(epochSeconds)) return String(epochSeconds);
  return new Date(epochSeconds * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}
