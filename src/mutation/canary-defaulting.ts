import { shown } from "../lifecycle/text.js";
import { createPatch, type Operation } from "rfc6902";
import { lifecycleKindOf } from "../lifecycle/kinds.js";
import { revisionLabel } from "../lifecycle/model.js";
import { isPlainObject } from "../lifecycle/values.js";
import { addedFlaggedInstallations } from "../rules/defaults/analysis.js";
import { reviewContext, type EngineInput } from "../rules/engine.js";
import { listRevisions } from "../rules/messages.js";

export interface Mutation {
  /** RFC 6902 operations; empty when nothing is to change. */
  readonly patch: readonly Operation[];
  readonly warnings: readonly string[];
}

const NO_MUTATION: Mutation = { patch: [], warnings: [] };

/**
 * The guide's step 3, applied for the user: when an UPDATE adds an entry that is default (ILM) or
 * active (GLM) on a cluster where a pre-existing entry stays default/active, the new entry's flag
 * becomes false. Nothing else is ever changed, and never on CREATE or DELETE.
 *
 * The patch is computed by diffing the request object with a corrected copy, so it applies to
 * exactly that object; applied, the object no longer qualifies, so re-submitting it yields no
 * patch (idempotent).
 */
export function canaryDefaulting(input: EngineInput): Mutation {
  const kind = lifecycleKindOf(input.group, input.kind);
  if (!kind || input.operation !== "UPDATE" || input.subResource) return NO_MUTATION;
  const ctx = reviewContext({ ...input, operation: "UPDATE" }, kind);
  if (ctx.newObject.shapeProblem || !ctx.oldObject) return NO_MUTATION;
  const targets = addedFlaggedInstallations(ctx).filter((t) => t.staying.count > 0);
  if (targets.length === 0) return NO_MUTATION;

  const corrected = structuredClone(input.newObject) as { spec: { installations: { clusters: Record<string, unknown>[] }[] } };
  const warnings: string[] = [];
  for (const { entry, cluster, staying } of targets) {
    for (const ref of entry.clusters.filter((c) => c.name === cluster)) {
      const target = corrected.spec.installations[entry.index]?.clusters[ref.index];
      if (isPlainObject(target)) target[kind.flagField] = false;
    }
    warnings.push(
      `LG206 ${shown(cluster)}: new ${kind.keyField} ${revisionLabel(entry.key)} was added with ${kind.flagField}: true while ${listRevisions(staying)} stays ${kind.flagAdjective}; lifecycle-guard set it to false (canary). Switch it in a later edit.`,
    );
  }
  return { patch: createPatch(input.newObject, corrected), warnings };
}
