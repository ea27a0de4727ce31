// Prints docs/cli.md: every eventjobs command with its usage, arguments, options and examples, read from
// the commander program itself so the reference cannot drift from the code.
//
//   npm run docs:cli        (node --import tsx scripts/cli-docs.ts > docs/cli.md)
//
// The program is built the way src/cli/main.ts builds it. main.ts parses process.argv when imported, so it
// is only imported when it exports a `buildProgram()` factory; otherwise this script reads which
// `registerX(program)` calls main.ts makes, in order, and makes the same calls on a fresh Command.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Command, type Argument, type Help, type Option } from "commander";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(ROOT, "src/cli/main.ts");

// Defaults must not depend on the shell that generates the docs.
delete process.env.EVENTJOBS_DATA_DIR;

async function buildProgram(): Promise<Command> {
  const source = readFileSync(MAIN, "utf8");
  if (/export\s+(async\s+)?function\s+buildProgram\b|export\s+const\s+buildProgram\b/.test(source)) {
    const mod = (await import(pathToFileURL(MAIN).href)) as { buildProgram: () => Command | Promise<Command> };
    return await mod.buildProgram();
  }
  // import { registerUp } from "./up.js";  →  registerUp: ./up.js
  const modules = new Map<string, string>();
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*"(\.\/[^"]+)"/g)) {
    for (const name of m[1].split(",").map((s) => s.trim().replace(/^type\s+/, "")))
      if (/^register\w+$/.test(name)) modules.set(name, m[2]);
  }
  const calls = [...source.matchAll(/^\s*(register\w+)\((\w+)\);/gm)].map((m) => m[1]);
  if (!calls.length) throw new Error(`${MAIN}: found neither buildProgram() nor registerX(program) calls`);
  const description = /new Command\("eventjobs"\)\s*\.description\("((?:[^"\\]|\\.)*)"\)/.exec(source)?.[1] ?? "";
  const program = new Command("eventjobs").description(description);
  for (const fn of calls) {
    const file = modules.get(fn);
    if (!file) throw new Error(`${MAIN}: ${fn} is called but not imported from a ./module`);
    const mod = (await import(pathToFileURL(join(dirname(MAIN), file.replace(/\.js$/, ".ts"))).href)) as Record<
      string,
      (p: Command) => void
    >;
    mod[fn](program);
  }
  return program;
}

const path = (cmd: Command): string[] => (cmd.parent ? [...path(cmd.parent), cmd.name()] : [cmd.name()]);
const title = (cmd: Command) => path(cmd).join(" ");
const anchor = (cmd: Command) =>
  title(cmd)
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");
/** Text for a markdown table cell or paragraph: no raw HTML, no column breaks. */
const md = (s: string) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\s*\n\s*/g, " ");
const code = (s: string) => "`" + s.replace(/\|/g, "\\|") + "`";

function all(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(all)];
}

/** What addHelpText("after", ...) prints below the help: the examples, and for some commands notes. */
function afterHelp(cmd: Command): string {
  let out = "";
  // commander's Command is an EventEmitter at run time; its typings leave that out
  const events = cmd as unknown as { emit(event: string, context: unknown): boolean };
  events.emit("afterHelp", { error: false, command: cmd, write: (s: string) => (out += s) });
  return out;
}

/** The after-help text as markdown: "Examples:" sections as shell blocks, other sections as text blocks. */
function helpSections(text: string): string[] {
  const lines: string[] = [];
  const sections: { name: string; body: string[] }[] = [];
  for (const line of text.split("\n")) {
    const head = /^([A-Z][\w -]*):\s*$/.exec(line);
    if (head) sections.push({ name: head[1], body: [] });
    else if (sections.length) sections[sections.length - 1].body.push(line);
    else if (line.trim()) lines.push(md(line.trim()));
  }
  const out = lines.length ? [lines.join(" "), ""] : [];
  for (const s of sections) {
    const body = s.body
      .join("\n")
      .replace(/^\n+|\s+$/g, "")
      .split("\n");
    const indent = Math.min(...body.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
    out.push(
      `**${s.name}**`,
      "",
      s.name === "Examples" ? "```sh" : "```text",
      ...body.map((l) => l.slice(indent)),
      "```",
      "",
    );
  }
  return out;
}

function section(cmd: Command, help: Help): string[] {
  const out = [`## ${title(cmd)}`, ""];
  if (cmd.description()) out.push(md(cmd.description()), "");
  out.push("```text", `Usage: ${help.commandUsage(cmd)}`, "```", "");
  const args: readonly Argument[] = help.visibleArguments(cmd);
  if (args.length) {
    out.push("| argument | description |", "|---|---|");
    for (const a of args) out.push(`| ${code(help.argumentTerm(a))} | ${md(help.argumentDescription(a))} |`);
    out.push("");
  }
  const options: Option[] = help.visibleOptions(cmd).filter((o) => o.long !== "--help");
  if (options.length) {
    out.push("| option | description |", "|---|---|");
    for (const o of options)
      out.push(`| ${code(help.optionTerm(o))} | ${md(help.optionDescription(o))}${o.mandatory ? " (required)" : ""} |`);
    out.push("");
  }
  const subs = cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  if (subs.length) {
    out.push("| command | description |", "|---|---|");
    for (const c of subs) out.push(`| [${title(c)}](#${anchor(c)}) | ${md(c.description())} |`);
    out.push("");
  }
  out.push(...helpSections(afterHelp(cmd)));
  return out;
}

const program = await buildProgram();
const help = program.createHelp();
const commands = all(program);
const doc = [
  "# CLI reference",
  "",
  "<!-- Generated by `npm run docs:cli` (scripts/cli-docs.ts) from the commander program. Do not edit by hand. -->",
  "",
  "Run any command with `--help` for the same text. Commands that talk to a running server find it through",
  "`--data-dir` (default `./.eventjobs`, or `EVENTJOBS_DATA_DIR`), where `eventjobs up` writes `server.json`.",
  "",
  "`eventjobs --version` prints the eventjobs version and the azure-cli release whose commands, flags and output the",
  "az-style commands follow. Every command that prints a result takes az's `--query` (JMESPath), applied before `-o`",
  "formats the result; a null result prints nothing. With `--query`, `-o tsv` and `-o table` print as az does: tsv one",
  "line per item of a list, values tab-separated (a whole object's values in key order, a multiselect's in the",
  "query's order, nested objects empty, lists as their length), table the scalar fields. Without `--query` they",
  "print the command's columns. An az flag eventjobs does not support is an error naming it.",
  "",
  ...commands.slice(1).map((c) => `${"  ".repeat(path(c).length - 2)}- [${title(c)}](#${anchor(c)})`),
  "",
  ...commands.flatMap((c) => section(c, help)),
];
process.stdout.write(
  doc
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .replace(/\n*$/, "\n"),
);
