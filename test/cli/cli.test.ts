import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { lifecycleObject } from "../helpers/cases.js";
import { ilmEntry } from "../helpers/reviews.js";

const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");
let dir: string;

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: dir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function yamlFile(name: string, ...objects: unknown[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, objects.map((o) => dump(o)).join("---\n"));
  return path;
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "lifecycle-guard-cli-"));
  await yamlFile("old.yaml", lifecycleObject("ILM", [ilmEntry("1-24", "1.24.1-solo", { hub: "hub.example/istio" })]));
  await yamlFile("hub.yaml", lifecycleObject("ILM", [ilmEntry("1-24", "1.24.1-solo", { hub: "other.example/istio" })]));
  await yamlFile("patch.yaml", lifecycleObject("ILM", [ilmEntry("1-24", "1.24.2-solo", { hub: "hub.example/istio" })]));
});

describe("lifecycle-guard check (the built CLI)", () => {
  it("exits 1 and names LG110 for a hub change, with kubectl-like field: message lines", () => {
    const { code, stdout } = run("check", "--old", "old.yaml", "--new", "hub.yaml");
    expect(code).toBe(1);
    expect(stdout).toContain('The IstioLifecycleManager "istiod-control-plane" is denied');
    expect(stdout).toMatch(/^spec\.installations\[0\]\.istioOperatorSpec\.hub: LG110 revision 1-24 on cluster1: hub hub\.example\/istio → other\.example\/istio/m);
    expect(stdout).toContain("1 object checked: 0 allowed, 1 denied");
  });

  it("exits 0 for a patch upgrade", () => {
    const { code, stdout } = run("check", "--old", "old.yaml", "--new", "patch.yaml");
    expect(code).toBe(0);
    expect(stdout).toContain("IstioLifecycleManager gloo-mesh/istiod-control-plane (UPDATE): allowed");
  });

  it("prints warnings as Warning: lines and still exits 0", async () => {
    const both = await yamlFile("both.yaml", lifecycleObject("ILM", [ilmEntry("1-23", "1.23.4"), ilmEntry("1-24", "1.24.2")]));
    const { code, stdout } = run("check", "--new", both);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Warning: LG201 cluster1: revisions 1-23 and 1-24 are both defaultRevision/m);
    expect(stdout).toContain("(CREATE): allowed");
  });

  it("writes machine-readable JSON", () => {
    const { code, stdout } = run("check", "--old", "old.yaml", "--new", "hub.yaml", "--output", "json");
    expect(code).toBe(1);
    const output = JSON.parse(stdout);
    expect(output.allowed).toBe(false);
    expect(output.results[0]).toMatchObject({ kind: "IstioLifecycleManager", name: "istiod-control-plane", operation: "UPDATE", allowed: false, rules: ["LG110"] });
    expect(output.results[0].causes[0].field).toBe("spec.installations[0].istioOperatorSpec.hub");
  });

  it("pairs objects by kind, namespace and name across multi-document files and Lists", async () => {
    const glm = (tag: string, name: string) => ({ ...(lifecycleObject("GLM", [{ gatewayRevision: "1-24", clusters: [{ name: "cluster1", activeGateway: true }], istioOperatorSpec: { tag } }]) as object), metadata: { name, namespace: "gloo-mesh" } });
    const oldList = await yamlFile("old-list.yaml", { apiVersion: "v1", kind: "List", items: [lifecycleObject("ILM", [ilmEntry("1-24", "1.24.1")]), glm("1.24.1", "ingress")] });
    const newDocs = await yamlFile("new-docs.yaml", glm("1.24.0", "ingress"), lifecycleObject("ILM", [ilmEntry("1-24", "1.24.3")]), glm("1.24.0", "eastwest"));
    const { code, stdout } = run("check", "--old", oldList, "--new", newDocs);
    expect(code).toBe(1);
    expect(stdout).toMatch(/GatewayLifecycleManager "ingress" is denied[\s\S]*LG101/);
    expect(stdout).toContain("IstioLifecycleManager gloo-mesh/istiod-control-plane (UPDATE): allowed");
    expect(stdout).toContain("GatewayLifecycleManager gloo-mesh/eastwest (CREATE): allowed");
    expect(stdout).toContain("3 objects checked: 2 allowed, 1 denied");
  });

  it("reads JSON files too", async () => {
    const path = join(dir, "new.json");
    await writeFile(path, JSON.stringify(lifecycleObject("ILM", [ilmEntry("1-24", "1.25.0")]), null, 2));
    const { code, stdout } = run("check", "--old", "old.yaml", "--new", path);
    expect(code).toBe(1);
    expect(stdout).toContain("LG102");
  });

  it("exits 2 with the file and YAML line for a parse error", async () => {
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "apiVersion: admin.gloo.solo.io/v2\nkind: IstioLifecycleManager\nmetadata:\n  name: x\n spec: [\n");
    const { code, stderr } = run("check", "--new", broken);
    expect(code).toBe(2);
    expect(stderr).toMatch(/broken\.yaml:5:\d+: cannot parse YAML\/JSON/);
  });

  it.each([
    [["check", "--new", "missing.yaml"], /missing\.yaml: cannot read the file \(no such file\)/],
    [["check", "--old", "old.yaml"], /check needs --new FILE/],
    [["check", "--new", "old.yaml", "--output", "xml"], /--output must be text or json/],
    [["check", "--new", "old.yaml", "--colour"], /Unknown option '--colour'/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("exits 2 with a clear message for %j", (args, message) => {
    const { code, stderr } = run(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
