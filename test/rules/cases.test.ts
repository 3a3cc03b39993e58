import { describe, expect, it } from "vitest";
import { GLM, ILM } from "../../src/lifecycle/kinds.js";
import { readLifecycleObject } from "../../src/lifecycle/model.js";
import { evaluate, type EngineOptions } from "../../src/rules/engine.js";
import { RULES } from "../../src/rules/registry.js";
import { parseSeverityOverrides } from "../../src/rules/severity-policy.js";
import type { ClusterView } from "../../src/rules/types.js";
import { KIND_NAMES, lifecycleObject, loadCaseFiles, type RuleCase } from "../helpers/cases.js";

const files = loadCaseFiles();

function clusterView(c: NonNullable<RuleCase["cluster"]>): ClusterView {
  const read = (kind: typeof ILM, list: NonNullable<RuleCase["cluster"]>["ilms"]) =>
    (list ?? []).map((o) => ({ namespace: o.namespace ?? "gloo-mesh", name: o.name, object: readLifecycleObject(kind, lifecycleObject(kind.short, o.installations, o.name)) }));
  const ilms = read(ILM, c.ilms);
  const glms = read(GLM, c.glms);
  return { synced: c.synced ?? true, objects: (kind) => (kind.short === "ILM" ? ilms : glms) };
}

function run(c: RuleCase) {
  const kind = c.kind ?? "ILM";
  const oldObject = c.oldObject ?? (c.old === undefined ? undefined : lifecycleObject(kind, c.old));
  const newObject = c.operation === "DELETE" ? null : "newObject" in c ? c.newObject : lifecycleObject(kind, c.new);
  const operation = c.operation ?? (oldObject === undefined ? "CREATE" : "UPDATE");
  return evaluate(
    {
      operation,
      group: "admin.gloo.solo.io",
      kind: KIND_NAMES[kind],
      namespace: "gloo-mesh",
      name: "istiod-control-plane",
      oldObject: oldObject ?? null,
      newObject,
      ...(c.user ? { user: c.user } : {}),
    },
    {
      ...(c.skipPolicy ? { skipPolicy: { mode: c.skipPolicy.mode ?? "honor", users: c.skipPolicy.users ?? [], groups: c.skipPolicy.groups ?? [] } } : {}),
      ...(c.cluster ? { cluster: clusterView(c.cluster), clusterAware: true } : {}),
      ...(c.deletionProtection === undefined ? {} : { deletionProtection: c.deletionProtection }),
      ...(c.severity ? { severities: parseSeverityOverrides(c.severity) } : {}),
    } satisfies EngineOptions,
  );
}

describe.each(files)("$rule ($file)", ({ rule, cases }) => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const decision = run(c);
    expect(decision.failure).toBeUndefined();
    const got = decision.findings.map((f) => `${f.rule} ${f.field}`).sort();
    expect(got).toEqual([...c.expect.findings].sort());
    expect(decision.allowed).toBe(c.expect.allowed);
    const messages = decision.findings.filter((f) => f.rule === rule).map((f) => f.message);
    for (const fragment of c.expect.messages ?? []) {
      expect(messages.some((m) => m.includes(fragment)), `a ${rule} message containing ${JSON.stringify(fragment)} in ${JSON.stringify(messages)}`).toBe(true);
    }
    for (const finding of decision.findings) {
      expect(finding.message.startsWith(`${finding.rule} `)).toBe(true);
    }
    const notices = decision.notices ?? [];
    expect(notices).toHaveLength(c.expect.notices?.length ?? 0);
    c.expect.notices?.forEach((fragment, i) => expect(notices[i]).toContain(fragment));
  });
});

describe("rule catalogue coverage", () => {
  it.each(RULES.map((r) => [r.id, r] as const))("%s has allow and trigger cases (and skip cases when skippable)", (id, rule) => {
    const file = files.find((f) => f.rule === id);
    expect(file, `test/rules/cases/${id}.yaml`).toBeDefined();
    const types = new Set(file?.cases.map((c) => c.type));
    expect(types.has("allow")).toBe(true);
    expect(types.has("trigger")).toBe(true);
    if (rule.skippable) expect(types.has("skip")).toBe(true);
    for (const c of file?.cases ?? []) {
      const fires = c.expect.findings.some((f) => f.startsWith(`${id} `));
      if (c.type === "trigger") expect(fires, c.name).toBe(true);
      else expect(fires, c.name).toBe(false);
    }
  });
});
