import { lifecycleKindOf } from "../lifecycle/kinds.js";
import type { Entry } from "../lifecycle/model.js";
import { revisionLabel } from "../lifecycle/model.js";
import { shown } from "../lifecycle/text.js";
import { isPlainObject } from "../lifecycle/values.js";
import { addedFlaggedInstallations } from "../rules/defaults/analysis.js";
import { reviewContext, type EngineInput } from "../rules/engine.js";
import { listRevisions } from "../rules/messages.js";

/** One RFC 6902 operation: the flag of one cluster listing, set to false. */
export interface FlagOperation {
  readonly op: "replace" | "add";
  readonly path: string;
  readonly value: false;
}

export interface Mutation {
  /** RFC 6902 operations; empty when nothing is to change. */
  readonly patch: readonly FlagOperation[];
  readonly warnings: readonly string[];
}

const NO_MUTATION: Mutation = { patch: [], warnings: [] };

/**
 * The guide's step 3, applied for the user: when an UPDATE adds an entry that is default (ILM) or
 * active (GLM) on a cluster where a pre-existing entry stays default/active, the new entry's flag
 * becomes false. Nothing else is ever changed, and never on CREATE or DELETE.
 *
 * The patch is written directly, one operation per cluster listing whose flag changes, at the
 * index path of the request object: `replace` where the flag is present, `add` where it is not.
 * No generic diff (which grows far faster than the object). Applied, the object no longer
 * qualifies, so re-submitting it yields no patch (idempotent).
 */
export function canaryDefaulting(input: EngineInput): Mutation {
  const kind = lifecycleKindOf(input.group, input.kind);
  if (!kind || input.operation !== "UPDATE" || input.subResource || !isPlainObject(input.oldObject)) return NO_MUTATION;
  const ctx = reviewContext({ ...input, operation: "UPDATE" }, kind);
  if (ctx.newObject.shapeProblem || !ctx.oldObject) return NO_MUTATION;
  const targets = addedFlaggedInstallations(ctx).filter((t) => t.staying.count > 0);
  if (targets.length === 0) return NO_MUTATION;

  const clustersByEntry = new Map<Entry, Set<string>>();
  const warnings: string[] = [];
  for (const { entry, cluster, staying } of targets) {
    let clusters = clustersByEntry.get(entry);
    if (!clusters) clustersByEntry.set(entry, (clusters = new Set()));
    clusters.add(cluster);
    warnings.push(
      `LG206 ${shown(cluster)}: new ${kind.keyField} ${revisionLabel(entry.key)} was added with ${kind.flagField}: true while ${listRevisions(staying)} stays ${kind.flagAdjective}; lifecycle-guard set it to false (canary). Switch it in a later edit.`,
    );
  }
  const patch: FlagOperation[] = [];
  for (const [entry, clusters] of clustersByEntry) {
    const rawClusters = entry.raw.clusters as unknown[];
    for (const ref of entry.clusters) {
      if (!clusters.has(ref.name)) continue;
      const raw = rawClusters[ref.index];
      if (!isPlainObject(raw) || raw[kind.flagField] === false) continue;
      const op = Object.hasOwn(raw, kind.flagField) ? "replace" : "add";
      patch.push({ op, path: `/spec/installations/${entry.index}/clusters/${ref.index}/${kind.flagField}`, value: false });
    }
  }
  return { patch, warnings };
}
