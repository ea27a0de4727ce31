// Correlation filter rows, SQL action rows and syntax error rows.
import type { FilterMessage, RuleFilter } from "../../../src/servicebus/filters/index.js";
import { TimeSpan } from "../../../src/servicebus/filters/index.js";
import { BAD, F, T, type Expected } from "./fixtures.js";

type Correlation = Omit<Extract<RuleFilter, { type: "correlation" }>, "type">;
/** [correlation filter fields, expected against baseMessage() with these properties and system fields merged in] */
export type CorrelationRow = [Correlation, Expected, Record<string, unknown>?, Partial<FilterMessage["system"]>?];

export const correlationRows: CorrelationRow[] = [
  [{ correlationId: "high" }, T],
  [{ correlationId: "High" }, F], // case-sensitive
  [{ correlationId: "low" }, F],
  [{ messageId: "m-1" }, T],
  [{ to: "Store5" }, T],
  [{ to: "store5" }, F],
  [{ replyTo: "johndoe@contoso.com" }, T],
  [{ subject: "red" }, T],
  [{ label: "red" }, T],
  [{ subject: "blue" }, F],
  [{ sessionId: "s-1" }, T],
  [{ replyToSessionId: "rs-1" }, T],
  [{ contentType: "application/json" }, T],
  [{ contentType: "application/xml" }, F],
  [{ subject: "red", correlationId: "high" }, T],
  [{ subject: "red", correlationId: "low" }, F],
  [{ subject: "red", replyTo: "johndoe@contoso.com", properties: { color: "blue" } }, T],
  [{ subject: "red", replyTo: "johndoe@contoso.com", properties: { color: "Blue" } }, F],
  [{ properties: { color: "blue" } }, T],
  [{ properties: { COLOR: "blue" } }, T], // property names are case-insensitive, as in SQL filters
  [{ properties: { color: "blue", quantity: 10 } }, T],
  [{ properties: { color: "blue", quantity: 11 } }, F],
  [{ properties: { quantity: 10.0 } }, T],
  [{ properties: { quantity: "10" } }, F], // no conversion between string and number
  [{ properties: { big: 9007199254740993n } }, T],
  [{ properties: { flag: true } }, T],
  [{ properties: { flag: false } }, F],
  [{ properties: { when: new Date("2026-01-02T00:00:00Z") } }, T],
  [{ properties: { missing: "x" } }, F],
  [{ properties: { nul: null } }, T],
  [{ properties: { color: null } }, F],
  [
    { properties: { eventType: "order.created", eventTypeVersion: 1 } },
    T,
    { eventType: "order.created", eventTypeVersion: 1 },
  ],
  [{ properties: { eventType: "order.created", eventTypeVersion: 1 } }, F, { eventType: "order.created" }],
  [{ correlationId: "" }, F], // an empty string is a value to match
  [{ correlationId: "Contoso" }, T, {}, { correlationId: "Contoso" }],
  [{ sessionId: "s-1" }, F, {}, { sessionId: undefined }],
  [{}, BAD], // an empty correlation filter is refused
  [{ properties: {} }, BAD],
  [{ correlationId: undefined }, BAD],
];

/** [action expression, parameters, expected properties (subset) and system fields, or BAD/"fails"] */
export type ActionRow = [
  string,
  Record<string, unknown>,
  { properties?: Record<string, unknown>; removed?: string[]; system?: Partial<FilterMessage["system"]> } | Expected,
];

export const actionRows: ActionRow[] = [
  ["SET quantity = quantity / 2", {}, { properties: { quantity: 5 } }],
  ["SET quantity = quantity / 2;", {}, { properties: { quantity: 5 } }],
  ["SET quantity = quantity / 4", {}, { properties: { quantity: 2 } }],
  ["SET price = price * 2", {}, { properties: { price: 5 } }],
  ["SET source='routedOrders'", {}, { properties: { source: "routedOrders" } }],
  ["SET source = @p", { "@p": "x" }, { properties: { source: "x" } }],
  ["SET a = 1; SET b = a + 1", {}, { properties: { a: 1, b: 2 } }], // statements see earlier ones
  ["SET a = 1 SET b = 2", {}, { properties: { a: 1, b: 2 } }], // the semicolon is optional
  ["SET a = 1;;", {}, BAD],
  ["REMOVE priority", {}, { removed: ["priority"] }],
  ["remove PRIORITY", {}, { removed: ["priority"] }],
  ["REMOVE missing", {}, { properties: { color: "blue" } }],
  [
    "SET quantity = quantity / 2; REMOVE priority;SET sys.CorrelationId = 'low';",
    {},
    {
      properties: { quantity: 5 },
      removed: ["priority"],
      system: { correlationId: "low" },
    },
  ],
  ["SET sys.Label = 'green'", {}, { system: { label: "green" } }],
  ["SET sys.Subject = 'green'", {}, { system: { label: "green" } }],
  ["SET sys.To = sys.To + '-copy'", {}, { system: { to: "Store5-copy" } }],
  ["SET sys.MessageId = 'm-2'", {}, { system: { messageId: "m-2" } }],
  ["SET sys.SessionId = 's-2'", {}, { system: { sessionId: "s-2" } }],
  ["SET sys.ContentType = 'text/plain'", {}, { system: { contentType: "text/plain" } }],
  ["SET sys.ReplyTo = 'q2'", {}, { system: { replyTo: "q2" } }],
  ["SET sys.ReplyToSessionId = 'r2'", {}, { system: { replyToSessionId: "r2" } }],
  ["SET sys.PartitionKey = 'pk'", {}, { system: { partitionKey: "pk" } }],
  ["SET sys.CorrelationId = 5", {}, { system: { correlationId: "5" } }],
  ["SET sys.TimeToLive = @t", { t: new TimeSpan(5000) }, { system: { timeToLive: 5000 } }],
  [
    "SET sys.ScheduledEnqueueTimeUtc = @d",
    { d: new Date("2027-01-01T00:00:00Z") },
    {
      system: { scheduledEnqueueTimeUtc: new Date("2027-01-01T00:00:00Z") },
    },
  ],
  ["REMOVE sys.CorrelationId", {}, { system: { correlationId: undefined } }],
  ["SET sys.CorrelationId = NULL", {}, { system: { correlationId: undefined } }],
  ["SET sys.TimeToLive = 5", {}, "fails"],
  ["SET sys.DeliveryCount = 5", {}, BAD], // not settable
  ["SET sys.SequenceNumber = 1", {}, BAD],
  ["SET sys.EnqueuedTimeUtc = @d", { d: new Date() }, BAD],
  ["REMOVE sys.Size", {}, BAD],
  ["SET sys.Nope = 1", {}, BAD],
  ["SET COLOR = 'red'", {}, { properties: { color: "red" } }], // keeps the existing spelling
  ["SET [New Prop] = 1", {}, { properties: { "New Prop": 1 } }],
  ["SET user.x = 'y'", {}, { properties: { x: "y" } }],
  ["SET x = missing", {}, { properties: { x: null } }],
  ["SET x = missing + 1", {}, { properties: { x: null } }],
  ["SET x = NULL", {}, { properties: { x: null } }],
  ["SET x = TRUE", {}, { properties: { x: true } }],
  ["SET x = 1.5", {}, { properties: { x: 1.5 } }],
  ["SET x = big + 1", {}, { properties: { x: 9007199254740994n } }],
  ["SET x = 'a' + color", {}, { properties: { x: "ablue" } }],
  ["SET x = p('color')", {}, { properties: { x: "blue" } }],
  ["SET x = sys.Label", {}, { properties: { x: "red" } }],
  ["SET x = later - when", {}, { properties: { x: new TimeSpan(3_600_000) } }],
  ["SET x = color * 2", {}, "fails"],
  ["SET x = 1 / 0", {}, "fails"],
  ["SET x = @nope", {}, BAD],
  ["set x = 1; remove y", {}, { properties: { x: 1 } }],
  ["SET x = 1, SET y = 2", {}, BAD],
  ["x = 1", {}, BAD],
  ["SET x", {}, BAD],
  ["SET x =", {}, BAD],
  ["REMOVE", {}, BAD],
  ["REMOVE 1", {}, BAD],
  ["", {}, BAD],
  ["SET x = (1 = 1)", {}, BAD], // an action assigns an expression, not a predicate
  [Array.from({ length: 32 }, (_, i) => `SET a${i}=${i}`).join(";"), {}, { properties: { a31: 31 } }],
  [Array.from({ length: 33 }, (_, i) => `SET a${i}=${i}`).join(";"), {}, BAD],
];

/** [expression, line, column (0-based), token, details pattern] */
export type ErrorRow = [string, number, number, string, RegExp];

export const errorRows: ErrorRow[] = [
  ["", 1, 0, "", /unexpected end of expression/],
  ["color =", 1, 7, "", /unexpected end of expression/],
  ["color == 'x'", 1, 7, "=", /unexpected '='/],
  ["color = 'x' AND", 1, 15, "", /unexpected end of expression/],
  ["color = 'x' ANDD quantity = 1", 1, 12, "ANDD", /unexpected IDENTIFIER/],
  ["color = 'unterminated", 1, 8, "'unterminated", /unexpected STRING/],
  ["(color = 'x'", 1, 12, "", /unexpected end of expression/],
  ["color = 'x')", 1, 11, ")", /unexpected '\)'/],
  ["color 'x'", 1, 6, "'x'", /unexpected STRING/],
  ["AND = 1", 1, 0, "AND", /unexpected AND/],
  ["color = 1 OR\nquantity = = 2", 2, 11, "=", /unexpected '='/],
  ["a = 1\n\n  AND b $ 2", 3, 8, "$", /unexpected invalid character '\$'/],
  ["color IN ()", 1, 10, ")", /unexpected '\)'/],
  ["color IN 'a'", 1, 9, "'a'", /unexpected STRING, expecting '\('/],
  ["EXISTS color", 1, 7, "color", /unexpected IDENTIFIER, expecting '\('/],
  ["color IS 'x'", 1, 9, "'x'", /unexpected STRING, expecting NOT, or NULL/],
  ["color LIKE", 1, 10, "", /unexpected end of expression/],
  ["1abc = 1", 1, 1, "abc", /unexpected IDENTIFIER/],
  ["[unclosed = 1", 1, 0, "[unclosed = 1", /unexpected IDENTIFIER/],
  ["color = 1.2.3", 1, 11, ".3", /unexpected DECIMAL/],
  ["@ = 1", 1, 0, "@", /unexpected PARAMETER/],
  ["foo.bar = 1", 1, 0, "foo", /unknown property scope 'foo'/],
  ["sys.Nope = 1", 1, 0, "sys.Nope", /system property 'sys.Nope' does not exist/],
  ["x = 1 AND sys.Nope = 1", 1, 10, "sys.Nope", /does not exist/],
  ["color = @missing", 1, 8, "@missing", /parameter '@missing' is not defined/],
  ["x = 9223372036854775808", 1, 4, "9223372036854775808", /out of the Int64 range/],
  ["x" + " ".repeat(1021) + "= 1", 1, 1024, "", /at most 1024/],
];
