// KQL tokens → a query: one table followed by tabular operators (the plan operators.ts runs). Only the
// operators listed in SUPPORTED are parsed; any other is refused naming it and where it is. The parser is ours:
// Microsoft's JavaScript one (@kusto/language-service-next) took seconds to load and to parse a first query.
import { tokenize, type Token } from "./lexer.js";
import { KqlError, type Value } from "./values.js";

export type Expr =
  | { k: "lit"; v: Value; at: number }
  | { k: "col"; name: string; at: number }
  | { k: "call"; name: string; args: Expr[]; star?: boolean; at: number }
  | { k: "bin"; op: string; l: Expr; r: Expr; at: number }
  | { k: "neg"; e: Expr; at: number }
  | { k: "in"; e: Expr; list: Expr[]; negate: boolean; ci: boolean; at: number }
  | { k: "between"; e: Expr; lo: Expr; hi: Expr; negate: boolean; at: number }
  | { k: "member"; e: Expr; key: Expr; at: number };

/** `name = expr`, or an expression whose column name is derived from it. */
export interface Assignment {
  name?: string;
  expr: Expr;
  at: number;
}
export interface SortKey {
  expr: Expr;
  desc: boolean;
  nullsFirst: boolean;
}

export type Operator =
  | { op: "where"; pred: Expr; at: number }
  | { op: "project" | "extend"; items: Assignment[]; at: number }
  | { op: "project-away"; names: { name: string; at: number }[]; at: number }
  | { op: "project-rename"; pairs: { to: string; from: string; at: number }[]; at: number }
  | { op: "summarize"; aggs: Assignment[]; by: Assignment[]; at: number }
  | { op: "sort"; keys: SortKey[]; at: number }
  | { op: "take"; n: Expr; at: number }
  | { op: "top"; n: Expr; key: SortKey; at: number }
  | { op: "distinct"; items: Assignment[]; at: number }
  | { op: "count"; at: number };

export interface Query {
  table: string;
  tableAt: number;
  operators: Operator[];
}

/** Tabular operators this engine runs (aliases map to the canonical one). */
export const SUPPORTED: Record<string, string> = {
  where: "where",
  filter: "where",
  project: "project",
  "project-away": "project-away",
  "project-rename": "project-rename",
  extend: "extend",
  summarize: "summarize",
  order: "sort",
  sort: "sort",
  take: "take",
  limit: "take",
  top: "top",
  distinct: "distinct",
  count: "count",
};

// comparison-level operators: string operators in their case-insensitive and _cs forms, negated with !
const STRING_OPS = [
  "has",
  "contains",
  "startswith",
  "endswith",
  "has_cs",
  "contains_cs",
  "startswith_cs",
  "endswith_cs",
];
const COMPARISONS = new Set([
  "==",
  "!=",
  "=~",
  "!~",
  "<",
  "<=",
  ">",
  ">=",
  ...STRING_OPS,
  ...STRING_OPS.map((o) => `!${o}`),
]);

export function parseQuery(src: string): Query {
  return new Parser(src).query();
}

class Parser {
  private readonly toks: Token[];
  private i = 0;
  constructor(private readonly src: string) {
    this.toks = tokenize(src);
  }

  private get t(): Token {
    return this.toks[this.i];
  }
  private next(): Token {
    return this.toks[this.i++];
  }
  private fail(at: number, msg: string): never {
    throw new KqlError(this.src, at, msg);
  }
  private describe(t: Token): string {
    return t.kind === "end" ? "the end of the query" : `'${t.text}'`;
  }
  private isOp(text: string): boolean {
    return this.t.kind === "op" && this.t.text === text;
  }
  private isWord(...words: string[]): boolean {
    return this.t.kind === "ident" && words.includes(this.t.text.toLowerCase());
  }
  private expectOp(text: string): Token {
    if (!this.isOp(text)) this.fail(this.t.at, `Syntax error: expected '${text}', found ${this.describe(this.t)}`);
    return this.next();
  }
  private expectWord(word: string): Token {
    if (!this.isWord(word)) this.fail(this.t.at, `Syntax error: expected '${word}', found ${this.describe(this.t)}`);
    return this.next();
  }
  private ident(what: string): Token {
    if (this.t.kind !== "ident") this.fail(this.t.at, `Syntax error: expected ${what}, found ${this.describe(this.t)}`);
    return this.next();
  }

  query(): Query {
    if (this.isWord("let"))
      this.fail(this.t.at, "The 'let' statement is not supported here; write the value where it is used");
    const table = this.ident("a table name");
    const operators: Operator[] = [];
    while (this.isOp("|")) {
      this.next();
      operators.push(this.operator());
    }
    if (this.isOp(";")) this.next();
    if (this.t.kind !== "end")
      this.fail(this.t.at, `Syntax error: expected '|' or the end of the query, found ${this.describe(this.t)}`);
    return { table: table.text, tableAt: table.at, operators };
  }

  /** An operator name, with its hyphenated parts (`project-away`) when they are written without spaces. */
  private operatorName(): Token {
    const first = this.ident("a tabular operator after '|'");
    let name = first.text;
    let end = first.end;
    while (
      this.isOp("-") &&
      this.t.at === end &&
      this.toks[this.i + 1].kind === "ident" &&
      this.toks[this.i + 1].at === end + 1
    ) {
      this.next();
      const part = this.next();
      name += `-${part.text}`;
      end = part.end;
    }
    return { ...first, text: name, end };
  }

  private operator(): Operator {
    const t = this.operatorName();
    const at = t.at;
    const op = SUPPORTED[t.text.toLowerCase()];
    if (!op)
      this.fail(at, `The operator '${t.text}' is not supported here (supported: ${Object.keys(SUPPORTED).join(", ")})`);
    switch (op) {
      case "where":
        return { op: "where", pred: this.expr(), at };
      case "project":
      case "extend":
        return { op: op === "project" ? "project" : "extend", items: this.list(() => this.assignment()), at };
      case "project-away":
        return {
          op: "project-away",
          names: this.list(() => ({ name: this.ident("a column name").text, at: this.toks[this.i - 1].at })),
          at,
        };
      case "project-rename":
        return {
          op: "project-rename",
          pairs: this.list(() => {
            const to = this.ident("a new column name");
            this.expectOp("=");
            const from = this.ident("a column name");
            return { to: to.text, from: from.text, at: from.at };
          }),
          at,
        };
      case "summarize": {
        const aggs = this.isWord("by") ? [] : this.list(() => this.assignment());
        let by: Assignment[] = [];
        if (this.isWord("by")) {
          this.next();
          by = this.list(() => this.assignment());
        }
        if (!aggs.length && !by.length) this.fail(this.t.at, "Syntax error: summarize needs an aggregation or 'by'");
        return { op: "summarize", aggs, by, at };
      }
      case "sort":
        this.expectWord("by");
        return { op: "sort", keys: this.list(() => this.sortKey()), at };
      case "take":
        return { op: "take", n: this.expr(), at };
      case "top": {
        const n = this.expr();
        this.expectWord("by");
        return { op: "top", n, key: this.sortKey(), at };
      }
      case "distinct":
        if (this.isOp("*")) {
          this.next();
          return { op: "distinct", items: [], at };
        }
        return { op: "distinct", items: this.list(() => this.assignment()), at };
      default:
        return { op: "count", at };
    }
  }

  private list<T>(item: () => T): T[] {
    const out = [item()];
    while (this.isOp(",")) {
      this.next();
      out.push(item());
    }
    return out;
  }

  private assignment(): Assignment {
    const at = this.t.at;
    if (this.t.kind === "ident" && this.toks[this.i + 1].kind === "op" && this.toks[this.i + 1].text === "=") {
      const name = this.next().text;
      this.next();
      return { name, expr: this.expr(), at };
    }
    return { expr: this.expr(), at };
  }

  private sortKey(): SortKey {
    const expr = this.expr();
    let desc = true; // Kusto sorts descending unless told otherwise
    if (this.isWord("asc", "desc")) desc = this.next().text.toLowerCase() === "desc";
    let nullsFirst = !desc;
    if (this.isWord("nulls")) {
      this.next();
      if (!this.isWord("first", "last"))
        this.fail(this.t.at, `Syntax error: expected 'first' or 'last', found ${this.describe(this.t)}`);
      nullsFirst = this.next().text.toLowerCase() === "first";
    }
    return { expr, desc, nullsFirst };
  }

  // precedence, loosest first: or, and, comparisons (incl. in, between, string operators), + -, * / %, unary -
  expr(): Expr {
    let l = this.and();
    while (this.isWord("or")) {
      const at = this.next().at;
      l = { k: "bin", op: "or", l, r: this.and(), at };
    }
    return l;
  }

  private and(): Expr {
    let l = this.comparison();
    while (this.isWord("and")) {
      const at = this.next().at;
      l = { k: "bin", op: "and", l, r: this.comparison(), at };
    }
    return l;
  }

  private comparison(): Expr {
    const l = this.additive();
    const t = this.t;
    const word = t.kind === "ident" || t.kind === "op" ? t.text.toLowerCase() : "";
    if (/^!?in~?$/.test(word)) {
      this.next();
      this.expectOp("(");
      const list = this.isOp(")") ? [] : this.list(() => this.expr());
      this.expectOp(")");
      return { k: "in", e: l, list, negate: word.startsWith("!"), ci: word.endsWith("~"), at: t.at };
    }
    if (word === "between" || word === "!between") {
      this.next();
      this.expectOp("(");
      const lo = this.additive();
      this.expectOp("..");
      const hi = this.additive();
      this.expectOp(")");
      return { k: "between", e: l, lo, hi, negate: word === "!between", at: t.at };
    }
    if (COMPARISONS.has(word) && (t.kind === "op" || STRING_OPS.includes(word))) {
      this.next();
      return { k: "bin", op: word, l, r: this.additive(), at: t.at };
    }
    if (t.kind === "op" && t.text.startsWith("!") && t.text.length > 2)
      this.fail(t.at, `The operator '${t.text}' is not supported here`);
    if (t.kind === "ident" && /^(matches|has_any|has_all|has_any~|in~|hasprefix|hassuffix|like)$/i.test(word))
      this.fail(t.at, `The operator '${t.text}' is not supported here`);
    return l;
  }

  private additive(): Expr {
    let l = this.multiplicative();
    while (this.isOp("+") || this.isOp("-")) {
      const t = this.next();
      l = { k: "bin", op: t.text, l, r: this.multiplicative(), at: t.at };
    }
    return l;
  }

  private multiplicative(): Expr {
    let l = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
      const t = this.next();
      l = { k: "bin", op: t.text, l, r: this.unary(), at: t.at };
    }
    return l;
  }

  private unary(): Expr {
    if (this.isOp("-")) {
      const at = this.next().at;
      return { k: "neg", e: this.unary(), at };
    }
    if (this.isOp("+")) this.next();
    return this.postfix();
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.isOp(".")) {
        const at = this.next().at;
        const key = this.ident("a property name after '.'");
        e = { k: "member", e, key: { k: "lit", v: key.text, at: key.at }, at };
      } else if (this.isOp("[")) {
        const at = this.next().at;
        const key = this.expr();
        this.expectOp("]");
        e = { k: "member", e, key, at };
      } else return e;
    }
  }

  private primary(): Expr {
    const t = this.t;
    if (
      t.kind === "string" ||
      t.kind === "number" ||
      t.kind === "timespan" ||
      t.kind === "datetime" ||
      t.kind === "dynamic"
    ) {
      this.next();
      return { k: "lit", v: t.value ?? null, at: t.at };
    }
    if (this.isOp("(")) {
      this.next();
      const e = this.expr();
      this.expectOp(")");
      return e;
    }
    if (t.kind === "ident") {
      this.next();
      const lower = t.text.toLowerCase();
      if (this.isOp("(")) {
        this.next();
        if (this.isOp("*") && this.toks[this.i + 1].text === ")") {
          this.next();
          this.next();
          return { k: "call", name: lower, args: [], star: true, at: t.at };
        }
        const args: Expr[] = [];
        let star = false;
        if (!this.isOp(")"))
          for (;;) {
            if (this.isOp("*")) {
              this.next();
              star = true; // arg_max(TimeGenerated, *)
            } else args.push(this.expr());
            if (!this.isOp(",")) break;
            this.next();
          }
        this.expectOp(")");
        return { k: "call", name: lower, args, star, at: t.at };
      }
      if (lower === "true" || lower === "false") return { k: "lit", v: lower === "true", at: t.at };
      return { k: "col", name: t.text, at: t.at };
    }
    return this.fail(t.at, `Syntax error: expected an expression, found ${this.describe(t)}`);
  }
}
