import type { Log, ReportingDescriptor, Result } from "sarif";
import junitModule, { type Builder } from "junit-report-builder";
import { causesOf, ruleIds } from "../admission/response.js";
import { shapeWarnings } from "../admission/warnings.js";
import { groupOfApiVersion, lifecycleKindOf, type LifecycleKind } from "../lifecycle/kinds.js";
import { readLifecycleObject } from "../lifecycle/model.js";
import { escapeText } from "../lifecycle/text.js";
import { evaluate, type Decision, type EngineOptions } from "../rules/engine.js";
import { RULES } from "../rules/registry.js";
import { fixedClusterView, type ClusterObject, type ClusterView, type Finding } from "../rules/types.js";
import { describeObject, InputError, type InputObject, type InputSet } from "./input.js";
import { ruleText } from "./rules-doc.js";

export interface CheckResult {
  readonly object: InputObject;
  readonly old: InputObject | undefined;
  /** The namespace the object is judged in: its own, --namespace, or its counterpart's. */
  readonly namespace: string;
  readonly operation: "CREATE" | "UPDATE";
  readonly decision: Decision;
}

export interface CheckReport {
  readonly results: CheckResult[];
  /** Objects of --old with no counterpart in --new: deletions, reported and not checked. */
  readonly deletions: InputObject[];
  readonly input: { readonly old: InputSet | undefined; readonly new: InputSet };
}

export interface CheckOptions {
  readonly engine: EngineOptions;
  /** `--namespace`: the namespace of objects that name none, as `kubectl apply -n` would. */
  readonly namespace?: string;
  /** The live cluster's lifecycle managers (`--cluster`), under the input set. */
  readonly cluster?: ClusterView;
}

// The package is CommonJS: at run time its default export is the builder its types call Builder.
const junit = junitModule as unknown as Builder;

const identity = (kind: string, namespace: string, name: string): string => `${kind}\u0000${namespace}\u0000${name}`;

interface Pair {
  readonly object: InputObject;
  readonly old: InputObject | undefined;
  readonly namespace: string;
}

/**
 * Pairs each --new object with the --old object it replaces: same kind, namespace and name. A
 * file kept in Git usually names no namespace (kustomize or Argo CD sets it): such an object
 * takes --namespace, or else pairs with the one object of its kind and name on the other side.
 * Two candidates are an input error, never a guess: guessing wrong would judge a minor bump as a
 * CREATE.
 */
export function pairObjects(oldObjects: readonly InputObject[], newObjects: readonly InputObject[], namespace?: string): { pairs: Pair[]; deletions: InputObject[] } {
  const effective = (o: InputObject): string => o.namespace || namespace || "";
  const unique = (objects: readonly InputObject[], side: string): void => {
    const seen = new Map<string, InputObject>();
    for (const o of objects) {
      const key = identity(o.kind, effective(o), o.name);
      const first = seen.get(key);
      if (first) throw new InputError(`${o.file}:${o.line}: ${describeObject({ ...o, namespace: effective(o) })} appears twice in ${side} (also ${first.file}:${first.line})`);
      seen.set(key, o);
    }
  };
  unique(oldObjects, "--old");
  unique(newObjects, "--new");
  const byName = new Map<string, InputObject[]>();
  for (const o of oldObjects) {
    const key = `${o.kind}\u0000${o.name}`;
    byName.set(key, [...(byName.get(key) ?? []), o]);
  }
  const used = new Set<InputObject>();
  const pairs: Pair[] = [];
  for (const object of newObjects) {
    const ns = effective(object);
    const sameName = byName.get(`${object.kind}\u0000${object.name}`) ?? [];
    // Exact: the same namespace (on either side, after --namespace).
    let old = sameName.find((o) => effective(o) === ns && ns !== "");
    if (!old) {
      // One side names no namespace: the one object of that kind and name on the other side.
      const loose = sameName.filter((o) => ns === "" || effective(o) === "");
      if (loose.length > 1) {
        throw new InputError(
          `${object.file}:${object.line}: ${describeObject(object)} names no namespace and --old has it in ${loose.map((o) => effective(o) || "(none)").join(", ")}: pass --namespace`,
        );
      }
      old = loose[0];
    }
    if (old && used.has(old)) throw new InputError(`${object.file}:${object.line}: ${describeObject(object)} and another --new object both pair with ${old.file}:${old.line}; name their namespaces`);
    if (old) used.add(old);
    pairs.push({ object, old, namespace: ns || (old ? effective(old) : "") });
  }
  return { pairs, deletions: oldObjects.filter((o) => !used.has(o)) };
}

function lifecycleKind(o: InputObject): LifecycleKind {
  return lifecycleKindOf(groupOfApiVersion(o.apiVersion), o.kind) as LifecycleKind;
}

/**
 * The other objects LG501–LG503 look at: the live cluster (with --cluster), with the --old
 * objects over it and each --new object in place of the one it replaces. An --old object that
 * --new does not replace stays: counting it can only make a cross-object check stricter.
 */
function inputView(base: ClusterView | undefined, oldObjects: readonly InputObject[], pairs: readonly Pair[], namespace: string | undefined): ClusterView {
  const objects = new Map<string, ClusterObject & { kind: LifecycleKind }>();
  const put = (kind: LifecycleKind, ns: string, name: string, object: unknown): void => {
    objects.set(identity(kind.kind, ns, name), { kind, namespace: ns, name, object: readLifecycleObject(kind, object) });
  };
  for (const kind of [...new Set([...oldObjects, ...pairs.map((p) => p.object)].map(lifecycleKind))]) {
    for (const o of base?.objects(kind) ?? []) objects.set(identity(kind.kind, o.namespace, o.name), { ...o, kind });
  }
  for (const o of oldObjects) put(lifecycleKind(o), o.namespace || namespace || "", o.name, o.object);
  for (const p of pairs) {
    if (p.old) objects.delete(identity(p.old.kind, p.old.namespace || namespace || "", p.old.name));
    put(lifecycleKind(p.object), p.namespace, p.object.name, p.object.object);
  }
  return fixedClusterView([...objects.values()], base ? base.synced : true);
}

/** Judges every --new lifecycle manager against what it replaces: the webhook's decisions, offline. */
export function runCheck(input: { old: InputSet | undefined; new: InputSet }, options: CheckOptions): CheckReport {
  const oldObjects = input.old?.lifecycle ?? [];
  const { pairs, deletions } = pairObjects(oldObjects, input.new.lifecycle, options.namespace);
  const view = inputView(options.cluster, oldObjects, pairs, options.namespace);
  const results = pairs.map(({ object, old, namespace }): CheckResult => {
    const operation = old ? "UPDATE" : "CREATE";
    const decision = evaluate(
      { operation, group: groupOfApiVersion(object.apiVersion), kind: object.kind, namespace, name: object.name, oldObject: old?.object ?? null, newObject: object.object },
      { ...options.engine, cluster: view, clusterAware: true },
    );
    return { object, old, namespace, operation, decision };
  });
  return { results, deletions, input };
}

/** One problem, as every output shows it: where, which rule, what. */
export interface Problem {
  readonly severity: "deny" | "warn";
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly field: string;
  readonly message: string;
}

/** The denials (at most 20, the last counting the rest, like the webhook's causes) and warnings of a result. */
export function problemsOf(result: CheckResult): Problem[] {
  const at = (f: Finding): Pick<Problem, "file" | "line" | "field"> => ({ file: result.object.file, line: result.object.lineOf(f.field), field: escapeText(f.field) });
  const { denials, omittedDenials = 0 } = result.decision;
  // The webhook's causes, capped the same way: the i-th cause is the i-th denial, except a last
  // one that counts the rest.
  const causes = causesOf(denials, omittedDenials);
  const capped = causes.length !== denials.length || omittedDenials > 0;
  const problems: Problem[] = causes.map((cause, i) => {
    const finding = denials[i];
    if (!finding || (capped && i === causes.length - 1)) return { severity: "deny", rule: finding?.rule ?? "", file: result.object.file, line: result.object.line, field: "", message: cause.message };
    return { severity: "deny", rule: finding.rule, ...at(finding), message: cause.message };
  });
  const warnings = shapeWarnings(result.decision.warnings.map((f) => f.message));
  for (const f of result.decision.warnings) {
    const text = shapeWarnings([f.message])[0];
    if (text && warnings.includes(text)) problems.push({ severity: "warn", rule: f.rule, ...at(f), message: text });
  }
  for (const notice of shapeWarnings([...(result.decision.notices ?? [])])) problems.push({ severity: "warn", rule: "", file: result.object.file, line: result.object.line, field: "", message: notice });
  return problems;
}

const label = (r: CheckResult): string => describeObject({ kind: r.object.kind, namespace: r.namespace, name: r.object.name });
/** A file as outputs name it: stdin for `-`, forward slashes. */
const fileName = (file: string): string => (file === "-" ? "stdin" : file.split("\\").join("/"));
const where = (o: InputObject): string => `${fileName(o.file)}:${o.line}`;

function summary(report: CheckReport): string {
  const denied = report.results.filter((r) => !r.decision.allowed).length;
  const n = report.results.length;
  return `${n} object${n === 1 ? "" : "s"} checked: ${n - denied} allowed, ${denied} denied`;
}

/** Grouped by object: its header, its denials, then its warnings, one line each. */
export function formatText(report: CheckReport): string {
  const lines: string[] = [];
  for (const note of [...(report.input.old?.notes ?? []), ...report.input.new.notes]) lines.push(`note: ${note}`);
  for (const result of report.results) {
    const { decision } = result;
    const verdict = decision.failure ? `error: rule ${decision.failure.rule} failed: ${escapeText(decision.failure.error).slice(0, 200)}` : decision.allowed ? "allowed" : "denied";
    lines.push(`${label(result)} (${result.operation}, ${where(result.object)}): ${verdict}`);
    for (const p of problemsOf(result)) lines.push(`  ${fileName(p.file)}:${p.line}: ${p.severity === "deny" ? "" : "warning: "}${p.message}`);
  }
  for (const o of report.deletions) lines.push(`not in --new (a deletion, not checked): ${describeObject(o)} (${where(o)})`);
  const skipped = [...(report.input.old?.skipped ?? []), ...report.input.new.skipped];
  if (skipped.length > 0) lines.push(`skipped (not lifecycle managers): ${skipped.slice(0, 10).map((o) => `${describeObject(o)} (${where(o)})`).join(", ")}${skipped.length > 10 ? ` and ${skipped.length - 10} more` : ""}`);
  for (const source of report.input.new.emptySources) lines.push(`${source}: no IstioLifecycleManager or GatewayLifecycleManager`);
  lines.push(summary(report));
  return `${lines.join("\n")}\n`;
}

export function formatJson(report: CheckReport): string {
  const denied = report.results.filter((r) => !r.decision.allowed).length;
  return `${JSON.stringify(
    {
      allowed: denied === 0,
      summary: { checked: report.results.length, allowed: report.results.length - denied, denied },
      results: report.results.map((r) => ({
        apiVersion: r.object.apiVersion,
        kind: r.object.kind,
        namespace: r.namespace,
        name: r.object.name,
        file: r.object.file,
        line: r.object.line,
        operation: r.operation,
        allowed: r.decision.allowed,
        rules: ruleIds(r.decision),
        problems: problemsOf(r),
        ...(r.decision.failure ? { error: r.decision.failure } : {}),
      })),
      deletions: report.deletions.map((o) => ({ kind: o.kind, namespace: o.namespace, name: o.name, file: o.file, line: o.line })),
      skipped: [...(report.input.old?.skipped ?? []), ...report.input.new.skipped].map((o) => ({ kind: o.kind, namespace: o.namespace, name: o.name, file: o.file, line: o.line })),
      notes: [...(report.input.old?.notes ?? []), ...report.input.new.notes],
    },
    null,
    2,
  )}\n`;
}


/** SARIF 2.1.0 for code-scanning UIs: every rule with its help, every problem with its file and line. */
export function formatSarif(report: CheckReport, version: string): string {
  const rules: ReportingDescriptor[] = RULES.slice()
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((r) => ({
      id: r.id,
      name: r.id,
      shortDescription: { text: r.summary },
      fullDescription: { text: r.doc.why },
      help: { text: ruleText(r) },
      defaultConfiguration: { level: r.severity === "deny" ? "error" : "warning" },
    }));
  const results: Result[] = report.results.flatMap((r) =>
    problemsOf(r)
      .filter((p) => p.rule !== "")
      .map(
        (p): Result => ({
          ruleId: p.rule,
          level: p.severity === "deny" ? "error" : "warning",
          message: { text: p.message },
          locations: [{ physicalLocation: { artifactLocation: { uri: fileName(p.file) }, region: { startLine: p.line } }, logicalLocations: [{ fullyQualifiedName: `${label(r)}/${p.field}` }] }],
        }),
      ),
  );
  const log: Log = {
    version: "2.1.0",
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    runs: [{ tool: { driver: { name: "lifecycle-guard", version, informationUri: "https://github.com/lifecycle-guard/lifecycle-guard", rules } }, results }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

/** JUnit XML for CI test reports: a test case per object, a failure per denial. */
export function formatJunit(report: CheckReport): string {
  const builder = junit.newBuilder();
  const suite = builder.testSuite().name("lifecycle-guard check");
  for (const r of report.results) {
    const problems = problemsOf(r);
    const test = suite.testCase().className(r.object.kind).name(`${r.namespace ? `${r.namespace}/` : ""}${r.object.name} (${r.operation})`).file(fileName(r.object.file));
    const denials = problems.filter((p) => p.severity === "deny");
    if (!r.decision.allowed) test.failure(denials.map((p) => `${fileName(p.file)}:${p.line}: ${p.message}`).join("\n") || "denied", "denied");
    const warnings = problems.filter((p) => p.severity === "warn");
    if (warnings.length > 0) test.standardOutput(warnings.map((p) => `${fileName(p.file)}:${p.line}: warning: ${p.message}`).join("\n"));
  }
  for (const o of [...(report.input.old?.skipped ?? []), ...report.input.new.skipped]) suite.testCase().className(o.kind || "(no kind)").name(`${o.namespace ? `${o.namespace}/` : ""}${o.name}`).skipped();
  return `${builder.build()}\n`;
}
