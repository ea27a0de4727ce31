// KEDA compiles useRegex patterns with Go's regexp (RE2 syntax, leftmost-longest) and keeps an entity
// when its longest match equals the whole name, i.e. a full match. JS RegExp differs both ways: it
// accepts things RE2 rejects (lookaround, backreferences, `\c`, `\u`, unknown letter escapes) and reads
// some RE2 syntax differently (`\z`, `\Q…\E`, `[[:alpha:]]`, a leading `]` in a class, `.` vs `\r`).
// This translates the common RE2 subset into an anchored JS RegExp and rejects the rest.

export type Re2Result =
  | { ok: true; regex: RegExp }
  /** `invalid`: RE2 rejects the pattern too; `unsupported`: valid RE2 this translator cannot express. */
  | { ok: false; reason: "invalid" | "unsupported"; detail: string };

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7f",
  blank: "\\t ",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

class Re2Error extends Error {
  constructor(
    readonly reason: "invalid" | "unsupported",
    detail: string,
  ) {
    super(detail);
  }
}

const isOctal = (c: string | undefined) => c !== undefined && c >= "0" && c <= "7";
const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const codeUnit = (cp: number): string =>
  cp <= 0xffff
    ? "\\u" + cp.toString(16).padStart(4, "0")
    : String.fromCodePoint(cp).replace(/[\s\S]/g, (u) => codeUnit(u.charCodeAt(0)));
const literal = (ch: string) => (/[\\^$.*+?()[\]{}|/-]/.test(ch) ? "\\" + ch : ch);

/** Parses the escape at s[i] === "\\"; returns the JS text and the index after it. */
function escape(s: string, i: number, inClass: boolean): [string, number] {
  const c = s[i + 1];
  if (c === undefined) throw new Re2Error("invalid", "trailing backslash");
  if (c === "x") {
    if (s[i + 2] === "{") {
      const end = s.indexOf("}", i + 3);
      const hex = end < 0 ? "" : s.slice(i + 3, end);
      if (!/^[0-9a-fA-F]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) throw new Re2Error("invalid", "bad \\x{…}");
      return [codeUnit(parseInt(hex, 16)), end + 1];
    }
    if (!isHex(s[i + 2]) || !isHex(s[i + 3])) throw new Re2Error("invalid", "bad \\x escape");
    return [codeUnit(parseInt(s.slice(i + 2, i + 4), 16)), i + 4];
  }
  if (c >= "0" && c <= "9") {
    // Go: a single non-zero digit is a backreference (unsupported); otherwise up to three octal digits.
    if (c !== "0" && !(isOctal(c) && isOctal(s[i + 2]))) throw new Re2Error("invalid", "backreference");
    let j = i + 2;
    while (j < i + 4 && isOctal(s[j])) j++;
    return [codeUnit(parseInt(s.slice(i + 1, j), 8)), j];
  }
  const simple: Record<string, string> = {
    a: "\\x07",
    f: "\\f",
    t: "\\t",
    n: "\\n",
    r: "\\r",
    v: "\\v",
    d: "\\d",
    D: "\\D",
    w: "\\w",
    W: "\\W",
  };
  if (simple[c]) return [simple[c]!, i + 2];
  if (c === "s") return [inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]", i + 2];
  if (c === "S") return [inClass ? "\\S" : "[^\\t\\n\\f\\r ]", i + 2];
  if (!inClass) {
    if (c === "b" || c === "B") return ["\\" + c, i + 2];
    if (c === "A") return ["(?<![\\s\\S])", i + 2];
    if (c === "z") return ["(?![\\s\\S])", i + 2];
  }
  if (c === "p" || c === "P" || c === "C") throw new Re2Error("unsupported", `\\${c}`);
  if (/[0-9A-Za-z]/.test(c) || c.charCodeAt(0) >= 0x80) throw new Re2Error("invalid", `invalid escape \\${c}`);
  return ["\\" + c, i + 2];
}

/** Parses a class starting at s[i] === "["; returns the JS class and the index after `]`. */
function charClass(s: string, i: number): [string, number] {
  let j = i + 1;
  let out = "[";
  if (s[j] === "^") {
    out += "^";
    j++;
  }
  let first = true;
  while (j < s.length && (s[j] !== "]" || first)) {
    first = false;
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(s.slice(j));
    if (posix) {
      const set = POSIX[posix[2]!];
      if (!set) throw new Re2Error("invalid", `invalid character class range ${posix[0]}`);
      if (posix[1]) throw new Re2Error("unsupported", posix[0]);
      out += set;
      j += posix[0].length;
    } else if (s[j] === "\\") {
      const [text, next] = escape(s, j, true);
      out += text;
      j = next;
    } else {
      const ch = String.fromCodePoint(s.codePointAt(j)!);
      out += ch === "-" ? "-" : literal(ch);
      j += ch.length;
    }
  }
  if (j >= s.length) throw new Re2Error("invalid", "missing closing ]");
  return [out + "]", j + 1];
}

function translate(s: string, flags: Set<string>): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "\\" && s[i + 1] === "Q") {
      const end = s.indexOf("\\E", i + 2);
      const text = end < 0 ? s.slice(i + 2) : s.slice(i + 2, end);
      out += [...text].map(literal).join("");
      i = end < 0 ? s.length : end + 2;
    } else if (c === "\\") {
      const [text, next] = escape(s, i, false);
      out += text;
      i = next;
    } else if (c === "[") {
      const [text, next] = charClass(s, i);
      out += text;
      i = next;
    } else if (c === "(" && s[i + 1] === "?") {
      const rest = s.slice(i + 2);
      if (rest.startsWith(":")) {
        out += "(?:";
        i += 3;
      } else if (/^P?<[A-Za-z0-9_]+>/.test(rest)) {
        const name = /^P?<([A-Za-z0-9_]+)>/.exec(rest)!;
        out += `(?<${name[1]}>`;
        i += 2 + name[0].length;
      } else if (/^[-imsU]+[:)]/.test(rest)) throw new Re2Error("unsupported", "inline flags");
      else throw new Re2Error("invalid", "invalid or unsupported Perl syntax");
    } else if (c === "{") {
      const rep = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(i));
      if (rep) {
        if (Number(rep[1]) > 1000 || (rep[3] !== undefined && rep[3] !== "" && Number(rep[3]) > 1000)) {
          throw new Re2Error("invalid", "invalid repeat count");
        }
        out += rep[0];
        i += rep[0].length;
      } else {
        out += "\\{";
        i++;
      }
    } else if (c === ".") {
      out += flags.has("s") ? "[\\s\\S]" : "[^\\n]";
      i++;
    } else if (c === "]" || c === "}" || c === "/") {
      out += "\\" + c;
      i++;
    } else {
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      out += ch;
      i += ch.length;
    }
  }
  return out;
}

/** Compiles an RE2 pattern into a JS RegExp that matches a whole entity name or nothing. */
export function compileRe2FullMatch(pattern: string): Re2Result {
  const flags = new Set<string>();
  let body = pattern;
  const lead = /^\(\?([ims]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1]!) flags.add(f);
    body = body.slice(lead[0].length);
  }
  try {
    const source = translate(body, flags);
    const jsFlags = [...flags].filter((f) => f === "i" || f === "m").join("");
    // Absolute anchors: with (?m) a JS `^…$` would also accept a match of one line of the name.
    return { ok: true, regex: new RegExp(`(?<![\\s\\S])(?:${source})(?![\\s\\S])`, jsFlags) };
  } catch (err) {
    if (err instanceof Re2Error) return { ok: false, reason: err.reason, detail: err.message };
    return { ok: false, reason: "invalid", detail: (err as Error).message };
  }
}
