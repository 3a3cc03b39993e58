import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_NOT_SYNCED_NOTICE } from "../../src/rules/engine.js";
import { lifecycleObject } from "../helpers/cases.js";
import { testPki, writeKubeletSecret, type TestPki } from "../helpers/certs.js";
import { FakeApiServer, glmObject, ilmObject } from "../helpers/fake-apiserver.js";
import { getHttp, postHttps } from "../helpers/https.js";
import { ilmEntry, ilmReview } from "../helpers/reviews.js";
import { eventually, sleep, startTestServer, type TestServer } from "../helpers/server.js";

const ILMS = "istiolifecyclemanagers";
const GLMS = "gatewaylifecyclemanagers";
let dir: string;
let pki: TestPki;
let tlsEnv: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lifecycle-guard-cluster-"));
  pki = await testPki();
  const leaf = await pki.issue();
  await writeKubeletSecret(join(dir, "tls"), { "tls.crt": leaf.certPem, "tls.key": leaf.keyPem });
  tlsEnv = { TLS_CERT_FILE: join(dir, "tls", "tls.crt"), TLS_KEY_FILE: join(dir, "tls", "tls.key") };
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const legacy = ilmObject("istiod-legacy", [{ revision: "1-22", clusters: [{ name: "cluster1", defaultRevision: true }] }]);
const newDefault = (options: { dryRun?: boolean; uid?: string } = {}) =>
  ilmReview({ newInstallations: [ilmEntry("1-23", "1.23.4", { defaultRevision: true })], ...(options.dryRun ? { dryRun: true } : {}), ...(options.uid ? { uid: options.uid } : {}) });

async function post(t: TestServer, review: unknown) {
  const res = await postHttps(t.server.port, "/validate?timeout=5s", review, { ca: pki.ca.certPem });
  return JSON.parse(res.body).response as { allowed: boolean; warnings?: string[]; status?: { details?: { causes: { message: string }[] } } };
}

async function synced(t: TestServer): Promise<boolean> {
  return eventually(async () => {
    const metrics = (await getHttp(t.server.opsPort, "/metrics")).body;
    return metrics.includes('lifecycle_guard_cluster_cache_synced{kind="IstioLifecycleManager"} 1') && metrics.includes('lifecycle_guard_cluster_cache_synced{kind="GatewayLifecycleManager"} 1');
  }, 8000);
}

describe("the server with a cluster connection (KUBECONFIG)", () => {
  let api: FakeApiServer;
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.server.close();
    t = undefined;
    await api.stop();
  });

  it("allows a second default for cluster1 with an LG501 warning naming the other ILM", async () => {
    api = new FakeApiServer();
    await api.start();
    api.put(ILMS, legacy);
    t = await startTestServer(tlsEnv, { env: { KUBECONFIG: await api.writeKubeconfig(dir) } });
    expect(await synced(t)).toBe(true);
    const response = await post(t, newDefault());
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([
      "LG501 cluster1: IstioLifecycleManager gloo-mesh/istiod-legacy makes revision 1-22 default, and this object makes 1-23 default; keep one default per cluster.",
    ]);
    expect(t.logs.some((l) => l.msg === "cluster cache synced")).toBe(true);
  });

  it("denies removing a revision a gateway in the cluster still uses (LG503)", async () => {
    api = new FakeApiServer();
    await api.start();
    api.put(GLMS, glmObject("istio-ingressgateway", [{ gatewayRevision: "1-23", clusters: [{ name: "cluster1", activeGateway: true }] }]));
    t = await startTestServer(tlsEnv, { env: { KUBECONFIG: await api.writeKubeconfig(dir) } });
    expect(await synced(t)).toBe(true);
    const response = await post(
      t,
      ilmReview({
        oldInstallations: [ilmEntry("1-23", "1.23.4", { defaultRevision: false }), ilmEntry("1-24", "1.24.1")],
        newInstallations: [ilmEntry("1-24", "1.24.1")],
      }),
    );
    expect(response.allowed).toBe(false);
    expect(response.status?.details?.causes[0]?.message).toContain("GatewayLifecycleManager gloo-mesh/istio-ingressgateway (gatewayRevision 1-23) still uses it there");
  });

  it.each([
    ["hangs", (a: FakeApiServer) => (a.hang = true)],
    ["refuses connections", async (a: FakeApiServer) => a.stop()],
  ])("answers at once, with the not-synced warning, when the API server %s", async (_how, breakIt) => {
    api = new FakeApiServer();
    await api.start();
    const kubeconfig = await api.writeKubeconfig(dir);
    await breakIt(api);
    t = await startTestServer(tlsEnv, { env: { KUBECONFIG: kubeconfig } });
    expect((await getHttp(t.server.opsPort, "/readyz")).status).toBe(200);
    const started = Date.now();
    const response = await post(t, newDefault());
    // Not a benchmark: a review must never wait on the API server, whose timeouts are many seconds.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([CLUSTER_NOT_SYNCED_NOTICE]);
  });
});

describe("Events for GitOps users", () => {
  let api: FakeApiServer;
  let t: TestServer;
  beforeAll(async () => {
    api = new FakeApiServer();
    await api.start();
    api.put(ILMS, legacy);
    t = await startTestServer(tlsEnv, { env: { KUBECONFIG: await api.writeKubeconfig(dir), POD_NAME: "lifecycle-guard-abc12" } });
    await synced(t);
  });
  afterAll(async () => {
    await t.server.close();
    await api.stop();
  });

  const minorBump = (dryRun: boolean) =>
    ilmReview({ oldInstallations: [ilmEntry("1-24", "1.24.1", { clusters: ["cluster9"] })], newInstallations: [ilmEntry("1-24", "1.25.0", { clusters: ["cluster9"] })], dryRun });

  it("records a Warning Event for a denial, after answering, and nothing for the dry run of it", async () => {
    const before = api.events.length;
    expect((await post(t, minorBump(true))).allowed).toBe(false);
    await sleep(300);
    expect(api.events.length).toBe(before);
    expect((await post(t, minorBump(false))).allowed).toBe(false);
    expect(await eventually(() => api.events.length === before + 1, 5000)).toBe(true);
    expect(api.events[before]).toMatchObject({
      type: "Warning",
      reason: "UpgradeValidationDenied",
      involvedObject: { apiVersion: "admin.gloo.solo.io/v2", kind: "IstioLifecycleManager", name: "istiod-control-plane", namespace: "gloo-mesh" },
      source: { component: "lifecycle-guard" },
      reportingInstance: "lifecycle-guard-abc12",
      metadata: { namespace: "gloo-mesh" },
    });
    expect(String(api.events[before]?.message)).toMatch(/^Denied by lifecycle-guard: spec\.installations\[0\]\.istioOperatorSpec\.tag: LG102 /);
  });

  it("deduplicates: a sync loop repeating the same denial writes one Event", async () => {
    const before = api.events.length;
    const review = ilmReview({ oldInstallations: [ilmEntry("1-24", "1.24.1", { clusters: ["cluster8"] })], newInstallations: [ilmEntry("1-24", "1.24.1", { clusters: ["cluster8"], hub: "elsewhere.example/istio" })] });
    for (let i = 0; i < 5; i++) expect((await post(t, review)).allowed).toBe(false);
    await sleep(500);
    expect(api.events.length).toBe(before + 1);
    expect((await getHttp(t.server.opsPort, "/metrics")).body).toMatch(/lifecycle_guard_events_total\{reason="UpgradeValidationDenied",result="deduplicated"\} [1-9]/);
  });

  it("records warnings of an allowed change as UpgradeValidationWarning", async () => {
    const before = api.events.length;
    expect((await post(t, newDefault())).allowed).toBe(true);
    expect(await eventually(() => api.events.length === before + 1, 5000)).toBe(true);
    expect(api.events[before]).toMatchObject({ reason: "UpgradeValidationWarning", message: expect.stringContaining("LG501 cluster1") });
  });

  it("records nothing with EVENTS=off", async () => {
    const before = api.events.length;
    const off = await startTestServer({ ...tlsEnv, EVENTS: "off" }, { env: { KUBECONFIG: await api.writeKubeconfig(dir) } });
    try {
      expect((await post(off, minorBump(false))).allowed).toBe(false);
      await sleep(300);
      expect(api.events.length).toBe(before);
    } finally {
      await off.server.close();
    }
  });
});

describe("lifecycle-guard check --cluster", () => {
  const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");
  // Asynchronous: the fake API server lives in this process and must keep answering.
  const run = (args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { encoding: "utf8", env }, (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }));
    });

  it("runs the cross-object rules against the current kube context", async () => {
    const api = new FakeApiServer();
    await api.start();
    try {
      api.put(ILMS, legacy);
      const kubeconfig = await api.writeKubeconfig(dir);
      const file = join(dir, "proposed.yaml");
      await writeFile(file, dump(lifecycleObject("ILM", [ilmEntry("1-23", "1.23.4")])));
      const result = await run(["check", "--new", file, "--cluster"], { ...process.env, KUBECONFIG: kubeconfig });
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/proposed\.yaml:\d+: warning: LG501 cluster1: IstioLifecycleManager gloo-mesh\/istiod-legacy makes revision 1-22 default/);
      const without = await run(["check", "--new", file], { ...process.env, KUBECONFIG: kubeconfig });
      expect(without.stdout).not.toContain("LG501");
      await api.stop();
      const down = await run(["check", "--new", file, "--cluster"], { ...process.env, KUBECONFIG: kubeconfig });
      expect(down.status).toBe(2);
      expect(down.stderr).toContain("--cluster: cannot list istiolifecyclemanagers from https://127.0.0.1:");
    } finally {
      await api.stop();
    }
  });
});
