// The Service Bus rule language (SQL filters and SQL actions) as a peggy grammar. It is compiled once, on the
// first rule that needs it (see parser.ts). The language it accepts is described in docs/servicebus-filters.md.
// Actions build plain AST objects (types in ast.ts); meaning (scopes, property names, types) is checked after
// parsing, except for property scopes, which the grammar rejects itself so the error points at the scope.
export const GRAMMAR = String.raw`
Filter
  = _ p:Or _ { return p; }

Action
  = _ head:Statement tail:(_ s:Statement { return s; })* _ { return [head, ...tail]; }

Statement
  = s:(SetStatement / RemoveStatement) (_ ";")? { return s; }

SetStatement
  = SET _ p:Property _ "=" _ e:Expression { return { k: "set", prop: p, e, at: offset() }; }

RemoveStatement
  = REMOVE _ p:Property { return { k: "remove", prop: p, at: offset() }; }

Or
  = head:And tail:(_ OR _ p:And { return p; })* { return tail.reduce((l, r) => ({ k: "or", l, r }), head); }

And
  = head:Not tail:(_ AND _ p:Not { return p; })* { return tail.reduce((l, r) => ({ k: "and", l, r }), head); }

Not
  = NOT _ p:Not { return { k: "not", p }; }
  / Condition

Condition
  = "(" _ p:Or _ ")" { return p; }
  / EXISTS _ "(" _ p:Property _ ")" { return { k: "exists", prop: p }; }
  / p:Property _ IS _ n:(NOT _)? NULL { return { k: "isnull", prop: p, neg: n !== null }; }
  / l:Expression _ t:ConditionTail { return { ...t, l }; }

ConditionTail
  = op:CompareOp _ r:Expression { return { k: "cmp", op, r, at: offset() }; }
  / n:(NOT _)? IN _ "(" _ head:Expression tail:(_ "," _ e:Expression { return e; })* _ ")"
    { return { k: "in", list: [head, ...tail], neg: n !== null }; }
  / n:(NOT _)? LIKE _ pattern:Expression esc:(_ ESCAPE _ e:Expression { return e; })?
    { return { k: "like", pattern, esc, neg: n !== null, at: offset() }; }

CompareOp
  = "<>" / "!=" / ">=" / "<=" / "=" / ">" / "<"

Expression
  = head:Term tail:(_ op:[+-] _ r:Term { return [op, r, offset()]; })*
    { return tail.reduce((l, [op, r, at]) => ({ k: "bin", op, l, r, at }), head); }

Term
  = head:Unary tail:(_ op:[*/%] _ r:Unary { return [op, r, offset()]; })*
    { return tail.reduce((l, [op, r, at]) => ({ k: "bin", op, l, r, at }), head); }

Unary
  = "-" _ e:Unary {
      if (e.k === "const" && typeof e.v === "bigint" && !e.folded) return { ...e, v: -e.v, folded: true };
      return { k: "neg", e, at: offset() };
    }
  / "+" _ e:Unary { return { k: "pos", e, at: offset() }; }
  / Primary

Primary
  = "(" _ e:Expression _ ")" { return e; }
  / Function
  / Constant
  / Parameter
  / Property

Function
  = name:FunctionName _ "(" _ args:(head:Expression tail:(_ "," _ e:Expression { return e; })* { return [head, ...tail]; })? _ ")"
    { return { k: "fn", name: name.toLowerCase(), args: args ?? [], at: offset() }; }

FunctionName
  = n:$("newid"i / "property"i / "p"i) !IdentPart { return n; }

Constant
  = NULL { return { k: "const", v: null }; }
  / TRUE { return { k: "const", v: true }; }
  / FALSE { return { k: "const", v: false }; }
  / Number
  / s:String { return { k: "const", v: s }; }

Number "NUMBER"
  = text:$((Digits "." Digits? / "." Digits) Exponent? / Digits Exponent)
    { return { k: "const", v: Number(text), text, at: offset() }; }
  / text:$Digits { return { k: "const", v: BigInt(text), text, at: offset() }; }

Digits = [0-9]+

Exponent = [eE] [+-]? Digits

String "STRING"
  = "'" chars:("''" { return "'"; } / [^'])* "'" { return chars.join(""); }

Parameter "PARAMETER"
  = "@" name:$([_\p{L}]u [_\p{L}\p{Nd}]u*) { return { k: "param", name, at: offset() }; }

Property
  = scope:$RegularName "." name:Name {
      const s = scope.toLowerCase();
      if (s !== "sys" && s !== "user") error("unknown property scope '" + scope + "': use sys or user");
      return { k: "prop", scope: s, name, at: offset() };
    }
  / name:Name { return { k: "prop", scope: "user", name, at: offset() }; }

Name "IDENTIFIER"
  = RegularName
  / '"' chars:('""' { return '"'; } / [^"])* '"' { return chars.join(""); }
  / "[" chars:("]]" { return "]"; } / [^\]])* "]" { return chars.join(""); }

RegularName
  = !Keyword n:$([\p{L}]u IdentPart*) { return n; }

IdentPart = [_\p{L}\p{Nd}]u

Keyword
  = ("AND"i / "OR"i / "NOT"i / "IN"i / "IS"i / "NULL"i / "LIKE"i / "ESCAPE"i / "EXISTS"i / "TRUE"i / "FALSE"i
    / "SET"i / "REMOVE"i) !IdentPart

AND "AND" = "AND"i !IdentPart
OR "OR" = "OR"i !IdentPart
NOT "NOT" = "NOT"i !IdentPart
IN "IN" = "IN"i !IdentPart
IS "IS" = "IS"i !IdentPart
NULL "NULL" = "NULL"i !IdentPart
LIKE "LIKE" = "LIKE"i !IdentPart
ESCAPE "ESCAPE" = "ESCAPE"i !IdentPart
EXISTS "EXISTS" = "EXISTS"i !IdentPart
TRUE "TRUE" = "TRUE"i !IdentPart
FALSE "FALSE" = "FALSE"i !IdentPart
SET "SET" = "SET"i !IdentPart
REMOVE "REMOVE" = "REMOVE"i !IdentPart

_ "whitespace"
  = [ \t\r\n\f\v\u00a0\ufeff\u2028\u2029\p{Zs}]u*
`;
