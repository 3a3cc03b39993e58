// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "build/**", "node_modules/**", "coverage/**", "certs/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-console": "off",
    },
  },
  {
    // Rules are pure functions: they must not reach for the network, the server or the filesystem.
    files: ["src/rules/**/*.ts", "src/lifecycle/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["fastify", "fastify/*", "node:http", "node:https", "http", "https", "node:fs", "fs", "node:net", "@kubernetes/*"], message: "Rules and the lifecycle model are pure: cluster state arrives through the RuleContext." },
            { group: ["**/server/**", "**/cli/**", "**/cluster/**"], message: "The functional core must not depend on the shell." },
          ],
        },
      ],
    },
  },
);
