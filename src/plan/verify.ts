import { groupOfApiVersion, lifecycleKindOf, type LifecycleKind } from "../lifecycle/kinds.js";
import { readLifecycleObject } from "../lifecycle/model.js";
import { isPlainObject, type JsonObject } from "../lifecycle/values.js";
import { evaluate, type Decision } from "../rules/engine.js";
import { fixedClusterView, type ClusterView } from "../rules/types.js";

export interface StepVerdict {
  readonly object: string;
  readonly decision: Decision;
}

const identify = (o: JsonObject): { kind: LifecycleKind | undefined; namespace: string; name: string } => {
  const metadata = isPlainObject(o.metadata) ? o.metadata : {};
  return { kind: lifecycleKindOf(groupOfApiVersion(o.apiVersion), typeof o.kind === "string" ? o.kind : undefined), namespace: String(metadata.namespace ?? ""), name: String(metadata.name ?? "") };
};

function viewOf(objects: readonly JsonObject[]): ClusterView {
  return fixedClusterView(
    objects.flatMap((o) => {
      const { kind, namespace, name } = identify(o);
      return kind ? [{ kind, namespace, name, object: readLifecycleObject(kind, o) }] : [];
    }),
  );
}

/**
 * What the webhook would answer when `next` is applied over `previous`, object by object, with
 * the cross-object rules across the step's objects: the same engine, nothing relaxed.
 */
export function verifyStep(previous: readonly JsonObject[], next: readonly JsonObject[]): StepVerdict[] {
  const view = viewOf(next);
  return next.map((object) => {
    const { kind, namespace, name } = identify(object);
    const before = previous.find((p) => {
      const other = identify(p);
      return other.kind === kind && other.namespace === namespace && other.name === name;
    });
    const decision = evaluate(
      { operation: before ? "UPDATE" : "CREATE", group: kind?.group, kind: kind?.kind, namespace, name, oldObject: before ?? null, newObject: object },
      { cluster: view, clusterAware: true },
    );
    return { object: `${kind?.kind ?? "object"} ${namespace ? `${namespace}/` : ""}${name}`, decision };
  });
}
