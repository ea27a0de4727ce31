// Lint rules for src/, test/, bench/ and scripts/. Style (indentation, wrapping) is prettier's job;
// these rules catch mistakes. `npm test` runs `npm run lint` before the tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "schema/",
      "docs/",
      "test/fixtures/",
      ".eventjobs/",
      ".eventjobs-*/",
      ".artifacts/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: {
      globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly" },
    },
  },
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    rules: {
      // Wire payloads (rhea sections, AMQP maps, parsed XML) are untyped at the edges on purpose.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "no-constant-condition": ["error", { checkLoops: false }],
      // a closure may read a binding that is assigned once, later (the platform wires parts this way)
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      "max-len": [
        "error",
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
);
