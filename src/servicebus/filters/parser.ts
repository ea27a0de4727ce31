// Parsing rule expressions into an AST, and the FilterError that a bad expression raises. The grammar is in
// grammar.ts; the language and the error format are described in docs/servicebus-filters.md.
import peggy from "peggy";
import { GRAMMAR } from "./grammar.js";

/** Longest filter or action expression the service accepts (docs/servicebus-filters.md, "Limits"). */
export const MAX_EXPRESSION_LENGTH = 1024;
/** Most statements one SQL action may hold (docs/servicebus-filters.md, "Limits"). */
export const MAX_ACTION_STATEMENTS = 32;

export interface PropNode {
  k: "prop";
  scope: "sys" | "user";
  name: string;
  at: number;
}
export type ExprNode =
  | { k: "const"; v: null | boolean | string | number | bigint; text?: string; folded?: boolean; at?: number }
  | PropNode
  | { k: "param"; name: string; at: number }
  | { k: "neg" | "pos"; e: ExprNode; at: number }
  | { k: "bin"; op: "+" | "-" | "*" | "/" | "%"; l: ExprNode; r: ExprNode; at: number }
  | { k: "fn"; name: "newid" | "property" | "p"; args: ExprNode[]; at: number };
export type PredNode =
  | { k: "and" | "or"; l: PredNode; r: PredNode }
  | { k: "not"; p: PredNode }
  | { k: "exists"; prop: PropNode }
  | { k: "isnull"; prop: PropNode; neg: boolean }
  | { k: "cmp"; op: "=" | "<>" | "!=" | ">" | ">=" | "<" | "<="; l: ExprNode; r: ExprNode; at: number }
  | { k: "in"; l: ExprNode; list: ExprNode[]; neg: boolean }
  | { k: "like"; l: ExprNode; pattern: ExprNode; esc: ExprNode | null; neg: boolean; at: number };
export type StatementNode =
  { k: "set"; prop: PropNode; e: ExprNode; at: number } | { k: "remove"; prop: PropNode; at: number };

/**
 * A filter or action expression the service would refuse. The message follows the service's form for parse
 * errors: `There was an error parsing the SQL expression. [Token line=L, column=C, Token in error= T,
 * Additional details= D]`, with a 1-based line and a 0-based column, as the service reports them.
 */
export class FilterError extends Error {
  override name = "FilterError";
  constructor(
    /** what is wrong, without the position */
    readonly details: string,
    /** 1-based line of the offending token */
    readonly line: number,
    /** 0-based column of the offending token within its line */
    readonly column: number,
    /** the offending token's text ("" at the end of the expression) */
    readonly token: string,
  ) {
    super(
      `There was an error parsing the SQL expression. [Token line=${line}, column=${column}, ` +
        `Token in error= ${token}, Additional details= ${details}]`,
    );
  }

  /** An error at a character offset of `source`. */
  static at(source: string, offset: number, details: string, token?: string): FilterError {
    const { line, column } = lineColumn(source, offset);
    return new FilterError(details, line, column, token ?? lexToken(source, offset).text);
  }
}

export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === "\n") {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start };
}

const KEYWORDS = new Set([
  "AND",
  "OR",
  "NOT",
  "IN",
  "IS",
  "NULL",
  "LIKE",
  "ESCAPE",
  "EXISTS",
  "TRUE",
  "FALSE",
  "SET",
  "REMOVE",
]);

/** The token that starts at `offset` and its kind, as named in syntax error details. */
export function lexToken(source: string, offset: number): { text: string; kind: string } {
  const rest = source.slice(offset);
  if (rest.length === 0) return { text: "", kind: "end of expression" };
  const forms: [RegExp, (m: string) => string][] = [
    [/^'(?:[^']|'')*'?/, () => "STRING"],
    [/^\[(?:[^\]]|\]\])*\]?/, () => "IDENTIFIER"],
    [/^"(?:[^"]|"")*"?/, () => "IDENTIFIER"],
    [/^@[_\p{L}\p{Nd}]*/u, () => "PARAMETER"],
    [
      /^(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/,
      (m) => (/[eE]/.test(m) ? "DOUBLE" : m.includes(".") ? "DECIMAL" : "INTEGER"),
    ],
    [/^\p{L}[_\p{L}\p{Nd}]*/u, (m) => (KEYWORDS.has(m.toUpperCase()) ? m.toUpperCase() : "IDENTIFIER")],
    [/^(?:<>|!=|>=|<=|[=<>+\-*/%(),;.])/, (m) => `'${m}'`],
  ];
  for (const [re, kind] of forms) {
    const m = re.exec(rest);
    if (m) return { text: m[0], kind: kind(m[0]) };
  }
  const ch = String.fromCodePoint(rest.codePointAt(0)!);
  return { text: ch, kind: `invalid character '${ch}'` };
}

let parser: peggy.Parser | undefined;
function getParser(): peggy.Parser {
  parser ??= peggy.generate(GRAMMAR, { allowedStartRules: ["Filter", "Action"] });
  return parser;
}

interface PeggyExpectation {
  type: string;
  text?: string;
  description?: string;
}

function syntaxError(source: string, e: any): FilterError {
  const offset: number = e.location?.start?.offset ?? 0;
  if (!Array.isArray(e.expected)) {
    // a semantic error the grammar raised itself (error(...)): its message is the detail
    return FilterError.at(source, offset, String(e.message));
  }
  const found = lexToken(source, offset);
  const expected = [
    ...new Set(
      (e.expected as PeggyExpectation[])
        .map((x) =>
          x.type === "literal"
            ? `'${x.text}'`
            : x.type === "other"
              ? String(x.description)
              : x.type === "end"
                ? "end of expression"
                : "",
        )
        .filter((x) => x !== "" && x !== "whitespace"),
    ),
  ];
  let details = `syntax error, unexpected ${found.kind}`;
  // like the service, name what was expected only when there are few candidates
  if (expected.length > 0 && expected.length <= 5) details += `, expecting ${expected.join(", or ")}`;
  const { line, column } = lineColumn(source, offset);
  return new FilterError(details, line, column, found.text);
}

function checkLength(source: string): void {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw FilterError.at(
      source,
      MAX_EXPRESSION_LENGTH,
      `the expression is ${source.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`,
      "",
    );
  }
}

export function parseFilter(source: string): PredNode {
  if (typeof source !== "string") throw new FilterError("the SQL expression must be a string", 1, 0, "");
  checkLength(source);
  try {
    return getParser().parse(source, { startRule: "Filter" }) as PredNode;
  } catch (e) {
    if (e instanceof FilterError) throw e;
    throw syntaxError(source, e);
  }
}

export function parseAction(source: string): StatementNode[] {
  if (typeof source !== "string") throw new FilterError("the SQL expression must be a string", 1, 0, "");
  checkLength(source);
  let statements: StatementNode[];
  try {
    statements = getParser().parse(source, { startRule: "Action" }) as StatementNode[];
  } catch (e) {
    throw syntaxError(source, e);
  }
  if (statements.length > MAX_ACTION_STATEMENTS) {
    throw FilterError.at(
      source,
      statements[MAX_ACTION_STATEMENTS].at,
      `an action may hold at most ${MAX_ACTION_STATEMENTS} statements; this one has ${statements.length}`,
    );
  }
  return statements;
}
