import { writeFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { testPki } from "./certs.js";

type Obj = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

interface Watcher {
  readonly resource: string;
  readonly res: ServerResponse;
}

const GROUP_PATH = "/apis/admin.gloo.solo.io/v2/";
const KINDS: Record<string, string> = { istiolifecyclemanagers: "IstioLifecycleManager", gatewaylifecyclemanagers: "GatewayLifecycleManager" };

/**
 * Just enough of the Kubernetes API server for the real client-node informer: list with a
 * resourceVersion, watch as a chunked stream of JSON events from a resourceVersion (replaying
 * history), `ERROR` 410 Gone for a resourceVersion older than the kept history, and Event
 * creation. It can drop every watch stream, forget history, hang, or go away.
 */
export class FakeApiServer {
  private server: Server | undefined;
  private rv = 100;
  private historyStart = 0;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly history: { rv: number; resource: string; type: string; object: Obj }[] = [];
  private readonly watchers = new Set<Watcher>();
  readonly events: Record<string, unknown>[] = [];
  readonly requests: string[] = [];
  /** When true, requests are accepted and never answered. */
  hang = false;
  port = 0;
  private tls: { cert: string; key: string; ca: string } | undefined;

  /** Serves HTTPS with a certificate for 127.0.0.1 from its own CA, like a real API server. */
  async start(port = 0): Promise<void> {
    if (!this.tls) {
      const pki = await testPki();
      const leaf = await pki.issue();
      this.tls = { cert: leaf.certPem, key: leaf.keyPem, ca: pki.ca.certPem };
    }
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops answering: closes every connection, as an API server outage would. */
  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async writeKubeconfig(dir: string): Promise<string> {
    const file = join(dir, `kubeconfig-${this.port}`);
    await writeFile(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: fake\n  cluster:\n    server: ${this.url}\n    certificate-authority-data: ${Buffer.from(this.tls?.ca ?? "").toString("base64")}`,
        "users:",
        "- name: tester\n  user:\n    token: test-token",
        "contexts:",
        "- name: fake\n  context:\n    cluster: fake\n    user: tester",
        "current-context: fake",
        "",
      ].join("\n"),
    );
    return file;
  }

  put(resource: string, object: Obj): void {
    const store = this.store(resource);
    const key = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
    const type = store.has(key) ? "MODIFIED" : "ADDED";
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    store.set(key, stored);
    this.publish(resource, type, stored);
  }

  remove(resource: string, namespace: string, name: string): void {
    const store = this.store(resource);
    const object = store.get(`${namespace}/${name}`);
    if (!object) return;
    store.delete(`${namespace}/${name}`);
    this.publish(resource, "DELETED", { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.rv) } });
  }

  /** Ends every watch stream, as an API server restart or a load balancer timeout does. */
  dropWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Forgets history: a watch from any earlier resourceVersion now gets 410 Gone. */
  compact(): void {
    this.historyStart = this.rv + 1;
    this.history.length = 0;
  }

  listCount(resource: string): number {
    return this.requests.filter((r) => r === `LIST ${resource}`).length;
  }

  private store(resource: string): Map<string, Obj> {
    let store = this.objects.get(resource);
    if (!store) this.objects.set(resource, (store = new Map()));
    return store;
  }

  private publish(resource: string, type: string, object: Obj): void {
    this.history.push({ rv: this.rv, resource, type, object });
    for (const w of this.watchers) if (w.resource === resource) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.hang) return;
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname.startsWith(GROUP_PATH)) {
      const resource = url.pathname.slice(GROUP_PATH.length);
      const kind = KINDS[resource];
      if (!kind) return json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
      if (url.searchParams.get("watch") === "true") return this.watch(resource, Number(url.searchParams.get("resourceVersion") ?? 0), res);
      this.requests.push(`LIST ${resource}`);
      return json(200, { apiVersion: "admin.gloo.solo.io/v2", kind: `${kind}List`, metadata: { resourceVersion: String(this.rv) }, items: [...this.store(resource).values()] });
    }
    const events = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(url.pathname);
    if (req.method === "POST" && events) {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const event = JSON.parse(body) as Record<string, unknown> & { metadata: Record<string, unknown> };
        event.metadata = { ...event.metadata, name: `${String(event.metadata.generateName ?? "event.")}${this.events.length}`, namespace: events[1] };
        this.events.push(event);
        json(201, event);
      });
      return;
    }
    json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
  }

  private watch(resource: string, fromRv: number, res: ServerResponse): void {
    this.requests.push(`WATCH ${resource}`);
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    if (fromRv < this.historyStart) {
      res.end(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", message: "too old resource version", reason: "Expired", code: 410 } })}\n`);
      return;
    }
    for (const h of this.history) if (h.resource === resource && h.rv > fromRv) res.write(`${JSON.stringify({ type: h.type, object: h.object })}\n`);
    const watcher = { resource, res };
    this.watchers.add(watcher);
    res.on("close", () => this.watchers.delete(watcher));
  }
}

export function ilmObject(name: string, installations: unknown[], namespace = "gloo-mesh"): Obj {
  return { apiVersion: "admin.gloo.solo.io/v2", kind: "IstioLifecycleManager", metadata: { name, namespace, uid: `uid-${name}` }, spec: { installations } };
}

export function glmObject(name: string, installations: unknown[], namespace = "gloo-mesh"): Obj {
  return { apiVersion: "admin.gloo.solo.io/v2", kind: "GatewayLifecycleManager", metadata: { name, namespace, uid: `uid-${name}` }, spec: { installations } };
}
