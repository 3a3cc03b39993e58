import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Certificate, Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { loadAll } from "js-yaml";
import { MutatingWebhookConfiguration, ValidatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/server/config.js";
import { buildOpsApp } from "../../src/server/ops.js";
import { MUTATE_PATH, VALIDATE_PATH } from "../../src/server/webhook.js";
import { webhookTestApp } from "../helpers/app.js";
import { patchUpgradeReview } from "../helpers/reviews.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** Each kind the install may contain, validated by kubernetes-models (generated from the OpenAPI schemas). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration": ValidatingWebhookConfiguration,
  "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": MutatingWebhookConfiguration,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "cert-manager.io/v1/Certificate": Certificate,
  "cert-manager.io/v1/Issuer": Issuer,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, checked field by field below
type K8sObject = Record<string, any>;

const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
const haveKubectl = kubectl.status === 0;
if (!haveKubectl) {
  const message = "kubectl (with its built-in kustomize) is needed to render the install: the kustomize tests cannot run";
  if (process.env.CI) throw new Error(`${message}, and CI must run them`);
  console.warn(`${message}; skipped outside CI`);
}

function render(dir: string): K8sObject[] {
  const yaml = execFileSync("kubectl", ["kustomize", join(ROOT, dir)], { encoding: "utf8" });
  return (loadAll(yaml) as K8sObject[]).filter(Boolean);
}

const find = (objects: K8sObject[], kind: string, predicate: (o: K8sObject) => boolean = () => true): K8sObject => {
  const found = objects.filter((o) => o.kind === kind && predicate(o));
  expect(found, kind).toHaveLength(1);
  return found[0] as K8sObject;
};

const envOf = (container: K8sObject, name: string): string | undefined => (container.env as K8sObject[] | undefined)?.find((e) => e.name === name)?.value;

describe.runIf(haveKubectl).each([
  { dir: ".", namespace: "lifecycle-guard", prefix: "" },
  { dir: "examples/overlay", namespace: "platform-webhooks", prefix: "prod-" },
])("kubectl kustomize $dir", ({ dir, namespace, prefix }) => {
  const objects = render(dir);
  const service = find(objects, "Service");
  const deployment = find(objects, "Deployment");
  const webhook = find(objects, "ValidatingWebhookConfiguration");
  const container = deployment.spec.template.spec.containers[0] as K8sObject;
  const tlsVolume = (deployment.spec.template.spec.volumes as K8sObject[]).find((v) => v.secret)!;
  const serving = find(objects, "Certificate", (c) => c.spec.secretName === tlsVolume.secret.secretName);

  it("renders only objects that validate against their schemas", () => {
    expect(objects.length).toBeGreaterThanOrEqual(10);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `a schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(object as never).validate(), `${object.kind} ${object.metadata?.name}`).not.toThrow();
    }
  });

  it("puts every namespaced object in the install namespace, with the overlay's prefix", () => {
    expect(find(objects, "Namespace").metadata.name).toBe(namespace);
    for (const object of objects.filter((o) => !["Namespace", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ClusterRole", "ClusterRoleBinding"].includes(o.kind))) {
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(namespace);
      expect(object.metadata.name.startsWith(`${prefix}lifecycle-guard`), object.metadata.name).toBe(true);
    }
  });

  it("configures the validating webhook as a production webhook should", () => {
    expect(webhook.webhooks).toHaveLength(1);
    const hook = webhook.webhooks[0] as K8sObject;
    expect(hook.name.split(".").length).toBeGreaterThanOrEqual(3);
    // NoneOnDryRun: real reviews may record an Event; dry runs never do.
    expect(hook).toMatchObject({ admissionReviewVersions: ["v1"], sideEffects: "NoneOnDryRun", failurePolicy: "Fail", timeoutSeconds: 5, matchPolicy: "Equivalent" });
    expect(hook.rules).toEqual([
      { apiGroups: ["admin.gloo.solo.io"], apiVersions: ["v2"], resources: ["istiolifecyclemanagers", "gatewaylifecyclemanagers"], operations: ["CREATE", "UPDATE", "DELETE"], scope: "Namespaced" },
    ]);
    const excluded = (hook.namespaceSelector.matchExpressions as K8sObject[]).find((e) => e.key === "kubernetes.io/metadata.name");
    expect(excluded).toMatchObject({ operator: "NotIn" });
    expect(excluded?.values).toEqual(expect.arrayContaining(["kube-system", namespace]));
  });

  it("points the webhook at the Service, on a path the server serves", async () => {
    const hook = webhook.webhooks[0] as K8sObject;
    expect(hook.clientConfig.service).toEqual({ name: service.metadata.name, namespace, path: VALIDATE_PATH, port: 443 });
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: 443, targetPort: "https" })]);
    const httpsPort = (container.ports as K8sObject[]).find((p) => p.name === "https");
    expect(String(httpsPort?.containerPort)).toBe(envOf(container, "PORT"));
    const { app } = await webhookTestApp();
    const res = await app.inject({ method: "POST", url: hook.clientConfig.service.path, payload: patchUpgradeReview() });
    expect(res.statusCode).toBe(200);
    expect(res.json().response.allowed).toBe(true);
    await app.close();
  });

  it("keeps the serving certificate's DNS names, the CA injection and the mounted Secret in step with the Service", () => {
    const name = service.metadata.name as string;
    expect(serving.spec.dnsNames).toEqual([name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`]);
    expect(webhook.metadata.annotations["cert-manager.io/inject-ca-from"]).toBe(`${namespace}/${serving.metadata.name}`);
    const mount = (container.volumeMounts as K8sObject[]).find((m) => m.name === tlsVolume.name);
    expect(dirname(envOf(container, "TLS_CERT_FILE") ?? "")).toBe(mount?.mountPath);
    expect(dirname(envOf(container, "TLS_KEY_FILE") ?? "")).toBe(mount?.mountPath);
    expect(mount?.subPath, "a subPath mount never receives renewed certificates").toBeUndefined();
  });

  it("chains self-signed Issuer → CA Certificate → CA Issuer → serving Certificate", () => {
    const caIssuer = find(objects, "Issuer", (i) => i.metadata.name === serving.spec.issuerRef.name);
    const caCertificate = find(objects, "Certificate", (c) => c.spec.secretName === caIssuer.spec.ca.secretName);
    expect(caCertificate.spec.isCA).toBe(true);
    const root = find(objects, "Issuer", (i) => i.metadata.name === caCertificate.spec.issuerRef.name);
    expect(root.spec.selfSigned).toEqual({});
  });

  it("probes the operations port on routes the server serves", async () => {
    const opsPort = (container.ports as K8sObject[]).find((p) => p.name === "ops");
    expect(String(opsPort?.containerPort)).toBe(envOf(container, "OPS_PORT"));
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "ops" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "ops" });
    const ops = await buildOpsApp(pino({ level: "silent" }), { notReadyReason: () => undefined });
    expect((await ops.inject({ url: container.readinessProbe.httpGet.path })).statusCode).toBe(200);
    expect((await ops.inject({ url: container.livenessProbe.httpGet.path })).statusCode).toBe(200);
    await ops.close();
  });

  it("runs two hardened replicas spread across nodes, with a drain that fits the grace period", () => {
    const pod = deployment.spec.template.spec as K8sObject;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "kubernetes.io/hostname", maxSkew: 1 });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits).toMatchObject({ memory: expect.any(String) });
    const dockerUser = /^USER (\d+)/m.exec(readFileSync(join(ROOT, "Dockerfile"), "utf8"))?.[1];
    expect(String(pod.securityContext.runAsUser)).toBe(dockerUser);
    const preStop = container.lifecycle.preStop.sleep.seconds as number;
    const drainSeconds = (Number(envOf(container, "SHUTDOWN_DELAY_MS")) + Number(envOf(container, "SHUTDOWN_TIMEOUT_MS"))) / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + drainSeconds);
  });

  it("lets the service account read lifecycle managers and create Events, and nothing more", () => {
    const role = find(objects, "ClusterRole");
    expect(role.rules).toEqual([
      { apiGroups: ["admin.gloo.solo.io"], resources: ["istiolifecyclemanagers", "gatewaylifecyclemanagers"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ]);
    const binding = find(objects, "ClusterRoleBinding");
    const account = find(objects, "ServiceAccount");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: account.metadata.name, namespace }]);
    expect(deployment.spec.template.spec.serviceAccountName).toBe(account.metadata.name);
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  it("leaves the mutating webhook out unless its component is enabled", () => {
    expect(objects.filter((o) => o.kind === "MutatingWebhookConfiguration")).toEqual([]);
  });

  it("protects the pods with a PodDisruptionBudget and admits only the webhook and operations ports", () => {
    const labels = deployment.spec.template.metadata.labels;
    const pdb = find(objects, "PodDisruptionBudget");
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBe(1);
    const policy = find(objects, "NetworkPolicy");
    expect(labels).toMatchObject(policy.spec.podSelector.matchLabels);
    const admitted = (policy.spec.ingress as K8sObject[]).flatMap((rule) => (rule.ports as K8sObject[]).map((p) => p.port)).sort();
    const containerPorts = (container.ports as K8sObject[]).map((p) => p.containerPort).sort();
    expect(admitted).toEqual(containerPorts);
  });
});

describe.runIf(haveKubectl)("kubectl kustomize examples/canary-defaulting (the optional mutating webhook)", () => {
  const objects = render("examples/canary-defaulting");
  const service = find(objects, "Service");
  const serving = find(objects, "Certificate", (c) => c.metadata.name.endsWith("serving"));
  const mutating = find(objects, "MutatingWebhookConfiguration");

  it("validates, and calls the Service on the route the server serves for mutation", async () => {
    expect(() => new MutatingWebhookConfiguration(mutating as never).validate()).not.toThrow();
    const hook = mutating.webhooks[0] as K8sObject;
    expect(hook.name.split(".").length).toBeGreaterThanOrEqual(3);
    expect(hook.clientConfig.service).toEqual({ name: service.metadata.name, namespace: service.metadata.namespace, path: MUTATE_PATH, port: 443 });
    expect(mutating.metadata.annotations["cert-manager.io/inject-ca-from"]).toBe(`${serving.metadata.namespace}/${serving.metadata.name}`);
    // The component switches the route on in the server it installs: CANARY_DEFAULTING=on.
    const container = find(objects, "Deployment").spec.template.spec.containers[0] as K8sObject;
    expect(container.env).toContainEqual({ name: "CANARY_DEFAULTING", value: "on" });
    const config = loadConfig(Object.fromEntries((container.env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value])));
    const { app } = await webhookTestApp({}, "info", { canaryDefaulting: config.canaryDefaulting });
    expect((await app.inject({ method: "POST", url: hook.clientConfig.service.path, payload: patchUpgradeReview() })).statusCode).toBe(200);
    await app.close();
  });

  it("leaves /mutate unserved in the base install (no CANARY_DEFAULTING)", () => {
    const base = find(render("."), "Deployment").spec.template.spec.containers[0] as K8sObject;
    expect((base.env as { name: string }[]).map((e) => e.name)).not.toContain("CANARY_DEFAULTING");
  });

  it("only sees UPDATEs, has no side effects, and fails open (the validating webhook still guards)", () => {
    const hook = mutating.webhooks[0] as K8sObject;
    expect(hook).toMatchObject({ admissionReviewVersions: ["v1"], sideEffects: "None", failurePolicy: "Ignore", reinvocationPolicy: "Never", matchPolicy: "Equivalent", timeoutSeconds: 5 });
    expect(hook.rules).toEqual([{ apiGroups: ["admin.gloo.solo.io"], apiVersions: ["v2"], resources: ["istiolifecyclemanagers", "gatewaylifecyclemanagers"], operations: ["UPDATE"], scope: "Namespaced" }]);
    expect(find(objects, "ValidatingWebhookConfiguration").webhooks[0].failurePolicy).toBe("Fail");
  });
});
