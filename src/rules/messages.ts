import { revisionLabel, type Entry } from "../lifecycle/model.js";
import { shown } from "../lifecycle/text.js";
import type { RuleContext } from "./types.js";

/** `cluster1, cluster2 and 3 more`: keeps messages short for meshes with many clusters. */
export function listNames(names: readonly string[], max = 3): string {
  const unique = [...new Set(names)].map((name) => shown(name));
  if (unique.length <= max) return joinAnd(unique);
  return `${unique.slice(0, max).join(", ")} and ${unique.length - max} more`;
}

function joinAnd(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** `revision 1-23 on cluster1, cluster2` (or `gatewayRevision ...` for GLM). */
export function installationLabel(ctx: RuleContext, entry: Entry, clusters: readonly string[]): string {
  const where = clusters.length > 0 ? ` on ${listNames(clusters)}` : "";
  return `${ctx.kind.keyField} ${revisionLabel(entry.key)}${where}`;
}

/**
 * The two ways out that end every LG1xx message, in as few words as a terminal line allows. When
 * the operator's policy does not honor `skipUpgradeValidation` for this user, offering it would
 * send them in circles.
 */
export function waysOut(ctx: RuleContext, revisionSuggestion: string | undefined): string {
  const canary = `canary upgrade (add ${revisionSuggestion ? `${ctx.kind.keyField} ${shown(revisionSuggestion)} as a new entry` : `a new ${ctx.kind.keyField} entry`})`;
  if (!ctx.skipPolicy.honored) return `Fix: ${canary}; skipUpgradeValidation would not help: ${ctx.skipPolicy.reason ?? "this webhook does not honor it"}.`;
  return `Fix: ${canary}, or set skipUpgradeValidation: true.`;
}
