import { counterpart } from "../../lifecycle/matching.js";
import type { Entry } from "../../lifecycle/model.js";
import { parseTag, revisionNameFor } from "../../lifecycle/tags.js";
import { memo, type RuleContext } from "../types.js";

/** A revisioned entry of the new object and the old entry that held the same installations. */
export interface InPlacePair {
  readonly newEntry: Entry;
  readonly oldEntry: Entry;
  /** The clusters on which `oldEntry` held what `newEntry` holds now. */
  readonly clusters: readonly string[];
}

/**
 * Pairs every revisioned new entry with the old entries holding the same (key, cluster)
 * installations. One new entry can pair with several old ones when per-cluster entries were
 * merged; each pair is compared separately and names its clusters. Memoised per review because
 * all LG1xx rules walk the same pairs.
 */
export function inPlacePairs(ctx: RuleContext): readonly InPlacePair[] {
  return memo(ctx, "inPlacePairs", computePairs);
}

function computePairs(ctx: RuleContext): InPlacePair[] {
  const pairs: InPlacePair[] = [];
  if (ctx.operation === "UPDATE" && ctx.oldObject) {
    for (const newEntry of ctx.newObject.entries) {
      if (newEntry.key === "") continue; // revisionless: every change is in place (LG401 warns)
      const byOld = new Map<Entry, Set<string>>();
      for (const { name } of newEntry.clusters) {
        ctx.tick();
        const oldEntry = counterpart(ctx, newEntry, name, ctx.oldObject);
        if (!oldEntry) continue;
        const clusters = byOld.get(oldEntry);
        if (clusters) clusters.add(name);
        else byOld.set(oldEntry, new Set([name]));
      }
      for (const [oldEntry, clusters] of byOld) pairs.push({ newEntry, oldEntry, clusters: [...clusters] });
    }
  }
  return pairs;
}

/**
 * The revision name to suggest for the canary: the guide's `MAJOR-MINOR` of the new tag, unless
 * the object already uses it, then `MAJOR-MINOR-PATCH`.
 */
export function suggestRevision(ctx: RuleContext, tag: unknown): string | undefined {
  if (typeof tag !== "string") return undefined;
  const parsed = parseTag(tag);
  if (!parsed.ok) return undefined;
  const taken = new Set(ctx.newObject.entries.map((e) => e.key));
  const short = revisionNameFor(parsed.tag);
  if (!taken.has(short)) return short;
  const long = `${short}-${parsed.tag.patch}`;
  return taken.has(long) ? undefined : long;
}
