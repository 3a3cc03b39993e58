import { stringify } from "yaml";
import type { JsonObject } from "../lifecycle/values.js";
import type { CanaryPlan, PatchPlan } from "./plan.js";

/** Multi-document YAML of the objects of a step, as a file for Git. */
export function stepYaml(objects: readonly JsonObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** `$REMOTE_CONTEXT_CLUSTER1`: the guide's names for the workload clusters' kube contexts. */
const contextOf = (cluster: string): string => `$REMOTE_CONTEXT_${cluster.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;

function waitFor(kind: string, namespace: string, name: string, cluster: string, revision: string): string {
  return `kubectl wait ${kind}/${name} -n ${namespace} --context $MGMT_CONTEXT --for=jsonpath='{.status.clusters.${cluster}.installations.${revision}.state}'=HEALTHY --timeout=15m`;
}

/**
 * RUNBOOK.md: what to do between the steps, in the guide's order and with its checks, and how to
 * roll back at each step. With `inline`, each step's manifests are printed in it (no output dir).
 */
export function canaryRunbook(plan: CanaryPlan, inline = false): string {
  const { ilm, oldRevision: old, newRevision: rev } = plan;
  const out: string[] = [];
  const sh = (...lines: string[]): void => {
    out.push("```sh", ...lines, "```", "");
  };
  const apply = (file: string): string => `kubectl apply -f ${file} --context $MGMT_CONTEXT`;
  const manifests = (i: number): void => {
    const step = plan.steps[i];
    if (inline && step) out.push("```yaml", stepYaml(step.objects).trimEnd(), "```", "");
  };
  out.push(
    `# Canary upgrade of ${ilm.namespace}/${ilm.name}: revision ${old} (${plan.oldTag}) → ${rev} (${plan.tag})`,
    "",
    `Written by \`lifecycle-guard plan\`, following Gloo's upgrade guide. Each step file holds every object as it must be applied at that step; each was checked with lifecycle-guard's rules against the one before (the first against the export), and the webhook answers the same. Apply one step at a time, with the checks between them. Commit each step as its own pull request if you deploy from Git.`,
    "",
    `Contexts: \`$MGMT_CONTEXT\` is the management cluster (where the lifecycle managers live); ${plan.clusters.map((c) => `\`${contextOf(c)}\` is workload cluster \`${c}\``).join(", ")}.`,
    "",
  );
  for (const note of plan.notes) out.push(`> ${note}`, "");
  out.push("## Before you start", "", "OpenShift only: let the new revision's service accounts use the anyuid SCC, on every workload cluster:", "");
  sh(...plan.clusters.map((c) => `oc adm policy add-scc-to-group anyuid system:serviceaccounts:gm-iop-${rev} --context ${contextOf(c)}`));

  plan.steps.forEach((step, i) => {
    out.push(`## Step ${i + 1}: ${step.title} (\`${step.file}\`)`, "");
    manifests(i);
    sh(apply(step.file));

    if (step.file.includes("add-canary")) {
      out.push(`Wait until Gloo reports ${rev} HEALTHY on every cluster (switching earlier is denied by lifecycle-guard, LG601):`, "");
      sh(...plan.clusters.map((c) => waitFor("istiolifecyclemanager", ilm.namespace, ilm.name, c, rev)), ...plan.glms.flatMap((g) => plan.clusters.map((c) => waitFor("gatewaylifecyclemanager", g.namespace, g.name, c, g.gatewayRevision))));
      out.push("Verify the canary runs beside the old revision (the canary gateway Services carry the revision in their name):", "");
      sh(...plan.clusters.flatMap((c) => [`kubectl get all -n gm-iop-${rev} --context ${contextOf(c)}`, `kubectl get all -n istio-system --context ${contextOf(c)}`, `kubectl get all -n gloo-mesh-gateways --context ${contextOf(c)}`]));
    } else if (step.file.includes("switch-default")) {
      out.push(`Move the workloads to ${rev}: relabel every namespace that runs Istio-managed apps, then restart their deployments one at a time:`, "");
      sh(...plan.clusters.flatMap((c) => [`kubectl label ns <namespace> --overwrite istio.io/rev=${rev} --context ${contextOf(c)}`, `kubectl rollout restart deployment -n <namespace> <deployment> --context ${contextOf(c)}   # one at a time; wait between them`]));
      out.push("Verify every proxy now points at the new control plane:", "");
      sh(...plan.clusters.map((c) => `istioctl proxy-status --context ${contextOf(c)}   # ISTIOD istiod-${rev}-…, VERSION ${plan.tag}`));
    } else if (step.file.includes("switch-active")) {
      out.push("Verify the active gateways of the new revision (their Services no longer carry the revision in the name) and that traffic flows:", "");
      sh(...plan.clusters.map((c) => `kubectl get all -n gloo-mesh-gateways --context ${contextOf(c)}`));
    } else if (step.file.includes("remove-old-gateways")) {
      out.push(`The ${old} gateways are uninstalled. Check nothing still selects them.`, "");
    } else {
      out.push(`Revision ${old} is uninstalled. Check no namespace still carries istio.io/rev=${old}:`, "");
      sh(...plan.clusters.map((c) => `kubectl get ns -l istio.io/rev=${old} --context ${contextOf(c)}`));
    }
    const back = i === 0 ? "00-current.yaml (the export you planned from, cleaned)" : (plan.steps[i - 1]?.file ?? "");
    out.push(`Roll back: apply the step before, \`kubectl apply -f ${back.split(" ")[0]} --context $MGMT_CONTEXT\`${i === 0 ? " (the export you planned from, cleaned)" : ""}${step.file.includes("switch-default") ? `, then relabel namespaces back to istio.io/rev=${old} and restart` : ""}.`, "");
  });
  out.push(`## Done`, "", `Only ${rev} remains, default where ${old} was${plan.glms.length > 0 ? "; the gateways run on it and are active where the old ones were" : ""}.`, "");
  return out.join("\n");
}

export function patchAdvice(plan: PatchPlan): string {
  return [
    `${plan.oldTag} → ${plan.tag} is a plain patch upgrade: it needs no canary. Gloo applies it in place; make this one edit (kubectl edit, or commit it):`,
    "",
    stepYaml(plan.edited),
  ].join("\n");
}
