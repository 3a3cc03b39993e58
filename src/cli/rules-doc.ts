import { RULES } from "../rules/registry.js";
import { isProtected } from "../rules/severity-policy.js";
import type { Rule } from "../rules/types.js";

const KIND_LABEL = (kinds: readonly string[] | undefined): string => (kinds ? kinds.join(", ") : "ILM, GLM");

const byId = (): Rule[] => RULES.slice().sort((a, b) => a.id.localeCompare(b.id));

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id.toUpperCase());
}

/** What the ratchet means for a rule that judges the object's state. */
export function ratchetOf(rule: Rule): string | undefined {
  if (!rule.judgesState) return undefined;
  const unreadable = rule.id === "LG305" ? " An object the rules cannot read at all (not an object, spec or spec.installations of the wrong type) is denied all the same." : "";
  return `Ratchets: on an UPDATE, a violation the stored object already had (the same key, cluster or installation, no more often) is a warning that says it pre-exists, never a denial, so an object stored before the webhook can still take labels, annotations and unrelated fixes. A violation this edit introduces, or makes more frequent, ${rule.severity === "deny" ? "is denied" : "counts as usual"}. An UPDATE that changes nothing under spec is never denied.${unreadable}`;
}

/** How to get past a rule on purpose, unless the rule says it itself. */
export function bypassOf(rule: Rule): string {
  if (rule.doc.bypass) return rule.doc.bypass;
  if (rule.skippable) {
    return `Set skipUpgradeValidation: true on the entry; LG402 reports the bypass. The operator can make the webhook ignore the flag (SKIP_UPGRADE_VALIDATION=ignore) or honor it only for listed users or groups.${isProtected(rule.id) ? ` ${rule.id} cannot be lowered below deny (RULE_SEVERITY).` : ""}`;
  }
  if (rule.severity === "warn") return `A warning never blocks. RULE_SEVERITY=${rule.id}=off (server) or --severity ${rule.id}=off (CLI) removes it; =deny makes it deny.`;
  return `RULE_SEVERITY=${rule.id}=warn or =off (server), or --severity ${rule.id}=warn (CLI).`;
}

function facts(rule: Rule): string {
  return `${rule.severity}; ${rule.operations.join(", ")}; ${KIND_LABEL(rule.kinds)}${rule.skippable ? "; skippable" : ""}${rule.judgesState ? "; ratchets" : ""}${rule.needsCluster ? "; needs the cluster view" : ""}`;
}

const indent = (text: string, prefix: string): string =>
  text
    .split("\n")
    .map((line) => `${prefix}${line}`)
    .join("\n");

/** `lifecycle-guard rules <ID>`: the whole explanation, for a terminal. */
export function ruleText(rule: Rule): string {
  const { doc } = rule;
  const lines = [`${rule.id} (${facts(rule)})`, rule.summary, "", "Why", indent(doc.why, "  ")];
  if (doc.example) {
    lines.push("", "Example");
    if (doc.example.before) lines.push("  before:", indent(doc.example.before, "    "));
    if (doc.example.after) lines.push("  after:", indent(doc.example.after, "    "));
    if (doc.example.instead) lines.push("  instead:", indent(doc.example.instead, "    "));
  }
  lines.push("", "Fix", indent(doc.fix, "  "), "", "Bypass", indent(bypassOf(rule), "  "));
  const ratchet = ratchetOf(rule);
  if (ratchet) lines.push("", "Ratchet", indent(ratchet, "  "));
  lines.push("");
  return lines.join("\n");
}

/**
 * docs/rules.md, generated from the registry (`npm run docs:rules`); a test compares the
 * committed file with this output so the two cannot drift. It says what `rules <ID>` says.
 */
export function rulesMarkdown(): string {
  const rules = byId();
  const rows = rules.map((r) => `| [${r.id}](#${r.id.toLowerCase()}) | ${r.severity} | ${r.operations.join(", ")} | ${KIND_LABEL(r.kinds)} | ${r.skippable ? "yes" : "no"} | ${r.summary} |`);
  const sections = rules.flatMap((r) => {
    const { doc } = r;
    const out = [`## ${r.id}`, "", `**${r.summary}** (${facts(r)})`, "", `**Why.** ${doc.why}`, ""];
    if (doc.example) {
      out.push("**Example.**", "");
      if (doc.example.before) out.push("Before:", "", "```yaml", doc.example.before, "```", "");
      if (doc.example.after) out.push("After (what the rule reports):", "", "```yaml", doc.example.after, "```", "");
      if (doc.example.instead) out.push(`Instead: ${doc.example.instead}`, "");
    }
    out.push(`**Fix.** ${doc.fix}`, "", `**Bypass.** ${bypassOf(r)}`, "");
    const ratchet = ratchetOf(r);
    if (ratchet) out.push(`**${ratchet.replace(/^Ratchets:/, "Ratchets.**")}`, "");
    return out;
  });
  return [
    "# lifecycle-guard rules",
    "",
    "Generated from the rule registry (`src/rules/`) by `npm run docs:rules`; a test fails when this file is out of date. `lifecycle-guard rules <ID>` prints the same explanation in a terminal.",
    "",
    "Every message starts with its rule id. A denial (`deny`) blocks the change; a warning (`warn`) is shown and never blocks. `skippable`: an entry with `skipUpgradeValidation: true` bypasses the rule (LG402 reports the bypass), unless the operator's policy ignores the flag. Severities can be tuned per rule (`RULE_SEVERITY` on the server, `--severity` in the CLI), except that LG1xx and LG305 always deny.",
    "",
    "| id | severity | operations | kinds | skippable | summary |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    ...sections,
  ].join("\n");
}

export function rulesTable(): string {
  return `${byId()
    .map((r) => `${r.id}  ${r.severity.padEnd(4)}  ${r.summary}`)
    .join("\n")}\n`;
}
