import { GLM, ILM } from "../lifecycle/kinds.js";
import { classifyTagChange, parseTag, revisionNameFor } from "../lifecycle/tags.js";
import { shown } from "../lifecycle/text.js";
import { isPlainObject, type JsonObject } from "../lifecycle/values.js";

/** Why no plan is written: a clear reason and what to do instead (exit 2). */
export class PlanRefusal extends Error {}

export interface PlanRequest {
  /** The live objects, as `kubectl get -o yaml` prints them: one ILM and the GLMs that use it (others are left out). */
  readonly objects: readonly JsonObject[];
  readonly tag: string;
  readonly hub?: string;
  readonly revision?: string;
  /** Which ILM, when the input holds several. */
  readonly name?: string;
}

export interface PlanStep {
  readonly file: string;
  readonly title: string;
  /** Every object as it must be applied at this step, clean for Git. */
  readonly objects: readonly JsonObject[];
}

export interface CanaryPlan {
  readonly kind: "canary";
  readonly ilm: { readonly namespace: string; readonly name: string };
  readonly glms: readonly { readonly namespace: string; readonly name: string; readonly gatewayRevision: string }[];
  readonly oldRevision: string;
  readonly newRevision: string;
  readonly oldTag: string;
  readonly tag: string;
  readonly hub: string | undefined;
  /** Clusters the revision runs on, and those where it is the default. */
  readonly clusters: readonly string[];
  readonly defaultOn: readonly string[];
  /** The cleaned input: what step 01 is applied over. */
  readonly current: readonly JsonObject[];
  readonly steps: readonly PlanStep[];
  readonly notes: readonly string[];
}

export interface PatchPlan {
  readonly kind: "patch";
  readonly oldTag: string;
  readonly tag: string;
  /** The objects with the one in-place edit made. */
  readonly edited: readonly JsonObject[];
}

export type Plan = CanaryPlan | PatchPlan;

const isKind = (o: JsonObject, kind: string): boolean => o.kind === kind && typeof o.apiVersion === "string" && o.apiVersion.startsWith("admin.gloo.solo.io/");
const metadataOf = (o: JsonObject): JsonObject => (isPlainObject(o.metadata) ? o.metadata : {});
const nameOf = (o: JsonObject): string => String(metadataOf(o).name ?? "");
const namespaceOf = (o: JsonObject): string => String(metadataOf(o).namespace ?? "");
const installations = (o: JsonObject): JsonObject[] => {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  return Array.isArray(spec.installations) ? spec.installations.filter(isPlainObject) : [];
};
const clustersOf = (entry: JsonObject): JsonObject[] => (Array.isArray(entry.clusters) ? entry.clusters.filter(isPlainObject) : []);
const specOf = (entry: JsonObject): JsonObject => (isPlainObject(entry.istioOperatorSpec) ? entry.istioOperatorSpec : {});

/** What `kubectl get -o yaml` adds that does not belong in Git: status and server-side bookkeeping. */
export function cleanForGit(object: JsonObject): JsonObject {
  const copy = structuredClone(object);
  delete copy.status;
  const metadata = metadataOf(copy);
  for (const key of ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"]) delete metadata[key];
  if (isPlainObject(metadata.annotations)) {
    delete metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"];
    if (Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  }
  return copy;
}

function withInstallations(object: JsonObject, entries: JsonObject[]): JsonObject {
  const copy = structuredClone(object);
  (copy.spec as JsonObject).installations = entries;
  return copy;
}

function setFlag(entry: JsonObject, flag: string, on: (cluster: string) => boolean): JsonObject {
  const copy = structuredClone(entry);
  copy.clusters = clustersOf(copy).map((c) => ({ ...c, [flag]: on(String(c.name)) }));
  return copy;
}

/** The guide's revision name for the tag (`1-24`), or `1-24-2` when that is taken. */
function chooseRevision(requested: string | undefined, tag: string, taken: ReadonlySet<string>): string {
  if (requested) {
    if (taken.has(requested)) throw new PlanRefusal(`--revision ${shown(requested)} is already used by an entry: choose another`);
    return requested;
  }
  const parsed = parseTag(tag);
  if (!parsed.ok) throw new PlanRefusal(`--tag ${shown(tag)} is not a version (${parsed.reason}): use a released tag such as 1.24.2-solo`);
  const short = revisionNameFor(parsed.tag);
  if (!taken.has(short)) return short;
  const long = `${short}-${parsed.tag.patch}`;
  if (!taken.has(long)) return long;
  throw new PlanRefusal(`revisions ${short} and ${long} are both taken: name the canary with --revision`);
}

/**
 * The canary upgrade of the guide, as numbered steps over the live objects: add the new revision
 * beside the old one with the flags false (GLM canaries on the new control plane), switch
 * defaultRevision, switch activeGateway, remove the old gateways, then the old revision. A tag
 * change that is a plain patch upgrade needs none: it is one in-place edit.
 */
export function planUpgrade(request: PlanRequest): Plan {
  const ilms = request.objects.filter((o) => isKind(o, ILM.kind));
  const chosen = request.name ? ilms.filter((o) => nameOf(o) === request.name) : ilms;
  if (chosen.length === 0) throw new PlanRefusal(request.name ? `no IstioLifecycleManager named ${shown(request.name)} in the input` : "the input holds no IstioLifecycleManager: export it with kubectl get istiolifecyclemanager <name> -o yaml");
  if (chosen.length > 1) throw new PlanRefusal(`the input holds several IstioLifecycleManagers (${chosen.map((o) => shown(nameOf(o))).join(", ")}): pick one with --name`);
  const ilm = chosen[0] as JsonObject;
  const entries = installations(ilm);
  if (entries.length === 0) throw new PlanRefusal(`IstioLifecycleManager ${shown(nameOf(ilm))} has no installations`);
  if (entries.some((e) => typeof e.revision !== "string" || e.revision === "")) {
    throw new PlanRefusal("a revisionless entry (no revision) is upgraded in place by Gloo and cannot run a canary beside itself: move it to a revisioned installation first");
  }
  const revisions = [...new Set(entries.map((e) => String(e.revision)))];
  if (revisions.length > 1) throw new PlanRefusal(`a canary is already in progress (revisions ${revisions.map((r) => shown(r)).join(", ")}): finish it (switch, then remove the old entry) or remove the canary first`);
  const oldRevision = revisions[0] as string;
  const oldTags = [...new Set(entries.map((e) => String(specOf(e).tag ?? "")))];
  const oldTag = oldTags.join(", ");

  const glmObjects = request.objects.filter((o) => isKind(o, GLM.kind));
  const usesOld = (e: JsonObject): boolean => e.controlPlaneRevision === oldRevision || (e.controlPlaneRevision === undefined && e.gatewayRevision === oldRevision);
  const glms = glmObjects.filter((g) => installations(g).some(usesOld));

  // A plain patch upgrade with the suffix as written is one in-place edit, not a canary.
  const patchOnly = !request.hub && !request.revision && oldTags.every((t) => classifyTagChange(t, request.tag).kind === "patchUpgrade");
  if (patchOnly) {
    const bump = (e: JsonObject): JsonObject => ({ ...e, istioOperatorSpec: { ...specOf(e), tag: request.tag } });
    const edited = [withInstallations(cleanForGit(ilm), entries.map(bump)), ...glms.map((g) => withInstallations(cleanForGit(g), installations(g).map((e) => (usesOld(e) && typeof specOf(e).tag === "string" ? bump(e) : e))))];
    return { kind: "patch", oldTag, tag: request.tag, edited };
  }
  if (oldTags.length === 1 && oldTags[0] === request.tag && !request.hub) throw new PlanRefusal(`revision ${shown(oldRevision)} already runs ${shown(request.tag)}: nothing to upgrade`);

  const taken = new Set<string>([oldRevision, ...glms.flatMap((g) => installations(g).map((e) => String(e.gatewayRevision ?? "")))]);
  const newRevision = chooseRevision(request.revision, request.tag, taken);
  const notes: string[] = [];
  if (entries.some((e) => e.skipUpgradeValidation === true)) notes.push(`The ${oldRevision} entries set skipUpgradeValidation: true; the canary entries do not (a new entry needs no bypass). Remove the flag from your Git copies too.`);

  const canaryOf = (entry: JsonObject, key: "revision" | "gatewayRevision", flag: string, revision: string, extra: JsonObject = {}): JsonObject => {
    const canary = setFlag(structuredClone(entry), flag, () => false);
    delete canary.skipUpgradeValidation;
    canary[key] = revision;
    const spec = { ...specOf(entry) };
    if (typeof spec.tag === "string" || key === "revision") spec.tag = request.tag;
    if (request.hub && (key === "revision" || typeof spec.hub === "string")) spec.hub = request.hub;
    if (spec.revision === oldRevision) spec.revision = revision;
    canary.istioOperatorSpec = spec;
    return { ...canary, ...extra };
  };

  const clusters = [...new Set(entries.flatMap((e) => clustersOf(e).map((c) => String(c.name))))];
  const defaultOn = [...new Set(entries.flatMap((e) => clustersOf(e).filter((c) => c.defaultRevision === true).map((c) => String(c.name))))];
  const ilmCanaries = entries.map((e) => canaryOf(e, "revision", "defaultRevision", newRevision));

  const glmPlans = glms.map((g) => {
    const gEntries = installations(g);
    const taken = new Set(gEntries.map((e) => String(e.gatewayRevision ?? "")));
    const gatewayRevision = taken.has(newRevision) ? `${newRevision}-canary` : newRevision;
    const old = gEntries.filter(usesOld);
    const canaries = old.map((e) => canaryOf(e, "gatewayRevision", "activeGateway", gatewayRevision, { controlPlaneRevision: newRevision }));
    const activeOn = new Set(old.flatMap((e) => clustersOf(e).filter((c) => c.activeGateway === true).map((c) => `${gEntries.indexOf(e)}\u0000${String(c.name)}`)));
    return { object: cleanForGit(g), entries: gEntries, old, canaries, gatewayRevision, activeOn };
  });

  const ilmClean = cleanForGit(ilm);
  const ilmStep = (olds: JsonObject[] | undefined, canaries: JsonObject[]): JsonObject => withInstallations(ilmClean, [...(olds ?? []), ...canaries]);
  const glmStep = (mode: "added" | "switched" | "removed"): JsonObject[] =>
    glmPlans.map((p) => {
      const rest = p.entries.filter((e) => !p.old.includes(e));
      // An old entry's flag moves to its canary, cluster by cluster, where it was active.
      const wasActive = (old: JsonObject) => (cluster: string) => p.activeOn.has(`${p.entries.indexOf(old)}\u0000${cluster}`);
      if (mode === "added") return withInstallations(p.object, [...p.entries, ...p.canaries]);
      const switched = p.canaries.map((c, i) => setFlag(c, "activeGateway", wasActive(p.old[i] as JsonObject)));
      if (mode === "switched") return withInstallations(p.object, [...p.entries.map((e) => (p.old.includes(e) ? setFlag(e, "activeGateway", () => false) : e)), ...switched]);
      return withInstallations(p.object, [...rest, ...switched]);
    });

  const switchedIlmCanaries = ilmCanaries.map((c, i) => setFlag(c, "defaultRevision", (cluster) => clustersOf(entries[i] as JsonObject).some((x) => x.name === cluster && x.defaultRevision === true)));
  const demotedOld = entries.map((e) => setFlag(e, "defaultRevision", () => false));

  const steps: Omit<PlanStep, "file">[] = [
    { title: `Add ${newRevision} beside ${oldRevision} as a canary (flags false)`, objects: [ilmStep(entries, ilmCanaries), ...glmStep("added")] },
    { title: `Switch defaultRevision to ${newRevision}`, objects: [ilmStep(demotedOld, switchedIlmCanaries), ...glmStep("added")] },
  ];
  const slugs = ["add-canary", "switch-default-revision"];
  if (glmPlans.some((p) => p.activeOn.size > 0)) {
    steps.push({ title: "Switch activeGateway to the canary gateways", objects: [ilmStep(demotedOld, switchedIlmCanaries), ...glmStep("switched")] });
    slugs.push("switch-active-gateway");
  }
  if (glmPlans.length > 0) {
    steps.push({ title: `Remove the ${oldRevision} gateways`, objects: [ilmStep(demotedOld, switchedIlmCanaries), ...glmStep("removed")] });
    slugs.push("remove-old-gateways");
  }
  steps.push({ title: `Remove revision ${oldRevision}`, objects: [ilmStep(undefined, switchedIlmCanaries), ...glmStep("removed")] });
  slugs.push("remove-old-revision");

  return {
    kind: "canary",
    ilm: { namespace: namespaceOf(ilm), name: nameOf(ilm) },
    glms: glmPlans.map((p) => ({ namespace: namespaceOf(p.object), name: nameOf(p.object), gatewayRevision: p.gatewayRevision })),
    oldRevision,
    newRevision,
    oldTag,
    tag: request.tag,
    hub: request.hub,
    clusters,
    defaultOn,
    current: [ilmClean, ...glmPlans.map((p) => p.object)],
    steps: steps.map((s, i) => ({ ...s, file: `${String(i + 1).padStart(2, "0")}-${slugs[i]}.yaml` })),
    notes,
  };
}
