// More SQL filter rows: arithmetic, constants, names and scopes, system properties, parameters and functions.
import { TimeSpan } from "../../../src/servicebus/filters/index.js";
import { BAD, F, FAILS, T, type SqlRow } from "./fixtures.js";

const HOUR = new TimeSpan(3_600_000);

export const arithmeticRows: SqlRow[] = [
  ["quantity + 1 = 11", T],
  ["quantity - 1 = 9", T],
  ["quantity * 2 = 20", T],
  ["quantity / 2 = 5", T],
  ["quantity / 4 = 2", T], // long / long truncates
  ["quantity / 4 = 2.5", F],
  ["quantity / 4.0 = 2.5", T], // a double operand makes a double
  ["quantity % 3 = 1", T],
  ["-7 / 2 = -3", T], // truncation toward zero
  ["-7 % 2 = -1", T], // the remainder keeps the dividend's sign
  ["7 % -2 = 1", T],
  ["price * 2 = 5", T],
  ["price * 2 = 5.0", T],
  ["price + quantity = 12.5", T],
  ["price % 1 = 0.5", T],
  ["1 + 2 * 3 = 7", T], // * before +
  ["(1 + 2) * 3 = 9", T],
  ["10 - 2 - 3 = 5", T], // left-associative
  ["100 / 10 / 5 = 2", T],
  ["2 * 3 % 4 = 2", T],
  ["1 - -1 = 2", T],
  ["- 1 = -1", T],
  ["-(1 + 2) = -3", T],
  ["+5 = 5", T],
  ["- -5 = 5", T],
  ["-quantity = -10", T],
  ["-price = -2.5", T],
  ["neg * neg = 16", T],
  ["quantity / 0 = 1", FAILS], // long division by zero fails
  ["quantity % 0 = 1", FAILS],
  ["price / 0 > 1000000", T], // double division by zero is infinity
  ["quantity / 0.0 > 1000000", T],
  ["9223372036854775807 + 1 < 0", T], // long arithmetic wraps, as unchecked C# does
  ["-9223372036854775808 - 1 > 0", T],
  ["big + 1 = 9007199254740994", T],
  ["'a' + 'b' = 'ab'", T],
  ["color + '-' + priority = 'blue-low'", T],
  ["'n' + 1 = 'n1'", T],
  ["'q' + quantity = 'q10'", T],
  ["'f' + flag = 'fTrue'", T],
  ["color * 2 = 1", FAILS],
  ["color - 'b' = 'lue'", FAILS],
  ["flag + 1 = 2", FAILS],
  ["-color = 1", FAILS],
  ["-flag = 1", FAILS],
  ["later - when = @hour", T, { hour: HOUR }], // time - time is a TimeSpan
  ["(later - when) <= @timespan", T, { timespan: HOUR }],
  ["later - when > @timespan", F, { timespan: HOUR }],
  ["when + @hour = later", T, { hour: HOUR }],
  ["@hour + when = later", T, { hour: HOUR }],
  ["later - @hour = when", T, { hour: HOUR }],
  ["@hour + @hour > @hour", T, { hour: HOUR }],
  ["-@hour < @hour", T, { hour: HOUR }],
  ["sys.TimeToLive = @ttl", T, { ttl: new TimeSpan(60_000) }],
  ["sys.TimeToLive = 60000", F], // a TimeSpan is not a number
  ["when + 1 = later", FAILS],
  ["2E1 = 20", T],
  ["2e1 = 20", T],
  ["1.5E1 = 15", T],
  ["101.5E5 = 10150000", T],
  ["0.5E-2 = 0.005", T],
  ["1894.1204 > 1894", T],
  ["2.0 = 2", T],
  [".5 = 0.5", T],
  ["1. = 1", T],
  ["9223372036854775807 > 0", T],
  ["-9223372036854775808 < 0", T],
  ["9223372036854775808 > 0", BAD], // beyond Int64
  ["0.1 + 0.2 > 0.3", T], // doubles are doubles
  ["007 = 7", T],
];

export const nameRows: SqlRow[] = [
  ["user.color = 'blue'", T],
  ["USER.color = 'blue'", T],
  ["COLOR = 'blue'", T], // property names are case-insensitive
  ["Color = 'blue'", T],
  ["mixedcase = 'v'", T],
  ["[Property With Space] = 'x'", T],
  ["[HR-EmployeeID] = 7", T],
  ["user.[HR-EmployeeID] = 7", T],
  ["\"Contoso & Northwind\" = 'y'", T],
  ["\"http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName\" = 'account'", T],
  ["[a]]b] = 1", T, {}, { "a]b": 1 }],
  ['"a""b" = 1', T, {}, { 'a"b': 1 }],
  ["[sys.Label] = 'p'", T, {}, { "sys.Label": "p" }], // a delimited name is a user property, dots and all
  ["[AND] = 1", T, {}, { AND: 1 }], // a keyword may be used delimited
  ['"NULL" = 1', T, {}, { NULL: 1 }],
  ["[] = 1", T, {}, { "": 1 }],
  ["sys = 1", T, {}, { sys: 1 }], // sys alone is a user property
  ["user = 1", T, {}, { user: 1 }],
  ["a_1 = 1", T, {}, { a_1: 1 }],
  ["Ωmega = 1", T, {}, { Ωmega: 1 }],
  ["名前 = 'x'", T, {}, { 名前: "x" }],
  ["x١ = 1", T, {}, { x١: 1 }], // any Unicode decimal digit
  ["exact = 1 AND EXACT = 2", T, {}, { exact: 1, EXACT: 2 }], // an exact match wins over a case-insensitive one
  // names that begin with a keyword are ordinary names
  ["Android = 1", T, {}, { Android: 1 }],
  ["orders = 1", T, {}, { orders: 1 }],
  ["isActive = TRUE", T, {}, { isActive: true }],
  ["nullable IS NULL", T],
  ["settings = 's'", T, {}, { settings: "s" }],
  ["removed = 1", T, {}, { removed: 1 }],
  ["notes <> 'x'", T, {}, { notes: "y" }],
  ["index IN (1)", T, {}, { index: 1 }],
  ["likes > 2", T, {}, { likes: 3 }],
  ["existsFlag = FALSE", T, {}, { existsFlag: false }],
  ["truely = 1 AND falsey = 0", T, {}, { truely: 1, falsey: 0 }],
  ["escaped LIKE 'x'", T, {}, { escaped: "x" }],
  ["AND = 1", BAD],
  ["null = 1", F], // the NULL constant, not a property
  ["sys.Label = 'red'", T],
  ["sys.label = 'red'", T],
  ["SYS.LABEL = 'red'", T],
  ["sys.Subject = 'red'", T],
  ["sys.MessageId = 'm-1'", T],
  ["sys.messageid = 'm-1'", T],
  ["sys.CorrelationId = 'high'", T],
  ["sys.correlationid like 'hi%'", T],
  ["sys.To = 'Store5'", T],
  ["sys.ReplyTo = 'johndoe@contoso.com'", T],
  ["sys.SessionId = 's-1'", T],
  ["sys.ReplyToSessionId = 'rs-1'", T],
  ["sys.ContentType = 'application/json'", T],
  ["sys.DeliveryCount = 1", T],
  ["sys.DeliveryCount > 0", T],
  ["sys.SequenceNumber = 42", T],
  ["sys.Size >= 256", T],
  ["sys.LockToken = 'lt-1'", T],
  ["sys.EnqueuedTimeUtc = @t", T, { t: new Date("2026-01-01T00:00:00Z") }],
  ["sys.PartitionKey IS NULL", T],
  ["sys.Label = 'Red'", F],
  ["sys.NoSuchProperty = 1", BAD],
  ["sys.Color = 'blue'", BAD], // user properties are not system properties
  ["EXISTS(sys.Nope)", BAD],
  ["foo.bar = 1", BAD], // the only scopes are sys and user
  ["color = 'blue' AND sys.Label = 'red' AND quantity > 5", T],
  ["sys.Label LIKE '%bus%' OR user.tag IN ('queue', 'topic', 'subscription')", T, {}, { tag: "topic" }],
  ["sys.Label LIKE '%bus%' OR user.tag IN ('queue', 'topic', 'subscription')", F, {}, { tag: "other" }],
];

export const parameterRows: SqlRow[] = [
  ["source = @stringParam", T, { "@stringParam": "orders" }, { source: "orders" }],
  ["source = @stringParam", F, { "@stringParam": "orders" }, { source: "other" }],
  ["quantity = @n", T, { n: 10 }], // with or without the @ in the parameter's key
  ["quantity = @N", T, { n: 10 }],
  ["quantity > @n", T, { n: 9.5 }],
  ["big = @n", T, { n: 9007199254740993n }],
  ["flag = @b", T, { b: true }],
  ["color = @c AND quantity = @q", T, { "@c": "blue", "@q": 10 }],
  ["@a = @a", T, { a: 1 }],
  ["@nothing IS NULL", BAD, { nothing: null }], // IS NULL takes a property
  ["@nothing = 1", F, { nothing: null }],
  ["color = @undefinedParam", BAD],
  [
    "DateTimeMp < @dtParam",
    T,
    { dtParam: new Date("2030-01-01T00:00:00Z") },
    { DateTimeMp: new Date("2026-01-01T00:00:00Z") },
  ],
  [
    "DateTimeMp > @dtParam",
    F,
    { dtParam: new Date("2030-01-01T00:00:00Z") },
    { DateTimeMp: new Date("2026-01-01T00:00:00Z") },
  ],
  ["quantity IN (@a, @b)", T, { a: 1, b: 10 }],
  ["color LIKE @pattern", T, { pattern: "%lu%" }],
  ["@p_1 = 1", T, { p_1: 1 }],
];

export const functionRows: SqlRow[] = [
  ["property('color') = 'blue'", T],
  ["p('color') = 'blue'", T],
  ["P('COLOR') = 'blue'", T],
  ["PROPERTY('quantity') + 1 = 11", T],
  ["p('sys.Label') = 'red'", T],
  ["p('user.color') = 'blue'", T],
  ["p('col' + 'or') = 'blue'", T],
  ["p(@name) = 'blue'", T, { name: "color" }],
  ["p('missing') IS NULL", BAD], // IS NULL takes a property, not a function
  ["p('missing') = 1", F],
  ["p('sys.Nope') = 1", FAILS],
  ["p(1) = 1", FAILS],
  ["p() = 1", BAD],
  ["p('a', 'b') = 1", BAD],
  ["newid() = newid()", F],
  ["newid() <> newid()", T],
  ["newid() LIKE '________-____-____-____-____________'", T],
  ["NEWID() IS NULL", BAD],
  ["newid(1) = 1", BAD],
  ["nofunction('x') = 1", BAD],
];
