// Picks the loader for a config file: the emulator's Config.json or eventjobs.yaml.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { ConfigError, DEFAULT_NAMESPACE, EMULATOR_ROOT_POLICY, type ProjectConfig } from "../model/config.js";
import { parseEmulatorConfig } from "./emulator.js";
import { parseProjectYaml } from "./project-file.js";

/** Reads and validates a config file: `.json` → the emulator's Config.json, `.yaml`/`.yml` → eventjobs.yaml;
 *  another extension is decided by content (a leading `{` or comment means JSON). Throws ConfigError. */
export function loadConfigFile(path: string): ProjectConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError([
      { file: path, path: "", value: `(cannot read: ${code})`, expected: "a readable config file" },
    ]);
  }
  return parseConfigText(text, path);
}

/** Same as loadConfigFile for text already in memory; `file` names it in errors and picks the format. */
export function parseConfigText(text: string, file: string): ProjectConfig {
  const ext = extname(file).toLowerCase();
  const json = ext === ".json" || (ext !== ".yaml" && ext !== ".yml" && /^\uFEFF?\s*(\{|\/\/|\/\*)/.test(text));
  return json ? parseEmulatorConfig(text, file) : parseProjectYaml(text, file);
}

/** What `up` runs without a config file: the default namespace, no entities, the emulator's root policy. */
export function emptyConfig(): ProjectConfig {
  return {
    namespaces: [
      {
        name: DEFAULT_NAMESPACE,
        queues: [],
        topics: [],
        policies: [{ ...EMULATOR_ROOT_POLICY, rights: [...EMULATOR_ROOT_POLICY.rights] }],
      },
    ],
    defaultNamespace: DEFAULT_NAMESPACE,
    extra: {},
  };
}
