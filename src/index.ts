// Programmatic API: start the platform in-process (what the CLI's `up` does).
export { Platform, type PlatformOptions, type Endpoints } from "./platform.js";
export { loadConfigFile, parseConfigText, emptyConfig } from "./config/load.js";
export type { ProjectConfig, NamespaceConfig, QueueConfig, QueueProperties } from "./model/config.js";
