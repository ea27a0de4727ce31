// Every command's --help shows examples, checked for every command main.ts registers (built in-process
// from the same register functions, so a new command group is covered without editing this test).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Command } from "commander";
import { cli } from "../helpers/cli.js";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url);

async function program(): Promise<Command> {
  const p = new Command("eventjobs");
  for (const m of readFileSync(MAIN, "utf8").matchAll(/import \{ (register\w+) \} from "\.\/([\w-]+)\.js";/g)) {
    const mod = await import(new URL(`../../src/cli/${m[2]}.ts`, import.meta.url).href);
    mod[m[1]](p);
  }
  return p;
}

const fullName = (c: Command) => {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(" ");
};

test("every command's --help ends with examples of that command", async () => {
  const leaves: Command[] = [];
  const walk = (c: Command) => (c.commands.length ? c.commands.forEach(walk) : leaves.push(c));
  walk(await program());
  assert.ok(leaves.length > 35, `${leaves.length} commands`);
  const missing = leaves.filter((c) => {
    let out = "";
    c.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
    c.outputHelp();
    const name = fullName(c);
    // the demo is what `npm start` runs; every other example runs the command itself
    return (
      !out.includes("\nExamples:\n") ||
      !(out.includes(`eventjobs ${name}`) || (name === "demo" && out.includes("npm start")))
    );
  });
  assert.deepEqual(missing.map(fullName), []);
});

test("eventjobs --help lists the command groups; an unknown command exits 1 with a hint", async () => {
  const [help, bad] = await Promise.all([cli(".", ["--help"]), cli(".", ["servicebus", "eventhub", "list"])]);
  assert.equal(help.code, 0);
  for (const group of [
    "up",
    "plan",
    "apply",
    "destroy",
    "containerapp",
    "servicebus",
    "identity",
    "role",
    "acr",
    "export",
  ])
    assert.match(help.stdout, new RegExp(`\\n  ${group}\\b`), group);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown command 'eventhub'/);
});
