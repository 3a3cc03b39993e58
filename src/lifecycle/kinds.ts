/** The two Gloo resources lifecycle-guard understands, and the field names that differ between them. */
export interface LifecycleKind {
  readonly kind: "IstioLifecycleManager" | "GatewayLifecycleManager";
  readonly short: "ILM" | "GLM";
  readonly group: "admin.gloo.solo.io";
  readonly version: "v2";
  readonly resource: string;
  /** Installation key: `revision` or `gatewayRevision`. */
  readonly keyField: "revision" | "gatewayRevision";
  /** Per-cluster flag: `defaultRevision` or `activeGateway`. */
  readonly flagField: "defaultRevision" | "activeGateway";
  /** Words for messages: "default" / "active". */
  readonly flagAdjective: "default" | "active";
}

export const GROUP = "admin.gloo.solo.io";

export const ILM: LifecycleKind = {
  kind: "IstioLifecycleManager",
  short: "ILM",
  group: GROUP,
  version: "v2",
  resource: "istiolifecyclemanagers",
  keyField: "revision",
  flagField: "defaultRevision",
  flagAdjective: "default",
};

export const GLM: LifecycleKind = {
  kind: "GatewayLifecycleManager",
  short: "GLM",
  group: GROUP,
  version: "v2",
  resource: "gatewaylifecyclemanagers",
  keyField: "gatewayRevision",
  flagField: "activeGateway",
  flagAdjective: "active",
};

export const LIFECYCLE_KINDS: readonly LifecycleKind[] = [ILM, GLM];

/** Finds the lifecycle kind for a group and kind name; any version of the group matches. */
export function lifecycleKindOf(group: string | undefined, kind: string | undefined): LifecycleKind | undefined {
  if (group !== GROUP) return undefined;
  return LIFECYCLE_KINDS.find((k) => k.kind === kind);
}

/** Reads `admin.gloo.solo.io/v2` into its group. */
export function groupOfApiVersion(apiVersion: unknown): string | undefined {
  if (typeof apiVersion !== "string") return undefined;
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}
