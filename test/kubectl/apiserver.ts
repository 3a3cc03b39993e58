/**
 * A stand-in for kube-apiserver, just enough for the real `kubectl` 1.32 to work with the two
 * lifecycle-manager resources: legacy discovery, OpenAPI v3 (with the fieldValidation parameter,
 * so kubectl uses server-side validation), GET/LIST, POST, PUT, PATCH (merge, JSON patch and
 * server-side apply), DELETE, dryRun and resourceVersion conflicts. Before storing, it calls the
 * real lifecycle-guard over HTTPS the way kube-apiserver's validating webhook dispatcher does, and
 * turns the answer into the API error and warning headers the way kube-apiserver does.
 *
 * Followed from the Kubernetes sources (k8s.io/apiserver):
 * - pkg/admission/plugin/webhook/request/admissionreview.go: the AdmissionReview v1 request
 *   (uid, kind/resource/requestKind, name, namespace, operation, userInfo, object, oldObject,
 *   dryRun, options: CreateOptions/UpdateOptions/PatchOptions/DeleteOptions with fieldManager).
 *   A PATCH (merge, JSON, apply) is admitted as operation UPDATE, or CREATE when apply creates.
 * - pkg/admission/plugin/webhook/validating/dispatcher.go (callHook): any failure to call the
 *   webhook (refused connection, non-200, undecodable answer, uid mismatch) is, with
 *   failurePolicy Fail, `Internal error occurred: failed calling webhook "<name>": ...` (500);
 *   a denial goes through ToStatusErr; each warning is added to the request's warning recorder.
 * - pkg/admission/plugin/webhook/errors/statuserror.go (ToStatusErr): a code below 400 becomes
 *   400, status "Failure", message `admission webhook "<name>" denied the request: <message>`
 *   (or the reason, or "without explanation"); reason, details and causes pass unchanged.
 * - pkg/endpoints/filters/warning.go: each warning once, as `Warning: 299 - "<text>"`.
 * And k8s.io/kubectl pkg/cmd/util/editor/editoptions.go: the editor reopens only for an
 * Invalid error (apierrors.IsInvalid), with a `# * <field>: <message>` comment per cause.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { parse as parseYaml } from "yaml";

export const WEBHOOK_NAME = "validate.lifecycle-guard.io";
const GROUP = "admin.gloo.solo.io";
const VERSION = "v2";
const RESOURCES = {
  istiolifecyclemanagers: { kind: "IstioLifecycleManager", singular: "istiolifecyclemanager" },
  gatewaylifecyclemanagers: { kind: "GatewayLifecycleManager", singular: "gatewaylifecyclemanager" },
} as const;
type Resource = keyof typeof RESOURCES;
type Json = Record<string, unknown>;

export interface WebhookTarget {
  readonly port: number;
  readonly ca: string;
}

/** Every request kubectl sent, for asserting on what it did (a DELETE after a refused apply, say). */
export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Json,
  ) {
    super(message);
  }
}

const status = (e: ApiError): Json => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: e.message, reason: e.reason, ...(e.details ? { details: e.details } : {}), code: e.code });

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Json = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function jsonPatch(doc: unknown, ops: { op: string; path: string; value?: unknown; from?: string }[]): unknown {
  const root = structuredClone(doc) as Json;
  const walk = (path: string): [Json | unknown[], string] => {
    const parts = path.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    let node: unknown = root;
    for (const part of parts.slice(0, -1)) node = (node as Json)[part];
    return [node as Json, parts[parts.length - 1] as string];
  };
  for (const op of ops) {
    const [parent, key] = walk(op.path);
    if (op.op === "test" && JSON.stringify((parent as Json)[key]) !== JSON.stringify(op.value)) throw new ApiError(422, "Invalid", "the server rejected our request due to an error in our request");
    if (op.op === "add" || op.op === "replace") {
      if (Array.isArray(parent)) {
        if (op.op === "add") parent.splice(key === "-" ? parent.length : Number(key), 0, op.value);
        else parent[Number(key)] = op.value;
      } else (parent as Json)[key] = op.value;
    } else if (op.op === "remove") {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete (parent as Json)[key];
    }
  }
  return root;
}

export class FakeKubeApiServer {
  private server: Server | undefined;
  private readonly store = new Map<string, Json>();
  private revision = 1000;
  readonly requests: Recorded[] = [];
  port = 0;

  constructor(private webhook: WebhookTarget | undefined) {}

  /** Point at another webhook, or none (a webhook that cannot be reached). */
  setWebhook(webhook: WebhookTarget | undefined): void {
    this.webhook = webhook;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  kubeconfig(): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: stand-in, cluster: {server: 'http://127.0.0.1:" + this.port + "'}}]",
      "users: [{name: admin, user: {}}]",
      "contexts: [{name: stand-in, context: {cluster: stand-in, user: admin, namespace: gloo-mesh}}]",
      "current-context: stand-in",
      "",
    ].join("\n");
  }

  /** What is stored (never what a dry run or a denied request sent). */
  get(resource: Resource, namespace: string, name: string): Json | undefined {
    return this.store.get(`${resource}/${namespace}/${name}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    this.requests.push({ method: req.method ?? "", path: url.pathname, contentType: req.headers["content-type"] });
    const body = await new Promise<string>((resolve) => {
      let data = "";
      req.on("data", (c: Buffer) => (data += c.toString("utf8")));
      req.on("end", () => resolve(data));
    });
    const warnings: string[] = [];
    try {
      const answer = await this.route(req.method ?? "GET", url, body, req.headers["content-type"] ?? "", warnings);
      // pkg/endpoints/filters/warning.go: each text once, `299 - "<escaped>"`.
      for (const text of [...new Set(warnings)]) res.appendHeader("Warning", `299 - "${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
      res.writeHead(answer.code, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(500, "InternalError", `Internal error occurred: ${(error as Error).message}`);
      for (const text of [...new Set(warnings)]) res.appendHeader("Warning", `299 - "${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
      res.writeHead(e.code, { "content-type": "application/json" }).end(JSON.stringify(status(e)));
    }
  }

  private async route(method: string, url: URL, body: string, contentType: string, warnings: string[]): Promise<{ code: number; body: unknown }> {
    const path = url.pathname;
    if (method === "GET" && path === "/version") return { code: 200, body: { major: "1", minor: "32", gitVersion: "v1.32.0-stand-in", platform: "linux/amd64" } };
    if (method === "GET" && path === "/api") return { code: 200, body: { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] } };
    if (method === "GET" && path === "/api/v1") return { code: 200, body: { kind: "APIResourceList", groupVersion: "v1", resources: [] } };
    if (method === "GET" && path === "/apis") {
      const version = { groupVersion: `${GROUP}/${VERSION}`, version: VERSION };
      return { code: 200, body: { kind: "APIGroupList", apiVersion: "v1", groups: [{ name: GROUP, versions: [version], preferredVersion: version }] } };
    }
    if (method === "GET" && path === `/apis/${GROUP}/${VERSION}`) {
      const resources = Object.entries(RESOURCES).flatMap(([name, r]) => [
        { name, singularName: r.singular, namespaced: true, kind: r.kind, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] },
        { name: `${name}/status`, singularName: "", namespaced: true, kind: r.kind, verbs: ["get", "patch", "update"] },
      ]);
      return { code: 200, body: { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${GROUP}/${VERSION}`, resources } };
    }
    if (method === "GET" && path === "/openapi/v3") return { code: 200, body: { paths: { [`apis/${GROUP}/${VERSION}`]: { serverRelativeURL: `/openapi/v3/apis/${GROUP}/${VERSION}?hash=stand-in` } } } };
    if (method === "GET" && path === `/openapi/v3/apis/${GROUP}/${VERSION}`) return { code: 200, body: openApi() };
    const match = new RegExp(`^/apis/${GROUP}/${VERSION}(?:/namespaces/([^/]+))?/(istiolifecyclemanagers|gatewaylifecyclemanagers)(?:/([^/]+))?$`).exec(path);
    if (!match) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    const [, namespace = "", resource, name] = match as unknown as [string, string | undefined, Resource, string | undefined];
    const dryRun = url.searchParams.getAll("dryRun").includes("All");
    const fieldManager = url.searchParams.get("fieldManager") ?? undefined;
    const key = `${resource}/${namespace}/${name ?? ""}`;
    const { kind } = RESOURCES[resource];

    if (method === "GET" && !name) {
      const items = [...this.store.entries()].filter(([k]) => k.startsWith(`${resource}/${namespace ? `${namespace}/` : ""}`)).map(([, v]) => v);
      return { code: 200, body: { apiVersion: `${GROUP}/${VERSION}`, kind: `${kind}List`, metadata: { resourceVersion: String(this.revision) }, items } };
    }
    if (method === "GET") {
      const found = this.store.get(key);
      if (!found) throw new ApiError(404, "NotFound", `${resource}.${GROUP} "${name}" not found`, { name, group: GROUP, kind: resource });
      return { code: 200, body: found };
    }
    if (method === "POST") {
      const object = parseYaml(body) as Json;
      const objectName = String((object.metadata as Json | undefined)?.name ?? "");
      const target = `${resource}/${namespace}/${objectName}`;
      if (this.store.has(target)) throw new ApiError(409, "AlreadyExists", `${resource}.${GROUP} "${objectName}" already exists`, { name: objectName, group: GROUP, kind: resource });
      const created = this.stamp(object, namespace, undefined);
      await this.admit("CREATE", resource, namespace, objectName, created, undefined, dryRun, { kind: "CreateOptions", fieldManager }, warnings);
      if (!dryRun) this.store.set(target, created);
      return { code: 201, body: created };
    }
    if (method === "DELETE") {
      const found = this.store.get(key);
      if (!found) throw new ApiError(404, "NotFound", `${resource}.${GROUP} "${name}" not found`);
      await this.admit("DELETE", resource, namespace, name ?? "", undefined, found, dryRun, { kind: "DeleteOptions" }, warnings);
      if (!dryRun) this.store.delete(key);
      return { code: 200, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: GROUP, kind: resource, uid: (found.metadata as Json).uid } } };
    }
    if (method === "PUT" || method === "PATCH") {
      const current = this.store.get(key);
      let next: Json;
      let operation: "CREATE" | "UPDATE" = "UPDATE";
      if (method === "PUT") next = parseYaml(body) as Json;
      else if (contentType.startsWith("application/merge-patch+json")) {
        if (!current) throw new ApiError(404, "NotFound", `${resource}.${GROUP} "${name}" not found`);
        next = mergePatch(current, JSON.parse(body)) as Json;
      } else if (contentType.startsWith("application/json-patch+json")) {
        if (!current) throw new ApiError(404, "NotFound", `${resource}.${GROUP} "${name}" not found`);
        next = jsonPatch(current, JSON.parse(body)) as Json;
      } else if (contentType.startsWith("application/apply-patch+yaml")) {
        // Server-side apply, simplified: the applied configuration's fields over what is stored.
        const applied = parseYaml(body) as Json;
        if (!current) operation = "CREATE";
        next = mergePatch(current ?? {}, applied) as Json;
      } else throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
      const sentVersion = (next.metadata as Json | undefined)?.resourceVersion;
      if (current && method === "PUT" && sentVersion !== (current.metadata as Json).resourceVersion) {
        throw new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${resource}.${GROUP} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      if (!current && operation === "UPDATE") throw new ApiError(404, "NotFound", `${resource}.${GROUP} "${name}" not found`);
      const stamped = this.stamp(next, namespace, current);
      const options = { kind: method === "PUT" ? "UpdateOptions" : operation === "CREATE" ? "CreateOptions" : "PatchOptions", fieldManager };
      await this.admit(operation, resource, namespace, name ?? "", stamped, current, dryRun, options, warnings);
      if (!dryRun) this.store.set(key, stamped);
      return { code: operation === "CREATE" ? 201 : 200, body: stamped };
    }
    throw new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
  }

  private stamp(object: Json, namespace: string, current: Json | undefined): Json {
    const metadata = { ...((object.metadata as Json | undefined) ?? {}) };
    metadata.namespace = namespace;
    metadata.uid = (current?.metadata as Json | undefined)?.uid ?? randomUUID();
    metadata.creationTimestamp = (current?.metadata as Json | undefined)?.creationTimestamp ?? new Date().toISOString();
    metadata.resourceVersion = String(++this.revision);
    delete metadata.managedFields;
    return { ...object, metadata, ...(current?.status ? { status: current.status } : {}) };
  }

  /** The validating webhook call, as callHook makes it, with failurePolicy: Fail. */
  private async admit(operation: string, resource: Resource, namespace: string, name: string, object: Json | undefined, oldObject: Json | undefined, dryRun: boolean, options: { kind: string; fieldManager?: string | undefined }, warnings: string[]): Promise<void> {
    const kind = { group: GROUP, version: VERSION, kind: RESOURCES[resource].kind };
    const res = { group: GROUP, version: VERSION, resource };
    const uid = randomUUID();
    const review = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid,
        kind,
        resource: res,
        requestKind: kind,
        requestResource: res,
        name,
        namespace,
        operation,
        userInfo: { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] },
        object: object ?? null,
        oldObject: oldObject ?? null,
        dryRun,
        options: { apiVersion: "meta.k8s.io/v1", kind: options.kind, ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}) },
      },
    };
    const failed = (why: string): ApiError => new ApiError(500, "InternalError", `Internal error occurred: failed calling webhook "${WEBHOOK_NAME}": ${why}`);
    const webhook = this.webhook;
    if (!webhook) throw failed(`failed to call webhook: Post "https://lifecycle-guard.lifecycle-guard.svc:443/validate?timeout=5s": dial tcp 127.0.0.1:1: connect: connection refused`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const payload = JSON.stringify(review);
      const req = httpsRequest(
        { host: "127.0.0.1", port: webhook.port, path: "/validate?timeout=5s", method: "POST", ca: webhook.ca, servername: "localhost", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
        (r) => {
          let data = "";
          r.on("data", (c: Buffer) => (data += c.toString("utf8")));
          r.on("end", () => resolve({ status: r.statusCode ?? 0, body: data }));
        },
      );
      req.on("error", reject);
      req.end(payload);
    }).catch((error: Error) => {
      throw failed(`failed to call webhook: ${error.message}`);
    });
    if (answer.status !== 200) throw failed(`received invalid webhook response: expected status 200, got ${answer.status}`);
    const response = (JSON.parse(answer.body) as { response?: { uid?: string; allowed?: boolean; status?: Json; warnings?: string[] } }).response;
    if (!response || response.uid !== uid) throw failed("expected response.uid to match the request.uid");
    for (const text of response.warnings ?? []) warnings.push(text);
    if (response.allowed) return;
    // ToStatusErr
    const result = { ...(response.status ?? {}) } as Json;
    const code = typeof result.code === "number" && result.code >= 400 ? result.code : 400;
    const deniedBy = `admission webhook "${WEBHOOK_NAME}" denied the request`;
    const message = typeof result.message === "string" && result.message ? `${deniedBy}: ${result.message}` : typeof result.reason === "string" && result.reason ? `${deniedBy}: ${result.reason}` : `${deniedBy} without explanation`;
    throw new ApiError(code, typeof result.reason === "string" ? result.reason : "", message, result.details as Json | undefined);
  }
}

/** OpenAPI v3 for the group: schemas that keep unknown fields, and paths that take fieldValidation (kubectl checks for it). */
function openApi(): Json {
  const parameters = ["dryRun", "fieldManager", "fieldValidation", "force"].map((name) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } }));
  const paths: Json = {};
  const schemas: Json = {};
  for (const [plural, r] of Object.entries(RESOURCES)) {
    const ref = { $ref: `#/components/schemas/io.solo.gloo.admin.v2.${r.kind}` };
    const content = { "application/json": { schema: ref } };
    const gvk = [{ group: GROUP, version: VERSION, kind: r.kind }];
    paths[`/apis/${GROUP}/${VERSION}/namespaces/{namespace}/${plural}`] = {
      get: { responses: { "200": { content } }, "x-kubernetes-group-version-kind": gvk[0], "x-kubernetes-action": "list" },
      post: { parameters, requestBody: { content }, responses: { "201": { content } }, "x-kubernetes-group-version-kind": gvk[0], "x-kubernetes-action": "post" },
    };
    paths[`/apis/${GROUP}/${VERSION}/namespaces/{namespace}/${plural}/{name}`] = {
      get: { responses: { "200": { content } }, "x-kubernetes-group-version-kind": gvk[0], "x-kubernetes-action": "get" },
      put: { parameters, requestBody: { content }, responses: { "200": { content } }, "x-kubernetes-group-version-kind": gvk[0], "x-kubernetes-action": "put" },
      patch: { parameters, requestBody: { content: { "application/merge-patch+json": { schema: { type: "object" } }, "application/apply-patch+yaml": { schema: { type: "object" } }, "application/json-patch+json": { schema: { type: "object" } } } }, responses: { "200": { content } }, "x-kubernetes-group-version-kind": gvk[0], "x-kubernetes-action": "patch" },
      delete: { parameters, responses: { "200": { content } }, "x-kubernetes-group-version-kind": gvk[0], "x-kubernetes-action": "delete" },
    };
    schemas[`io.solo.gloo.admin.v2.${r.kind}`] = {
      type: "object",
      "x-kubernetes-group-version-kind": gvk,
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    };
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes CRD Swagger", version: "v0.1.0" }, paths, components: { schemas } };
}
