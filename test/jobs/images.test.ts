// Local images: the Dockerfile reader, .dockerignore, snapshots, refs, argv rules and replica dirs.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { parseDockerfile } from "../../src/jobs/dockerfile.js";
import { parseDockerignore } from "../../src/jobs/dockerignore.js";
import { startReplica } from "../../src/jobs/local-process/supervisor.js";
import {
  buildImage,
  listImages,
  prepareReplicaDir,
  replicaArgv,
  resolveImage,
  type ImageRecord,
} from "../../src/jobs/images.js";
import { tempFiles } from "../helpers/files.js";

const { tempDir } = tempFiles("eventjobs-images-");
const parse = (text: string, args?: Record<string, string>) => parseDockerfile(text, "/ctx/Dockerfile", args);

/** a context directory from { path: content } */
function context(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

function tree(dir: string, rel = ""): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true })
    .flatMap((e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? [`${r}/`, ...tree(dir, r)] : [r];
    })
    .sort();
}

describe("Dockerfile reader", () => {
  test("ENV in both forms, quotes and escapes", () => {
    const d = parse(
      `FROM alpine\nENV A=1 B="two words" C='$A literal' D=a\\ b E=\nENV LEGACY value with  spaces\nENV Q "quoted legacy"\nENV REF=\${A}-$B`,
    );
    assert.deepEqual(d.env, {
      A: "1",
      B: "two words",
      C: "$A literal",
      D: "a b",
      E: "",
      LEGACY: "value with  spaces",
      Q: "quoted legacy",
      REF: "1-two words",
    });
  });

  test("ARG defaults, build args and substitution in FROM, ENV and WORKDIR", () => {
    const text =
      "ARG BASE=python:3.11\nFROM $BASE\nARG DIR=/srv\nARG NAME\nWORKDIR ${DIR}/app\nENV X=${NAME:-anon} Y=${NAME:+set} Z=${DIR}";
    const d = parse(text);
    assert.equal(d.from, "python:3.11");
    assert.equal(d.workdir, "/srv/app");
    assert.deepEqual(d.env, { X: "anon", Y: "", Z: "/srv" });
    const o = parse(text, { BASE: "node:20", DIR: "/opt", NAME: "bob" });
    assert.equal(o.from, "node:20");
    assert.equal(o.workdir, "/opt/app");
    assert.deepEqual(o.env, { X: "bob", Y: "set", Z: "/opt" });
  });

  test("an ARG before FROM is seen inside a stage only when declared again there", () => {
    assert.deepEqual(parse("ARG V=1\nFROM a\nENV A=x$V").env, { A: "x" });
    assert.deepEqual(parse("ARG V=1\nFROM a\nARG V\nENV A=x$V").env, { A: "x1" });
    assert.deepEqual(parse("ARG V=1\nFROM a\nARG V\nENV A=x$V", { V: "2" }).env, { A: "x2" });
  });

  test("WORKDIR is relative to the previous one", () => {
    assert.equal(parse("FROM a\nWORKDIR /a\nWORKDIR b\nWORKDIR ../c").workdir, "/a/c");
    assert.equal(parse("FROM a").workdir, "/");
  });

  test("ENTRYPOINT and CMD: exec form, shell form, SHELL, invalid JSON is shell form", () => {
    let d = parse(`FROM a\nENTRYPOINT ["python", "-u"]\nCMD ["processor.py"]`);
    assert.deepEqual([d.entrypoint, d.cmd], [["python", "-u"], ["processor.py"]]);
    d = parse(`FROM a\nCMD python processor.py --x "y z"`);
    assert.deepEqual([d.entrypoint, d.cmd], [[], ["/bin/sh", "-c", `python processor.py --x "y z"`]]);
    d = parse(`FROM a\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nENTRYPOINT exec node main.js`);
    assert.deepEqual(d.entrypoint, ["/bin/bash", "-o", "pipefail", "-c", "exec node main.js"]);
    d = parse(`FROM a\nCMD [python, main.py]`);
    assert.deepEqual(d.cmd, ["/bin/sh", "-c", "[python, main.py]"]);
  });

  test("ENTRYPOINT clears a CMD inherited from an earlier stage, not one set in the same stage", () => {
    let d = parse(`FROM a AS base\nCMD ["inherited"]\nFROM base\nENTRYPOINT ["run"]`);
    assert.deepEqual([d.entrypoint, d.cmd], [["run"], []]);
    d = parse(`FROM a\nCMD ["mine"]\nENTRYPOINT ["run"]`);
    assert.deepEqual([d.entrypoint, d.cmd], [["run"], ["mine"]]);
  });

  test("multi-stage: the final stage counts; FROM <stage> inherits it", () => {
    let d = parse(
      `FROM node:20 AS build\nWORKDIR /build\nENV A=1\nRUN npm ci\nFROM node:20-slim\nWORKDIR /app\nCOPY --from=build /build/dist ./dist\nCMD ["node", "dist/main.js"]`,
    );
    assert.equal(d.from, "node:20-slim");
    assert.deepEqual(d.env, {});
    assert.equal(d.workdir, "/app");
    assert.deepEqual(d.copies, []);
    assert.match(d.steps.find((s) => s.line === 7)!.note!, /copies from build/);
    d = parse(`FROM python:3 AS base\nENV A=1\nWORKDIR /app\nFROM base AS final\nENV B=2`);
    assert.deepEqual([d.from, d.workdir, d.env], ["python:3", "/app", { A: "1", B: "2" }]);
  });

  test("continuations, comments inside them, lowercase instructions, heredocs", () => {
    const d = parse(
      [
        "# comment",
        "from alpine",
        "RUN apk add \\",
        "  # inner comment",
        "",
        "  curl",
        "env A=1 \\",
        "    B=2",
        "RUN <<EOF",
        "echo hi",
        "ENV NOT=parsed",
        "EOF",
        'cmd ["x"]',
      ].join("\n"),
    );
    assert.deepEqual(d.env, { A: "1", B: "2" });
    assert.deepEqual(d.cmd, ["x"]);
    assert.deepEqual(d.skipped, ["line 3: RUN apk add   curl", "line 9: RUN <<EOF"]);
  });

  test("RUN, EXPOSE, USER, ... are reported with their line numbers; COPY is recorded", () => {
    const d = parse(
      'FROM a\nWORKDIR /app\nCOPY . .\nRUN pip install x\nUSER 1000\nEXPOSE 80\nLABEL a=b\nHEALTHCHECK CMD true\nCMD ["x"]',
    );
    assert.deepEqual(d.skipped, [
      "line 4: RUN pip install x",
      "line 5: USER 1000",
      "line 6: EXPOSE 80",
      "line 7: LABEL a=b",
      "line 8: HEALTHCHECK CMD true",
    ]);
    assert.deepEqual(d.copies, [{ line: 3, instruction: "COPY", sources: ["."], dest: "/app", destIsDir: true }]);
    assert.deepEqual(
      d.steps.map((s) => s.effect),
      ["recorded", "applied", "recorded", "skipped", "recorded", "recorded", "recorded", "recorded", "applied"],
    );
  });

  test("errors name the file, line and instruction", () => {
    const cases: Array<[string, RegExp]> = [
      ["FROM a\nFOO bar", /^\/ctx\/Dockerfile:2: FOO: unknown instruction$/],
      ["ENV A=1\nFROM a", /^\/ctx\/Dockerfile:1: ENV: comes before the first FROM$/],
      ["# only a comment\nARG X=1", /^\/ctx\/Dockerfile: no FROM instruction$/],
      ["FROM a\n\nENV A", /^\/ctx\/Dockerfile:3: ENV: A has no value \(use A=VALUE\)$/],
      ['FROM a\nENV A="open', /^\/ctx\/Dockerfile:2: ENV: unterminated " quote$/],
      ["FROM a\nSHELL /bin/bash -c", /^\/ctx\/Dockerfile:2: SHELL: must be a JSON array/],
      ["FROM a\nWORKDIR", /^\/ctx\/Dockerfile:2: WORKDIR: needs at least one argument$/],
      ["FROM a\nCOPY onlyone", /^\/ctx\/Dockerfile:2: COPY: needs a source and a destination$/],
      ["FROM a b c d", /^\/ctx\/Dockerfile:1: FROM: expected "FROM image \[AS name\]"/],
    ];
    for (const [text, re] of cases) assert.throws(() => parse(text), { message: re }, text);
  });
});

describe(".dockerignore", () => {
  test("patterns, directories, ** and ! exceptions (last match wins)", () => {
    const rules = parseDockerignore("# c\nnode_modules\n*.md\n!README.md\n**/*.log\n/build/\ndocs/**\n");
    const ignored = (p: string) => rules.ignores(p);
    assert.ok(ignored("node_modules") && ignored("node_modules/x/index.js"));
    assert.ok(!ignored("src/node_modules"), "a plain name matches at the root only");
    assert.ok(ignored("CHANGES.md") && !ignored("README.md") && !ignored("src/notes.md"));
    assert.ok(ignored("a.log") && ignored("deep/er/b.log"));
    assert.ok(ignored("build/out.js") && ignored("docs/x/y.txt"));
    assert.ok(!ignored("src/main.py"));
  });
});

describe("building and storing images", () => {
  const DOCKERFILE = `FROM python:3.11-slim\nWORKDIR /app\nENV MODE=prod\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "processor.py"]\n`;

  test("a snapshot of the context minus .dockerignore, persisted as image.json + context/", () => {
    const ctx = context({
      Dockerfile: DOCKERFILE,
      ".dockerignore": "node_modules\n.git\n*.md\n!KEEP.md\n",
      "processor.py": "print('hi')\n",
      "requirements.txt": "azure-servicebus\n",
      "node_modules/x/index.js": "",
      ".git/HEAD": "ref",
      "README.md": "",
      "KEEP.md": "",
      "lib/util.py": "",
    });
    const imagesDir = join(ctx, ".eventjobs", "images"); // inside the context: must not copy itself
    mkdirSync(imagesDir, { recursive: true });
    const img = buildImage({
      imagesDir,
      registry: "MyRegistry.azurecr.io",
      image: "job-python:1.0.0",
      contextDir: ctx,
    });
    assert.equal(img.ref, "myregistry.azurecr.io/job-python:1.0.0");
    assert.equal(img.dir, join(imagesDir, "myregistry", "job-python", "1.0.0", "context"));
    assert.deepEqual(tree(img.dir), [
      ".dockerignore",
      "Dockerfile",
      "KEEP.md",
      "lib/",
      "lib/util.py",
      "processor.py",
      "requirements.txt",
    ]);
    assert.deepEqual(
      [img.workdir, img.env, img.entrypoint, img.cmd, img.from],
      ["", { MODE: "prod" }, [], ["python", "processor.py"], "python:3.11-slim"],
    );
    assert.deepEqual(img.skipped, ["line 5: RUN pip install -r requirements.txt"]);
    assert.match(img.digest, /^sha256:[0-9a-f]{64}$/);
    const stored = JSON.parse(readFileSync(join(dirname(img.dir), "image.json"), "utf8"));
    assert.equal(stored.ref, img.ref);
    assert.deepEqual(resolveImage(imagesDir, "myregistry.azurecr.io/job-python:1.0.0"), img);
  });

  test("WORKDIR is mapped onto the snapshot through COPY", () => {
    const files = { "app/main.py": "", "src/data/x": "", "run.sh": "" };
    const wd = (dockerfile: string) =>
      buildImage({
        imagesDir: tempDir(),
        registry: "r",
        image: "i",
        contextDir: context({ ...files, Dockerfile: dockerfile }),
      });
    assert.equal(wd("FROM a\nWORKDIR /app\nCOPY . .").workdir, "");
    assert.equal(wd("FROM a\nCOPY app/ /app\nWORKDIR /app").workdir, "app");
    assert.equal(
      wd("FROM a\nCOPY app /srv/app\nCOPY src /srv/src\nWORKDIR /srv").workdir,
      "",
      "files of both copies are under the context root",
    );
    assert.equal(wd("FROM a\nCOPY src/ /opt/svc/\nWORKDIR /opt/svc/data").workdir, "src/data");
    assert.equal(wd("FROM a\nWORKDIR /app\nCOPY app/main.py ./").workdir, "app");
    assert.equal(wd("FROM a\nCOPY run.sh /usr/local/bin/run.sh\nWORKDIR /usr/local/bin").workdir, "");
    const none = wd("FROM a\nWORKDIR /work");
    assert.equal(none.workdir, "");
    assert.match(none.steps.find((s) => s.instruction === "WORKDIR")!.note!, /no context files are copied to \/work/);
    const created = wd("FROM a\nCOPY . /app\nWORKDIR /app/new/dir");
    assert.equal(created.workdir, "new/dir");
    assert.ok(existsSync(join(created.dir, "new", "dir")), "a missing WORKDIR is created, as Docker does");
  });

  test("build errors: missing COPY source, missing Dockerfile, bad names", () => {
    const ctx = context({ Dockerfile: "FROM a\nCOPY nothere.txt /app/\n", "Dockerfile.alt": "FROM b\n" });
    const b = (o: Partial<Parameters<typeof buildImage>[0]>) => () =>
      buildImage({ imagesDir: tempDir(), registry: "r", image: "i:1", contextDir: ctx, ...o });
    assert.throws(b({}), {
      message: new RegExp(`^${ctx}/Dockerfile:2: COPY: "nothere.txt" is not in the build context`),
    });
    assert.equal(b({ dockerfile: "Dockerfile.alt" })().from, "b", "--file is relative to the context");
    assert.throws(b({ dockerfile: "nope" }), /--file "nope": no such file/);
    assert.throws(b({ contextDir: join(ctx, "missing") }), /build context ".*missing" is not a directory/);
    assert.throws(b({ contextDir: context({ "a.txt": "" }) }), /no Dockerfile in the build context/);
    assert.throws(
      b({ registry: "my-registry" }),
      /--registry "my-registry": a registry name is 1-50 letters and digits/,
    );
    assert.throws(b({ image: "Job:1" }), /--image "Job:1": "Job" is not a valid repository name/);
    assert.throws(b({ image: "job:bad/tag" }), /not a valid repository name|not a valid tag/);
  });

  test("rebuilding a tag replaces it; resolve and list", () => {
    const imagesDir = tempDir();
    const ctx = context({ Dockerfile: 'FROM a\nCMD ["one"]\n', "a.txt": "1" });
    const first = buildImage({ imagesDir, registry: "reg1", image: "team/app", contextDir: ctx });
    assert.equal(first.ref, "reg1.azurecr.io/team/app:latest");
    const again = buildImage({ imagesDir, registry: "reg1", image: "team/app:latest", contextDir: ctx });
    assert.equal(again.digest, first.digest, "same content, same digest");

    writeFileSync(join(ctx, "Dockerfile"), 'FROM a\nCMD ["two"]\n');
    writeFileSync(join(ctx, "b.txt"), "2");
    const second = buildImage({ imagesDir, registry: "reg1", image: "team/app:latest", contextDir: ctx });
    assert.notEqual(second.digest, first.digest);
    assert.deepEqual(tree(second.dir), ["Dockerfile", "a.txt", "b.txt"]);
    assert.deepEqual(readdirSync(join(imagesDir, "reg1", "team", "app")), ["latest"]);
    assert.deepEqual(readdirSync(imagesDir), ["reg1"], "no staging leftovers");
    assert.deepEqual(resolveImage(imagesDir, "reg1.azurecr.io/team/app")!.cmd, ["two"]);

    buildImage({ imagesDir, registry: "reg2", image: "team/app:latest", contextDir: ctx });
    buildImage({ imagesDir, registry: "reg2", image: "other:1.0", contextDir: ctx });
    assert.deepEqual(
      listImages(imagesDir).map((i) => i.ref),
      ["reg1.azurecr.io/team/app:latest", "reg2.azurecr.io/other:1.0", "reg2.azurecr.io/team/app:latest"],
    );
    assert.equal(resolveImage(imagesDir, "other:1.0")!.ref, "reg2.azurecr.io/other:1.0", "a short name that is unique");
    assert.throws(
      () => resolveImage(imagesDir, "team/app"),
      /image "team\/app" is ambiguous: reg1.azurecr.io\/team\/app:latest, reg2.azurecr.io\/team\/app:latest/,
    );
    assert.equal(resolveImage(imagesDir, `reg1.azurecr.io/team/app@${second.digest}`)!.ref, second.ref);
    assert.equal(resolveImage(imagesDir, "reg1.azurecr.io/team/app@sha256:00"), undefined);
    assert.equal(
      resolveImage(imagesDir, "mcr.microsoft.com/k8se/quickstart-jobs:latest"),
      undefined,
      "not a local image",
    );
    assert.equal(resolveImage(imagesDir, "reg1.azurecr.io/team/app:nope"), undefined);
    assert.equal(resolveImage(imagesDir, "python:3.11"), undefined);
  });
});

describe("replica argv and directories", () => {
  const image = { ref: "r.azurecr.io/i:1", entrypoint: ["python", "-u"], cmd: ["main.py"] } as ImageRecord;

  test("command replaces ENTRYPOINT and drops CMD; args replace CMD", () => {
    assert.deepEqual(replicaArgv(image, {}), ["python", "-u", "main.py"]);
    assert.deepEqual(replicaArgv(image, { args: ["other.py", "--x"] }), ["python", "-u", "other.py", "--x"]);
    assert.deepEqual(replicaArgv(image, { command: ["node"] }), ["node"]);
    assert.deepEqual(replicaArgv(image, { command: ["node"], args: ["a.js"] }), ["node", "a.js"]);
    assert.deepEqual(
      replicaArgv(image, { command: [], args: [] }),
      ["python", "-u", "main.py"],
      "empty lists count as unset",
    );
    assert.deepEqual(replicaArgv({ ...image, entrypoint: [] }, { args: ["x"] }), ["x"]);
  });

  test("without a local image the container must say what to run", () => {
    assert.deepEqual(
      replicaArgv(undefined, { image: "mcr.microsoft.com/x:1", command: ["sh", "-c"], args: ["echo hi"] }),
      ["sh", "-c", "echo hi"],
    );
    assert.throws(
      () => replicaArgv(undefined, { image: "mcr.microsoft.com/x:1", args: ["a"] }),
      /image "mcr.microsoft.com\/x:1" is not a local image .*needs a command/,
    );
    assert.throws(
      () => replicaArgv({ ...image, entrypoint: [], cmd: [] }, {}),
      /image r.azurecr.io\/i:1 has no ENTRYPOINT or CMD/,
    );
  });

  test("prepareReplicaDir copies the snapshot; the replica runs in WORKDIR with the image's program", async () => {
    const ctx = context({
      Dockerfile: `FROM node:20\nCOPY svc/ /app\nWORKDIR /app\nENV GREETING="hello there"\nCMD ["node", "main.js"]\n`,
      "svc/main.js":
        "require('fs').writeFileSync('out.txt', 'x'); console.log(process.env.GREETING, require('path').basename(process.cwd()))",
    });
    const img = buildImage({ imagesDir: tempDir(), registry: "r", image: "svc:1", contextDir: ctx });
    const replicaDir = join(tempDir(), "job-abc-x1");
    mkdirSync(replicaDir); // an existing empty dir is fine
    const cwd = prepareReplicaDir(img, replicaDir);
    assert.equal(cwd, join(replicaDir, "svc"));
    assert.throws(() => prepareReplicaDir(img, replicaDir), /replica directory .* is not empty/);
    const lines: string[] = [];
    const argv = replicaArgv(img, {}).map((a) => (a === "node" ? process.execPath : a));
    const h = startReplica(
      {
        jobName: "j",
        executionName: "j-1",
        replicaName: "j-1-a",
        containerName: "main",
        argv,
        env: img.env,
        cwd,
        timeoutSeconds: 20,
      },
      (_, t) => lines.push(t),
    );
    assert.equal((await h.done).reason, "Completed");
    assert.deepEqual(lines, ["hello there svc"]);
    assert.ok(
      existsSync(join(cwd, "out.txt")) && !existsSync(join(img.dir, "svc", "out.txt")),
      "the snapshot stays untouched",
    );
  });
});
