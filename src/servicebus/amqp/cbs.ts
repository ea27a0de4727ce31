// $cbs put-token: claims-based security as Service Bus does it. SAS tokens are verified against the
// namespace's policies and those of the entity the token is for; the claim is kept on the connection and checked when
// links attach. SAS is checked at once; other tokens (JWT) by the identity layer's validator, asynchronously.
import { resourcePath, SasError, verifySasFor } from "../../identity/sas.js";
import type { TokenValidator } from "../../identity/claims.js";
import type { ClientConnection } from "./connection.js";
import { errorReply, type Reply } from "./replies.js";

export type { TokenValidator };

/**
 * Handles a put-token request. A SAS token's claim is added before this returns (synchronously), a JWT's once
 * its validator resolves; never rejects for a bad token (that is a 401 reply).
 */
export async function putToken(conn: ClientConnection, request: any, validateOther?: TokenValidator): Promise<Reply> {
  const props = request.application_properties ?? {};
  if (props.operation !== "put-token") {
    return errorReply("CbsOperationNotSupported", `The operation '${props.operation}' is not supported by $cbs.`);
  }
  const type = String(props.type ?? "");
  const audience = String(props.name ?? "");
  const token =
    typeof request.body === "string"
      ? request.body
      : Buffer.isBuffer(request.body)
        ? request.body.toString("utf8")
        : "";
  try {
    if (type === "servicebus.windows.net:sastoken") {
      const claims = verifySasFor(token, (r) => conn.namespace.policiesFor(r), resourcePath(audience), audience);
      conn.addClaim({ scope: claims.scope, rights: claims.rights, expiresAt: claims.expiresAt });
      return { status: 200, description: "OK" };
    }
    if (validateOther) {
      for (const claim of [await validateOther(type, token, audience, conn)].flat()) conn.addClaim(claim);
      return { status: 200, description: "OK" };
    }
    return unauthorized(`The token type '${type}' is not supported.`);
  } catch (e) {
    if (e instanceof SasError || (e as Error)?.name === "TokenError") return unauthorized((e as Error).message);
    throw e;
  }
}

function unauthorized(description: string): Reply {
  return errorReply("Unauthorized", description);
}
