import { revisionLabel, type Entry } from "../lifecycle/model.js";
import { shown } from "../lifecycle/text.js";
import type { Few } from "./defaults/summaries.js";
import type { RuleContext } from "./types.js";

/** `cluster1, cluster2 and 3 more`: keeps messages short for meshes with many clusters. */
export function listNames(names: readonly string[], max = 3): string {
  const unique = [...new Set(names)];
  if (unique.length <= max) return joinAnd(unique.map((name) => shown(name)));
  return `${unique.slice(0, max).map((name) => shown(name)).join(", ")} and ${unique.length - max} more`;
}

function joinAnd(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** The revisions of a summarised list: `1-24, 1-25, 1-26 and 12 more`. */
export function listRevisions(few: Few, max = 3): string {
  const names = [...new Set(few.first.map((e) => revisionLabel(e.key)))];
  if (few.count <= max && names.length === few.first.length) return listNames(names, max);
  const head = names.slice(0, max);
  return `${head.join(", ")} and ${few.count - head.length} more`;
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
