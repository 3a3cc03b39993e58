import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClusterCache } from "../../src/cluster/cache.js";
import { loadClusterConnection } from "../../src/cluster/config.js";
import { GLM, ILM } from "../../src/lifecycle/kinds.js";
import { FakeApiServer, glmObject, ilmObject } from "../helpers/fake-apiserver.js";
import { capturedLogger } from "../helpers/logs.js";
import { eventually } from "../helpers/server.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lifecycle-guard-cache-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const ILMS = "istiolifecyclemanagers";
const GLMS = "gatewaylifecyclemanagers";
const names = (cache: ClusterCache, kind: typeof ILM) => cache.view.objects(kind).map((o) => `${o.namespace}/${o.name}`).sort();

describe("the cluster cache over the real client-node informer", () => {
  let api: FakeApiServer;
  let cache: ClusterCache;
  let logs: Record<string, unknown>[];

  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
    api.put(ILMS, ilmObject("istiod", [{ revision: "1-22", clusters: [{ name: "cluster1", defaultRevision: true }] }]));
    api.put(GLMS, glmObject("ingress", [{ gatewayRevision: "1-22", clusters: [{ name: "cluster1", activeGateway: true }] }]));
    const connection = loadClusterConnection({ KUBECONFIG: await api.writeKubeconfig(dir) });
    if (!connection.kubeConfig) throw new Error(connection.reason);
    const captured = capturedLogger();
    logs = captured.lines;
    cache = new ClusterCache(connection.kubeConfig, captured.logger, { initialBackoffMs: 100, maxBackoffMs: 400 });
  });

  afterEach(async () => {
    await cache.stop();
    await api.stop();
  });

  it("lists both kinds, reports synced once, and logs it", async () => {
    expect(cache.view.synced).toBe(false);
    cache.start();
    expect(await eventually(() => cache.view.synced, 5000)).toBe(true);
    expect(names(cache, ILM)).toEqual(["gloo-mesh/istiod"]);
    expect(names(cache, GLM)).toEqual(["gloo-mesh/ingress"]);
    expect(cache.view.objects(ILM)[0]?.object.entries[0]?.key).toBe("1-22");
    expect(logs.filter((l) => l.msg === "cluster cache synced").map((l) => l.kind).sort()).toEqual(["GatewayLifecycleManager", "IstioLifecycleManager"]);
  });

  it("follows adds, updates and deletes from the watch stream", async () => {
    cache.start();
    await eventually(() => cache.view.synced, 5000);
    api.put(ILMS, ilmObject("istiod-canary", [{ revision: "1-23", clusters: [{ name: "cluster1" }] }]));
    expect(await eventually(() => names(cache, ILM).includes("gloo-mesh/istiod-canary"), 5000)).toBe(true);
    api.put(ILMS, ilmObject("istiod-canary", [{ revision: "1-24", clusters: [{ name: "cluster1" }] }]));
    expect(await eventually(() => cache.view.objects(ILM).some((o) => o.object.entries[0]?.key === "1-24"), 5000)).toBe(true);
    api.remove(ILMS, "gloo-mesh", "istiod-canary");
    expect(await eventually(() => !names(cache, ILM).includes("gloo-mesh/istiod-canary"), 5000)).toBe(true);
  });

  it("reconnects after the watch stream drops, without losing changes made meanwhile", async () => {
    cache.start();
    await eventually(() => cache.view.synced, 5000);
    const watchesBefore = api.requests.filter((r) => r === `WATCH ${ILMS}`).length;
    api.dropWatches();
    api.put(ILMS, ilmObject("during-drop", [{ revision: "1-23", clusters: [{ name: "cluster2" }] }]));
    expect(await eventually(() => names(cache, ILM).includes("gloo-mesh/during-drop"), 5000)).toBe(true);
    expect(api.requests.filter((r) => r === `WATCH ${ILMS}`).length).toBeGreaterThan(watchesBefore);
    expect(cache.view.synced).toBe(true);
  });

  it("relists on 410 Gone when its resourceVersion is too old", async () => {
    cache.start();
    await eventually(() => cache.view.synced, 5000);
    const listsBefore = api.listCount(ILMS);
    api.dropWatches();
    api.compact();
    api.put(ILMS, ilmObject("after-compaction", [{ revision: "1-23", clusters: [{ name: "cluster3" }] }]));
    expect(await eventually(() => names(cache, ILM).includes("gloo-mesh/after-compaction"), 5000)).toBe(true);
    expect(api.listCount(ILMS)).toBeGreaterThan(listsBefore);
  });

  it("turns unsynced while the API server is away, then relists and resyncs with backoff", async () => {
    cache.start();
    await eventually(() => cache.view.synced, 5000);
    const port = api.port;
    await api.stop();
    expect(await eventually(() => !cache.view.synced, 5000)).toBe(true);
    expect(logs.some((l) => l.msg === "cluster watch failed; cross-object rules are off until it lists again")).toBe(true);
    api.put(ILMS, ilmObject("while-away", [{ revision: "1-23", clusters: [{ name: "cluster1" }] }]));
    await api.start(port);
    expect(await eventually(() => cache.view.synced, 8000)).toBe(true);
    expect(names(cache, ILM)).toContain("gloo-mesh/while-away");
  });
});

describe("loading the cluster connection", () => {
  it("is off, with a reason, without a service account or KUBECONFIG", () => {
    expect(loadClusterConnection({}, "/nonexistent/token")).toEqual({ kubeConfig: undefined, reason: "no in-cluster service account and no KUBECONFIG" });
  });
});
