import { execFile, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { dump } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, tlsFixture, type ServerProcess, type TlsFixture } from "../helpers/server-process.js";
import { FakeKubeApiServer } from "./apiserver.js";

/**
 * The promise users buy, checked with the real kubectl binary: transparent on kubectl edit,
 * enforced on apply and GitOps dry runs, rejection messages in kubectl's output. kubectl talks to
 * a stand-in API server (./apiserver.ts) that calls the real, built lifecycle-guard over HTTPS.
 * Without kubectl these tests say so and skip, except under CI=true, where that is a failure.
 */
const KUBECTL = spawnSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8" }).status === 0 ? "kubectl" : undefined;
if (!KUBECTL && process.env.CI === "true") throw new Error("kubectl is not on PATH: the kubectl scenarios must run in CI");
if (!KUBECTL) console.warn("kubectl is not on PATH: skipping the kubectl scenarios");

const ROOT = join(import.meta.dirname, "..", "..");
const EDITOR = join(import.meta.dirname, "editor.mjs");
const CAPTURE = join(ROOT, "docs", "kubectl-session.md");
const run = promisify(execFile);

let tls: TlsFixture;
let webhook: ServerProcess;
let api: FakeKubeApiServer;
let dir: string;
const transcript: { title: string; command: string; output: string }[] = [];

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function kubectl(args: string[], options: { env?: Record<string, string>; title?: string; display?: string } = {}): Promise<Result> {
  const env = { ...process.env, KUBECONFIG: join(dir, "kubeconfig"), ...options.env };
  const result = await run(KUBECTL ?? "kubectl", args, { env, cwd: dir, timeout: 30_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" }),
  );
  if (options.title) transcript.push({ title: options.title, command: options.display ?? `kubectl ${args.join(" ")}`, output: `${result.stderr}${result.stdout}`.trim() });
  return result;
}

const ilm = (tag: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "admin.gloo.solo.io/v2",
  kind: "IstioLifecycleManager",
  metadata: { name: "istiod-control-plane", namespace: "gloo-mesh" },
  spec: {
    installations: [
      {
        revision: "1-23",
        clusters: [
          { name: "cluster1", defaultRevision: true },
          { name: "cluster2", defaultRevision: true },
        ],
        istioOperatorSpec: { profile: "minimal", hub: "us-docker.pkg.dev/gloo-mesh/istio-workshops", tag, ...extra },
      },
    ],
  },
});

const stored = () => api.get("istiolifecyclemanagers", "gloo-mesh", "istiod-control-plane") as { spec: { installations: { istioOperatorSpec: Record<string, unknown> }[] }; metadata: { uid: string } } | undefined;
const storedTag = () => stored()?.spec.installations[0]?.istioOperatorSpec.tag;

async function file(name: string, object: unknown): Promise<string> {
  await writeFile(join(dir, name), dump(object));
  return name;
}

function editEnv(from: string, to: string, log: string): Record<string, string> {
  return { KUBE_EDITOR: `${process.execPath} ${EDITOR}`, EDIT_FROM: from, EDIT_TO: to, EDIT_LOG: join(dir, log) };
}

describe.runIf(KUBECTL)("kubectl in the loop (the real kubectl binary, the built lifecycle-guard)", () => {
  beforeAll(async () => {
    tls = await tlsFixture("kubectl");
    dir = tls.dir;
    await mkdir(dir, { recursive: true });
    webhook = await startServerProcess(tls.env);
    api = new FakeKubeApiServer({ port: webhook.port, ca: tls.ca });
    await api.start();
    writeFileSync(join(dir, "kubeconfig"), api.kubeconfig());
  });
  afterAll(async () => {
    await api?.stop();
    webhook?.child.kill("SIGTERM");
    await webhook?.exited;
    if (transcript.length > 0 && process.env.KUBECTL_SESSION_WRITE !== "0") writeTranscript();
    await rm(tls.dir, { recursive: true, force: true });
  });

  it("creates the ILM with kubectl apply", async () => {
    const r = await kubectl(["apply", "-f", await file("ilm.yaml", ilm("1.23.4-solo"))], { title: "Create the lifecycle manager" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("istiolifecyclemanager.admin.gloo.solo.io/istiod-control-plane created");
    expect(storedTag()).toBe("1.23.4-solo");
  });

  it("kubectl edit with a patch bump saves silently", async () => {
    const r = await kubectl(["edit", "istiolifecyclemanager", "istiod-control-plane"], { env: editEnv("tag: 1.23.4-solo", "tag: 1.23.5-solo", "patch.log"), title: "kubectl edit: a patch upgrade (1.23.4-solo → 1.23.5-solo)", display: "kubectl edit istiolifecyclemanager istiod-control-plane" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("edited");
    expect(r.stderr).not.toContain("Warning");
    expect(storedTag()).toBe("1.23.5-solo");
  });

  it("kubectl edit with a minor bump reopens the editor with the cause as a comment, and stores nothing", async () => {
    const r = await kubectl(["edit", "istiolifecyclemanager", "istiod-control-plane"], { env: editEnv("tag: 1.23.5-solo", "tag: 1.24.2-solo", "minor.log"), title: "kubectl edit: a minor bump in place (1.23.5-solo → 1.24.2-solo)", display: "kubectl edit istiolifecyclemanager istiod-control-plane" });
    expect(r.code).not.toBe(0);
    const reopened = readFileSync(join(dir, "minor.log"), "utf8");
    expect(reopened).toMatch(/^# \* spec\.installations\[0\]\.istioOperatorSpec\.tag: LG102 revision 1-23 on cluster1 and cluster2: tag 1\.23\.5-solo → 1\.24\.2-solo/m);
    // The user's edit is kept in the reopened buffer.
    expect(reopened).toContain("tag: 1.24.2-solo");
    transcript.push({ title: "… the editor reopens with (top of the buffer)", command: "", output: reopened.split("\n").filter((l) => l.startsWith("#")).join("\n") });
    // The README quotes this very comment: it must stay what kubectl shows.
    const cause = reopened.split("\n").find((l) => l.startsWith("# * spec.installations[0].istioOperatorSpec.tag: LG102"));
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain(cause);
    expect(storedTag()).toBe("1.23.5-solo");
  });

  it("kubectl apply of a hub change fails naming LG110, stores nothing", async () => {
    const r = await kubectl(["apply", "-f", await file("hub.yaml", ilm("1.23.5-solo", { hub: "registry.example.com/istio" }))], { title: "kubectl apply: a hub change" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Error from server \(Forbidden\).*admission webhook "validate\.lifecycle-guard\.io" denied the request: .*LG110 /s);
    expect(stored()?.spec.installations[0]?.istioOperatorSpec.hub).toBe("us-docker.pkg.dev/gloo-mesh/istio-workshops");
  });

  it("kubectl apply --force of a denied change sends no DELETE and stores nothing", async () => {
    const before = stored()?.metadata.uid;
    const mark = api.requests.length;
    const r = await kubectl(["apply", "--force", "-f", "hub.yaml"], { title: "kubectl apply --force: a denied change is not deleted and re-created" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("LG110");
    expect(api.requests.slice(mark).filter((q) => q.method === "DELETE")).toEqual([]);
    expect(stored()?.metadata.uid).toBe(before);
  });

  it("kubectl apply --dry-run=server gives the same answer and stores nothing", async () => {
    const r = await kubectl(["apply", "--dry-run=server", "-f", await file("minor.yaml", ilm("1.24.2-solo"))], { title: "A GitOps-style server-side dry run of a minor bump" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/LG102 revision 1-23 on cluster1 and cluster2: tag 1\.23\.5-solo → 1\.24\.2-solo/);
    expect(storedTag()).toBe("1.23.5-solo");
  });

  it("a warning-only change prints Warning: lines and is saved", async () => {
    const twoDefaults = ilm("1.23.5-solo");
    twoDefaults.spec.installations.push({ revision: "1-24", clusters: [{ name: "cluster1", defaultRevision: true }], istioOperatorSpec: { profile: "minimal", hub: "us-docker.pkg.dev/gloo-mesh/istio-workshops", tag: "1.24.2-solo" } });
    const r = await kubectl(["apply", "-f", await file("canary-default.yaml", twoDefaults)], { title: "kubectl apply: a canary added as default (allowed, with warnings)" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Warning: LG206 cluster1: new revision 1-24 is added with defaultRevision: true/m);
    expect(r.stderr).toMatch(/^Warning: LG201 cluster1: revisions 1-23 and 1-24 are both defaultRevision/m);
    expect(stored()?.spec.installations).toHaveLength(2);
  });

  it("kubectl patch --type merge is judged too", async () => {
    const r = await kubectl(["patch", "istiolifecyclemanager", "istiod-control-plane", "--type", "merge", "-p", JSON.stringify({ spec: { installations: [{ revision: "1-23", clusters: [{ name: "cluster1", defaultRevision: true }], istioOperatorSpec: { profile: "default", hub: "us-docker.pkg.dev/gloo-mesh/istio-workshops", tag: "1.23.5-solo" } }] } })], { title: "kubectl patch --type merge: a profile change" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("LG111");
    expect(stored()?.spec.installations).toHaveLength(2);
  });

  it("kubectl apply --server-side is judged too", async () => {
    const r = await kubectl(["apply", "--server-side", "-f", "minor.yaml"], { title: "kubectl apply --server-side: a minor bump" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("LG102");
    expect(storedTag()).toBe("1.23.5-solo");
  });

  it("a GatewayLifecycleManager: created, then a gateway rename in place is denied (LG112)", async () => {
    const glm = (name: string) => ({
      apiVersion: "admin.gloo.solo.io/v2",
      kind: "GatewayLifecycleManager",
      metadata: { name: "istio-ingressgateway", namespace: "gloo-mesh" },
      spec: { installations: [{ gatewayRevision: "1-23", clusters: [{ name: "cluster1", activeGateway: true }], istioOperatorSpec: { profile: "empty", hub: "us-docker.pkg.dev/gloo-mesh/istio-workshops", tag: "1.23.5-solo", components: { ingressGateways: [{ name, namespace: "gloo-mesh-gateways", enabled: true }] } } }] },
    });
    const created = await kubectl(["apply", "-f", await file("glm.yaml", glm("istio-ingressgateway"))]);
    expect(created.code, created.stderr).toBe(0);
    const renamed = await kubectl(["apply", "-f", await file("glm-renamed.yaml", glm("ingress-gw"))], { title: "kubectl apply: a gateway renamed in place" });
    expect(renamed.code).not.toBe(0);
    expect(renamed.stderr).toContain("LG112");
  });

  it("kubectl delete of an ILM that installs revisions is denied (LG701); annotated, it goes", async () => {
    const denied = await kubectl(["delete", "istiolifecyclemanager", "istiod-control-plane"], { title: "kubectl delete: deletion protection" });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("LG701");
    expect(stored()).toBeDefined();
    const annotated = await kubectl(["annotate", "istiolifecyclemanager", "istiod-control-plane", "lifecycle-guard.io/allow-delete=true"]);
    expect(annotated.code, annotated.stderr).toBe(0);
    const deleted = await kubectl(["delete", "istiolifecyclemanager", "istiod-control-plane"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(stored()).toBeUndefined();
  });

  it("with the webhook down (failurePolicy: Fail) an edit fails with 'failed calling webhook'", async () => {
    api.setWebhook(undefined);
    try {
      const r = await kubectl(["apply", "-f", "ilm.yaml"], { title: "The webhook is down (failurePolicy: Fail)" });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('failed calling webhook "validate.lifecycle-guard.io"');
    } finally {
      api.setWebhook({ port: webhook.port, ca: tls.ca });
    }
  });
});

/** docs/kubectl-session.md: what these scenarios printed, for the README's "What a user sees". */
function writeTranscript(): void {
  const clean = (text: string) => text.replace(new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g"), ".").replace(/https:\/\/127\.0\.0\.1:\d+/g, "https://lifecycle-guard").replace(/kubectl-edit-\d+\.yaml/g, "kubectl-edit-NNNN.yaml");
  const lines = [
    "# What kubectl shows",
    "",
    "Captured by `test/kubectl/kubectl.test.ts` (run by `npm test`): the real `kubectl` against an API-server stand-in that calls the built lifecycle-guard over HTTPS as kube-apiserver does. Regenerated on every run; do not edit.",
    "",
  ];
  for (const t of transcript) {
    lines.push(`## ${t.title}`, "");
    if (t.command) lines.push("```console", `$ ${t.command}`, clean(t.output), "```", "");
    else lines.push("```", clean(t.output), "```", "");
  }
  const text = `${lines.join("\n")}`;
  if (!existsSync(CAPTURE) || readFileSync(CAPTURE, "utf8") !== text) writeFileSync(CAPTURE, text);
}
