// JSON with comments and trailing commas (what the emulator's sample Config.json contains), parsed with
// Microsoft's jsonc-parser (VS Code's) into the position-carrying tree the validators use; JSON.parse would
// lose line/column information.
import { parseTree, ParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import type { MapEntry, Pos, SrcNode } from "../model/validate.js";

export class JsoncSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
    this.name = "JsoncSyntaxError";
  }
}

const MAX_DEPTH = 256;

/** Our words for the parser's error codes (the ones a hand-edited Config.json runs into). */
const MESSAGES: Partial<Record<ParseErrorCode, string>> = {
  [ParseErrorCode.InvalidSymbol]: "unexpected character",
  [ParseErrorCode.InvalidNumberFormat]: "invalid number",
  [ParseErrorCode.PropertyNameExpected]: "expected a quoted property name or '}'",
  [ParseErrorCode.ValueExpected]: "unexpected character",
  [ParseErrorCode.ColonExpected]: "expected ':' after a property name",
  [ParseErrorCode.CommaExpected]: "expected ',' between values",
  [ParseErrorCode.CloseBraceExpected]: "expected ',' or '}'",
  [ParseErrorCode.CloseBracketExpected]: "expected ',' or ']'",
  [ParseErrorCode.EndOfFileExpected]: "unexpected content after the top-level value",
  [ParseErrorCode.UnexpectedEndOfComment]: "unterminated /* comment",
  [ParseErrorCode.UnexpectedEndOfString]: "unterminated string",
  [ParseErrorCode.UnexpectedEndOfNumber]: "unexpected end of number",
  [ParseErrorCode.InvalidUnicode]: "invalid unicode escape",
  [ParseErrorCode.InvalidEscapeCharacter]: "invalid escape character",
  [ParseErrorCode.InvalidCharacter]: "invalid character in a string",
};

/** Parses JSONC; throws JsoncSyntaxError (with a 1-based line and column) on the first syntax error. */
export function parseJsonc(text: string): SrcNode {
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === "\n") lineStarts.push(k + 1);
  const posAt = (offset: number): Pos => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - lineStarts[lo] + 1 };
  };
  const fail = (message: string, offset: number): never => {
    const p = posAt(offset);
    throw new JsoncSyntaxError(message, p.line!, p.col!);
  };

  const deep = tooDeepAt(text);
  if (deep >= 0) fail("nesting too deep", deep);
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  if (errors.length) {
    const e = errors[0];
    const atEnd = e.offset >= text.trimEnd().length && e.error !== ParseErrorCode.UnexpectedEndOfComment;
    fail(atEnd ? "unexpected end of file" : (MESSAGES[e.error] ?? "invalid JSON"), e.offset);
  }
  if (!root) return fail("unexpected end of file", text.length);

  const convert = (node: Node): SrcNode => {
    const pos = posAt(node.offset);
    if (node.type === "object") {
      const entries: MapEntry[] = (node.children ?? []).map((prop) => {
        const [key, value] = prop.children!;
        return { key: key.value as string, keyPos: posAt(key.offset), value: convert(value) };
      });
      return { kind: "map", pos, entries };
    }
    if (node.type === "array") return { kind: "seq", pos, items: (node.children ?? []).map((c) => convert(c)) };
    return { kind: "scalar", pos, value: node.value as string | number | boolean | null };
  };
  return convert(root);
}

/**
 * The offset where brackets nest deeper than MAX_DEPTH, or -1. The parser recurses per level, so a hostile
 * file must be refused before it sees it; strings and comments are skipped as the parser would.
 */
function tooDeepAt(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (ch === "{" || ch === "[") {
      if (++depth > MAX_DEPTH) return i;
    } else if (ch === "}" || ch === "]") depth--;
  }
  return -1;
}
