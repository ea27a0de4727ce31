// eventjobs.yaml: namespaces (queues, topics, SAS policies) read here; identities, roleAssignments, images
// and jobs are checked here (sections.ts: the schema plus their own layers' rules) and passed on in `extra`.
import { randomBytes } from "node:crypto";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import {
  DEFAULT_NAMESPACE,
  EMULATOR_ROOT_POLICY,
  QUEUE_DEFAULTS,
  type AccessRight,
  type NamespaceConfig,
  type ProjectConfig,
  type QueueConfig,
  type SasPolicyConfig,
} from "../model/config.js";
import { IDENTITY_KEYS, ROLE_ASSIGNMENT_KEYS } from "../identity/config.js";
import { checkIdentities, checkImages, checkJobs } from "./sections.js";
import { rememberSourceTree } from "../model/positions.js";
import { QUEUE_SPECS, SUBSCRIPTION_SPECS, TOPIC_SPECS } from "../model/properties.js";
import { readTopics, RULE_KEYS, SUBSCRIPTION_KEYS, TOPIC_KEYS, type ForwardOwner } from "./topics.js";
import {
  at,
  Checker,
  checkUnique,
  ENTITY_NAME,
  NAMESPACE_NAME,
  readProps,
  resolveRefs,
  SAS_RULE_NAME,
  toJS,
  type EntityRef,
  type Named,
  type Pos,
  type SrcNode,
} from "../model/validate.js";

const RESERVED_KEYS = ["identities", "roleAssignments", "images", "jobs"];
const TOP_KEYS = ["namespaces", ...RESERVED_KEYS];
const RIGHTS: AccessRight[] = ["Listen", "Send", "Manage"];
const NAMESPACE_KEYS = ["name", "default", "authorizationRules", "queues", "topics"];
const POLICY_KEYS = ["name", "rights", "primaryKey", "secondaryKey"];
const QUEUE_KEYS = ["name", "properties", "authorizationRules"];

/** The yaml library's tree → the loader-neutral tree, with 1-based line/column positions. */
function convert(node: unknown, doc: Document, lc: LineCounter, depth = 0): SrcNode {
  const pos = (n: { range?: [number, number, number] | null }): Pos => (n.range ? lc.linePos(n.range[0]) : {});
  if (depth > 100) return { kind: "scalar", pos: {}, value: null };
  if (isAlias(node)) return convert(node.resolve(doc), doc, lc, depth + 1);
  if (isMap(node)) {
    return {
      kind: "map",
      pos: pos(node),
      entries: node.items.map((pair) => {
        const key = isScalar(pair.key) ? pair.key : undefined;
        const keyPos = key ? pos(key) : pos(node);
        const value: SrcNode =
          pair.value == null ? { kind: "scalar", pos: keyPos, value: null } : convert(pair.value, doc, lc, depth + 1);
        return { key: String(key?.value ?? pair.key), keyPos, value };
      }),
    };
  }
  if (isSeq(node)) return { kind: "seq", pos: pos(node), items: node.items.map((n) => convert(n, doc, lc, depth + 1)) };
  if (isScalar(node)) {
    const v = node.value;
    const value =
      v === null || v === undefined
        ? null
        : ["string", "number", "boolean"].includes(typeof v)
          ? (v as string | number | boolean)
          : String(v);
    return { kind: "scalar", pos: pos(node), value };
  }
  return { kind: "scalar", pos: {}, value: null };
}

function readPolicy(c: Checker, node: SrcNode, path: string): (SasPolicyConfig & { named: Named }) | undefined {
  const f = c.fields(node, path, POLICY_KEYS, undefined, true);
  if (!f) return undefined;
  const np = at(path, "name");
  const nameNode = c.need(f.get("name"), node, np, `a rule name (${SAS_RULE_NAME.expected})`);
  const name = nameNode && c.str(nameNode, np, `a rule name (${SAS_RULE_NAME.expected})`, SAS_RULE_NAME.test);
  const rp = at(path, "rights");
  const rightsNode = c.need(f.get("rights"), node, rp, "a list of Listen, Send, Manage");
  const items = rightsNode && c.seq(rightsNode, rp, "Listen, Send, Manage");
  const rights: AccessRight[] = [];
  items?.forEach((r, i) => {
    const right = c.str(
      r,
      at(rp, i),
      "Listen, Send or Manage, each once",
      (s) => RIGHTS.includes(s as AccessRight) && !rights.includes(s as AccessRight),
    );
    if (right) rights.push(right as AccessRight);
  });
  if (items?.length === 0) c.bad(rightsNode!, rp, "at least one of Listen, Send, Manage");
  else if (rights.includes("Manage") && !(rights.includes("Send") && rights.includes("Listen"))) {
    c.bad(rightsNode!, rp, "Manage together with Send and Listen (Service Bus requires all three)");
  }
  const key = (k: "primaryKey" | "secondaryKey"): string | undefined => {
    const e = f.get(k);
    return (
      e &&
      c.str(
        e.value,
        at(path, k),
        "a non-empty string of at most 256 characters",
        (s) => s.length > 0 && s.length <= 256,
        true,
      )
    );
  };
  const given = key("primaryKey");
  const secondaryKey = key("secondaryKey");
  if (name === undefined) return undefined;
  // a generated key is marked so that apply keeps the key already in use instead of changing it
  const primaryKey = given ?? randomBytes(32).toString("base64");
  return {
    name,
    rights,
    primaryKey,
    ...(secondaryKey === undefined ? {} : { secondaryKey }),
    ...(given === undefined ? { generatedKey: true } : {}),
    named: { name, node: nameNode!, path: np },
  };
}

/** A list of authorization rules (a namespace's or a queue's). */
function readPolicies(c: Checker, node: SrcNode, rp: string, hint: string): SasPolicyConfig[] {
  const items = c.seq(node, rp, "authorization rules");
  if (items?.length === 0) c.bad(node, rp, `at least one rule (${hint})`);
  const read = (items ?? []).map((r, i) => readPolicy(c, r, at(rp, i))).filter((p) => p !== undefined);
  checkUnique(
    c,
    read.map((p) => p.named),
    "authorization rule",
  );
  return read.map(({ named: _, ...p }) => p);
}

function readNamespace(
  c: Checker,
  node: SrcNode,
  path: string,
): (NamespaceConfig & { named?: Named; isDefault?: SrcNode }) | undefined {
  const f = c.fields(node, path, NAMESPACE_KEYS);
  if (!f) return undefined;
  const np = at(path, "name");
  const expected = `a namespace name (${NAMESPACE_NAME.expected})`;
  const nameNode = c.need(f.get("name"), node, np, expected);
  const name = nameNode && c.str(nameNode, np, expected, NAMESPACE_NAME.test);
  const def = f.get("default");
  const isDefault = def && c.bool(def.value, at(path, "default")) ? def.value : undefined;

  const rules = f.get("authorizationRules");
  const policies = rules
    ? readPolicies(
        c,
        rules.value,
        at(path, "authorizationRules"),
        "leave the key out for the emulator's RootManageSharedAccessKey",
      )
    : [{ ...EMULATOR_ROOT_POLICY, rights: [...EMULATOR_ROOT_POLICY.rights] }];

  const queues: QueueConfig[] = [];
  const names: Named[] = [];
  const refs = new Map<QueueConfig, EntityRef[]>();
  const qp = at(path, "queues");
  const list = f.get("queues");
  (list ? c.seq(list.value, qp, "queues") : [])?.forEach((q, i) => {
    const p = at(qp, i);
    const qf = c.fields(q, p, QUEUE_KEYS);
    if (!qf) return;
    const qnp = at(p, "name");
    const qnNode = c.need(qf.get("name"), q, qnp, `a queue name (${ENTITY_NAME.expected})`);
    const qn = qnNode && c.str(qnNode, qnp, `a queue name (${ENTITY_NAME.expected})`, ENTITY_NAME.test);
    const queueRefs: EntityRef[] = [];
    const properties = readProps(
      c,
      qf.get("properties")?.value,
      at(p, "properties"),
      QUEUE_SPECS,
      QUEUE_DEFAULTS,
      queueRefs,
    );
    const qRules = qf.get("authorizationRules");
    const qPolicies =
      qRules &&
      readPolicies(
        c,
        qRules.value,
        at(p, "authorizationRules"),
        "leave the key out for none: the namespace's rules apply",
      );
    if (qn === undefined) return;
    const queue: QueueConfig = { name: qn, properties, ...(qPolicies?.length ? { policies: qPolicies } : {}) };
    queues.push(queue);
    names.push({ name: qn, node: qnNode!, path: qnp });
    refs.set(queue, queueRefs);
  });
  const subscriptions: ForwardOwner[] = [];
  const topics = readTopics(c, f.get("topics")?.value, at(path, "topics"), subscriptions);
  // queues and topics share one name space in Service Bus; either can be a forwarding target
  checkUnique(c, [...names, ...topics.map((t) => t.named)], topics.length ? "queue or topic" : "queue");
  // Reversed so the first of two equally named entities (already reported) is the target.
  const targets = new Map([...queues, ...topics].map((q) => [q.name.toLowerCase(), q.name] as const).reverse());
  const what = topics.length ? "a queue or topic" : "a queue";
  for (const q of queues)
    resolveRefs(c, q.name, q.properties as unknown as Record<string, unknown>, refs.get(q)!, targets, what);
  for (const s of subscriptions) resolveRefs(c, s.name, s.props, s.refs, targets, what);
  if (name === undefined) return undefined;
  return {
    name,
    queues,
    topics: topics.map(({ named: _, ...t }) => t),
    policies,
    named: { name, node: nameNode!, path: np },
    isDefault,
  };
}

/** Parses eventjobs.yaml text; throws ConfigError listing every problem. */
export function parseProjectYaml(text: string, file = "eventjobs.yaml"): ProjectConfig {
  const c = new Checker(file);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  for (const err of doc.errors) {
    // Only the first sentence: the library's message may quote source lines, which can hold keys.
    const message = err.message.split("\n")[0].replace(/ at line \d+, column \d+.*$/, "");
    const p = err.linePos?.[0] ?? lc.linePos(err.pos[0]);
    c.report(p, "", `(syntax error: ${message})`, "valid YAML");
  }
  c.throwIfAny();
  const root =
    doc.contents == null
      ? ({ kind: "map", pos: { line: 1, col: 1 }, entries: [] } as SrcNode)
      : convert(doc.contents, doc, lc);

  const top = c.fields(root, "", TOP_KEYS, (k) =>
    k === "UserConfig" ? "this looks like the emulator's Config.json: give the file a .json extension" : undefined,
  );
  const extra: Record<string, unknown> = {};
  for (const k of RESERVED_KEYS) if (top?.has(k)) extra[k] = toJS(top.get(k)!.value);

  const namespaces: ReturnType<typeof readNamespace>[] = [];
  const list = top?.get("namespaces");
  (list ? c.seq(list.value, "namespaces", "namespaces") : [])?.forEach((n, i) =>
    namespaces.push(readNamespace(c, n, at("namespaces", i))),
  );
  const read = namespaces.filter((n) => n !== undefined);
  checkUnique(
    c,
    read.map((n) => n.named!),
    "namespace",
  );
  const defaults = read.filter((n) => n.isDefault);
  for (const extraDefault of defaults.slice(1)) {
    c.bad(
      extraDefault.isDefault!,
      `${extraDefault.named!.path.replace(/\.name$/, "")}.default`,
      `one default namespace (${defaults[0].name} is already the default)`,
    );
  }

  const out: NamespaceConfig[] = read.map(({ named: _n, isDefault: _d, ...ns }) => ns);
  if (out.length === 0) {
    out.push({
      name: DEFAULT_NAMESPACE,
      queues: [],
      topics: [],
      policies: [{ ...EMULATOR_ROOT_POLICY, rights: [...EMULATOR_ROOT_POLICY.rights] }],
    });
  }
  const images = top?.get("images");
  if (images) checkImages(c, images.value, root);
  const jobs = top?.get("jobs");
  if (jobs) checkJobs(c, jobs.value, extra.jobs, root);
  checkIdentities(
    c,
    extra,
    out.map((n) => n.name),
    root,
  ); // identities, roleAssignments, jobs' identity
  c.throwIfAny();
  const config: ProjectConfig = {
    source: file,
    namespaces: out,
    defaultNamespace: defaults[0]?.name ?? out[0].name,
    extra,
  };
  rememberSourceTree(config, root);
  return config;
}

/** Every key the loader accepts, by place in the file (`[]` = each item of a list); the schema must say the same. */
export const LOADER_KEYS: Record<string, readonly string[]> = {
  "": TOP_KEYS,
  "namespaces[]": NAMESPACE_KEYS,
  "namespaces[].authorizationRules[]": POLICY_KEYS,
  "namespaces[].queues[]": QUEUE_KEYS,
  "namespaces[].queues[].authorizationRules[]": POLICY_KEYS,
  "namespaces[].queues[].properties": QUEUE_SPECS.map((s) => s.key),
  "namespaces[].topics[]": TOPIC_KEYS,
  "namespaces[].topics[].properties": TOPIC_SPECS.map((s) => s.key),
  "namespaces[].topics[].subscriptions[]": SUBSCRIPTION_KEYS,
  "namespaces[].topics[].subscriptions[].properties": SUBSCRIPTION_SPECS.map((s) => s.key),
  "namespaces[].topics[].subscriptions[].rules[]": RULE_KEYS,
  "identities[]": IDENTITY_KEYS,
  "roleAssignments[]": ROLE_ASSIGNMENT_KEYS,
};
