// The message most filter rows run against, and the row types the filter tests share.
import type { FilterMessage } from "../../../src/servicebus/filters/index.js";

export const T = true;
export const F = false;
/** the expression is refused when the rule is compiled */
export const BAD = "bad" as const;
/** the expression compiles, but evaluating it against the message fails */
export const FAILS = "fails" as const;
export type Expected = boolean | typeof BAD | typeof FAILS;

/** [expression, expected, parameters?, application properties merged over the base message's?] */
export type SqlRow = [string, Expected, Record<string, unknown>?, Record<string, unknown>?];

export function baseMessage(): FilterMessage {
  return {
    system: {
      messageId: "m-1",
      correlationId: "high",
      to: "Store5",
      replyTo: "johndoe@contoso.com",
      label: "red",
      sessionId: "s-1",
      replyToSessionId: "rs-1",
      contentType: "application/json",
      deliveryCount: 1,
      enqueuedTimeUtc: new Date("2026-01-01T00:00:00Z"),
      sequenceNumber: 42n,
      timeToLive: 60_000,
      size: 256,
      lockToken: "lt-1",
    },
    properties: {
      color: "blue",
      quantity: 10,
      priority: "low",
      price: 2.5,
      flag: true,
      off: false,
      big: 9007199254740993n,
      long: { low: 5, high: 1, unsigned: false },
      when: new Date("2026-01-02T00:00:00Z"),
      later: new Date("2026-01-02T01:00:00Z"),
      name: "it's",
      StoreId: "Store1",
      empty: "",
      nul: null,
      "Property With Space": "x",
      "HR-EmployeeID": 7,
      "Contoso & Northwind": "y",
      "http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName": "account",
      Pct: "50%",
      under: "a_b",
      MixedCase: "v",
      ünï: "u",
      buf: Buffer.from("ab"),
      neg: -4,
      zero: 0,
      text: "SuperMan Returns",
    },
  };
}
