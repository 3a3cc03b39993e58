import type { LifecycleKind } from "../lifecycle/kinds.js";
import type { Entry, LifecycleObject } from "../lifecycle/model.js";
import type { RequestUser } from "./skip-policy.js";

export type Severity = "deny" | "warn";
export type Operation = "CREATE" | "UPDATE" | "DELETE";

/** What a rule reports. `field` is the index path in the new object. */
export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly field: string;
  readonly message: string;
  /**
   * For rules that `skipUpgradeValidation` can bypass: the entry whose flag decides, and whether
   * that flag is read from the new object (LG1xx) or the old one (LG203: the entry is gone).
   */
  readonly governedBy?: { readonly entry: Entry; readonly object: "old" | "new" };
  /** New-object entries a structural finding is about (LG301), so findings about them can defer to it. */
  readonly about?: readonly Entry[];
  /**
   * State rules: what the violation is, independent of list positions (`1-23\u0000cluster1`), so
   * the engine can tell a problem the old object already had from one this edit introduces.
   */
  readonly violations?: readonly string[];
}

/** Another lifecycle object in the cluster, as the cluster cache holds it. */
export interface ClusterObject {
  readonly namespace: string;
  readonly name: string;
  readonly object: LifecycleObject;
}

/**
 * Cluster state as seen by the LG5xx rules. Rules never call the API server: the shell hands
 * them a snapshot (an informer cache in the server, a one-off list in the CLI).
 */
export interface ClusterView {
  /** True only while the snapshot is complete and current; LG5xx never run on anything less. */
  readonly synced: boolean;
  /** Every object of `kind` in the cluster (including, possibly, the one under review). */
  objects(kind: LifecycleKind): readonly ClusterObject[];
}

export const NO_CLUSTER: ClusterView = { synced: false, objects: () => [] };

/** A view over a fixed set of objects (the CLI's input set, a plan's step): complete as given. */
export function fixedClusterView(objects: readonly (ClusterObject & { readonly kind: LifecycleKind })[], synced = true): ClusterView {
  return { synced, objects: (kind) => objects.filter((o) => o.kind === kind) };
}

/** Whether `skipUpgradeValidation: true` is honored for this request (operator policy). */
export interface SkipPolicyDecision {
  readonly honored: boolean;
  /** Why not, for messages: "this webhook ignores skipUpgradeValidation". */
  readonly reason?: string;
}

export interface RuleContext {
  readonly operation: Operation;
  readonly kind: LifecycleKind;
  readonly namespace: string;
  readonly name: string;
  /** The object before the edit; undefined on CREATE. On DELETE, the object being deleted. */
  readonly oldObject: LifecycleObject | undefined;
  /** The object after the edit; on DELETE, an object with no installations. */
  readonly newObject: LifecycleObject;
  /** Who asks (request.userInfo), when known. */
  readonly user: RequestUser | undefined;
  readonly skipPolicy: SkipPolicyDecision;
  readonly cluster: ClusterView;
  /** Whether the shell has a cluster view at all (the CLI without --cluster has none). */
  readonly clusterAware: boolean;
  /**
   * Analyses several rules share, computed once per review (see `memo`). Kept on the context
   * rather than in WeakMaps keyed by it: V8 clears WeakMap entries late, which kept every
   * review's objects alive past young-generation GCs and cost more than the analyses themselves.
   */
  readonly shared: Map<string, unknown>;
  /**
   * Called in every loop whose length the object decides: every few hundred calls it asks the
   * shell's clock and throws DeadlineExceeded when the answer is due, so no rule, however large
   * its input, holds the answer past the budget.
   */
  readonly tick: () => void;
}

/** Thrown by `tick` when the answer is due; the engine answers with its deadline decision. */
export class DeadlineExceeded extends Error {
  constructor() {
    super("the deadline passed");
  }
}

const TICKS_PER_CLOCK_READ = 256;

/** A `tick` for a deadline check; a no-op without one. */
export function ticker(deadlinePassed: (() => boolean) | undefined): () => void {
  if (!deadlinePassed) return () => {};
  let count = 0;
  return () => {
    if (++count % TICKS_PER_CLOCK_READ !== 0) return;
    if (deadlinePassed()) throw new DeadlineExceeded();
  };
}

/** Computes `compute(ctx)` once per review under `key`. */
export function memo<T>(ctx: RuleContext, key: string, compute: (ctx: RuleContext) => T): T {
  if (ctx.shared.has(key)) return ctx.shared.get(key) as T;
  const value = compute(ctx);
  ctx.shared.set(key, value);
  return value;
}

/** Results of the rules that ran before; only the reporting rules (LG402) read it. */
export interface PriorResults {
  readonly bypassed: readonly Finding[];
}

/** The full explanation of a rule: `lifecycle-guard rules <ID>` and docs/rules.md print it. */
export interface RuleDoc {
  /** Why the rule exists, in the upgrade guide's words where it has them. */
  readonly why: string;
  /** A change that triggers the rule (YAML, the relevant lines), and what to do instead. */
  readonly example?: { readonly before: string; readonly after: string; readonly instead?: string };
  readonly fix: string;
  /** How to get past it deliberately; the default is worked out from the rule's kind. */
  readonly bypass?: string;
}

export interface RuleMeta {
  readonly id: string;
  readonly severity: Severity;
  /** One line, for docs and `lifecycle-guard rules`. */
  readonly summary: string;
  readonly doc: RuleDoc;
  readonly operations: readonly Operation[];
  /** Rules a skipped entry bypasses (LG1xx, LG203). */
  readonly skippable?: boolean;
  /** LG5xx: evaluated only from a synced cluster view. */
  readonly needsCluster?: boolean;
  /** Kinds the rule applies to; both when absent. */
  readonly kinds?: readonly ("ILM" | "GLM")[];
  /**
   * The rule judges the new object's state, not the change: a violation the old object already
   * had, unchanged, is a warning that says so, never a denial (spec, "Ratcheting").
   */
  readonly judgesState?: boolean;
}

export interface RuleResult {
  readonly findings: Finding[];
  /** Findings past KEPT_PER_RULE that count (not bypassed): reported as "and N more". */
  readonly omitted: number;
  /** How often each violation key was reported (all findings, kept or not): the ratchet compares these. */
  readonly violationCounts: ReadonlyMap<string, number>;
}

export interface Rule extends RuleMeta {
  check(ctx: RuleContext, prior: PriorResults): RuleResult;
}

/**
 * An answer names at most 20 causes; keeping more findings than that per rule only costs memory
 * (renaming 40,000 defaults would keep 80,000 messages). The rest are counted, apart by whether
 * skipUpgradeValidation bypasses them, so the decision and the count stay exact.
 */
export const KEPT_PER_RULE = 50;

/** Declares a rule; `report` builds findings carrying the rule's id and severity. */
export function defineRule(
  meta: RuleMeta,
  check: (ctx: RuleContext, report: Reporter, prior: PriorResults) => void,
): Rule {
  return {
    ...meta,
    check(ctx, prior) {
      const findings: Finding[] = [];
      let keptCounting = 0;
      let keptBypassed = 0;
      let omitted = 0;
      const violationCounts = new Map<string, number>();
      const report: Reporter = (field, message, governedBy, about, violations) => {
        for (const key of violations ?? []) violationCounts.set(key, (violationCounts.get(key) ?? 0) + 1);
        const bypassed = ctx.skipPolicy.honored && governedBy?.entry.skip === true;
        if (bypassed ? keptBypassed++ >= KEPT_PER_RULE : keptCounting++ >= KEPT_PER_RULE) {
          if (!bypassed) omitted++;
          return;
        }
        findings.push({ rule: meta.id, severity: meta.severity, field, message: `${meta.id} ${message}`, ...(governedBy ? { governedBy } : {}), ...(about ? { about } : {}), ...(violations ? { violations } : {}) });
      };
      check(ctx, report, prior);
      return { findings, omitted, violationCounts };
    },
  };
}

export type Reporter = (field: string, message: string, governedBy?: Finding["governedBy"], about?: readonly Entry[], violations?: readonly string[]) => void;
