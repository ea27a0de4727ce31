// The JSON Schema shipped for editors and the loader must agree: every key the loader accepts is in the
// schema and every key the schema defines loads. Problems in jobs, images and identities (checked with the
// schema and their own layers) name file:line:col like the namespace checks.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import { parseConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/model/config.ts";
import { LOADER_KEYS } from "../../src/config/project-file.ts";
import { deref, projectSchema, schemaKeyPaths } from "../../src/config/schema.ts";

const SINK = readFileSync(new URL("../fixtures/kitchen-sink.yaml", import.meta.url), "utf8");
const sorted = (a: Iterable<string>) => [...a].sort();

function problems(text: string): string[] {
  try {
    parseConfigText(text, "eventjobs.yaml");
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message.split("\n");
  }
  return [];
}

/** objPath → keys seen there, in the style of schemaKeyPaths (`[]` for list items). */
function keysIn(value: unknown, path = "", out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  if (Array.isArray(value)) value.forEach((v) => keysIn(v, `${path}[]`, out));
  else if (value && typeof value === "object") {
    const set = out.get(path) ?? new Set<string>();
    out.set(path, set);
    for (const [k, v] of Object.entries(value)) {
      set.add(k);
      keysIn(v, path ? `${path}.${k}` : k, out);
    }
  }
  return out;
}

/** Every object at a schema-style path (`a[].b`), with its concrete path (`a[2].b`). */
function objectsAt(value: any, parts: string[], path = ""): Array<[any, string]> {
  if (!parts.length) return value && typeof value === "object" && !Array.isArray(value) ? [[value, path]] : [];
  const [part, ...rest] = parts;
  const name = part.replace(/\[\]$/, "");
  const next = value?.[name];
  const here = path ? `${path}.${name}` : name;
  if (!part.endsWith("[]")) return objectsAt(next, rest, here);
  return Array.isArray(next) ? next.flatMap((item, i) => objectsAt(item, rest, `${here}[${i}]`)) : [];
}

test("the loader's keys and the schema's are the same, place by place", () => {
  const schema = schemaKeyPaths();
  for (const [path, keys] of Object.entries(LOADER_KEYS)) {
    assert.ok(schema.has(path), `the schema has no object at ${path || "(top)"}`);
    assert.deepEqual(sorted(keys), sorted(schema.get(path)!), `keys at ${path || "(top)"}`);
  }
});

test("a file using every key of the schema loads without a problem", () => {
  assert.deepEqual(problems(SINK), []);
  const seen = keysIn(parse(SINK));
  for (const [path, keys] of schemaKeyPaths()) {
    const missing = keys.filter((k) => !seen.get(path)?.has(k));
    assert.deepEqual(missing, [], `the kitchen-sink fixture lacks ${path}.{${missing.join(",")}}`);
  }
});

test("at every closed level of the schema, a key it does not define is rejected by the loader", () => {
  const schema = projectSchema();
  const closed = (path: string): boolean => {
    let s = schema;
    for (const part of path.split(".").filter(Boolean)) {
      const name = part.replace(/\[\]$/, "");
      s = deref(deref(s).properties[name]);
      if (part.endsWith("[]")) s = deref(s.items);
    }
    return deref(s).additionalProperties === false;
  };
  let checked = 0;
  for (const path of schemaKeyPaths().keys()) {
    if (!closed(path)) continue;
    const doc = parse(SINK);
    const found = objectsAt(doc, path.split(".").filter(Boolean))[0];
    assert.ok(found, `the kitchen-sink fixture has an object at ${path}`);
    const [target, concrete] = found;
    target.notInTheSchema = 1;
    const lines = problems(stringify(doc));
    const want = `${concrete ? `${concrete}.` : ""}notInTheSchema`;
    assert.ok(
      lines.some((l) => l.includes(` ${want}: `) && l.includes(" — expected ")),
      `${want} should be rejected; got ${lines.join(" | ") || "no problem"}`,
    );
    checked++;
  }
  assert.ok(checked > 25, `checked ${checked} places`);
});

test("jobs, images and identities: file:line:col, path, value and expectation, all at once; secrets masked", () => {
  const lines = problems(`namespaces:
  - name: servicebus-ns-job
identities:
  - name: x
images:
  - registry: my_reg
    image: Worker:1
    context: app
  - registry: myreg
    image: job:1
jobs:
  - name: job-one
    properties:
      configuration:
        triggerType: Evnt
        replicaTimout: 60
        secrets:
          - name: s
            value: [super-secret-value]
      template:
        containers:
          - name: main
            image: busybox
            env: [{ name: A, secretRef: nope }]
  - name: Job_Two
`);
  assert.deepEqual(lines, [
    'eventjobs.yaml:4:11: identities[0].name: "x" — expected 3-128 letters, digits, hyphens or underscores, starting with a letter or digit',
    'eventjobs.yaml:6:15: images[0].registry: "my_reg" — expected a registry name (1-50 letters and digits) or its login server <name>.azurecr.io',
    'eventjobs.yaml:7:12: images[0].image: "Worker:1" — expected name[:tag] in lowercase, e.g. job-python:1.0.0',
    "eventjobs.yaml:9:5: images[1].context: (missing) — expected a non-empty string",
    "eventjobs.yaml:15:9: jobs[0].properties.configuration.replicaTimeout: (missing) — expected an integer",
    'eventjobs.yaml:15:22: jobs[0].properties.configuration.triggerType: "Evnt" — expected one of "Event", "Manual", "Schedule"',
    'eventjobs.yaml:16:9: jobs[0].properties.configuration.replicaTimout: 60 — expected a known key; did you mean "replicaTimeout"?',
    'eventjobs.yaml:19:20: jobs[0].properties.configuration.secrets[0].value: "***" — expected a string',
    'eventjobs.yaml:24:41: jobs[0].properties.template.containers[0].env[0].secretRef: "nope" — expected a secret defined in properties.configuration.secrets',
    "eventjobs.yaml:25:5: jobs[1].properties: (missing) — expected a mapping with configuration, template",
    "eventjobs.yaml:25:11: jobs[1].name: \"Job_Two\" — expected lower case letters, digits and '-', starting with a letter, ending with a letter or digit, no '--', at most 32 characters",
  ]);
  assert.ok(!lines.join("\n").includes("super-secret-value"));
});

test("the schema ships with the package and is documented for editors", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  assert.ok(pkg.files.includes("schema"));
  assert.equal(projectSchema().$schema, "http://json-schema.org/draft-07/schema#");
  const docs = ["../../README.md", "../../docs/configuration.md"].map((f) => {
    try {
      return readFileSync(new URL(f, import.meta.url), "utf8");
    } catch {
      return "";
    }
  });
  assert.ok(
    docs.some((d) => /# yaml-language-server: \$schema=/.test(d)),
    "the editor line is documented",
  );
});
