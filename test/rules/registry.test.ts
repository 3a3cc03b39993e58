import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { rulesMarkdown } from "../../src/cli/rules-doc.js";
import { RULES } from "../../src/rules/registry.js";

const ROOT = join(import.meta.dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the rule registry", () => {
  it("has unique ids of the form LGnnn with a one-line summary", () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^LG[1-7]\d\d$/);
      expect(rule.summary.length).toBeGreaterThan(10);
      expect(rule.summary).not.toContain("\n");
    }
  });

  it("covers every LG1xx-LG4xx and LG7xx id of the spec", () => {
    const spec = ["LG701", "LG101", "LG102", "LG103", "LG104", "LG105", "LG106", "LG110", "LG111", "LG112", "LG113", "LG114", "LG119", "LG201", "LG202", "LG203", "LG204", "LG205", "LG206", "LG207", "LG208", "LG209", "LG301", "LG302", "LG303", "LG304", "LG305", "LG306", "LG401", "LG402", "LG403", "LG404", "LG406", "LG601", "LG602", "LG603"];
    expect(RULES.map((r) => r.id).filter((id) => !id.startsWith("LG5")).sort()).toEqual(spec.sort());
  });

  it("has the cross-object rules LG501-LG503, evaluated only from a synced cluster view", () => {
    const cluster = RULES.filter((r) => r.id.startsWith("LG5"));
    expect(cluster.map((r) => r.id)).toEqual(["LG501", "LG502", "LG503"]);
    for (const rule of cluster) expect(rule.needsCluster).toBe(true);
  });

  it("evaluates LG402 last, because it reports what the other rules bypassed", () => {
    expect(RULES[RULES.length - 1]?.id).toBe("LG402");
  });

  it("matches the committed docs/rules.md (run npm run docs:rules after changing a rule)", () => {
    expect(readFileSync(join(ROOT, "docs", "rules.md"), "utf8")).toBe(rulesMarkdown());
  });
});

describe("the functional core stays pure", () => {
  const forbidden = /from\s+["'](fastify|node:https?|https?|node:fs(\/promises)?|fs|node:net|@kubernetes\/client-node|pino)["']|from\s+["'][^"']*\/(server|cli|cluster)\//;
  const files = [...sourceFiles(join(ROOT, "src", "rules")), ...sourceFiles(join(ROOT, "src", "lifecycle"))];

  it.each(files.map((f) => [relative(ROOT, f), f]))("%s imports no HTTP, filesystem, cluster or shell module", (_name, file) => {
    expect(readFileSync(file, "utf8")).not.toMatch(forbidden);
  });
});
