import type { LifecycleKind } from "./kinds.js";
import { shown } from "./text.js";
import { describeValue, formatPath, isPlainObject, type JsonObject, type PathSegment } from "./values.js";

/** One cluster listed by an entry. */
export interface ClusterRef {
  readonly name: string;
  /** `defaultRevision` (ILM) or `activeGateway` (GLM); absent reads as false. */
  readonly flag: boolean;
  readonly index: number;
}

/** One element of `spec.installations`. */
export interface Entry {
  readonly index: number;
  /** The installation key; "" for a revisionless entry. */
  readonly key: string;
  readonly clusters: readonly ClusterRef[];
  /** Cluster name → flag (true if any listing of it is flagged), for O(1) lookups. */
  readonly clusterFlags: ReadonlyMap<string, boolean>;
  readonly skip: boolean;
  /** `istioOperatorSpec`, {} when absent. */
  readonly spec: JsonObject;
  readonly controlPlaneRevision: unknown;
  /** GLM gateway identity: `namespace/name` of every gateway the entry declares; empty = any. */
  readonly gateways: readonly string[];
  /**
   * Gateway group within its object: entries whose gateways share a name, directly or through
   * other entries, are one group. NAMELESS (no gateway names: the same gateway as every entry)
   * for GLM entries without names; every ILM entry is in group 0.
   */
  readonly group: number;
  readonly raw: JsonObject;
}

/** The group of an entry that declares no gateway names: the same gateway as every other entry. */
export const NAMELESS = -1;

export interface ShapeProblem {
  readonly path: string;
  readonly message: string;
}

/** One (key, cluster) installation and the entries holding it, in list order. */
export interface Installation {
  readonly key: string;
  readonly cluster: string;
  readonly entries: Entry[];
}

/** The key of a (key, cluster) in byInstallation: one flat map, not a map per key. */
export function installationKey(key: string, cluster: string): string {
  return `${key}\u0000${cluster}`;
}

/** A lifecycle object as the rules see it. */
export interface LifecycleObject {
  readonly kind: LifecycleKind;
  readonly entries: readonly Entry[];
  /** Entries by key, in list order: matching old and new never scans the whole list. */
  readonly byKey: ReadonlyMap<string, readonly Entry[]>;
  /** Entries holding each cluster, in list order (clusters in first-seen order). */
  readonly byCluster: ReadonlyMap<string, readonly Entry[]>;
  /** Entries holding each installation: key → cluster → entries, in list order. */
  readonly byInstallation: ReadonlyMap<string, Installation>;
  /** GLM: entries holding each cluster, by gateway group (NAMELESS included), in list order; see groupKey. Empty for ILM. */
  readonly byGroupOnCluster: ReadonlyMap<string, readonly Entry[]>;
  /** The gateway group each gateway name belongs to (GLM). */
  readonly groupOfName: ReadonlyMap<string, number>;
  /** The first entry of each key and exact gateway identity. */
  readonly byKeyIdentity: ReadonlyMap<string, Entry>;
  /** The first place where the object is not of the shape the rules need (LG305). */
  readonly shapeProblem: ShapeProblem | undefined;
  /** `metadata.annotations` with string values (the only kind the API server stores). */
  readonly annotations: ReadonlyMap<string, string>;
  /**
   * Gloo's `status.clusters.<cluster>.installations.<revision>`: undefined when the object has no
   * status at all (a file from Git), so the health rules can tell "unknown" from "not reported".
   */
  readonly status: InstallationStatus | undefined;
}

/** What Gloo reports per cluster and revision. */
export interface InstallationState {
  readonly state: string | undefined;
  readonly message: string | undefined;
}

export type InstallationStatus = ReadonlyMap<string, ReadonlyMap<string, InstallationState>>;

const INSTALLATIONS: PathSegment[] = ["spec", "installations"];

export function entryPath(entry: Pick<Entry, "index">, ...rest: PathSegment[]): string {
  return formatPath([...INSTALLATIONS, entry.index, ...rest]);
}

export const INSTALLATIONS_PATH = formatPath(INSTALLATIONS);

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `a ${typeof value} (${typeof value === "string" ? JSON.stringify(shown(value, 32)) : describeValue(value, 32)})`;
}

function gatewayIdentity(spec: JsonObject): string[] {
  const components = spec.components;
  if (!isPlainObject(components)) return [];
  const namespaceDefault = typeof spec.namespace === "string" ? spec.namespace : "";
  const ids = new Set<string>();
  for (const field of ["ingressGateways", "egressGateways"]) {
    const gateways = components[field];
    if (!Array.isArray(gateways)) continue;
    for (const gateway of gateways) {
      if (!isPlainObject(gateway) || typeof gateway.name !== "string" || gateway.name === "") continue;
      const namespace = typeof gateway.namespace === "string" && gateway.namespace !== "" ? gateway.namespace : namespaceDefault;
      ids.add(`${namespace}/${gateway.name}`);
    }
  }
  return [...ids].sort();
}

function statusOf(object: unknown): InstallationStatus | undefined {
  const status = isPlainObject(object) ? object.status : undefined;
  if (!isPlainObject(status)) return undefined;
  const byCluster = new Map<string, Map<string, InstallationState>>();
  const clusters = isPlainObject(status.clusters) ? status.clusters : {};
  for (const cluster of Object.keys(clusters)) {
    const entry = clusters[cluster];
    const installations = isPlainObject(entry) && isPlainObject(entry.installations) ? entry.installations : {};
    const byRevision = new Map<string, InstallationState>();
    for (const revision of Object.keys(installations)) {
      const installation = installations[revision];
      if (!isPlainObject(installation)) continue;
      byRevision.set(revision, {
        state: typeof installation.state === "string" ? installation.state : undefined,
        message: typeof installation.message === "string" ? installation.message : undefined,
      });
    }
    byCluster.set(cluster, byRevision);
  }
  return byCluster;
}

function annotationsOf(object: unknown): Map<string, string> {
  const annotations = new Map<string, string>();
  const metadata = isPlainObject(object) ? object.metadata : undefined;
  const raw = isPlainObject(metadata) ? metadata.annotations : undefined;
  if (isPlainObject(raw)) for (const [key, value] of Object.entries(raw)) if (typeof value === "string") annotations.set(key, value);
  return annotations;
}

/**
 * Reads a lifecycle object. It never throws: what cannot be read is skipped and the first such
 * place is returned as `shapeProblem`, so that a malformed *old* object (stored before the
 * webhook was installed) can still be compared best-effort while a malformed *new* object is
 * denied with LG305.
 */
export function readLifecycleObject(kind: LifecycleKind, object: unknown): LifecycleObject {
  let shapeProblem: ShapeProblem | undefined;
  const problem = (segments: PathSegment[], message: string): void => {
    shapeProblem ??= { path: formatPath(segments), message };
  };
  const entries: Entry[] = [];

  if (!isPlainObject(object)) problem([], `the object must be a JSON object, not ${describeType(object)}`);
  const spec = isPlainObject(object) ? object.spec : undefined;
  if (spec !== undefined && spec !== null && !isPlainObject(spec)) {
    problem(["spec"], `spec must be an object, not ${describeType(spec)}`);
  }
  const installations = isPlainObject(spec) ? spec.installations : undefined;
  if (installations !== undefined && installations !== null && !Array.isArray(installations)) {
    problem(INSTALLATIONS, `spec.installations must be a list, not ${describeType(installations)}`);
  }

  (Array.isArray(installations) ? installations : []).forEach((item: unknown, index) => {
    const at = (...rest: PathSegment[]): PathSegment[] => [...INSTALLATIONS, index, ...rest];
    if (!isPlainObject(item)) {
      problem(at(), `an installation entry must be an object, not ${describeType(item)}`);
      return;
    }
    const rawKey = item[kind.keyField];
    let key = "";
    if (typeof rawKey === "string") key = rawKey;
    else if (rawKey !== undefined && rawKey !== null) {
      problem(at(kind.keyField), `${kind.keyField} must be a string, not ${describeType(rawKey)} (quote it in YAML)`);
      key = String(rawKey);
    }

    const skipValue = item.skipUpgradeValidation;
    if (skipValue !== undefined && skipValue !== null && typeof skipValue !== "boolean") {
      problem(at("skipUpgradeValidation"), `skipUpgradeValidation must be a boolean, not ${describeType(skipValue)}`);
    }

    const clusters: ClusterRef[] = [];
    const rawClusters = item.clusters;
    if (rawClusters !== undefined && rawClusters !== null && !Array.isArray(rawClusters)) {
      problem(at("clusters"), `clusters must be a list, not ${describeType(rawClusters)}`);
    }
    (Array.isArray(rawClusters) ? rawClusters : []).forEach((cluster: unknown, clusterIndex) => {
      if (!isPlainObject(cluster)) {
        problem(at("clusters", clusterIndex), `a cluster must be an object with a name, not ${describeType(cluster)}`);
        return;
      }
      if (typeof cluster.name !== "string") {
        problem(at("clusters", clusterIndex, "name"), `a cluster name must be a string, not ${describeType(cluster.name)}`);
        return;
      }
      const flag = cluster[kind.flagField];
      if (flag !== undefined && flag !== null && typeof flag !== "boolean") {
        problem(at("clusters", clusterIndex, kind.flagField), `${kind.flagField} must be a boolean, not ${describeType(flag)}`);
      }
      clusters.push({ name: cluster.name, flag: flag === true, index: clusterIndex });
    });

    const rawSpec = item.istioOperatorSpec;
    if (rawSpec !== undefined && rawSpec !== null && !isPlainObject(rawSpec)) {
      problem(at("istioOperatorSpec"), `istioOperatorSpec must be an object, not ${describeType(rawSpec)}`);
    }
    const iop: JsonObject = isPlainObject(rawSpec) ? rawSpec : {};
    if (iop.tag !== undefined && iop.tag !== null && typeof iop.tag !== "string") {
      problem(at("istioOperatorSpec", "tag"), `tag must be a string, not ${describeType(iop.tag)}: quote it in YAML ("${describeValue(iop.tag, 32)}")`);
    }
    const controlPlaneRevision = item.controlPlaneRevision;
    if (controlPlaneRevision !== undefined && controlPlaneRevision !== null && typeof controlPlaneRevision !== "string") {
      problem(at("controlPlaneRevision"), `controlPlaneRevision must be a string, not ${describeType(controlPlaneRevision)}`);
    }

    let clusterFlags: ReadonlyMap<string, boolean> = NO_CLUSTERS;
    if (clusters.length > 0) {
      const flags = new Map<string, boolean>();
      for (const c of clusters) flags.set(c.name, c.flag || flags.get(c.name) === true);
      clusterFlags = flags;
    }
    entries.push({
      index,
      key,
      clusters,
      clusterFlags,
      skip: skipValue === true,
      spec: iop,
      controlPlaneRevision,
      gateways: kind.short === "GLM" ? gatewayIdentity(iop) : NO_GATEWAYS,
      group: 0,
      raw: item,
    });
  });
  const groupOfName = kind.short === "GLM" ? assignGatewayGroups(entries) : new Map<string, number>();

  const byKey = new Map<string, Entry[]>();
  const byCluster = new Map<string, Entry[]>();
  const byInstallation = new Map<string, Installation>();
  const append = <K>(map: Map<K, Entry[]>, key: K, entry: Entry): void => {
    const list = map.get(key);
    if (list) list.push(entry);
    else map.set(key, [entry]);
  };
  const byGroupOnCluster = new Map<string, Entry[]>();
  const gateways = kind.short === "GLM";
  for (const entry of entries) {
    append(byKey, entry.key, entry);

    for (const cluster of entry.clusterFlags.keys()) {
      append(byCluster, cluster, entry);
      const id = installationKey(entry.key, cluster);
      const installation = byInstallation.get(id);
      if (installation) installation.entries.push(entry);
      else byInstallation.set(id, { key: entry.key, cluster, entries: [entry] });
      if (gateways) append(byGroupOnCluster, groupKey(entry.group, cluster), entry);
    }
  }
  return new ReadObject(kind, entries, byKey, byCluster, byInstallation, byGroupOnCluster, groupOfName, shapeProblem, object);

}

/**
 * A read lifecycle object. The indexes most reviews never use are built on first use; they are
 * getters on the class, so every object has one shape (getters on an object literal give each
 * object a shape of its own, and every property read on the model turned megamorphic).
 */
class ReadObject implements LifecycleObject {
  private keyIdentity: Map<string, Entry> | undefined;
  private annotationMap: Map<string, string> | undefined;
  private statusRead: { value: InstallationStatus | undefined } | undefined;

  constructor(
    readonly kind: LifecycleKind,
    readonly entries: readonly Entry[],
    readonly byKey: ReadonlyMap<string, readonly Entry[]>,
    readonly byCluster: ReadonlyMap<string, readonly Entry[]>,
    readonly byInstallation: ReadonlyMap<string, Installation>,
    readonly byGroupOnCluster: ReadonlyMap<string, readonly Entry[]>,
    readonly groupOfName: ReadonlyMap<string, number>,
    readonly shapeProblem: ShapeProblem | undefined,
    private readonly source: unknown,
  ) {}

  get byKeyIdentity(): ReadonlyMap<string, Entry> {
    if (!this.keyIdentity) {
      const index = new Map<string, Entry>();
      for (const entry of this.entries) {
        const identity = identityKey(entry.key, entry);
        if (!index.has(identity)) index.set(identity, entry);
      }
      this.keyIdentity = index;
    }
    return this.keyIdentity;
  }

  get annotations(): ReadonlyMap<string, string> {
    return (this.annotationMap ??= annotationsOf(this.source));
  }

  get status(): InstallationStatus | undefined {
    return (this.statusRead ??= { value: statusOf(this.source) }).value;
  }
}

/** How a key reads in messages. */
export function revisionLabel(key: string): string {
  return key === "" ? "(revisionless)" : shown(key);
}

/** Whether two entries declare exactly the same gateways (an ingress and an east-west gateway of one revision differ). */
export function identicalGateways(a: Entry, b: Entry): boolean {
  return a.gateways.length === b.gateways.length && a.gateways.every((g, i) => g === b.gateways[i]);
}

/** The key of a (gateway group, cluster) in byGroupOnCluster: one flat map, not a map per cluster. */
export function groupKey(group: number, cluster: string): string {
  return `${group}\u0000${cluster}`;
}

/** `key` and exact gateway identity, as one map key. */
export function identityKey(key: string, entry: Pick<Entry, "gateways">): string {
  return `${key}\u0000${entry.gateways.join("\u0000")}`;
}

/** Two entries of one object are the same gateway when either declares no names or their names connect them. */
export function sameGateway(a: Entry, b: Entry): boolean {
  return a.group === NAMELESS || b.group === NAMELESS || a.group === b.group;
}

const NO_CLUSTERS: ReadonlyMap<string, boolean> = new Map();
const NO_GATEWAYS: readonly string[] = Object.freeze([]);

/**
 * Puts GLM entries that share a gateway name, directly or through other entries, in one group
 * (union-find over names: linear). "The same gateway" is then an equivalence, so the rules can
 * summarise a group once instead of comparing every pair of entries on a cluster.
 */
function assignGatewayGroups(entries: Entry[]): Map<string, number> {
  const parent: number[] = [];
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[i] !== root) {
      const next = parent[i] as number;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  const firstHolder = new Map<string, number>();
  entries.forEach((entry, i) => {
    parent[i] = i;
    for (const name of entry.gateways) {
      const holder = firstHolder.get(name);
      if (holder === undefined) firstHolder.set(name, i);
      else {
        const a = find(holder);
        const b = find(i);
        if (a !== b) parent[b] = a;
      }
    }
  });
  entries.forEach((entry, i) => {
    (entry as { group: number }).group = entry.gateways.length === 0 ? NAMELESS : find(i);
  });
  const groupOfName = new Map<string, number>();
  for (const [name, holder] of firstHolder) groupOfName.set(name, find(holder));
  return groupOfName;
}

export function flagOn(entry: Entry, cluster: string): boolean {
  return entry.clusterFlags.get(cluster) === true;
}

/** Every cluster name an object mentions, in first-seen order. */
export function clusterNames(object: LifecycleObject): string[] {
  return [...object.byCluster.keys()];
}

/** Entries of `object` with `key` on `cluster`. */
export function entriesWith(object: LifecycleObject, key: string, cluster: string): readonly Entry[] {
  return object.byInstallation.get(installationKey(key, cluster))?.entries ?? [];
}
