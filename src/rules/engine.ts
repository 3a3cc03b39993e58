import { lifecycleKindOf, type LifecycleKind } from "../lifecycle/kinds.js";
import { readLifecycleObject, type ShapeProblem } from "../lifecycle/model.js";
import { Comparer, isPlainObject } from "../lifecycle/values.js";
import { RULES } from "./registry.js";
import { decideSkipPolicy, HONOR_SKIP, type RequestUser, type SkipPolicy } from "./skip-policy.js";
import { DeadlineExceeded, NO_CLUSTER, ticker, type ClusterView, type Finding, type Operation, type Rule, type RuleContext } from "./types.js";

/** What the engine needs to know about one admission request; no HTTP in sight. */
export interface EngineInput {
  readonly operation: string;
  /** Group and kind of the object (AdmissionRequest.kind, or read from the object). */
  readonly group: string | undefined;
  readonly kind: string | undefined;
  readonly namespace?: string;
  readonly name?: string;
  readonly subResource?: string;
  readonly oldObject: unknown;
  readonly newObject: unknown;
  readonly user?: RequestUser;
}

export interface EngineOptions {
  readonly rules?: readonly Rule[];
  readonly skipPolicy?: SkipPolicy;
  readonly cluster?: ClusterView;
  /** False when the shell has no cluster view at all (the CLI without --cluster). */
  readonly clusterAware?: boolean;
  /** LG701: deny deleting a lifecycle manager that still installs something. On unless false. */
  readonly deletionProtection?: boolean;
  /** The operator's severity per rule (`off` removes it); see severity-policy.ts. */
  readonly severities?: ReadonlyMap<string, "deny" | "warn" | "off">;
  /**
   * Asked before each rule: true when the answer is due now. Rules are short and synchronous, so
   * checking between them bounds the overrun to one rule. The shell supplies the clock.
   */
  readonly deadlinePassed?: () => boolean;
}

export interface RuleFailure {
  readonly rule: string;
  readonly error: string;
}

export interface Decision {
  readonly allowed: boolean;
  /** Findings that count, in rule order; bypassed findings are not here (LG402 reports them). */
  readonly findings: readonly Finding[];
  readonly denials: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly bypassed: readonly Finding[];
  /** Set when a rule threw: the request is denied with a 500 code naming the rule. */
  readonly failure?: RuleFailure;
  /** Set when the deadline passed before every rule ran: no decision was made. */
  readonly deadlineExceeded?: { readonly rulesRun: number; readonly rulesTotal: number };
  /** The lifecycle kind checked, or undefined when the request was not ours to judge. */
  readonly kind?: LifecycleKind;
  /** Warnings that are not findings (e.g. that the cluster checks were skipped). */
  readonly notices?: readonly string[];
  /** Denials beyond what each rule keeps (see KEPT_PER_RULE): counted in "and N more". */
  readonly omittedDenials?: number;
}

/** The rule the deletion-protection setting turns off. */
const DELETION_RULE = "LG701";

/** The one warning a review gets while the cluster cache cannot be trusted. */
export const CLUSTER_NOT_SYNCED_NOTICE =
  "lifecycle-guard: the cluster cache is not synced, so the cross-object rules LG501-LG503 were not evaluated for this change";

const ALLOW_UNJUDGED: Decision = { allowed: true, findings: [], denials: [], warnings: [], bypassed: [] };

function uniqueFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}\u0000${f.field}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * What a user must read is the fix. A warning about the new state of a field that is denied
 * anyway (LG304 "revision runs tag …" beside LG102 on that tag) would advise on a state that will
 * never be stored; and in-place findings about entries that LG301 reports as one installation
 * held twice would bury the structural problem that makes them meaningless.
 */
function withoutNoise(findings: Finding[]): Finding[] {
  const deniedFields = new Set<string>();
  const duplicated = new Set<unknown>();
  for (const f of findings) {
    if (f.severity === "deny") deniedFields.add(f.field);
    if (f.rule === "LG301") for (const entry of f.about ?? []) duplicated.add(entry);
  }
  if (deniedFields.size === 0) return findings;
  return findings.filter((f) => {
    if (f.severity === "warn" && deniedFields.has(f.field)) return false;
    if (duplicated.size > 0 && f.rule.startsWith("LG1") && f.governedBy?.object === "new" && duplicated.has(f.governedBy.entry)) return false;
    return true;
  });
}

function isBypassed(finding: Finding, ctx: RuleContext): boolean {
  return ctx.skipPolicy.honored && finding.governedBy !== undefined && finding.governedBy.entry.skip;
}

const applicableCache = new WeakMap<readonly Rule[], Map<string, readonly Rule[]>>();

/** The rules for an operation and kind, computed once per rule list rather than per review. */
function applicableRules(rules: readonly Rule[], operation: Operation, kind: "ILM" | "GLM"): readonly Rule[] {
  let byCase = applicableCache.get(rules);
  if (!byCase) applicableCache.set(rules, (byCase = new Map()));
  const key = `${operation}/${kind}`;
  let result = byCase.get(key);
  if (!result) byCase.set(key, (result = rules.filter((r) => r.operations.includes(operation) && (!r.kinds || r.kinds.includes(kind)))));
  return result;
}

const JUDGED_OPERATIONS: ReadonlySet<string> = new Set<Operation>(["CREATE", "UPDATE", "DELETE"]);

function isJudged(operation: string): operation is Operation {
  return JUDGED_OPERATIONS.has(operation);
}

/** Reads a CREATE, UPDATE or DELETE of a lifecycle object into what rules see. */
export function reviewContext(input: EngineInput & { operation: Operation }, kind: LifecycleKind, options: EngineOptions = {}): RuleContext {
  const hasOld = input.operation !== "CREATE" && input.oldObject != null;
  return {
    operation: input.operation,
    kind,
    namespace: input.namespace ?? "",
    name: input.name ?? "",
    oldObject: hasOld ? readLifecycleObject(kind, input.oldObject) : undefined,
    // A DELETE leaves nothing behind: the new state installs nothing.
    newObject: readLifecycleObject(kind, input.operation === "DELETE" ? {} : input.newObject),
    user: input.user,
    tick: ticker(options.deadlinePassed),
    skipPolicy: decideSkipPolicy(options.skipPolicy ?? HONOR_SKIP, input.user),
    cluster: options.cluster ?? NO_CLUSTER,
    clusterAware: options.clusterAware ?? false,
    shared: new Map(),
  };
}

/** The paths where nothing of the object can be read: a problem there is never ratcheted. */
const UNREADABLE_PATHS: ReadonlySet<string> = new Set(["", "spec", "spec.installations"]);

const sameProblem = (a: ShapeProblem | undefined, b: ShapeProblem | undefined): boolean => a !== undefined && b !== undefined && a.path === b.path && a.message === b.message;

function preExistingShapeProblem(ctx: RuleContext): boolean {
  const problem = ctx.newObject.shapeProblem;
  return ctx.operation === "UPDATE" && problem !== undefined && !UNREADABLE_PATHS.has(problem.path) && sameProblem(problem, ctx.oldObject?.shapeProblem);
}

const PRE_EXISTING = " (pre-existing: the object had it before this edit, so not denied)";

const downgrade = (f: Finding): Finding => ({ ...f, severity: "warn", message: `${f.message}${PRE_EXISTING}` });

/**
 * Ratcheting (spec, "Decisions"): an object stored before lifecycle-guard was installed may
 * carry a structural problem. Denying every later UPDATE for it would freeze the object (no
 * label, no GitOps tracking annotation, not even lifecycle-guard.io/allow-delete), as Kubernetes
 * ratchets CRD validation to avoid. So a state rule's denial stands only for a violation this edit
 * introduces or makes worse, compared per installation, cluster or key: the rule is run over the
 * old object, and a violation reported at least as often there is a warning that says it
 * pre-exists. An UPDATE that changes nothing under spec is never denied, except for an object the
 * rules cannot read at all.
 */
function ratchet(ctx: RuleContext, input: EngineInput, kept: Finding[], state: ReadonlyMap<string, { readonly rule: Rule; readonly counts: ReadonlyMap<string, number> }>): Finding[] {
  const old = ctx.oldObject;
  if (ctx.operation !== "UPDATE" || !old || !kept.some((f) => f.severity === "deny")) return kept;
  const unreadable = (f: Finding): boolean => f.rule === "LG305" && UNREADABLE_PATHS.has(f.field);
  const specOf = (o: unknown): unknown => (isPlainObject(o) ? o.spec : undefined);
  if (!new Comparer(ctx.tick).firstDifference(specOf(input.oldObject), specOf(input.newObject))) {
    return kept.map((f) => (f.severity === "deny" && !unreadable(f) ? downgrade(f) : f));
  }
  // The state rules that denied, run once more over the old object (as if it were being created).
  const mirror: RuleContext = { ...ctx, operation: "CREATE", oldObject: undefined, newObject: old, shared: new Map() };
  const before = new Map<string, ReadonlyMap<string, number>>();
  for (const [id, { rule }] of state) {
    if (kept.some((f) => f.rule === id && f.severity === "deny")) before.set(id, rule.check(mirror, { bypassed: [] }).violationCounts);
  }
  return kept.map((f) => {
    if (f.severity !== "deny" || unreadable(f)) return f;
    if (f.rule === "LG305") return preExistingShapeProblem(ctx) ? downgrade(f) : f;
    const after = state.get(f.rule)?.counts;
    const had = before.get(f.rule);
    if (!f.violations?.length || !after || !had) return f;
    return f.violations.every((key) => (had.get(key) ?? 0) >= (after.get(key) ?? 0)) ? downgrade(f) : f;
  });
}

/**
 * The answer when time runs out. A denial already found is certain whatever the remaining rules
 * would say, so it is given as such (ON_DEADLINE=allow can never turn a known denial into an
 * allowance); otherwise no decision was made.
 */
function outOfTime(kind: LifecycleKind, kept: readonly Finding[], rulesRun: number, rulesTotal: number): Decision {
  const denials = uniqueFindings(kept.filter((f) => f.severity === "deny"));
  const deadlineExceeded = { rulesRun, rulesTotal };
  if (denials.length > 0) return { allowed: false, findings: denials, denials, warnings: [], bypassed: [], kind, notices: [NOT_EVERY_RULE_RAN] };
  return { ...ALLOW_UNJUDGED, allowed: false, kind, deadlineExceeded };
}

const NOT_EVERY_RULE_RAN = "lifecycle-guard: this change was denied before every rule could run within the time budget; fix the denials above and retry";

/**
 * Decides one request. Pure: the same input and options always give the same decision, which is
 * what makes dry-run answers identical to real ones.
 */
export function evaluate(input: EngineInput, options: EngineOptions = {}): Decision {
  const kind = lifecycleKindOf(input.group, input.kind);
  if (!kind) return ALLOW_UNJUDGED;
  const operation = input.operation;
  if (!isJudged(operation)) return { ...ALLOW_UNJUDGED, kind };
  // The status subresource cannot change spec; the webhook configuration excludes it anyway.
  if (input.subResource) return { ...ALLOW_UNJUDGED, kind };
  // The server refuses such a review (400) before it gets here; any other caller fails closed.
  if (operation === "UPDATE" && !isPlainObject(input.oldObject)) {
    return { ...ALLOW_UNJUDGED, allowed: false, kind, failure: { rule: "engine", error: "an UPDATE without the stored object (oldObject) cannot be checked" } };
  }

  const ctx = reviewContext({ ...input, operation }, kind, options);
  const newObject = ctx.newObject;

  const registered = applicableRules(options.rules ?? RULES, ctx.operation, kind.short);
  const severities = options.severities;
  // Filtered only when a setting removes rules: the usual review reuses the cached list.
  const applicable = options.deletionProtection === false || severities?.size ? registered.filter((r) => !(r.id === DELETION_RULE && options.deletionProtection === false) && severities?.get(r.id) !== "off") : registered;
  // Cross-object rules run only on a synced cluster view: stale data must never deny.
  const rules = ctx.cluster.synced ? applicable : applicable.filter((r) => !r.needsCluster);
  const skippedClusterRules = ctx.clusterAware && rules.length < applicable.length;
  // A malformed new object would only make the other rules guess: LG305 alone answers it, unless
  // the problem is one the stored object already had inside an entry (then it only warns, and the
  // rules must still judge the rest of the edit, or a bump beside it would pass unseen).
  const toRun = newObject.shapeProblem && !preExistingShapeProblem(ctx) ? rules.filter((r) => r.id === "LG305") : rules;
  const stateResults = new Map<string, { readonly rule: Rule; readonly counts: ReadonlyMap<string, number> }>();

  const kept: Finding[] = [];
  const bypassed: Finding[] = [];
  let omittedDenials = 0;
  for (const [index, rule] of toRun.entries()) {
    if (options.deadlinePassed?.()) return outOfTime(kind, kept, index, toRun.length);
    let findings: Finding[];
    try {
      const result = rule.check(ctx, { bypassed });
      if (rule.judgesState) stateResults.set(rule.id, { rule, counts: result.violationCounts });
      const level = severities?.get(rule.id);
      // A warn rule raised to deny denies with the same message (and the other way round).
      findings = level && level !== "off" && level !== rule.severity ? result.findings.map((f) => ({ ...f, severity: level })) : result.findings;
      if ((level ?? rule.severity) === "deny") omittedDenials += result.omitted;
    } catch (error) {
      if (error instanceof DeadlineExceeded) return outOfTime(kind, kept, index, toRun.length);
      const failure = { rule: rule.id, error: error instanceof Error ? error.message : String(error) };
      return { ...ALLOW_UNJUDGED, allowed: false, kind, failure };
    }
    for (const finding of findings) (isBypassed(finding, ctx) ? bypassed : kept).push(finding);
  }

  let ratcheted: Finding[];
  try {
    ratcheted = ratchet(ctx, input, kept, stateResults);
  } catch (error) {
    // Out of time while comparing with the old object: the denials found stand.
    if (error instanceof DeadlineExceeded) return outOfTime(kind, kept, toRun.length, toRun.length);
    throw error;
  }
  const findings = withoutNoise(uniqueFindings(ratcheted));
  const denials = findings.filter((f) => f.severity === "deny");
  const warnings = findings.filter((f) => f.severity === "warn");
  const notices = skippedClusterRules && !newObject.shapeProblem ? [CLUSTER_NOT_SYNCED_NOTICE] : [];
  return {
    allowed: denials.length === 0,
    findings,
    denials,
    warnings,
    bypassed: uniqueFindings(bypassed),
    kind,
    ...(notices.length ? { notices } : {}),
    ...(omittedDenials > 0 ? { omittedDenials } : {}),
  };
}
