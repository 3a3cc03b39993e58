import { counterpart } from "../../lifecycle/matching.js";
import { flagOn, groupKey, NAMELESS, type Entry, type LifecycleObject } from "../../lifecycle/model.js";
import type { RuleContext } from "../types.js";

/** A count and the first few members (lowest list index first), enough to name them in a message. */
export interface Few {
  readonly count: number;
  readonly first: readonly Entry[];
}

const FEW = 4;
const NONE: Few = { count: 0, first: [] };

class FewBuilder {
  count = 0;
  readonly first: Entry[] = [];
  add(entry: Entry): void {
    this.count += 1;
    if (this.first.length < FEW) this.first.push(entry);
  }
  done(): Few {
    return this.count === 0 ? NONE : { count: this.count, first: this.first };
  }
}

/** Merges summaries of disjoint groups: counts add up, the first few stay in list order. */
function mergeFew(parts: readonly Few[]): Few {
  const nonEmpty = parts.filter((p) => p.count > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? NONE;
  const first = nonEmpty
    .flatMap((p) => p.first)
    .sort((a, b) => a.index - b.index)
    .slice(0, FEW);
  return { count: nonEmpty.reduce((n, p) => n + p.count, 0), first };
}

/** What the new object has on a cluster (for GLM: of one gateway), as the flag analysis needs it. */
export interface NewSide {
  readonly all: Few;
  /** Entries whose installation there existed in the old object. */
  readonly preExisting: Few;
  readonly flagged: Few;
  /** Flagged there, and added by this edit (never ran as a canary). */
  readonly addedFlagged: Few;
  /** Flagged there now, pre-existing, and not flagged there before: the flag was switched to it. */
  readonly switched: Few;
  /** Entries whose key the old object does not have at all. */
  readonly newKeys: Few;
}

/** What the old object had on a cluster (for GLM: of one gateway). */
export interface OldSide {
  readonly all: Few;
  readonly flagged: Few;
  /** Flagged there, and still flagged there in the new object. */
  readonly staying: Few;
}

function summariseNew(ctx: RuleContext, cluster: string, entries: readonly Entry[]): NewSide {
  const all = new FewBuilder();
  const preExisting = new FewBuilder();
  const flagged = new FewBuilder();
  const addedFlagged = new FewBuilder();
  const switched = new FewBuilder();
  const newKeys = new FewBuilder();
  for (const entry of entries) {
    all.add(entry);
    const before = counterpart(ctx, entry, cluster, ctx.oldObject);
    if (before) preExisting.add(entry);
    if (!ctx.oldObject?.byKey.has(entry.key)) newKeys.add(entry);
    if (!flagOn(entry, cluster)) continue;
    flagged.add(entry);
    if (!before) addedFlagged.add(entry);
    else if (!flagOn(before, cluster)) switched.add(entry);
  }
  return { all: all.done(), preExisting: preExisting.done(), flagged: flagged.done(), addedFlagged: addedFlagged.done(), switched: switched.done(), newKeys: newKeys.done() };
}

function summariseOld(ctx: RuleContext, cluster: string, entries: readonly Entry[]): OldSide {
  const all = new FewBuilder();
  const flagged = new FewBuilder();
  const staying = new FewBuilder();
  for (const entry of entries) {
    all.add(entry);
    if (!flagOn(entry, cluster)) continue;
    flagged.add(entry);
    const now = counterpart(ctx, entry, cluster, ctx.newObject);
    if (now && flagOn(now, cluster)) staying.add(entry);
  }
  return { all: all.done(), flagged: flagged.done(), staying: staying.done() };
}

function mergeSides<T extends object>(parts: readonly T[], empty: T): T {
  if (parts.length === 1) return parts[0] as T;
  const merged: Record<string, Few> = {};
  for (const field of Object.keys(empty)) merged[field] = mergeFew(parts.map((p) => (p as Record<string, Few>)[field] as Few));
  return merged as T;
}

const EMPTY_NEW: NewSide = { all: NONE, preExisting: NONE, flagged: NONE, addedFlagged: NONE, switched: NONE, newKeys: NONE };
const EMPTY_OLD: OldSide = { all: NONE, flagged: NONE, staying: NONE };

/**
 * The groups of `object` on `cluster` that are the same gateway as `like`: for ILM every entry;
 * for GLM the groups of `like`'s gateway names and the entries without names (or everything, when
 * `like` declares none). Undefined means every group.
 */
function groupsLike(object: LifecycleObject, like: Entry | undefined): number[] | undefined {
  if (object.kind.short !== "GLM" || !like || like.gateways.length === 0) return undefined;
  const groups = new Set<number>([NAMELESS]);
  for (const name of like.gateways) {
    const group = object.groupOfName.get(name);
    if (group !== undefined) groups.add(group);
  }
  return [...groups];
}

/**
 * Summaries of each (side, cluster, gateway group), computed at most once per review: a query
 * then costs the number of gateway names of the entry asking, never the size of the cluster. This
 * is what keeps the flag analysis linear when thousands of entries share one cluster.
 */
class Summaries<T extends object> {
  private readonly byGroup = new Map<string, T>();
  private readonly byCluster = new Map<string, T>();

  constructor(
    private readonly object: LifecycleObject | undefined,
    private readonly summarise: (cluster: string, entries: readonly Entry[]) => T,
    private readonly empty: T,
  ) {}

  on(cluster: string, like?: Entry): T {
    const object = this.object;
    if (!object || !object.byCluster.has(cluster)) return this.empty;
    const wanted = groupsLike(object, like);
    if (!wanted) {
      let whole = this.byCluster.get(cluster);
      if (!whole) this.byCluster.set(cluster, (whole = this.summarise(cluster, object.byCluster.get(cluster) ?? [])));
      return whole;
    }
    const parts: T[] = [];
    for (const group of wanted) {
      const key = groupKey(group, cluster);
      const entries = object.byGroupOnCluster.get(key);
      if (!entries) continue;
      let part = this.byGroup.get(key);
      if (!part) this.byGroup.set(key, (part = this.summarise(cluster, entries)));
      parts.push(part);
    }
    return parts.length === 0 ? this.empty : mergeSides(parts, this.empty);
  }
}

export interface SideSummaries {
  readonly newSide: Summaries<NewSide>;
  readonly oldSide: Summaries<OldSide>;
}

export function sideSummaries(ctx: RuleContext): SideSummaries {
  let summaries = ctx.shared.get("sideSummaries") as SideSummaries | undefined;
  if (!summaries) {
    summaries = {
      newSide: new Summaries(ctx.newObject, (cluster, entries) => summariseNew(ctx, cluster, entries), EMPTY_NEW),
      oldSide: new Summaries(ctx.oldObject, (cluster, entries) => summariseOld(ctx, cluster, entries), EMPTY_OLD),
    };
    ctx.shared.set("sideSummaries", summaries);
  }
  return summaries;
}

/** Keys of the first few entries, for messages: `1-24, 1-25 and 3 more`. */
export function fewKeys(few: Few): { readonly keys: readonly string[]; readonly more: number } {
  return { keys: few.first.map((e) => e.key), more: few.count - few.first.length };
}
