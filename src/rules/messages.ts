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

/** What `lifecycle-guard plan` needs to write the canary a denial asks for. */
export interface PlanHint {
  readonly tag: unknown;
  readonly hub?: unknown;
  readonly revision?: string;
}

/** A value as one shell word: plain tags stay as they are, anything else is single-quoted. */
function shellWord(value: string): string {
  const text = shown(value);
  return /^[A-Za-z0-9._:/@+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** `lifecycle-guard plan --tag 1.24.2-solo [--hub …] [--revision …]`: the command that writes the canary. */
export function planCommand(plan: PlanHint): string {
  const tag = typeof plan.tag === "string" && plan.tag !== "" ? plan.tag : "<tag>";
  const hub = typeof plan.hub === "string" && plan.hub !== "" ? ` --hub ${shellWord(plan.hub)}` : "";
  const revision = plan.revision ? ` --revision ${shellWord(plan.revision)}` : "";
  return `lifecycle-guard plan --tag ${shellWord(tag)}${hub}${revision}`;
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
export function waysOut(ctx: RuleContext, revisionSuggestion: string | undefined, plan?: PlanHint): string {
  const to = revisionSuggestion ? ` (${ctx.kind.keyField} ${shown(revisionSuggestion)})` : "";
  const canary = plan ? `${planCommand(plan)} writes the canary${to}` : `canary upgrade (add ${revisionSuggestion ? `${ctx.kind.keyField} ${shown(revisionSuggestion)} as a new entry` : `a new ${ctx.kind.keyField} entry`})`;
  if (!ctx.skipPolicy.honored) return `Fix: ${canary}; skipUpgradeValidation would not help: ${ctx.skipPolicy.reason ?? "this webhook does not honor it"}.`;
  return `Fix: ${canary}, or set skipUpgradeValidation: true.`;
}
