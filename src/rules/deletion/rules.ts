import { shown } from "../../lifecycle/text.js";
import { revisionLabel } from "../../lifecycle/model.js";
import { formatPath } from "../../lifecycle/values.js";
import { listNames } from "../messages.js";
import { defineRule, type RuleContext } from "../types.js";

export const ALLOW_DELETE_ANNOTATION = "lifecycle-guard.io/allow-delete";
/**
 * Emptying a namespace that is being deleted: blocking it only leaves the namespace stuck in
 * Terminating, and deleting the namespace was the decision.
 */
export const NAMESPACE_CONTROLLER = "system:serviceaccount:kube-system:namespace-controller";

const ANNOTATION_FIELD = formatPath(["metadata", "annotations", ALLOW_DELETE_ANNOTATION]);

/** The one command that allows the delete, for this very object. */
export function allowDeleteCommand(ctx: Pick<RuleContext, "kind" | "namespace" | "name">): string {
  const namespace = ctx.namespace ? ` -n ${shown(ctx.namespace)}` : "";
  return `kubectl annotate ${ctx.kind.kind.toLowerCase()}${namespace} ${shown(ctx.name)} ${ALLOW_DELETE_ANNOTATION}=true`;
}

export const LG701 = defineRule(
  {
    id: "LG701",
    severity: "deny",
    operations: ["DELETE"],
    summary: "Deleting a lifecycle manager that installs a revision uninstalls it everywhere: annotate it first.", doc: { why: "Deleting an ILM or GLM uninstalls every control plane or gateway it installs, on every cluster it names. It happens by accident more often than on purpose: kubectl delete -f of the wrong file, a GitOps prune after a path change, or a client that re-creates an object when an update is refused (kubectl apply --force, kubectl replace --force).", example: {"before": "kubectl delete istiolifecyclemanager -n gloo-mesh istiod-control-plane", "after": "", "instead": "kubectl annotate istiolifecyclemanager -n gloo-mesh istiod-control-plane lifecycle-guard.io/allow-delete=true, then delete"}, fix: "Annotate the object lifecycle-guard.io/allow-delete=true in an earlier edit, then delete it (or remove it from Git).", bypass: "The annotation; DELETION_PROTECTION=off turns the rule off. The namespace controller deleting the object's namespace is never held." },
  },
  (ctx, report) => {
    if (ctx.user?.username === NAMESPACE_CONTROLLER) return;
    const stored = ctx.oldObject;
    if (!stored) {
      // Every API server since 1.15 sends the stored object with a DELETE; without it nothing
      // tells what the delete uninstalls, so it is not let through unseen.
      report(ANNOTATION_FIELD, `the review carries no stored object, so lifecycle-guard cannot tell what this delete uninstalls. Retry; to delete anyway: ${allowDeleteCommand(ctx)}`);
      return;
    }
    if (stored.annotations.get(ALLOW_DELETE_ANNOTATION) === "true") return;
    const revisions = new Set<string>();
    const clusters = new Set<string>();
    for (const { key, cluster } of stored.byInstallation.values()) {
      revisions.add(key);
      clusters.add(cluster);
    }
    const installations = stored.byInstallation.size;
    if (installations === 0) return;
    const what = `${ctx.kind.keyField}${revisions.size === 1 ? "" : "s"} ${listNames([...revisions].map(revisionLabel))} from ${listNames([...clusters])}`;
    report(
      ANNOTATION_FIELD,
      `deleting it uninstalls ${what} (${installations} installation${installations === 1 ? "" : "s"}). If intended: ${allowDeleteCommand(ctx)}, then delete.`,
    );
  },
);
