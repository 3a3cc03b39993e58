import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { lifecycleObject } from "../helpers/cases.js";
import { ilmEntry } from "../helpers/reviews.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
let dir: string;

function run(args: string[], options: { input?: string; env?: Record<string, string>; timeout?: number } = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: dir, input: options.input ?? "", env: { ...process.env, ...options.env }, timeout: options.timeout ?? 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function yamlFile(name: string, ...objects: unknown[]): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, objects.map((o) => dump(o)).join("---\n"));
  return name;
}

/** An object as a file in Git keeps it: no namespace (kustomize or Argo CD sets it). */
function gitObject(kind: "ILM" | "GLM", installations: unknown[], name = "istiod-control-plane"): Record<string, unknown> {
  const object = lifecycleObject(kind, installations, name) as { metadata: Record<string, unknown> };
  delete object.metadata.namespace;
  return object;
}

const glmEntry = (revision: string, active = true) => ({ gatewayRevision: revision, clusters: [{ name: "cluster1", activeGateway: active }], istioOperatorSpec: { profile: "empty", tag: "1.23.4-solo" } });

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "lifecycle-guard-cli-"));
  await yamlFile("old.yaml", lifecycleObject("ILM", [ilmEntry("1-24", "1.24.1-solo", { hub: "hub.example/istio" })]));
  await yamlFile("hub.yaml", lifecycleObject("ILM", [ilmEntry("1-24", "1.24.1-solo", { hub: "other.example/istio" })]));
  await yamlFile("patch.yaml", lifecycleObject("ILM", [ilmEntry("1-24", "1.24.2-solo", { hub: "hub.example/istio" })]));
  // `kubectl get istiolifecyclemanagers,gatewaylifecyclemanagers -A -o yaml`: a List with namespaces.
  await yamlFile("live.yaml", {
    apiVersion: "v1",
    kind: "List",
    items: [lifecycleObject("ILM", [ilmEntry("1-23", "1.23.4-solo")]), lifecycleObject("GLM", [glmEntry("1-23")], "istio-ingressgateway")],
  });
});

describe("check: pairing and inputs", () => {
  it("pairs a namespace-less Git file with the one live object of its kind and name: a minor bump exits 1", async () => {
    const file = await yamlFile("git/ilm.yaml", gitObject("ILM", [ilmEntry("1-23", "1.24.2-solo")]));
    const { code, stdout } = run(["check", "--old", "live.yaml", "--new", file]);
    expect(code).toBe(1);
    expect(stdout).toContain("IstioLifecycleManager gloo-mesh/istiod-control-plane (UPDATE, git/ilm.yaml:1): denied");
    expect(stdout).toMatch(/git\/ilm\.yaml:\d+: LG102 revision 1-23 on cluster1: tag 1\.23\.4-solo → 1\.24\.2-solo/);
    // the GLM of the export has no counterpart: reported as a deletion, not dropped
    expect(stdout).toContain("not in --new (a deletion, not checked): GatewayLifecycleManager gloo-mesh/istio-ingressgateway (live.yaml:");
  });

  it("names the line of the field: the tag: line for a tag rule", async () => {
    const file = await yamlFile("git/line.yaml", gitObject("ILM", [ilmEntry("1-23", "1.24.2-solo")]));
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    const tagLine = lines.findIndex((l) => l.includes("tag: 1.24.2-solo")) + 1;
    const { stdout } = run(["check", "--old", "live.yaml", "--new", file]);
    expect(stdout).toContain(`git/line.yaml:${tagLine}: LG102 `);
  });

  it("--namespace sets the namespace as kubectl apply -n would; two candidates without it are an input error", async () => {
    await yamlFile("two-ns.yaml", { ...(lifecycleObject("ILM", [ilmEntry("1-23", "1.23.4-solo")]) as object) }, { ...(lifecycleObject("ILM", [ilmEntry("1-23", "1.23.4-solo")]) as { metadata: object }), metadata: { name: "istiod-control-plane", namespace: "other" } });
    const file = await yamlFile("git/ambiguous.yaml", gitObject("ILM", [ilmEntry("1-23", "1.24.2-solo")]));
    const ambiguous = run(["check", "--old", "two-ns.yaml", "--new", file]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/names no namespace and --old has it in gloo-mesh, other: pass --namespace/);
    const chosen = run(["check", "--old", "two-ns.yaml", "--new", file, "--namespace", "other"]);
    expect(chosen.code).toBe(1);
    expect(chosen.stdout).toContain("IstioLifecycleManager other/istiod-control-plane (UPDATE");
  });

  it("reads --new from stdin (kustomize build . | lifecycle-guard check --new -)", () => {
    const input = dump(gitObject("ILM", [ilmEntry("1-23", "1.24.2-solo")]));
    const { code, stdout } = run(["check", "--old", "live.yaml", "--new", "-"], { input });
    expect(code).toBe(1);
    expect(stdout).toMatch(/stdin:\d+: LG102 /);
  });

  it("reads several files and directories recursively, lists other kinds as skipped, names a probable kind typo and a file with none", async () => {
    await yamlFile("tree/a/ilm.yaml", gitObject("ILM", [ilmEntry("1-23", "1.23.5-solo")], "second-ilm"));
    await yamlFile("tree/b/c/misc.yml", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" } }, { apiVersion: "admin.gloo.solo.io/v2", kind: "IstioLifecycleManagers", metadata: { name: "typo" } });
    await writeFile(join(dir, "tree/readme.txt"), "not read");
    const { code, stdout } = run(["check", "--old", "old.yaml", "--new", "tree", "patch.yaml"]);
    expect(code).toBe(0);
    expect(stdout).toContain('kind "IstioLifecycleManagers" is probably a typo of IstioLifecycleManager');
    expect(stdout).toMatch(/skipped \(not lifecycle managers\): ConfigMap cm \(tree\/b\/c\/misc\.yml:1\)/);
    expect(stdout).toContain("tree/b/c/misc.yml: no IstioLifecycleManager or GatewayLifecycleManager");
    expect(stdout).toContain("2 objects checked: 2 allowed, 0 denied");
  });

  it("reads duplicate YAML keys as kubectl does (the last one), with a warning, not an input error", async () => {
    await writeFile(join(dir, "dup.yaml"), readFileSync(join(dir, "patch.yaml"), "utf8").replace("  tag: 1.24.2-solo", "  tag: 1.24.9-solo\n        tag: 1.24.2-solo"));
    const { code, stdout } = run(["check", "--old", "old.yaml", "--new", "dup.yaml"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/note: dup\.yaml:\d+: duplicate key "tag": kubectl reads the last one/);
  });

  it("runs LG501–LG503 across the input set: an ILM dropping 1-23 while a GLM of the change still uses it is LG503", async () => {
    await yamlFile("pr/ilm.yaml", gitObject("ILM", [ilmEntry("1-24", "1.24.2-solo", { defaultRevision: false })]));
    await yamlFile("pr/glm.yaml", gitObject("GLM", [glmEntry("1-23")], "istio-ingressgateway"));
    const { code, stdout } = run(["check", "--old", "live.yaml", "--new", "pr"]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/pr\/ilm\.yaml:\d+: LG503 revision 1-23 is removed from cluster1 while GatewayLifecycleManager gloo-mesh\/istio-ingressgateway/);
  });
});

describe("check: output for people and machines", () => {
  it("groups by object: header, denials, then warnings, indented", async () => {
    const file = await yamlFile("grouped.yaml", lifecycleObject("ILM", [ilmEntry("1-24", "1.25.2-solo", { hub: "other.example/istio" })]));
    const { stdout } = run(["check", "--old", "old.yaml", "--new", file]);
    const lines = stdout.split("\n");
    const header = lines.findIndex((l) => l.startsWith("IstioLifecycleManager gloo-mesh/istiod-control-plane (UPDATE"));
    expect(header).toBeGreaterThanOrEqual(0);
    const body = lines.slice(header + 1).filter((l) => l.startsWith("  "));
    const firstWarning = body.findIndex((l) => l.includes(": warning: "));
    const lastDenial = body.map((l) => !l.includes(": warning: ")).lastIndexOf(true);
    expect(lastDenial).toBeLessThan(firstWarning === -1 ? Infinity : firstWarning);
    for (const line of body) expect(line.length).toBeLessThan(400);
  });

  it("writes SARIF 2.1.0: the tool, a rule entry per rule with help, results with ruleId, level, uri and startLine", async () => {
    const file = await yamlFile("git/sarif.yaml", gitObject("ILM", [ilmEntry("1-23", "1.24.2-solo")]));
    const { code, stdout } = run(["check", "--old", "live.yaml", "--new", file, "-o", "sarif"]);
    expect(code).toBe(1);
    const log = JSON.parse(stdout);
    expect(log.version).toBe("2.1.0");
    const driver = log.runs[0].tool.driver;
    expect(driver.name).toBe("lifecycle-guard");
    expect(driver.rules.find((r: { id: string }) => r.id === "LG102")).toMatchObject({ shortDescription: { text: expect.any(String) }, help: { text: expect.stringContaining("Fix") } });
    const tagLine = readFileSync(join(dir, file), "utf8").split("\n").findIndex((l) => l.includes("tag: 1.24.2-solo")) + 1;
    expect(log.runs[0].results).toContainEqual(
      expect.objectContaining({ ruleId: "LG102", level: "error", locations: [expect.objectContaining({ physicalLocation: { artifactLocation: { uri: "git/sarif.yaml" }, region: { startLine: tagLine } } })] }),
    );
  });

  it("writes JUnit XML: a test case per object, a failure for a denial", async () => {
    const { code, stdout } = run(["check", "--old", "old.yaml", "--new", "hub.yaml", "-o", "junit"]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>/);
    expect(stdout).toMatch(/<testcase classname="IstioLifecycleManager" name="gloo-mesh\/istiod-control-plane \(UPDATE\)"[^>]*>\s*<failure message="hub\.yaml:\d+: LG110 /);
  });

  it("writes JSON with every problem's file and line", () => {
    const { code, stdout } = run(["check", "--old", "old.yaml", "--new", "hub.yaml", "-o", "json"]);
    expect(code).toBe(1);
    const out = JSON.parse(stdout);
    expect(out.results[0]).toMatchObject({ kind: "IstioLifecycleManager", operation: "UPDATE", allowed: false, rules: ["LG110"] });
    expect(out.results[0].problems[0]).toMatchObject({ severity: "deny", rule: "LG110", file: "hub.yaml", line: expect.any(Number), field: "spec.installations[0].istioOperatorSpec.hub" });
  });

  it("applies --severity overrides, and refuses lowering LG1xx or an unknown id (exit 2)", async () => {
    const file = await yamlFile("named.yaml", lifecycleObject("ILM", [ilmEntry("1-23", "1.24.1-solo")]));
    const warned = run(["check", "--new", file]);
    expect(warned.stdout).toContain("warning: LG304 ");
    expect(run(["check", "--new", file, "--severity", "LG304=off"]).stdout).not.toContain("LG304");
    const raised = run(["check", "--new", file, "--severity", "LG304=deny"]);
    expect(raised.code).toBe(1);
    expect(raised.stdout).toMatch(/named\.yaml:\d+: LG304 /);
    for (const bad of ["LG102=warn", "LG999=deny", "LG304=maybe"]) {
      const r = run(["check", "--new", file, "--severity", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("a CLI that behaves like one", () => {
  it.each([["serve"], ["check"], ["rules"], ["dev-certs"]])("%s --help prints the command's help and exits 0 (serve does not start)", (command) => {
    const { code, stdout } = run([command, "--help"], { timeout: 5000 });
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: lifecycle-guard ${command}`);
  });

  it("--version prints the package version", () => {
    const { code, stdout } = run(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version);
  });

  it.each([
    [["check", "--new", "missing.yaml"], /missing\.yaml: cannot read it \(no such file or directory\)/],
    [["check", "--old", "old.yaml"], /required option '--new <path\.\.\.>' not specified \(see lifecycle-guard check --help\)/],
    [["check", "--new", "old.yaml", "--output", "xml"], /argument 'xml' is invalid.*\(see lifecycle-guard check --help\)/],
    [["check", "--new", "old.yaml", "--colour"], /unknown option '--colour'.*\(see lifecycle-guard check --help\)/],
    [["frobnicate"], /unknown command 'frobnicate'.*\(see lifecycle-guard --help\)/],
    [[], /no command given \(see lifecycle-guard --help\)/],
    [["rules", "LG999"], /unknown rule "LG999"/],
  ])("exits 2 with one line for %j", (args, message) => {
    const { code, stderr } = run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("exits 2 with the file and YAML line for a parse error", async () => {
    await writeFile(join(dir, "broken.yaml"), "apiVersion: admin.gloo.solo.io/v2\nkind: IstioLifecycleManager\nmetadata:\n  name: x\n spec: [\n");
    const { code, stderr } = run(["check", "--new", "broken.yaml"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/broken\.yaml:\d+:\d+: cannot parse YAML\/JSON/);
  });

  it("rules LG102 explains the rule: what, why in the guide's words, an example, the fix and the bypass", () => {
    const { code, stdout } = run(["rules", "LG102"]);
    expect(code).toBe(0);
    for (const part of ["LG102 (deny; UPDATE", "Why", "canary upgrade is required", "Example", "before:", "after:", "Fix", "Bypass", "skipUpgradeValidation"]) expect(stdout).toContain(part);
  });

  it("rules --markdown is docs/rules.md", () => {
    expect(run(["rules", "--markdown"]).stdout).toBe(readFileSync(join(ROOT, "docs", "rules.md"), "utf8"));
  });
});

describe("serve refuses bad settings at once, naming the variable", () => {
  it.each([
    [{ KUBECONFIG: "/nope" }, /KUBECONFIG \/nope cannot be read/],
    [{ CLIENT_CA_FILE: "/nope" }, /CLIENT_CA_FILE \/nope cannot be read/],
    [{ HOST: "999.1.1.1" }, /HOST must be an IP address or a host name/],
    [{ SKIP_UPGRADE_VALIDATION: "ignore", SKIP_UPGRADE_VALIDATION_USERS: "alice" }, /SKIP_UPGRADE_VALIDATION=ignore never honors the flag/],
    [{ RULE_SEVERITY: "LG101=off" }, /RULE_SEVERITY: LG101 cannot be set to off/],
    [{ PORT: "70000" }, /PORT must be an integer/],
  ])("%j", (env, message) => {
    const { code, stderr } = run(["serve"], { env: { PORT: "0", OPS_PORT: "0", ...env }, timeout: 10_000 });
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe("plan", () => {
  it("writes at least three steps for a kubectl export of an ILM and its GLM; check --old <previous> --new <step> exits 0 for each, in order", async () => {
    const { code, stdout } = run(["plan", "--current", "live.yaml", "--tag", "1.24.2-solo", "--output-dir", "upgrade"]);
    expect(code, stdout).toBe(0);
    const files = readFileSync(join(dir, "upgrade", "RUNBOOK.md"), "utf8").match(/\(`(0\d-[a-z-]+\.yaml)`\)/g)?.map((m) => m.slice(2, -2)) ?? [];
    expect(files.length).toBeGreaterThanOrEqual(3);
    let previous = "live.yaml";
    for (const file of files) {
      const step = run(["check", "--old", previous, "--new", join("upgrade", file)]);
      expect(step.code, `${file}: ${step.stdout}`).toBe(0);
      previous = join("upgrade", file);
    }
    const runbook = readFileSync(join(dir, "upgrade", "RUNBOOK.md"), "utf8");
    for (const part of ["kubectl wait istiolifecyclemanager/istiod-control-plane", "=HEALTHY", "istio.io/rev=1-24", "kubectl rollout restart", "oc adm policy add-scc-to-group anyuid system:serviceaccounts:gm-iop-1-24", "Roll back"]) expect(runbook).toContain(part);
    expect(existsSync(join(dir, "upgrade", "00-current.yaml"))).toBe(true);
  });

  it("says a plain patch upgrade needs no plan and prints the one edit", () => {
    const { code, stdout } = run(["plan", "--current", "live.yaml", "--tag", "1.23.5-solo"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^1\.23\.4-solo → 1\.23\.5-solo is a plain patch upgrade: it needs no canary/);
  });

  it("prints the runbook with the manifests inline without --output-dir", () => {
    const { code, stdout } = run(["plan", "--current", "live.yaml", "--tag", "1.24.2-solo"]);
    expect(code).toBe(0);
    expect(stdout).toContain("## Step 1: Add 1-24 beside 1-23 as a canary");
    expect(stdout).toContain("```yaml\napiVersion: admin.gloo.solo.io/v2");
  });

  it("refuses with the reason, exit 2", async () => {
    await yamlFile("two-revisions.yaml", lifecycleObject("ILM", [ilmEntry("1-23", "1.23.4-solo"), ilmEntry("1-24", "1.24.2-solo", { defaultRevision: false })]));
    const { code, stderr } = run(["plan", "--current", "two-revisions.yaml", "--tag", "1.25.0-solo"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no plan: a canary is already in progress/);
  });
});

describe("check ratchets like the webhook", () => {
  it("a pre-existing duplicate cluster warns on an unrelated change; adding one is denied", async () => {
    const entry = (clusters: string[], tag: string) => ({ revision: "1-24", clusters: clusters.map((name) => ({ name, defaultRevision: true })), istioOperatorSpec: { tag } });
    await yamlFile("dup-old.yaml", lifecycleObject("ILM", [entry(["cluster1", "cluster1"], "1.24.1-solo")]));
    await yamlFile("dup-new.yaml", lifecycleObject("ILM", [entry(["cluster1", "cluster1"], "1.24.2-solo")]));
    const pre = run(["check", "--old", "dup-old.yaml", "--new", "dup-new.yaml"]);
    expect(pre.code).toBe(0);
    expect(pre.stdout).toMatch(/warning: LG302 revision 1-24 lists cluster cluster1 twice; list it once\. \(pre-existing/);
    await yamlFile("single.yaml", lifecycleObject("ILM", [entry(["cluster1"], "1.24.1-solo")]));
    const added = run(["check", "--old", "single.yaml", "--new", "dup-old.yaml"]);
    expect(added.code).toBe(1);
    expect(added.stdout).toMatch(/dup-old\.yaml:\d+: LG302 /);
  });
});

describe("check: LG209", () => {
  it("warns when the only, non-default revision is renamed in place, and stays quiet for a canary replaced beside the default", async () => {
    const entry = (revision: string, tag: string, flag = false) => ({ revision, clusters: [{ name: "cluster1", defaultRevision: flag }], istioOperatorSpec: { tag } });
    await yamlFile("only-old.yaml", lifecycleObject("ILM", [entry("1-23", "1.23.4-solo")]));
    await yamlFile("only-new.yaml", lifecycleObject("ILM", [entry("1-24", "1.24.2-solo")]));
    const renamed = run(["check", "--old", "only-old.yaml", "--new", "only-new.yaml"]);
    expect(renamed.code).toBe(0);
    expect(renamed.stdout).toMatch(/only-new\.yaml:\d+: warning: LG209 cluster1: revision 1-23 is renamed to 1-24 in place/);
    await yamlFile("canary-old.yaml", lifecycleObject("ILM", [entry("1-23", "1.23.4-solo", true), entry("1-24", "1.24.1-solo")]));
    await yamlFile("canary-new.yaml", lifecycleObject("ILM", [entry("1-23", "1.23.4-solo", true), entry("1-25", "1.25.1-solo")]));
    expect(run(["check", "--old", "canary-old.yaml", "--new", "canary-new.yaml"]).stdout).not.toContain("LG209");
  });
});

describe("check: many denials", () => {
  it("caps them as the webhook does: 19 with their lines, then one that counts the rest", async () => {
    const entries = (tag: string) => Array.from({ length: 25 }, (_, i) => ({ revision: `r${i}`, clusters: [{ name: `c${i}`, defaultRevision: true }], istioOperatorSpec: { tag } }));
    await yamlFile("many-old.yaml", lifecycleObject("ILM", entries("1.23.4-solo")));
    await yamlFile("many-new.yaml", lifecycleObject("ILM", entries("1.24.2-solo")));
    const { code, stdout } = run(["check", "--old", "many-old.yaml", "--new", "many-new.yaml"]);
    expect(code).toBe(1);
    const denials = stdout.split("\n").filter((l) => l.startsWith("  many-new.yaml:") && !l.includes("warning:"));
    expect(denials).toHaveLength(20);
    expect(denials.slice(0, 19).every((l) => / LG102 revision r\d+ on c\d+: /.test(l))).toBe(true);
    expect(denials[19]).toMatch(/: and 6 more problems \(LG102\)/);
  });
});
