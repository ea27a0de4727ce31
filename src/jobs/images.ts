// Local images, like `az acr build`: a snapshot of the build context plus what its Dockerfile says about
// starting a container (WORKDIR, ENV, ENTRYPOINT, CMD). Stored as
// <imagesDir>/<registry>/<repository>/<tag>/{image.json,context/}; referenced as <registry>.azurecr.io/<repo>:<tag>.
//
// The snapshot is the whole context (minus .dockerignore), not a filesystem built by COPY: WORKDIR is
// mapped onto it through the COPY/ADD instructions that put context files there (`COPY . .` under
// WORKDIR /app → the snapshot root; `COPY app/ /app` → `app/`). Absolute image paths in ENTRYPOINT/CMD
// are not rewritten.
import { createHash } from "node:crypto";
import {
  constants as fsConstants,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join, posix, resolve, sep } from "node:path";
import { parseDockerfile, type CopyRecord, type DockerfileStep } from "./dockerfile.js";
import { parseDockerignore, type IgnoreRules } from "./dockerignore.js";
import type { LocalImage } from "./types.js";

export { DockerfileError } from "./dockerfile.js";
export type { DockerfileStep } from "./dockerfile.js";

export class ImageError extends Error {}

/** A LocalImage as stored in image.json, with how it was built. */
export interface ImageRecord extends LocalImage {
  /** the final stage's FROM (not pulled) */
  from: string;
  /** absolute build context and Dockerfile it was built from */
  source: string;
  dockerfile: string;
  steps: DockerfileStep[];
  files: number;
  bytes: number;
}

export interface BuildOptions {
  imagesDir: string;
  /** registry name (`myregistry`) or login server (`myregistry.azurecr.io`) */
  registry: string;
  /** `name[:tag]` (tag defaults to latest) */
  image: string;
  contextDir: string;
  /** Dockerfile path: relative to the context (as az acr build takes it), else to the current directory */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
}

const ACR_SUFFIX = ".azurecr.io";
const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function normalizeRegistry(registry: string): string {
  const name = registry.toLowerCase().replace(/\/+$/, "");
  const short = name.endsWith(ACR_SUFFIX) ? name.slice(0, -ACR_SUFFIX.length) : name;
  if (!/^[a-z0-9]{1,50}$/.test(short))
    throw new ImageError(
      `--registry "${registry}": a registry name is 1-50 letters and digits (e.g. myregistry or myregistry.azurecr.io)`,
    );
  return short;
}

/** Splits `name[:tag]` and validates both as Docker does. */
export function parseImageName(image: string, registry?: string): { repository: string; tag: string } {
  let name = image;
  if (registry && name.toLowerCase().startsWith(`${registry}${ACR_SUFFIX}/`))
    name = name.slice(registry.length + ACR_SUFFIX.length + 1);
  const colon = name.lastIndexOf(":");
  const [repository, tag] =
    colon > name.lastIndexOf("/") ? [name.slice(0, colon), name.slice(colon + 1)] : [name, "latest"];
  if (!REPO_RE.test(repository))
    throw new ImageError(
      `--image "${image}": "${repository}" is not a valid repository name (lowercase letters, digits, and . _ - / separators)`,
    );
  if (!TAG_RE.test(tag)) throw new ImageError(`--image "${image}": "${tag}" is not a valid tag`);
  return { repository, tag };
}

function imageDir(imagesDir: string, registry: string, repository: string, tag: string): string {
  return join(imagesDir, registry, ...repository.split("/"), tag);
}

/** Builds (snapshots) an image; rebuilding the same ref replaces it. */
export function buildImage(opts: BuildOptions): ImageRecord {
  const registry = normalizeRegistry(opts.registry);
  const { repository, tag } = parseImageName(opts.image, registry);
  const context = resolve(opts.contextDir);
  if (!existsSync(context) || !statSync(context).isDirectory())
    throw new ImageError(`build context "${opts.contextDir}" is not a directory`);
  const dockerfile = locateDockerfile(context, opts.dockerfile);
  const parsed = parseDockerfile(readFileSync(dockerfile, "utf8"), dockerfile, opts.buildArgs);

  const ignoreFile = [`${dockerfile}.dockerignore`, join(context, ".dockerignore")].find((f) => existsSync(f));
  const rules = parseDockerignore(ignoreFile ? readFileSync(ignoreFile, "utf8") : "");

  const imagesDir = resolve(opts.imagesDir);
  const final = imageDir(imagesDir, registry, repository, tag);
  // built beside the images (same filesystem, so the final rename is atomic); registries never start with "."
  const building = join(imagesDir, ".building");
  mkdirSync(building, { recursive: true });
  const staging = mkdtempSync(join(building, `${registry}-`));
  try {
    const snapshot = join(staging, "context");
    const stats = copyContext(context, snapshot, rules, [imagesDir]);
    const mapped = mapWorkdir(parsed.workdir, parsed.copies, snapshot, dockerfile);
    mkdirSync(join(snapshot, mapped.rel), { recursive: true }); // Docker creates a missing WORKDIR
    const wd = parsed.steps.filter((s) => s.instruction === "WORKDIR").pop();
    if (wd) wd.note = mapped.note;

    const config = { workdir: mapped.rel, env: parsed.env, entrypoint: parsed.entrypoint, cmd: parsed.cmd };
    const digest = "sha256:" + createHash("sha256").update(stats.hash).update(JSON.stringify(config)).digest("hex");
    const record: ImageRecord = {
      ref: `${registry}${ACR_SUFFIX}/${repository}:${tag}`,
      registry,
      repository,
      tag,
      dir: join(final, "context"),
      ...config,
      skipped: parsed.skipped,
      digest,
      createdAt: new Date().toISOString(),
      from: parsed.from,
      source: context,
      dockerfile,
      steps: parsed.steps,
      files: stats.files,
      bytes: stats.bytes,
    };
    writeFileSync(join(staging, "image.json"), JSON.stringify(record, null, 2) + "\n");
    // swap in the new build; replicas run from their own copies, so replacing is safe
    const old = `${staging}.old`;
    if (existsSync(final)) renameSync(final, old);
    mkdirSync(dirname(final), { recursive: true });
    renameSync(staging, final);
    rmSync(old, { recursive: true, force: true });
    return record;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    try {
      rmdirSync(building); // only when no other build is running
    } catch {
      // not empty
    }
  }
}

function locateDockerfile(context: string, file: string | undefined): string {
  if (!file) {
    const f = join(context, "Dockerfile");
    if (!existsSync(f)) throw new ImageError(`no Dockerfile in the build context ${context} (pass --file)`);
    return f;
  }
  const candidates = isAbsolute(file) ? [file] : [join(context, file), resolve(file)];
  const found = candidates.find((f) => existsSync(f) && statSync(f).isFile());
  if (!found) throw new ImageError(`--file "${file}": no such file (looked in ${candidates.join(" and ")})`);
  return found;
}

/** Copies the context minus ignored paths; returns a content hash for the digest. */
function copyContext(
  src: string,
  dest: string,
  rules: IgnoreRules,
  exclude: string[],
): { files: number; bytes: number; hash: Buffer } {
  const hash = createHash("sha256");
  let files = 0;
  let bytes = 0;
  mkdirSync(dest, { recursive: true });
  const walk = (rel: string) => {
    for (const name of readdirSync(join(src, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(src, r);
      // never copy the images dir into itself (a data dir inside the project)
      if (exclude.some((x) => x === abs || x.startsWith(abs + sep))) continue;
      const st = lstatSync(abs);
      const ignored = rules.ignores(r);
      const to = join(dest, ...r.split("/"));
      if (st.isDirectory()) {
        if (ignored && !rules.hasNegations) continue; // a `!` rule could re-include something below
        if (!ignored) mkdirSync(to, { recursive: true });
        walk(r);
      } else if (!ignored && (st.isFile() || st.isSymbolicLink())) {
        mkdirSync(dirname(to), { recursive: true });
        if (st.isSymbolicLink()) {
          const target = readlinkSync(abs);
          symlinkSync(target, to);
          hash.update(`${r}\0link\0${target}\0`);
        } else {
          copyFileSync(abs, to, fsConstants.COPYFILE_FICLONE);
          hash.update(`${r}\0${st.mode & 0o111 ? "x" : "-"}\0${st.size}\0`).update(readFileSync(abs));
          files++;
          bytes += st.size;
        }
      }
    }
  };
  walk("");
  return { files, bytes, hash: hash.digest() };
}

/** Where WORKDIR's files are in the snapshot, from the COPY/ADD instructions of the final stage. */
function mapWorkdir(
  workdir: string,
  copies: CopyRecord[],
  snapshot: string,
  dockerfile: string,
): { rel: string; note: string } {
  const mounts: Array<{ image: string; context: string }> = [];
  for (const c of copies) {
    for (const s of c.sources) {
      const src = posix.normalize(s.replace(/^\/+/, "")).replace(/\/+$/, "");
      const rel = src === "." ? "" : src;
      if (/[*?[]/.test(rel)) {
        mounts.push({ image: c.dest, context: posix.dirname(rel) === "." ? "" : posix.dirname(rel) });
        continue;
      }
      const kind = existsSync(join(snapshot, rel))
        ? statSync(join(snapshot, rel)).isDirectory()
          ? "dir"
          : "file"
        : undefined;
      if (!kind)
        throw new ImageError(
          `${dockerfile}:${c.line}: ${c.instruction}: "${s}" is not in the build context (missing or excluded by .dockerignore)`,
        );
      const parent = posix.dirname(rel) === "." ? "" : posix.dirname(rel);
      if (kind === "dir") mounts.push({ image: c.dest, context: rel });
      else if (c.destIsDir) mounts.push({ image: c.dest, context: parent });
      else if (posix.basename(c.dest) === posix.basename(rel))
        mounts.push({ image: posix.dirname(c.dest), context: parent });
      // a file copied under another name cannot be mapped; it is simply where it is in the snapshot
    }
  }
  let best: { image: string; context: string } | undefined;
  for (const m of mounts) {
    const under = m.image === "/" || workdir === m.image || workdir.startsWith(m.image + "/");
    if (under && (!best || m.image.length >= best.image.length)) best = m;
  }
  if (!best) {
    const note =
      workdir === "/" ? "" : `no context files are copied to ${workdir}; the replica runs in the snapshot's root`;
    return { rel: "", note };
  }
  const rest = workdir === best.image ? "" : workdir.slice(best.image === "/" ? 1 : best.image.length + 1);
  const rel = posix.join(best.context, rest).replace(/^\.$/, "");
  return { rel, note: rel ? `${workdir} is ${rel}/ in the snapshot` : `${workdir} is the root of the snapshot` };
}

function readRecord(file: string): ImageRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(file, "utf8")) as ImageRecord;
    // the data dir may have moved since the build
    return { ...rec, dir: join(dirname(file), "context") };
  } catch {
    return undefined;
  }
}

/** Every local image, sorted by ref. */
export function listImages(imagesDir: string): ImageRecord[] {
  const out: ImageRecord[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (depth >= 3 && entries.some((e) => e.name === "image.json" && e.isFile())) {
      const rec = readRecord(join(dir, "image.json"));
      if (rec) out.push(rec);
    }
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith(".") && !(e.name === "context" && depth >= 3))
        walk(join(dir, e.name), depth + 1);
    }
  };
  walk(resolve(imagesDir), 0);
  return out.sort((a, b) => a.ref.localeCompare(b.ref));
}

/**
 * Finds a local image by `<registry>.azurecr.io/<repo>[:tag][@digest]` or, when only one registry has it,
 * `<repo>[:tag]`. Returns undefined for refs that are not local (another registry, never built).
 */
export function resolveImage(imagesDir: string, ref: string): ImageRecord | undefined {
  const [name, digest] = ref.trim().split("@");
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash).toLowerCase();
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  let parsed: { repository: string; tag: string };
  try {
    parsed = parseImageName(hasHost ? name.slice(slash + 1) : name);
  } catch {
    return undefined;
  }
  const match = (r: ImageRecord | undefined) => (r && (!digest || r.digest === digest) ? r : undefined);
  if (hasHost) {
    if (!first.endsWith(ACR_SUFFIX)) return undefined;
    const registry = first.slice(0, -ACR_SUFFIX.length);
    return match(readRecord(join(imageDir(resolve(imagesDir), registry, parsed.repository, parsed.tag), "image.json")));
  }
  const hits = listImages(imagesDir).filter(
    (i) => i.repository === parsed.repository && i.tag === parsed.tag && match(i),
  );
  if (hits.length > 1)
    throw new ImageError(`image "${ref}" is ambiguous: ${hits.map((h) => h.ref).join(", ")}; use the full reference`);
  return hits[0];
}

/**
 * The replica's argv with Kubernetes/Container Apps semantics: `command` replaces ENTRYPOINT (and the
 * image's CMD is then ignored), `args` replace CMD.
 */
export function replicaArgv(
  image: LocalImage | undefined,
  container: { image?: string; command?: string[]; args?: string[] },
): string[] {
  const command = container.command?.length ? container.command : undefined;
  const args = container.args?.length ? container.args : undefined;
  if (!image) {
    if (!command) {
      const what = container.image ? `image "${container.image}" is not a local image` : "the container has no image";
      throw new ImageError(
        `${what} (build one with: eventjobs acr build --registry R --image name:tag DIR), so the container needs a command to run`,
      );
    }
    return [...command, ...(args ?? [])];
  }
  const argv = command ? [...command, ...(args ?? [])] : [...image.entrypoint, ...(args ?? image.cmd)];
  if (!argv.length)
    throw new ImageError(`image ${image.ref} has no ENTRYPOINT or CMD and the container sets no command`);
  return argv;
}

/** Copies the image's snapshot into a fresh (missing or empty) replica dir; returns the cwd (WORKDIR inside it). */
export function prepareReplicaDir(image: LocalImage, replicaDir: string): string {
  if (existsSync(replicaDir) && readdirSync(replicaDir).length)
    throw new ImageError(`replica directory ${replicaDir} is not empty`);
  cpSync(image.dir, replicaDir, { recursive: true, verbatimSymlinks: true, mode: fsConstants.COPYFILE_FICLONE });
  const cwd = join(replicaDir, ...image.workdir.split("/").filter(Boolean));
  mkdirSync(cwd, { recursive: true });
  return cwd;
}
