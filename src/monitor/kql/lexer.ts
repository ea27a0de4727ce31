// KQL text → tokens, each with its offset so errors can say where. Literals are decoded here: strings
// ('…', "…", @'…' verbatim), numbers, timespans (1d, 30m, 100ms), and the raw text of datetime(…) and
// dynamic(…), whose contents are not KQL tokens.
import { KqlError, TimeSpan, toDateTime, type Value } from "./values.js";

export type TokenKind = "ident" | "string" | "number" | "timespan" | "datetime" | "dynamic" | "op" | "end";

export interface Token {
  kind: TokenKind;
  /** identifiers and operators as written; literals as their source text */
  text: string;
  /** decoded literal */
  value?: Value;
  at: number;
  end: number;
}

/** Timespan units Kusto accepts after a number, in milliseconds. */
const UNITS: Record<string, number> = {
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  microsecond: 0.001,
  microseconds: 0.001,
  tick: 0.0001,
  ticks: 0.0001,
};

// longest first, so `!=` is not read as `!` then `=`
const OPERATORS = [
  "==",
  "!=",
  "=~",
  "!~",
  "<=",
  ">=",
  "..",
  "|",
  ",",
  "(",
  ")",
  "[",
  "]",
  "=",
  "<",
  ">",
  "+",
  "-",
  "*",
];
const MORE_OPERATORS = ["/", "%", ".", ";", "{", "}", ":"];

const identStart = (c: string) => /[A-Za-z_]/.test(c);
const identPart = (c: string) => /[A-Za-z0-9_]/.test(c);

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const err = (at: number, msg: string): never => {
    throw new KqlError(src, at, msg);
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    const start = i;
    // strings: 'x', "x" with backslash escapes; @'x' / @"x" verbatim (a doubled quote is one quote)
    if (c === "'" || c === '"' || (c === "@" && (src[i + 1] === "'" || src[i + 1] === '"'))) {
      const verbatim = c === "@";
      const q = verbatim ? src[i + 1] : c;
      i += verbatim ? 2 : 1;
      let text = "";
      for (;;) {
        if (i >= src.length) err(start, "Syntax error: the string literal is not closed");
        const ch = src[i];
        if (ch === q) {
          if (verbatim && src[i + 1] === q) {
            text += q;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (ch === "\\" && !verbatim) {
          const n = src[i + 1];
          text += n === "n" ? "\n" : n === "t" ? "\t" : n === "r" ? "\r" : n;
          i += 2;
          continue;
        }
        text += ch;
        i++;
      }
      out.push({ kind: "string", text: src.slice(start, i), value: text, at: start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))!;
      // `1..5` inside between: the number ends before `..`
      const num = m[0].endsWith(".") && src[i + m[0].length] === "." ? m[0].slice(0, -1) : m[0];
      i += num.length;
      const unit = /^[A-Za-z]+/.exec(src.slice(i))?.[0];
      if (unit !== undefined) {
        if (UNITS[unit.toLowerCase()] === undefined)
          err(i, `Syntax error: '${num}${unit}' is not a number or a timespan`);
        i += unit.length;
        const ms = Number(num) * UNITS[unit.toLowerCase()];
        out.push({ kind: "timespan", text: src.slice(start, i), value: new TimeSpan(ms), at: start, end: i });
      } else out.push({ kind: "number", text: num, value: Number(num), at: start, end: i });
      continue;
    }
    if (identStart(c)) {
      while (i < src.length && identPart(src[i])) i++;
      let word = src.slice(start, i);
      // in~ and its like are one operator
      if (src[i] === "~" && /^(in|has_any)$/i.test(word)) word += src[i++];
      const lower = word.toLowerCase();
      if ((lower === "datetime" || lower === "dynamic" || lower === "timespan") && /^\s*\(/.test(src.slice(i))) {
        const open = src.indexOf("(", i);
        const close = matching(src, open);
        if (close < 0) err(open, `Syntax error: ${lower}( has no closing ')'`);
        const raw = src.slice(open + 1, close).trim();
        i = close + 1;
        out.push(literal(src, lower, raw, start, i));
        continue;
      }
      out.push({ kind: "ident", text: word, at: start, end: i });
      continue;
    }
    // ['column name'] and ["column name"]: an identifier that is not a plain word, unless it is written right
    // after a value (x['key'] is an index into x)
    const prev = out[out.length - 1];
    const afterValue = prev?.end === i && (prev.kind !== "op" || prev.text === ")" || prev.text === "]");
    if (c === "[" && !afterValue && /^\[\s*['"]/.test(src.slice(i))) {
      const m = /^\[\s*(['"])((?:(?!\1).)*)\1\s*\]/.exec(src.slice(i));
      if (m) {
        i += m[0].length;
        out.push({ kind: "ident", text: m[2], at: start, end: i });
        continue;
      }
    }
    // !has, !contains, !in, !startswith, ... are one operator
    if (c === "!" && identStart(src[i + 1] ?? "")) {
      i++;
      while (i < src.length && identPart(src[i])) i++;
      if (src[i] === "~") i++;
      out.push({ kind: "op", text: src.slice(start, i).toLowerCase(), at: start, end: i });
      continue;
    }
    const op = [...OPERATORS, ...MORE_OPERATORS].find((o) => src.startsWith(o, i));
    if (!op) err(i, `Syntax error: unexpected character '${c}'`);
    i += op!.length;
    out.push({ kind: "op", text: op!, at: start, end: i });
  }
  out.push({ kind: "end", text: "", at: src.length, end: src.length });
  return out;
}

/** The index of the ')' that closes the '(' at `open`, skipping quoted text; -1 if none. */
function matching(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === "'" || c === '"') {
      const close = src.indexOf(c, i + 1);
      if (close < 0) return -1;
      i = close;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

function literal(src: string, kind: string, raw: string, at: number, end: number): Token {
  const text = src.slice(at, end);
  const unquoted = /^(['"])(.*)\1$/s.exec(raw)?.[2] ?? raw;
  if (kind === "datetime") {
    // datetime(null) is a null datetime; anything else must be a date
    const d = unquoted.toLowerCase() === "null" ? null : toDateTime(unquoted);
    if (d === null && unquoted.toLowerCase() !== "null")
      throw new KqlError(src, at, `Syntax error: datetime(${raw}) is not a date and time`);
    return { kind: "datetime", text, value: d, at, end };
  }
  if (kind === "timespan") {
    const toks = tokenize(unquoted);
    if (toks.length !== 2 || toks[0].kind !== "timespan")
      throw new KqlError(src, at, `Syntax error: timespan(${raw}) is not a timespan`);
    return { kind: "timespan", text, value: toks[0].value, at, end };
  }
  try {
    // dynamic literals are JSON with single quotes allowed for strings
    const json = JSON.parse(
      raw === "" ? "null" : raw.replace(/'((?:[^'\\]|\\.)*)'/g, (_m, s: string) => JSON.stringify(s)),
    );
    return { kind: "dynamic", text, value: json, at, end };
  } catch {
    throw new KqlError(src, at, `Syntax error: dynamic(${raw}) is not a JSON value`);
  }
}
