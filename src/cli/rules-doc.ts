import { RULES } from "../rules/registry.js";

const KIND_LABEL = (kinds: readonly string[] | undefined): string => (kinds ? kinds.join(", ") : "ILM, GLM");

/**
 * docs/rules.md, generated from the registry (`npm run docs:rules`); a test compares the
 * committed file with this output so the two cannot drift.
 */
export function rulesMarkdown(): string {
  const rows = RULES.slice()
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((r) => `| ${r.id} | ${r.severity} | ${r.operations.join(", ")} | ${KIND_LABEL(r.kinds)} | ${r.skippable ? "yes" : "no"} | ${r.summary} |`);
  return [
    "# lifecycle-guard rules",
    "",
    "Generated from the rule registry (`src/rules/registry.ts`) by `npm run docs:rules`; a test fails when this file is out of date.",
    "The full specification of each rule is `RULES.md` of the product spec; every message names its rule id.",
    "",
    "`skippable`: an entry with `skipUpgradeValidation: true` bypasses the rule (LG402 reports the bypass), unless the operator's policy ignores the flag.",
    "",
    "| id | severity | operations | kinds | skippable | summary |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

export function rulesTable(): string {
  return `${RULES.slice()
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((r) => `${r.id}  ${r.severity.padEnd(4)}  ${r.summary}`)
    .join("\n")}\n`;
}
