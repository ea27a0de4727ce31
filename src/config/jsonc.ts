// JSON with comments and trailing commas (what the emulator's sample Config.json contains), parsed into
// the position-carrying tree the validators use; JSON.parse would lose line/column information.
import type { MapEntry, Pos, SrcNode } from "./validate.js";

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

const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 256;

/** Parses JSONC; throws JsoncSyntaxError (with a 1-based line and column) on the first syntax error. */
export function parseJsonc(text: string): SrcNode {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
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
  const fail = (message: string, offset = i): never => {
    const p = posAt(offset);
    throw new JsoncSyntaxError(message, p.line!, p.col!);
  };

  const skip = (): void => {
    for (;;) {
      const ch = text[i];
      if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") i++;
      else if (ch === "/" && text[i + 1] === "/") {
        while (i < text.length && text[i] !== "\n") i++;
      } else if (ch === "/" && text[i + 1] === "*") {
        const end = text.indexOf("*/", i + 2);
        if (end < 0) fail("unterminated /* comment");
        i = end + 2;
      } else return;
    }
  };

  const string = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) fail("unterminated or invalid string");
    i += m![0].length;
    return JSON.parse(m![0]) as string;
  };

  const value = (depth: number): SrcNode => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    skip();
    const pos = posAt(i);
    const ch = text[i];
    if (ch === "{") {
      i++;
      const entries: MapEntry[] = [];
      for (;;) {
        skip();
        if (text[i] === "}") break;
        if (text[i] !== '"') fail(i >= text.length ? "unexpected end of file" : "expected a quoted property name or '}'");
        const keyPos = posAt(i);
        const key = string();
        skip();
        if (text[i] !== ":") fail("expected ':' after a property name");
        i++;
        entries.push({ key, keyPos, value: value(depth + 1) });
        skip();
        if (text[i] === ",") i++;
        else if (text[i] !== "}") fail(i >= text.length ? "unexpected end of file" : "expected ',' or '}'");
      }
      i++;
      return { kind: "map", pos, entries };
    }
    if (ch === "[") {
      i++;
      const items: SrcNode[] = [];
      for (;;) {
        skip();
        if (text[i] === "]") break;
        items.push(value(depth + 1));
        skip();
        if (text[i] === ",") i++;
        else if (text[i] !== "]") fail(i >= text.length ? "unexpected end of file" : "expected ',' or ']'");
      }
      i++;
      return { kind: "seq", pos, items };
    }
    if (ch === '"') return { kind: "scalar", pos, value: string() };
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { kind: "scalar", pos, value: v };
      }
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num) {
      i += num[0].length;
      return { kind: "scalar", pos, value: Number(num[0]) };
    }
    return fail(i >= text.length ? "unexpected end of file" : "unexpected character");
  };

  const root = value(0);
  skip();
  if (i < text.length) fail("unexpected content after the top-level value");
  return root;
}
