import type { Entry, LifecycleObject } from "./model.js";
import { entriesWith, identityKey, sameGateway } from "./model.js";

/** The two sides of an UPDATE, which is all the pairing needs to know of a review. */
export interface ReviewSides {
  readonly oldObject: LifecycleObject | undefined;
  readonly newObject: LifecycleObject;
  /** Where the GLM pairing is kept once computed (the review's shared analyses). */
  readonly shared: Map<string, unknown>;
}

/** Entry → cluster → the entry of the other side holding the same installation. */
type Pairing = ReadonlyMap<Entry, ReadonlyMap<string, Entry>>;

/**
 * Finds the entry of `other` that holds the same installation as `entry` on `cluster`: the same
 * key on that cluster and, for GLM, the same gateway. Old and new objects are compared
 * installation by installation, never by list index.
 */
export function counterpart(sides: ReviewSides, entry: Entry, cluster: string, other: LifecycleObject | undefined): Entry | undefined {
  if (!other) return undefined;
  if (other.kind.short !== "GLM") return entriesWith(other, entry.key, cluster)[0];
  return glmPairing(sides).get(entry)?.get(cluster);
}

function glmPairing(sides: ReviewSides): Pairing {
  let pairing = sides.shared.get(PAIRING_KEY) as Pairing | undefined;
  if (!pairing) sides.shared.set(PAIRING_KEY, (pairing = computeGlmPairing(sides.oldObject, sides.newObject)));
  return pairing;
}

const PAIRING_KEY = "glmPairing";

/**
 * For each (key, cluster), pairs old and new GLM entries by gateway identity: the entry declaring
 * exactly the same gateways first, then one sharing a gateway or declaring none (an entry without
 * gateway names is the same gateway as every other entry of its object). When exactly one entry
 * on each side is left without a partner, they are each other's: a gateway renamed or moved to
 * another namespace under the same revision is an in-place components change (LG112), never an
 * uninstall plus an install. Linear in the entries and gateway names of both objects.
 */
function computeGlmPairing(oldObject: LifecycleObject | undefined, newObject: LifecycleObject): Pairing {
  const pairing = new Map<Entry, Map<string, Entry>>();
  if (!oldObject) return pairing;
  const link = (from: Entry, cluster: string, to: Entry): void => {
    let byCluster = pairing.get(from);
    if (!byCluster) pairing.set(from, (byCluster = new Map()));
    byCluster.set(cluster, to);
  };
  for (const [id, { cluster, entries: olds }] of oldObject.byInstallation) {
    const news = newObject.byInstallation.get(id)?.entries;
    if (!news) continue;
    const oldIndex = new GatewayIndex(olds);
    const newIndex = new GatewayIndex(news);
    const lonelyOld: Entry[] = [];
    const lonelyNew: Entry[] = [];
    for (const entry of olds) {
      const partner = newIndex.match(entry);
      if (partner) link(entry, cluster, partner);
      else lonelyOld.push(entry);
    }
    for (const entry of news) {
      const partner = oldIndex.match(entry);
      if (partner) link(entry, cluster, partner);
      else lonelyNew.push(entry);
    }
    const [soleOld] = lonelyOld;
    const [soleNew] = lonelyNew;
    if (soleOld && soleNew && lonelyOld.length === 1 && lonelyNew.length === 1) {
      link(soleOld, cluster, soleNew);
      link(soleNew, cluster, soleOld);
    }
  }
  return pairing;
}

/** The entries of one (key, cluster) group, indexed by the gateways they declare. */
class GatewayIndex {
  private readonly byIdentity = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry>();
  private readonly firstNameless: Entry | undefined;
  private readonly first: Entry | undefined;

  constructor(entries: readonly Entry[]) {
    this.first = entries[0];
    let nameless: Entry | undefined;
    for (const entry of entries) {
      const identity = identityKey(entry.key, entry);
      if (!this.byIdentity.has(identity)) this.byIdentity.set(identity, entry);
      if (entry.gateways.length === 0) nameless ??= entry;
      for (const name of entry.gateways) if (!this.byName.has(name)) this.byName.set(name, entry);
    }
    this.firstNameless = nameless;
  }

  /** The earliest entry that is the same gateway as `entry`, preferring exactly the same gateways. */
  match(entry: Entry): Entry | undefined {
    // One (key, cluster) group: the key is the same on both sides, so this is the gateway identity.
    const identical = this.byIdentity.get(identityKey(entry.key, entry));
    if (identical) return identical;
    if (entry.gateways.length === 0) return this.first;
    let best = this.firstNameless;
    for (const name of entry.gateways) {
      const holder = this.byName.get(name);
      if (holder && (!best || holder.index < best.index)) best = holder;
    }
    return best;
  }
}

/** True when `other` installs something on `cluster` (for GLM: the same gateway as `entry`). */
export function installsOn(other: LifecycleObject, cluster: string, like: Entry): boolean {
  return entriesOn(other, cluster, like).length > 0;
}

/** Entries of `object` that hold `cluster` and, for GLM, are the same gateway as `like`. */
export function entriesOn(object: LifecycleObject, cluster: string, like?: Entry): readonly Entry[] {
  const holding = object.byCluster.get(cluster) ?? [];
  if (object.kind.short !== "GLM" || !like) return holding;
  return holding.filter((e) => sameGateway(e, like));
}
