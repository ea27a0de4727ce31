// What a token grants on a connection, and the contract of a token validator: identity produces claims, the
// AMQP layer ($cbs, link attach) consumes them.
import type { AccessRight } from "../model/config.js";

export interface Claim {
  /** entity path the token covers ("" = whole namespace), lowercase */
  scope: string;
  rights: AccessRight[];
  expiresAt: number;
}

/** What a validator may know of the connection a token arrived on. */
export interface TokenConnection {
  readonly namespace: { readonly name: string };
}

export interface TokenValidator {
  /**
   * Validates a token of a type other than SAS (JWT, added by the identity layer): its claims (none is valid too).
   * Asynchronous (signature checks are); a rejection with a TokenError is a 401 reply.
   */
  (type: string, token: string, audience: string, connection: TokenConnection): Promise<Claim | Claim[]>;
}
