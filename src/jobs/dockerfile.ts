// A Dockerfile reader for local images: it evaluates what decides how a container starts (FROM, ARG,
// ENV, WORKDIR, ENTRYPOINT, CMD, SHELL) and records COPY/ADD from the context; everything that would
// need a container runtime (RUN, USER, EXPOSE, ...) is reported as skipped, never executed.
import { posix } from "node:path";

export class DockerfileError extends Error {}

export interface DockerfileStep {
  line: number;
  instruction: string;
  /** the instruction as written (continuations joined) */
  text: string;
  /** applied: shapes the local image; recorded: kept for information; skipped: not executed */
  effect: "applied" | "recorded" | "skipped";
  note?: string;
}

/** A COPY/ADD from the build context in the final stage (dest is absolute in the image). */
export interface CopyRecord {
  line: number;
  instruction: "COPY" | "ADD";
  sources: string[];
  dest: string;
  destIsDir: boolean;
}

export interface ParsedDockerfile {
  /** the final stage's FROM image (after ARG substitution) */
  from: string;
  /** absolute WORKDIR in the image ("/" when never set) */
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  copies: CopyRecord[];
  steps: DockerfileStep[];
  /** "line N: INSTRUCTION args" for every step that was not executed */
  skipped: string[];
}

interface Stage {
  name?: string;
  from: string;
  workdir: string;
  env: Record<string, string>;
  args: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  cmdSet: boolean;
  shell: string[];
  copies: CopyRecord[];
}

const KNOWN = new Set([
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "MAINTAINER",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);
const NOT_EXECUTED: Record<string, string> = {
  RUN: "not executed: install what it installs on this machine",
  USER: "not applied: the replica runs as the current user",
  EXPOSE: "recorded only",
  VOLUME: "recorded only",
  LABEL: "recorded only",
  MAINTAINER: "recorded only",
  HEALTHCHECK: "not applied",
  STOPSIGNAL: "not applied: replicas get SIGTERM",
  ONBUILD: "not applied",
};

/** Joins continuation lines and drops comments; returns instructions with their first line number. */
function logicalLines(text: string): Array<{ line: number; text: string }> {
  const lines = text.split(/\r?\n/);
  const out: Array<{ line: number; text: string }> = [];
  for (let i = 0; i < lines.length;) {
    if (/^\s*(#|$)/.test(lines[i])) {
      i++;
      continue;
    }
    const start = i;
    let acc = "";
    while (i < lines.length) {
      const l = lines[i++];
      if (acc && /^\s*(#|$)/.test(l)) continue; // comments and blank lines inside a continuation vanish
      const cont = /\\\s*$/.exec(l);
      acc += cont ? l.slice(0, cont.index) : l;
      if (!cont) break;
    }
    const heredoc = /<<-?(["']?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(acc);
    if (heredoc && /^\s*(RUN|COPY|ADD)\s/i.test(acc)) {
      // the heredoc body belongs to the instruction: skip it up to its terminator
      const strip = acc[heredoc.index + 2] === "-";
      while (i < lines.length && (strip ? lines[i].replace(/^\t+/, "") : lines[i]) !== heredoc[2]) i++;
      i++;
    }
    out.push({ line: start + 1, text: acc.trim() });
  }
  return out;
}

/** Splits shell-like words, keeping quotes and escapes for expandWord to interpret. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = "";
  let quote = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      cur += c;
      if (c === "\\" && quote === '"' && i + 1 < text.length) cur += text[++i];
      else if (c === quote) quote = "";
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      inWord = true;
      cur += c;
      if (c === "\\" && i + 1 < text.length) cur += text[++i];
      else if (c === '"' || c === "'") quote = c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}

/** Removes quotes and escapes and substitutes $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt} (as Docker does). */
export function expandWord(word: string, vars: Record<string, string>): string {
  let out = "";
  let quote = "";
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (quote === "'") {
      if (c === "'") quote = "";
      else out += c;
    } else if (c === "\\" && i + 1 < word.length) {
      const n = word[++i];
      // inside double quotes a backslash escapes only " \ and $ (before anything else it stays)
      if (quote === '"' && !'"\\$'.includes(n)) out += c;
      out += n;
    } else if (c === '"' || (c === "'" && !quote)) {
      quote = quote === c ? "" : c;
    } else if (c === "$") {
      const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}/.exec(word.slice(i));
      const plain = braced ? null : /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(word.slice(i));
      const m = braced ?? plain;
      if (!m) {
        if (word[i + 1] === "{") throw new Error(`bad substitution in ${word}`);
        out += c;
        continue;
      }
      const [, name, op, alt = ""] = m;
      const set = Object.hasOwn(vars, name);
      const val = vars[name] ?? "";
      if (!op) out += val;
      else if (op === ":-") out += set && val !== "" ? val : expandWord(alt, vars);
      else if (op === "-") out += set ? val : expandWord(alt, vars);
      else if (op === ":+") out += set && val !== "" ? expandWord(alt, vars) : "";
      else out += set ? expandWord(alt, vars) : "";
      i += m[0].length - 1;
    } else out += c;
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  return out;
}

/** `KEY=VALUE ...` (or the legacy `KEY VALUE`) as used by ENV, ARG and LABEL. */
function nameValues(args: string, vars: Record<string, string>, legacy: boolean): Array<[string, string | undefined]> {
  const words = splitWords(args);
  if (legacy && words.length && !words[0].includes("=")) {
    const rest = args.slice(args.indexOf(words[0]) + words[0].length).trim();
    if (!rest) throw new Error(`${words[0]} has no value (use ${words[0]}=VALUE)`);
    return [[words[0], expandWord(rest, vars)]];
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    const name = eq < 0 ? w : w.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`"${name}" is not a valid name`);
    return [name, eq < 0 ? undefined : expandWord(w.slice(eq + 1), vars)];
  });
}

/** Exec form (a JSON array of strings) or undefined when the text is shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(args);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch {
    // Docker treats anything that is not a valid JSON array as shell form
  }
  return undefined;
}

function newStage(from: string, name?: string, base?: Stage): Stage {
  // a CMD inherited from another stage counts as the base image's (ENTRYPOINT clears it)
  if (base) return { ...structuredClone(base), name, cmdSet: false };
  return {
    name,
    from,
    workdir: "/",
    env: {},
    args: {},
    entrypoint: [],
    cmd: [],
    cmdSet: false,
    shell: ["/bin/sh", "-c"],
    copies: [],
  };
}

/** Parses and evaluates a Dockerfile. `file` is used in error messages ("<file>:<line>: <INSTR>: ..."). */
export function parseDockerfile(text: string, file: string, buildArgs: Record<string, string> = {}): ParsedDockerfile {
  const steps: DockerfileStep[] = [];
  const skipped: string[] = [];
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  let stage: Stage | undefined;

  for (const { line, text: inst } of logicalLines(text)) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(inst)!;
    const keyword = m[1].toUpperCase();
    const args = m[2].trim();
    const fail = (msg: string): never => {
      throw new DockerfileError(`${file}:${line}: ${keyword}: ${msg}`);
    };
    const step: DockerfileStep = { line, instruction: keyword, text: inst, effect: "applied" };
    steps.push(step);
    try {
      if (!KNOWN.has(keyword)) fail(`unknown instruction`);
      if (!stage && keyword !== "FROM" && keyword !== "ARG") fail(`comes before the first FROM`);
      const vars = stage ? { ...stage.args, ...stage.env } : globalArgs;
      if (!args && keyword !== "CMD" && keyword !== "ENTRYPOINT") fail(`needs at least one argument`);

      switch (keyword) {
        case "FROM": {
          const words = splitWords(args).filter((w) => !w.startsWith("--"));
          if (words.length !== 1 && !(words.length === 3 && words[1].toUpperCase() === "AS"))
            fail(`expected "FROM image [AS name]", got "${args}"`);
          const image = expandWord(words[0], globalArgs);
          const base = stages.find((s) => s.name && s.name === image.toLowerCase());
          stage = newStage(image, words[2]?.toLowerCase(), base);
          stages.push(stage);
          step.effect = "recorded";
          step.note = base
            ? `continues stage ${base.name}`
            : `${image} is not pulled: replicas use this machine's programs`;
          break;
        }
        case "ARG":
          for (const [name, def] of nameValues(args, vars, false)) {
            const value = buildArgs[name] ?? def ?? (stage ? globalArgs[name] : undefined);
            if (!stage) globalArgs[name] = value ?? "";
            else if (value !== undefined) stage.args[name] = value;
          }
          break;
        case "ENV":
          for (const [name, value] of nameValues(args, vars, true)) {
            if (value === undefined) fail(`${name} has no value (use ${name}=VALUE)`);
            stage!.env[name] = value!;
          }
          break;
        case "WORKDIR":
          stage!.workdir = posix.resolve(stage!.workdir, expandWord(args, vars));
          break;
        case "SHELL": {
          const shell = execForm(args);
          if (!shell?.length) fail(`must be a JSON array, e.g. ["/bin/bash", "-c"]`);
          stage!.shell = shell!;
          break;
        }
        case "CMD":
        case "ENTRYPOINT": {
          const argv = execForm(args) ?? (args ? [...stage!.shell, args] : []);
          if (keyword === "CMD") {
            stage!.cmd = argv;
            stage!.cmdSet = true;
          } else {
            stage!.entrypoint = argv;
            // Docker: ENTRYPOINT clears a CMD inherited from the base image, not one set in this stage
            if (!stage!.cmdSet) stage!.cmd = [];
          }
          break;
        }
        case "COPY":
        case "ADD": {
          const words = splitWords(args);
          const flags = words.filter((w) => w.startsWith("--"));
          const rest = words.slice(flags.length).join(" ");
          const paths = (execForm(rest) ?? splitWords(rest)).map((w) => expandWord(w, vars));
          if (paths.length < 2) fail(`needs a source and a destination`);
          const from = flags.find((f) => /^--from=/i.test(f));
          const sources = paths.slice(0, -1);
          if (from) {
            step.effect = "skipped";
            step.note = `copies from ${from.slice(7)}, which is not built locally`;
          } else if (sources.some((s) => /^(https?|git):\/\/|^git@/.test(s))) {
            step.effect = "skipped";
            step.note = "remote sources are not fetched";
          } else {
            const raw = paths[paths.length - 1];
            const dest = posix.resolve(stage!.workdir, raw);
            const destIsDir =
              /(\/|^\.|\/\.|^\.\.)$/.test(raw) ||
              sources.length > 1 ||
              sources.some((s) => /[*?[]/.test(s)) ||
              dest === stage!.workdir;
            stage!.copies.push({ line, instruction: keyword, sources, dest, destIsDir });
            step.effect = "recorded";
            step.note = "the snapshot already holds the build context";
          }
          break;
        }
        default:
          step.effect = keyword === "RUN" ? "skipped" : "recorded";
          step.note = NOT_EXECUTED[keyword];
      }
    } catch (e) {
      if (e instanceof DockerfileError) throw e;
      fail((e as Error).message);
    }
    if (
      step.effect === "skipped" ||
      (step.effect === "recorded" && keyword !== "FROM" && keyword !== "COPY" && keyword !== "ADD")
    ) {
      skipped.push(`line ${line}: ${inst}`);
    }
  }
  if (!stage) throw new DockerfileError(`${file}: no FROM instruction`);
  return {
    from: stage.from,
    workdir: stage.workdir,
    env: stage.env,
    entrypoint: stage.entrypoint,
    cmd: stage.cmd,
    copies: stage.copies,
    steps,
    skipped,
  };
}
