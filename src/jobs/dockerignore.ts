// .dockerignore as Docker reads it, through @balena/dockerignore (a port of Docker's own matcher): `#`
// comments, `!` re-includes, `*` `?` `[...]` within a segment, `**` across segments, the last match wins,
// and a pattern that matches a directory also matches everything below it.
import dockerignoreModule from "@balena/dockerignore";

// a CommonJS module whose typings declare an ES default export: at run time the import is the function itself
const dockerignore = dockerignoreModule as unknown as (typeof dockerignoreModule)["default"];

export interface IgnoreRules {
  /** some rule re-includes (`!`): an ignored directory may still hold a kept file */
  hasNegations: boolean;
  /** is `rel` (a context-relative path with `/` separators) excluded from the build context? */
  ignores(rel: string): boolean;
}

export function parseDockerignore(text: string): IgnoreRules {
  const lines = text.split(/\r?\n/);
  const matcher = dockerignore({ ignorecase: false }).add(lines);
  return {
    hasNegations: lines.some((l) => l.trim().startsWith("!")),
    ignores: (rel) => matcher.ignores(rel),
  };
}
