// A small XML reader for ATOM bodies, written for hostile input: no DTDs, no external or custom entities,
// bounded depth. Elements are addressed by local name (Python's ElementTree sends `ns0:` prefixes, .NET and
// Go default namespaces), which is all the admin API and the KEDA reader need.

export interface XmlElement {
  /** local name, without prefix */
  name: string;
  /** name as written, e.g. `d2p1:ActiveMessageCount` */
  qname: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** the element's own text (CDATA included), concatenated */
  text: string;
}

export class XmlError extends Error {}

const MAX_DEPTH = 64;
const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const ATTR = /^\s+([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/;
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  if (!s.includes("&")) return s;
  return s.replace(/&([^;&\s]{1,10});|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError(`bare '&' near offset ${at}`);
    if (ref[0] === "#") {
      const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code < 1 || code > 0x10ffff) throw new XmlError(`bad character reference ${m}`);
      return String.fromCodePoint(code);
    }
    const v = NAMED[ref];
    if (v === undefined) throw new XmlError(`unknown entity ${m}`);
    return v;
  });
}

function localName(qname: string): string {
  const i = qname.indexOf(":");
  return i < 0 ? qname : qname.slice(i + 1);
}

/** Parses a document and returns its root element; throws XmlError on anything malformed. */
export function parseXml(input: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const n = input.length;
  while (i < n) {
    const lt = input.indexOf("<", i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const text = input.slice(i, textEnd);
      if (stack.length) stack[stack.length - 1].text += decode(text, i);
      else if (text.trim()) throw new XmlError(`text outside the root element at offset ${i}`);
    }
    if (lt < 0) break;
    i = lt;
    if (input.startsWith("<?", i)) {
      const end = input.indexOf("?>", i);
      if (end < 0) throw new XmlError("unterminated processing instruction");
      i = end + 2;
    } else if (input.startsWith("<!--", i)) {
      const end = input.indexOf("-->", i);
      if (end < 0) throw new XmlError("unterminated comment");
      i = end + 3;
    } else if (input.startsWith("<![CDATA[", i)) {
      const end = input.indexOf("]]>", i);
      if (end < 0 || !stack.length) throw new XmlError("misplaced or unterminated CDATA section");
      stack[stack.length - 1].text += input.slice(i + 9, end);
      i = end + 3;
    } else if (input.startsWith("<!", i)) {
      throw new XmlError("DTDs are not accepted");
    } else if (input[i + 1] === "/") {
      const m = NAME.exec(input.slice(i + 2, i + 2 + 512));
      const open = stack.pop();
      if (!m || !open || m[0] !== open.qname) throw new XmlError(`unexpected closing tag at offset ${i}`);
      const gt = input.indexOf(">", i);
      if (gt < 0 || input.slice(i + 2 + m[0].length, gt).trim())
        throw new XmlError(`malformed closing tag at offset ${i}`);
      i = gt + 1;
    } else {
      const m = NAME.exec(input.slice(i + 1, i + 1 + 512));
      if (!m) throw new XmlError(`malformed tag at offset ${i}`);
      const el: XmlElement = { name: localName(m[0]), qname: m[0], attrs: {}, children: [], text: "" };
      i += 1 + m[0].length;
      for (;;) {
        const a = ATTR.exec(input.slice(i, i + 8192));
        if (!a) break;
        el.attrs[a[1]] = decode(a[2] ?? a[3] ?? "", i);
        i += a[0].length;
      }
      while (i < n && /\s/.test(input[i])) i++;
      const selfClosing = input.startsWith("/>", i);
      if (!selfClosing && input[i] !== ">") throw new XmlError(`malformed tag <${el.qname}> at offset ${i}`);
      i += selfClosing ? 2 : 1;
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) throw new XmlError("more than one root element");
      else root = el;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) throw new XmlError(`nesting deeper than ${MAX_DEPTH}`);
        stack.push(el);
      }
    }
  }
  if (stack.length) throw new XmlError(`unclosed element <${stack[stack.length - 1].qname}>`);
  if (!root) throw new XmlError("no root element");
  return root;
}

/** The first child element with this local name. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el?.children.filter((c) => c.name === name) ?? [];
}

/** Escapes text for element content and double-quoted attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => `&${({ "<": "lt", ">": "gt", "&": "amp", '"': "quot" } as const)[c as "<"]};`);
}
