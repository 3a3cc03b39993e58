import { readFileSync } from "node:fs";
import { join } from "node:path";
import { lifecycleObject } from "./cases.js";

/** Copies of ../shared/fixtures/k8s (see its SOURCES.md), kept in the repo so a clone tests anywhere. */
export const FIXTURES_DIR = join(import.meta.dirname, "..", "fixtures", "k8s");

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, name), "utf8")) as Record<string, unknown>;
}

export const ILM_KIND = { group: "admin.gloo.solo.io", version: "v2", kind: "IstioLifecycleManager" };

export function ilmEntry(revision: string, tag: string, options: { hub?: string; defaultRevision?: boolean; clusters?: string[] } = {}): Record<string, unknown> {
  return {
    revision,
    clusters: (options.clusters ?? ["cluster1"]).map((name) => ({ name, defaultRevision: options.defaultRevision ?? true })),
    istioOperatorSpec: { profile: "minimal", hub: options.hub ?? "us-docker.pkg.dev/gloo-mesh/istio-workshops", tag },
  };
}

export interface ReviewOptions {
  readonly uid?: string;
  readonly operation?: "CREATE" | "UPDATE" | "DELETE";
  readonly dryRun?: boolean;
  readonly apiVersion?: string;
  readonly oldInstallations?: unknown[] | null;
  readonly newInstallations?: unknown[] | null;
  readonly username?: string;
  /** request.options.fieldManager; kubectl-edit unless set; null leaves options out. */
  readonly fieldManager?: string | null;
  /** metadata.annotations of the old (stored) object. */
  readonly oldAnnotations?: Record<string, string>;
}

const OPTIONS_KIND = { CREATE: "CreateOptions", UPDATE: "UpdateOptions", DELETE: "DeleteOptions" } as const;

/** An AdmissionReview for an ILM as the API server sends it. */
export function ilmReview(options: ReviewOptions = {}): Record<string, unknown> {
  const operation = options.operation ?? (options.oldInstallations ? "UPDATE" : "CREATE");
  const object = options.newInstallations === null ? null : lifecycleObject("ILM", options.newInstallations ?? []);
  const oldObject = options.oldInstallations ? (lifecycleObject("ILM", options.oldInstallations) as { metadata: Record<string, unknown> }) : null;
  if (oldObject && options.oldAnnotations) oldObject.metadata.annotations = options.oldAnnotations;
  const fieldManager = options.fieldManager === undefined ? (operation === "DELETE" ? undefined : "kubectl-edit") : options.fieldManager;
  return {
    apiVersion: options.apiVersion ?? "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: options.uid ?? "0b8a4c51-6d3e-4c1b-9d5b-6a1f0f3c2e11",
      kind: ILM_KIND,
      resource: { group: "admin.gloo.solo.io", version: "v2", resource: "istiolifecyclemanagers" },
      requestKind: ILM_KIND,
      requestResource: { group: "admin.gloo.solo.io", version: "v2", resource: "istiolifecyclemanagers" },
      name: "istiod-control-plane",
      namespace: "gloo-mesh",
      operation,
      userInfo: { username: options.username ?? "kubernetes-admin", groups: ["system:masters", "system:authenticated"] },
      object,
      oldObject,
      dryRun: options.dryRun ?? false,
      ...(fieldManager === null ? {} : { options: { kind: OPTIONS_KIND[operation], apiVersion: "meta.k8s.io/v1", ...(fieldManager ? { fieldManager } : {}) } }),
    },
  };
}

/** The guide's canonical denial: a minor version bump in place. */
export function minorBumpReview(options: ReviewOptions = {}): Record<string, unknown> {
  return ilmReview({ oldInstallations: [ilmEntry("1-23", "1.23.4-solo")], newInstallations: [ilmEntry("1-23", "1.24.2-solo")], ...options });
}

/** The guide's canonical allowed edit: a patch upgrade in place. */
export function patchUpgradeReview(options: ReviewOptions = {}): Record<string, unknown> {
  return ilmReview({ oldInstallations: [ilmEntry("1-24", "1.24.1-solo")], newInstallations: [ilmEntry("1-24", "1.24.2-solo")], ...options });
}
