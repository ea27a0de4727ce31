// Go's value parsers as KEDA uses them. KEDA's accept/reject decisions (and the error texts users see)
// come from Go's strconv and encoding/json, and JS's Number()/parseFloat disagree with them at the
// edges (`Number("")` is 0, `parseFloat("1x")` is 1), so the fallbacks only match with strict copies.

/** Go's `%q` / strconv.Quote for the characters config values realistically contain. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 11) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** strconv.ParseBool: undefined when Go would return an error. */
export function parseGoBool(s: string): boolean | undefined {
  if (GO_TRUE.has(s)) return true;
  if (GO_FALSE.has(s)) return false;
  return undefined;
}

/** Go's strconv.underscoreOK: `_` only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s[0] === "+" || s[0] === "-") s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;

/**
 * strconv.ParseFloat(s, 64): the number, or undefined where Go returns an error — syntax errors and
 * overflow to ±Inf (ErrRange). Accepts `Inf`/`Infinity` (signed) and `NaN` (unsigned), any case.
 */
export function parseGoFloat(s: string): number | undefined {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return special[1] === "-" ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (s.includes("_")) {
    if (!underscoreOK(s)) return undefined;
    s = s.replaceAll("_", "");
  }
  let value: number;
  const hex = HEX.exec(s);
  if (hex) {
    const [, sign, int = "", frac = "", exp = "0"] = hex;
    if (int === "" && frac === "") return undefined;
    const mantissa = parseInt(int + frac || "0", 16);
    value = mantissa * 2 ** (Number(exp) - 4 * frac.length) * (sign === "-" ? -1 : 1);
  } else if (DECIMAL.test(s)) {
    value = Number(s);
  } else {
    return undefined;
  }
  return Number.isFinite(value) ? value : undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's quoteChar in encoding/json error messages. */
function jsonChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return "'" + goQuote(c).slice(1, -1) + "'";
}

/** Scans one JSON number at the start of `s`; returns its end, or a Go scanner error text. */
function scanJsonNumber(s: string): number | string {
  let i = 0;
  const at = (k: number) => s[k];
  const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
  const fail = (where: string) =>
    i >= s.length ? "unexpected end of JSON input" : `invalid character ${jsonChar(at(i)!)} ${where}`;
  if (at(i) === "-") i++;
  if (at(i) === "0") i++;
  else if (isDigit(at(i))) while (isDigit(at(i))) i++;
  else return fail("in numeric literal");
  if (at(i) === ".") {
    i++;
    if (!isDigit(at(i))) return fail("after decimal point in numeric literal");
    while (isDigit(at(i))) i++;
  }
  if (at(i) === "e" || at(i) === "E") {
    i++;
    if (at(i) === "+" || at(i) === "-") i++;
    if (!isDigit(at(i))) return fail("in exponent of numeric literal");
    while (isDigit(at(i))) i++;
  }
  return i;
}

/** Why Go's json.Unmarshal of `s` into an int64 would fail (KEDA's typed-config int path). */
function jsonInt64Error(s: string): string | undefined {
  const first = s[0];
  if (first === undefined) return "unexpected end of JSON input";
  const typeErr = (kind: string) => `json: cannot unmarshal ${kind} into Go value of type int64`;
  const trailing = (end: number): string | undefined => {
    const rest = s.slice(end).replace(/^[ \t\r\n]+/, "");
    return rest === "" ? undefined : `invalid character ${jsonChar(rest[0]!)} after top-level value`;
  };
  if (first === "-" || (first >= "0" && first <= "9")) {
    const end = scanJsonNumber(s);
    if (typeof end === "string") return end;
    const bad = trailing(end);
    if (bad) return bad;
    const text = s.slice(0, end);
    if (/[.eE]/.test(text)) return typeErr(`number ${text}`);
    const n = BigInt(text);
    return n < INT64_MIN || n > INT64_MAX ? typeErr(`number ${text}`) : undefined;
  }
  for (const literal of ["true", "false", "null"]) {
    if (first !== literal[0]) continue;
    for (let k = 1; k < literal.length; k++) {
      if (k >= s.length) return "unexpected end of JSON input";
      if (s[k] !== literal[k])
        return `invalid character ${jsonChar(s[k]!)} in literal ${literal} (expecting ${jsonChar(literal[k]!)})`;
    }
    return trailing(literal.length) ?? (literal === "null" ? "null" : typeErr("bool"));
  }
  if (first === '"' || first === "[" || first === "{") {
    // Exact Go scanner texts are only reproduced for numbers and literals; these are approximations.
    try {
      JSON.parse(s);
    } catch (err) {
      return /end of (JSON )?input|Unterminated/i.test(String(err)) ? "unexpected end of JSON input" : "invalid JSON";
    }
    return typeErr(first === '"' ? "string" : first === "[" ? "array" : "object");
  }
  return `invalid character ${jsonChar(String.fromCodePoint(s.codePointAt(0)!))} looking for beginning of value`;
}

/** Outcome of parsing a config value into a Go int64 the way KEDA's typed config does. */
export type GoInt64Result = { ok: true; value: number } | { ok: false; cause: string; panic?: boolean };

/**
 * Parses `s` as KEDA's typed config parses int64 fields (json.Unmarshal): `1.5`, `1e3`, `"5"` and
 * out-of-range values are errors; negatives are accepted. `null` makes KEDA's reflection panic, which
 * replaces every other parse error (flagged with `panic`). Values past 2^53 lose precision in JS.
 */
export function parseGoInt64(s: string): GoInt64Result {
  const cause = jsonInt64Error(s);
  if (cause === "null")
    return { ok: false, cause: "failed to parse typed config *reflect.ValueError resulted in panic", panic: true };
  if (cause !== undefined) return { ok: false, cause: `unable to unmarshal to field type int64: ${cause}` };
  return { ok: true, value: Number(BigInt(s.replace(/[ \t\r\n]+$/, ""))) };
}
